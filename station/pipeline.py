"""One band sweep through the station: receiver -> dsp -> detectors -> compliance -> cases -> stores/sinks.

:class:`Pipeline` owns the per-station objects the stages share across sweeps: one emission detector and one
tracker per band (tracks are persisted so a restart resumes them), the compliance checker built from the
register (reloaded on SIGHUP), the violation case store, channel occupancy accumulators, and the outputs
(every point goes through the on-disk spool before any sink). The daemon calls, per sweep::

    result = pipeline.sweep(band, receiver, progress=...)      # receive + dsp (the sweep executor)
    report = pipeline.process(band, result, revisit_s=..., receiver=...)   # detect, comply, store
    pipeline.capture_evidence(report, receiver)                # new violation cases only

Every stage's wall time is measured and reported (``SweepReport.timings_s``: receive, dsp, detect,
compliance, sinks), per sweep and per hop, in the band's ``station_health`` point.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from detectors.records import Emission
from station.compliance.records import ComplianceResult
from dsp.spectrum import Spectrum
from station.config import BandConfig, Config
from station.errors import SinkError
from station.outputs.spool import open_wal

log = logging.getLogger("specmon.pipeline")

STAGES = ("receive", "dsp", "detect", "compliance", "sinks")


# ---------------------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """What the sweep stage hands on: the stitched band spectrum and where its time went (s)."""

    spectrum: Spectrum
    n_hops: int
    receive_s: float  # waiting for samples (tuning and settling included)
    dsp_s: float  # conversion, PSD, stitching


@dataclass(frozen=True, slots=True)
class Judged:
    """One emission of a sweep with its compliance result (None when not judged: no register, too weak,
    artifact) and its track."""

    emission: Emission
    result: ComplianceResult | None
    track_id: str | None = None
    note: str = ""  # why it was not judged

    @property
    def klass(self) -> str:
        return self.result.klass.value if self.result is not None else "unknown"

    @property
    def is_violation(self) -> bool:
        return self.result is not None and self.result.klass.is_violation


@dataclass(frozen=True, slots=True, eq=False)
class SweepReport:
    """The outcome of one band sweep (what the TUI, logs and the run summary show)."""

    band: str
    sweep_no: int
    start_utc: datetime
    end_utc: datetime
    n_hops: int
    duration_s: float  # wall time of the whole sweep (all stages)
    revisit_s: float | None  # achieved revisit (None for the first sweep)
    timings_s: dict  # stage -> seconds for this sweep (STAGES)
    results: tuple[Judged, ...]  # every reported emission, in frequency order
    tracks: tuple = ()
    new_cases: tuple = ()  # case ids opened by this sweep
    n_violations: int = 0
    noise_median_dbfs_hz: float | None = None
    spectrum: Spectrum | None = field(default=None, repr=False)
    store_error: str | None = None  # set when storing failed (disk full ...): measurements continue

    @property
    def per_hop_s(self) -> dict:
        n = max(1, self.n_hops)
        return {k: v / n for k, v in self.timings_s.items()}


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
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


def crop_spectrum(spec: Spectrum, f_lo_hz: float, f_hi_hz: float) -> Spectrum:
    """A copy of ``spec`` limited to the bins in [f_lo_hz, f_hi_hz] (owned arrays, no per-frame spectra): what an
    evidence snapshot needs, without keeping a whole band sweep in memory while the capture waits."""
    a = int(np.searchsorted(spec.freqs_hz, f_lo_hz, side="left"))
    b = int(np.searchsorted(spec.freqs_hz, f_hi_hz, side="right"))
    a, b = max(0, min(a, spec.n_bins - 3)), min(spec.n_bins, max(b, a + 3))

    def cut(x):
        return None if x is None else np.array(x[a:b])

    return replace(spec, freqs_hz=cut(spec.freqs_hz), psd_dbfs_hz=cut(spec.psd_dbfs_hz),
                    maxhold_dbfs_hz=cut(spec.maxhold_dbfs_hz), frames_dbfs_hz=None, frame_times_s=None,
                    above_counts=cut(spec.above_counts), above_threshold_dbfs_hz=cut(spec.above_threshold_dbfs_hz))


# ---------------------------------------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------------------------------------
class Pipeline:
    """Per-station processing state and the stages of one sweep. Owned by the daemon's main loop."""

    def __init__(self, config: Config):
        self.config = config
        config.store.data_dir.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(config.store.db_path)
        self.store_state = "ok"
        self.store_error: str | None = None
        self.sweep_no: dict[str, int] = dict(self.state.load("sweep_counts") or {})
        self.detectors = {b.name: make_detector(b) for b in config.bands}
        saved_tracks = self.state.load("trackers") or {}
        self.trackers = {b.name: make_tracker(b, saved_tracks.get(b.name)) for b in config.bands}
        saved_occ = self.state.load("occupancy") or {}
        self.occupancy = {b.name: make_occupancy(b, saved_occ.get(b.name)) for b in config.bands if b.channels}
        self.checker = make_checker(config)
        self.cases = open_case_store(config)
        self.outputs = Outputs(config)
        self._evidence_queue: list = []  # (band, ComplianceResult, case_id, spectrum) waiting for a capture
        self._plans: dict = {}
        self._last_ctx: dict = {}  # band -> PointContext of its last sweep (DSP settings for occupancy)
        for i, b in enumerate(config.bands):  # fail at start, naming the band, when a band cannot be planned
            make_sweep_plan(b, config.receiver(b.receiver).sample_rate_hz, where=f"{config.source}:bands[{i}]")

    # ---- stage 1+2: receive and dsp ---------------------------------------------------------------------
    def sweep(self, band: BandConfig, receiver, *, progress=None) -> SweepResult:
        """Sweep ``band`` with ``receiver`` (hops, PSD, stitching: station.sweep). Receiver errors propagate;
        ``progress(done_hops, total_hops)`` is called at each retune."""
        from station.sweep import prepare_receiver, sweep_band

        plan = self._plans.get(band.name)
        if plan is None:
            rate = self.config.receiver(band.receiver).sample_rate_hz
            info = receiver.info
            plan = make_sweep_plan(band, rate, info.tuning_range_hz if info else None,
                                   where=f"{self.config.source}:bands.{band.name}")
            self._plans[band.name] = plan
        bp = plan.bands[0]
        if progress is not None and hasattr(receiver, "on_tune"):
            counter = iter(range(1, bp.n_hops + 1))
            receiver.on_tune = lambda: progress(next(counter, bp.n_hops), bp.n_hops)
        try:
            prepare_receiver(receiver, plan)
            bs = sweep_band(receiver, plan, bp)
        finally:
            if hasattr(receiver, "on_tune"):
                receiver.on_tune = None
        spec = bs.spectrum
        return SweepResult(spectrum=spec, n_hops=len(bs.hops), receive_s=bs.receive_s, dsp_s=bs.dsp_s)

    # ---- stages 3-5 --------------------------------------------------------------------------------------
    def process(self, band: BandConfig, result: SweepResult, *, revisit_s: float | None = None,
                receiver=None) -> SweepReport:
        """Detect, track, judge, update cases and occupancy, store. Never raises for a store failure (the
        error is kept for health); detector/compliance bugs do raise."""
        t_start = time.perf_counter()
        spec = result.spectrum
        self.sweep_no[band.name] = self.sweep_no.get(band.name, 0) + 1
        n = self.sweep_no[band.name]

        t0 = time.perf_counter()
        detector = self.detectors[band.name]
        noise = np.asarray(detector.noise_floor(spec).floor_dbfs_hz)
        emissions = detector.detect(spec)  # reuses the floor just computed
        detector._last = None  # do not keep the spectrum alive until the next sweep
        emissions = [e for e in emissions if not e.artifact or band.detector.keep_artifacts]
        emissions = [e for e in emissions if e.snr_db >= band.detector.min_snr_db
                     and e.bandwidth_hz >= band.detector.min_bandwidth_hz]
        tracks = self.trackers[band.name].update(emissions, spec.end_utc, covered_hz=(spec.f_lo_hz, spec.f_hi_hz))
        track_of = match_tracks(emissions, tracks)
        occ_records = []
        if band.name in self.occupancy:
            counter = self.occupancy[band.name]
            counter.update(spec)
            occ_records = counter.flush(before=spec.end_utc)  # completed integration periods
        t_detect = time.perf_counter() - t0

        t0 = time.perf_counter()
        info = getattr(receiver, "info", None)
        if self.checker is not None and info is not None:
            self.checker.receiver_uncertainty_ppm = float(info.frequency_uncertainty_ppm)
        results = self._judge(emissions, track_of, spec.end_utc)
        violations = [j.result for j in results if j.is_violation]
        store_error = None
        new_cases: list = []
        observed: list = []
        try:
            if self.cases is not None and violations:
                st = self.config.station
                obs = self.cases.record(violations, station=st.id, when=spec.end_utc,
                                        position=(st.latitude, st.longitude),
                                        settings={"band": band.name, "rbw_hz": spec.enbw_hz, "nfft": spec.nfft,
                                                  "window": spec.window, "dwell_s": spec.dwell_s})
                from station.outputs.points import ViolationObservation

                observed = [ViolationObservation(o.result, o.case_id, o.state) for o in obs]
                new_cases = [o.case_id for o in obs if o.opened]
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc)
        t_comp = time.perf_counter() - t0

        t0 = time.perf_counter()
        timings = {"receive": result.receive_s, "dsp": result.dsp_s, "detect": t_detect, "compliance": t_comp}
        report = SweepReport(
            band=band.name, sweep_no=n, start_utc=spec.start_utc, end_utc=spec.end_utc, n_hops=result.n_hops,
            duration_s=0.0, revisit_s=revisit_s, timings_s=timings, results=tuple(results),
            tracks=tuple(tracks), new_cases=tuple(c for c in new_cases), n_violations=len(violations),
            noise_median_dbfs_hz=float(np.median(noise)) if np.size(noise) else None, spectrum=spec,
        )
        from station.outputs.points import PointContext

        self._last_ctx[band.name] = PointContext.from_spectrum(spec, station=self.config.station.id, band=band.name)
        try:
            points = self.outputs.sweep_points(self.config.station.id, band, spec, noise, results, observed,
                                               occ_records)
            self.outputs.put(points)
            self.save_state()
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc)
        timings["sinks"] = time.perf_counter() - t0
        duration = result.receive_s + result.dsp_s + (time.perf_counter() - t_start)
        health = self._band_health(band, report, duration, receiver)
        try:
            self.outputs.put([self.outputs.health_point(self.config.station.id, health, spec, band.name)])
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc)
        if store_error is None and self.store_state != "ok":
            self.store_state, self.store_error = "ok", None
        for case_id in new_cases:
            r = next((o.result for o in observed if o.case_id == case_id), None)
            if r is not None:
                e = r.emission
                margin = max(100e3, 6 * e.bandwidth_hz)
                self._evidence_queue.append((band.name, r, case_id, crop_spectrum(spec, e.f_lo_hz - margin,
                                                                                  e.f_hi_hz + margin)))
        return replace(report, duration_s=duration, timings_s=dict(timings), store_error=store_error)

    def _judge(self, emissions: list[Emission], track_of: dict, when: datetime) -> list[Judged]:
        if self.checker is None:
            return [Judged(e, None, track_of.get(i), "no register configured") for i, e in enumerate(emissions)]
        min_snr = self.config.compliance.min_snr_db
        judged_idx = [i for i, e in enumerate(emissions) if e.snr_db >= min_snr and not e.artifact]
        judged = self.checker.check([emissions[i] for i in judged_idx], when) if judged_idx else []
        out: dict[int, Judged] = {}
        for i, r in zip(judged_idx, judged):
            out[i] = Judged(emissions[i], replace(r, track_id=track_of.get(i)), track_of.get(i))
        for i, e in enumerate(emissions):
            if i not in out:
                note = "artifact" if e.artifact else f"SNR {e.snr_db:.1f} dB below {min_snr:g} dB"
                out[i] = Judged(e, None, track_of.get(i), note + ", not judged")
        return [out[i] for i in range(len(emissions))]

    def _store_failed(self, exc: BaseException) -> str:
        full = is_disk_full(exc)
        self.store_state = "disk_full" if full else "error"
        self.store_error = f"{type(exc).__name__}: {exc}"
        log.error("storing failed (%s); measuring continues: %s", self.store_state, exc)
        return self.store_error

    def _band_health(self, band: BandConfig, report: SweepReport, duration_s: float, receiver) -> dict:
        h = {
            "hops": report.n_hops,
            "sweep_duration_s": duration_s,
            "hop_rate_hz": report.n_hops / duration_s if duration_s > 0 else None,
            "revisit_s": report.revisit_s,
        }
        for stage, secs in report.timings_s.items():
            h[f"{stage}_s"] = secs
        if receiver is not None:
            c = receiver.counters
            h.update(dropped_reads=c.dropped_reads, short_reads=c.short_reads, receiver_errors=c.errors,
                     receiver_state=receiver.state)
        return h

    # ---- evidence ----------------------------------------------------------------------------------------
    @property
    def evidence_pending(self) -> int:
        """New cases still waiting for their evidence capture."""
        return len(self._evidence_queue)

    def capture_evidence(self, receiver_for) -> list:
        """Capture evidence for at most ``evidence.max_per_sweep`` queued new cases (retune, IQ, snapshot);
        the rest wait for the next sweep so the schedule is not stalled. ``receiver_for(band)`` gives the open
        receiver of a band (None while it is reopening: that capture waits). Receiver errors propagate."""
        done = []
        budget = self.config.evidence.max_per_sweep
        waiting = []
        while self._evidence_queue and len(done) < budget:
            item = self._evidence_queue.pop(0)
            band, result, case_id, spec = item
            receiver = receiver_for(band)
            if receiver is None:
                waiting.append(item)
                continue
            t0 = time.perf_counter()
            try:
                files = self._capture(band, result, case_id, spec, receiver)
                log.info("evidence for %s captured in %.2f s (%d files)", case_id, time.perf_counter() - t0,
                         len(files))
            except (SinkError, sqlite3.Error, OSError) as exc:
                if is_disk_full(exc):
                    self._store_failed(exc)
                    continue
                self._evidence_queue.insert(0, item)  # the receiver failed: try again after it reopened
                raise
            done.append((case_id, files))
        self._evidence_queue[:0] = waiting
        return done

    def _capture(self, band: str, result: ComplianceResult, case_id: str, spec: Spectrum, receiver):
        from station.compliance.evidence import EvidenceSettings, capture_evidence

        st = self.config.station
        ev = self.config.evidence
        e = result.emission
        nearby = self.checker.assignments_near(e.f_lo_hz - 50e3, e.f_hi_hz + 50e3) if self.checker else ()
        cap = capture_evidence(
            self.cases, case_id, result, out_dir=self.config.store.data_dir / "evidence", station_id=st.id,
            position=(st.latitude, st.longitude), spectrum=spec, receiver=receiver, nearby=nearby,
            measurement={"band": band}, settings=EvidenceSettings(iq_duration_s=ev.iq_duration_s,
                                                                  iq_sample_rate_hz=ev.sample_rate_hz),
            isolate=True,  # matplotlib in a short-lived child, never in the long-running station
        )
        return cap.files

    # ---- health, state, outputs ------------------------------------------------------------------------
    def health(self) -> dict:
        h = {"store_state": self.store_state}
        h.update(self.outputs.health())
        return h

    def write_health(self, health: dict) -> None:
        try:
            self.outputs.put([self.outputs.health_point(self.config.station.id, health, None, "all")])
        except (SinkError, sqlite3.Error, OSError) as exc:
            self._store_failed(exc)

    def save_state(self) -> None:
        self.state.save_many({
            "trackers": {name: t.to_state() for name, t in self.trackers.items()},
            "occupancy": {name: o.to_state() for name, o in self.occupancy.items()},
            "sweep_counts": self.sweep_no,
        })

    def flush(self, timeout_s: float) -> bool:
        """Store the open occupancy periods as they stand (a later write of the same period overwrites:
        same tags and time), then wait up to ``timeout_s`` for the sinks to drain their spools."""
        for name, counter in self.occupancy.items():
            records = counter.records()
            if not records:
                continue
            band = self.config.band(name)
            from station.outputs import points as P

            ctx = P.PointContext(self.config.station.id, name, band.rbw_hz, 0, band.dwell_s)
            last = self._last_ctx.get(name)
            if last is not None:
                ctx = last
            try:
                self.outputs.put(P.occupancy_points(records, ctx))
            except (SinkError, sqlite3.Error, OSError) as exc:
                self._store_failed(exc)
        return self.outputs.flush(timeout_s)

    def reload(self, config: Config) -> None:
        """New config: rebuild the checker (register) first so a bad register keeps everything old."""
        checker = make_checker(config)
        outputs = Outputs(config) if config.store.sinks != self.config.store.sinks else None
        self.checker = checker
        for b in config.bands:
            old = next((x for x in self.config.bands if x.name == b.name), None)
            if old is None or old.detector != b.detector or old.window != b.window:
                self.detectors[b.name] = make_detector(b)
            if b.name not in self.trackers:
                self.trackers[b.name] = make_tracker(b, None)
            if b.channels and (old is None or old.channels != b.channels):
                self.occupancy[b.name] = make_occupancy(b, None)
            if not b.channels:
                self.occupancy.pop(b.name, None)
        if outputs is not None:
            self.outputs.flush(1.0)
            self.outputs.close()
            self.outputs = outputs
        self.config = config

    def open_cases(self, limit: int = 10) -> list[str]:
        """One line per open violation case (for the live view)."""
        if self.cases is None:
            return []
        return case_lines(self.cases, limit)

    def export(self, out_dir: Path) -> list[Path]:
        """Export every violation case in the configured formats (station/compliance/exports) into ``out_dir``."""
        if self.cases is None:
            return []
        from station.childproc import ChildFailed, call_in_child
        from station.compliance.exports import export_cases, export_db

        formats, lang = tuple(self.config.export.formats), self.config.export.lang
        try:  # in a short-lived child: fpdf2/openpyxl never load into the station (the store is WAL SQLite)
            return call_in_child(export_db, self.cases.path, formats, Path(out_dir), lang=lang)
        except ChildFailed as exc:
            log.warning("%s; exporting in-process", exc)
        return export_cases(self.cases, formats, Path(out_dir), lang=lang)

    def close(self) -> None:
        for closer in (self.outputs.close, self.state.close, getattr(self.cases, "close", None)):
            if closer is None:
                continue
            try:
                closer()
            except Exception as exc:
                log.debug("close: %s", exc)


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
                self.outputs.append(open_output(uri, data_dir=config.store.data_dir, quota_bytes=quota))
        except BaseException:
            self.close(0.0)
            raise

    # ---- points ------------------------------------------------------------------------------------------
    def sweep_points(self, station: str, band: BandConfig, spec: Spectrum, noise, results, observed,
                     occupancy_records) -> list:
        from station.outputs import points as P

        ctx = P.PointContext.from_spectrum(spec, station=station, band=band.name)
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
        depth, age, dead, thinned, states = 0, None, 0, 0, []
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
            st = out.runner.stats
            if st.consecutive_failures:
                states.append(f"{out.name}: {st.last_error or 'failing'}")
        return {"spool_depth": depth, "spool_age_s": age, "spool_dead_letters": dead, "spool_thinned": thinned,
                "sink_state": "; ".join(states)[:300] if states else "ok"}

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


