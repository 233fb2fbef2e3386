"""Where a sweep's results go: :class:`Outputs` (points -> spool -> sinks; station.outputs.sinks owns the
spool, batching and retries) and :class:`StateStore` (tracker state and occupancy accumulators in the
station's SQLite file), with the store-error helpers the pipeline reports health from."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from dsp.spectrum import Spectrum
from station.config import BandConfig, Config
from station.errors import SinkError
from station.outputs.sqlitefile import make_dir, open_wal

log = logging.getLogger("specmon.pipeline")


# ---------------------------------------------------------------------------------------------------------
# the state table (tracker state, occupancy accumulators) in the embedded store
# ---------------------------------------------------------------------------------------------------------
_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS station_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);
"""


class StateStore:
    """Small key -> JSON table ``station_state`` in the station's SQLite file (WAL). Each save is one
    transaction, so a SIGKILL leaves either the old or the new state, never a torn one."""

    def __init__(self, db_path: Path):
        self.path = Path(db_path)
        make_dir(self.path.parent)
        try:
            self._db = open_wal(self.path)
            self._db.executescript(_STATE_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"cannot open the station store: {exc}", where=str(self.path)) from exc

    def load(self, key: str):
        row = self._db.execute("SELECT value FROM station_state WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError as exc:
            log.error("%s: station_state[%s] is not valid JSON (%s); starting that state afresh", self.path, key, exc)
            return None

    def save_many(self, items: dict) -> None:
        now = datetime.now(timezone.utc).isoformat()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for key, value in items.items():
                self._db.execute(
                    "INSERT INTO station_state(key, value, updated_utc) VALUES(?,?,?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_utc=excluded.updated_utc",
                    (key, json.dumps(value, separators=(",", ":")), now),
                )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise _store_error(exc, self.path) from exc

    def close(self) -> None:
        self._db.close()


def _store_error(exc: BaseException, where) -> SinkError:
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "full" in text.lower():
        return SinkError(f"disk full: {text}", where=str(where))
    return SinkError(text, where=str(where))


def is_disk_full(exc: BaseException) -> bool:
    return "disk full" in str(exc).lower() or "database or disk is full" in str(exc).lower() or (
        isinstance(exc, OSError) and exc.errno == errno.ENOSPC)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------------------------
# outputs: points -> spool -> sinks (station.outputs.sinks owns the spool, batching and retries)
# ---------------------------------------------------------------------------------------------------------
class Outputs:
    """Every configured sink URI as a :class:`station.outputs.sinks.Output` (spool + sender thread). A point is
    durable in each sink's spool when :meth:`put` returns; a sink that is down only grows its spool."""

    def __init__(self, config: Config):
        from station.outputs.sinks import open_output

        self.config = config
        n = len(config.store.sinks)
        quota = int(config.store.spool_max_mb * 1e6 / n)
        self.outputs = []
        try:
            for uri in config.store.sinks:
                self.outputs.append(open_output(uri, data_dir=config.store.data_dir, quota_bytes=quota,
                                                memory_points=config.store.memory_points,
                                                reserve_bytes=int(config.store.reserve_mb * 1e6)))
        except BaseException:
            self.close(0.0)
            raise

    # ---- points ------------------------------------------------------------------------------------------
    def sweep_points(self, station: str, band: BandConfig, spec: Spectrum, noise, results, observed,
                     occupancy_records, levels=None) -> list:
        from station.outputs import points as P

        st = self.config.station
        ctx = P.PointContext.from_spectrum(spec, station=station, band=band.name, levels=levels,
                                           position=(st.latitude, st.longitude))
        pts = P.spectrum_points(spec, ctx, n_points=self.config.store.spectrum_points, noise_dbfs_hz=noise)
        pts.append(P.noise_floor_point(spec, ctx, noise))
        em_pts = P.emission_points([j.result if j.result is not None else j.emission for j in results], ctx,
                                   spec.start_utc)
        # unjudged emissions (no register, too weak, artifact) keep their track id too
        unjudged = {float(j.emission.center_hz): j.track_id for j in results if j.result is None and j.track_id}
        for p in em_pts:
            tid = unjudged.get(float(p.fields.get("center_hz", float("nan"))))
            if tid and "track_id" not in p.fields:
                p.fields["track_id"] = tid
        pts += em_pts
        if observed:
            pts += P.violation_points(observed, ctx, spec.start_utc)
        if occupancy_records:
            pts += P.occupancy_points(occupancy_records, ctx)
        return pts

    def health_point(self, station: str, health: dict, spec: Spectrum | None, band: str):
        from station.outputs import points as P

        ctx = P.PointContext.from_spectrum(spec, station=station, band=band) if spec is not None else None
        at = spec.end_utc if spec is not None else _utc_now()
        return P.health_point(health, station=station, at=at, band=band, ctx=ctx)

    def put(self, points: list) -> None:
        if not points:
            return
        errors = []
        for out in self.outputs:
            try:
                out.write(points)
            except (SinkError, sqlite3.Error, OSError) as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    # ---- state -------------------------------------------------------------------------------------------
    def health(self) -> dict:
        """Summed health of the outputs; ``output_states`` lists the degraded ones ("name: why") for the
        pipeline's ``store_state``."""
        depth, age, dead, thinned, states = 0, None, 0, 0, []
        sums = {"memory_depth": 0, "points_lost": 0, "emissions_lost": 0, "violations_lost": 0}
        degraded = []
        for out in self.outputs:
            try:
                h = out.health()
            except (SinkError, sqlite3.Error, OSError) as exc:
                states.append(f"{out.name}: spool unreadable: {exc}")
                continue
            depth += int(h.get("spool_depth") or 0)
            a = h.get("spool_age_s")
            age = a if age is None or (a is not None and a > age) else age
            dead += int(h.get("spool_dead_letters") or 0)
            thinned += int(h.get("spool_thinned") or 0)
            for k in sums:
                sums[k] += int(h.get(k) or 0)
            if h.get("store_state", "ok") != "ok":
                degraded.append(f"{out.name}: {str(h['store_state']).removeprefix('degraded: ')}")
            st = out.runner.stats
            if st.consecutive_failures:
                states.append(f"{out.name}: {st.last_error or 'failing'}")
        return {"spool_depth": depth, "spool_age_s": age, "spool_dead_letters": dead, "spool_thinned": thinned,
                "sink_state": "; ".join(states)[:300] if states else "ok", **sums, "output_states": degraded}

    def flush(self, timeout_s: float) -> bool:
        """Wait for the spools to drain, at most ``timeout_s`` in all; a sink that keeps failing gets at most
        2 s (its points stay spooled for the next start)."""
        deadline = time.monotonic() + timeout_s
        ok = True
        for out in self.outputs:
            budget = max(0.0, deadline - time.monotonic())
            if out.runner.stats.consecutive_failures >= 2:
                budget = min(budget, 2.0)
            ok &= out.flush(budget)
        return ok

    def close(self, flush_timeout_s: float = 0.5, budget_s: float = 1.5) -> None:
        """Stop the senders and close the spools, waiting at most ``budget_s``: a write in flight to a server
        that does not answer must not hold the station's exit (its batch stays in the spool, which is committed
        on disk; the sender threads are daemon threads)."""
        import threading

        outputs, self.outputs = self.outputs, []

        def close_all():
            for out in outputs:
                try:
                    out.close(flush_timeout_s=flush_timeout_s)
                except Exception as exc:
                    log.debug("closing output %s: %s", out.name, exc)

        closer = threading.Thread(target=close_all, name="close sinks", daemon=True)
        closer.start()
        closer.join(budget_s)
        if closer.is_alive():
            log.warning("a sink is still busy after %.1f s; its unsent points stay in the spool for the next start",
                        budget_s)