# ---------------------------------------------------------------------------------------------------------
# adapters: build the other parts' objects from the config (one place to read when an interface changes)
# ---------------------------------------------------------------------------------------------------------
def make_detector(band: BandConfig):
    """The band's emission detector (detectors.energy) with the band's detector settings."""
    from detectors.artifacts import ArtifactParams
    from detectors.energy import DetectorParams, EmissionDetector

    class SharedFloorDetector(EmissionDetector):
        """Computes the noise floor of a spectrum once: the pipeline stores it and ``detect`` uses it."""

        _last: tuple | None = None

        def noise_floor(self, spectrum):
            if self._last is not None and self._last[0] is spectrum:
                return self._last[1]
            floor = super().noise_floor(spectrum)
            self._last = (spectrum, floor)
            return floor

    d = band.detector
    params = DetectorParams(pfa=d.pfa, keep_artifacts=d.keep_artifacts, detect_bursts=d.bursts,
                            artifacts=replace(ArtifactParams(), spurs_hz=tuple(d.spurs_hz)))
    return SharedFloorDetector(params)


def make_sweep_plan(band: BandConfig, sample_rate_hz: float, tuning_range_hz=None, *, where: str = ""):
    """The executor's plan for one band (dwell model, per-frame spectra kept for burst detection).
    A band the receiver cannot sweep at this rbw/rate is a ConfigError naming the band."""
    from station.errors import ConfigError
    from station.sweep import SweepPlan

    try:
        return SweepPlan.make([(band.name, band.f_lo_hz, band.f_hi_hz)], band.rbw_hz, sample_rate_hz, band.dwell_s,
                              window=band.window, keep_frames=band.detector.bursts, mode=band.mode,
                              interval_s=band.interval_s, tuning_range_hz=tuning_range_hz)
    except ValueError as exc:
        raise ConfigError(str(exc), where=where or f"band {band.name}") from None


def make_checker(config: Config):
    """The compliance checker from the register and exempt bands (None without a register). A register with
    bad rows is refused (DataError naming file:line:column): a half-read register would open false cases."""
    if config.compliance.register is None:
        return None
    from station.compliance.checker import ComplianceChecker
    from station.compliance.register import load_exempt_bands_strict, load_register

    reg = load_register(config.compliance.register)
    reg.raise_for_errors()
    for w in reg.warnings[:5]:
        log.warning("register: %s", w)
    exempt = load_exempt_bands_strict(config.compliance.exempt_bands) if config.compliance.exempt_bands else []
    ppm = max((abs(r.ppm) for r in config.receivers), default=0)
    log.info("%s; %d exempt bands", reg.summary(), len(exempt))
    return ComplianceChecker(
        reg.assignments, exempt,
        station_position=(config.station.latitude, config.station.longitude),
        monitoring_range_m=config.compliance.monitoring_range_m,
        receiver_uncertainty_ppm=float(max(ppm, 1)),
    )


def make_tracker(band: BandConfig, state: dict | None):
    """The band's tracker (detectors.tracking), resumed from its saved state when there is one."""
    from detectors.tracking import Tracker

    if state:
        try:
            return Tracker.from_state(state)
        except ValueError as exc:
            log.error("band %s: saved tracker state unusable (%s); tracks start afresh", band.name, exc)
    return Tracker()


def match_tracks(emissions: list[Emission], tracks: list) -> dict[int, str]:
    """Index of each emission -> its track id. ``Tracker.update`` returns one track per non-artifact
    emission, in order (artifacts get none)."""
    idx = [i for i, e in enumerate(emissions) if not e.artifact]
    if len(tracks) != len(idx):  # include_artifacts=True: one track per emission
        idx = list(range(len(emissions)))
    return {i: t.track_id for i, t in zip(idx, tracks)}


def make_occupancy(band: BandConfig, state: dict | None):
    """The band's channel occupancy counter (detectors.occupancy, ITU-R SM.1880), with the counts of the
    current integration period restored after a restart."""
    from detectors.occupancy import OccupancyCounter, OccupancyParams

    ch = band.channels
    params = OccupancyParams(channels_hz=ch.centers_hz, channel_width_hz=ch.width_hz, period_s=ch.period_s,
                             threshold_dbfs=ch.threshold_dbfs, pfa=ch.pfa)
    if state:
        try:
            return OccupancyCounter.from_state(state, params)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("band %s: saved occupancy counts unusable (%s); the period restarts", band.name, exc)
    return OccupancyCounter(params)


def open_case_store(config: Config):
    """The violation case store (station.compliance.cases) in the station's SQLite file; None without a register."""
    if config.compliance.register is None:
        return None
    from station.compliance.cases import CaseStore

    return CaseStore(config.store.db_path)


def case_lines(store, limit: int = 10) -> list[str]:
    """One line per case not closed, most recently seen first."""
    cases = store.cases(state=("new", "confirmed", "exported"))
    cases.sort(key=lambda c: c.last_seen, reverse=True)
    out = []
    for c in cases[:limit]:
        lic = f" licence {','.join(c.licences[:2])}" if c.licences else ""
        out.append(f"{c.case_id} {c.klass.value:<16} {c.center_hz / 1e6:11.5f} MHz {c.bandwidth_hz / 1e3:7.1f} kHz "
                   f"max {c.max_power_dbfs:6.1f} dBFS  obs {c.n_obs:3d}  {c.state:<9} last "
                   f"{c.last_seen.strftime('%Y-%m-%d %H:%M:%S')}Z{lic}")
    return out
