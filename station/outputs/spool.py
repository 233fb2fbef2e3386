"""Durable on-disk queue (SQLite, WAL mode) that every point passes through before it is sent to a sink.

A point is encoded to line protocol and committed to the spool file before :meth:`Spool.put` returns; it
leaves the spool only when the sink acknowledged its batch (:meth:`Spool.ack`) or the server rejected it as
malformed (:meth:`Spool.dead_letter`, kept in the ``dead_letter`` table, never deleted silently). A process
killed with SIGKILL (or a power cut with ``synchronous='FULL'``, the default) loses nothing committed: the next
start sends the spool from the oldest point.

Disk quota (``quota_bytes``, 0 = none): when the live data exceeds it after a put, points are thinned in
this explicit order, oldest first, until the spool is below 90 % of the quota:
  1. ``band_spectrum`` (waterfall points),
  2. ``noise_floor``,
  3. ``station_health``.
``emission``, ``violation`` and ``occupancy`` points are never dropped: when only they remain the spool grows
past the quota and says so (``over_quota`` in :meth:`Spool.status`). Every thinned point is counted per
measurement (``thinned:<measurement>`` counters).

Tables (all in the spool file): ``spool`` (the queue), ``dead_letter``, ``spool_counters`` (cumulative counts
and the exact depth, updated in the same transactions), ``spool_meta`` (the sink URI, secrets removed).
One sender at a time: :meth:`Spool.acquire_sender` takes an exclusive ``flock`` on ``<file>.send.lock``.

The SQLite helpers (:func:`open_wal`, :func:`immediate_transaction`, :func:`write_error_reason`) live in
:mod:`station.outputs.sqlitefile` and the vocabulary check :func:`coerce` in :mod:`station.outputs.vocabulary`;
both are re-exported here for existing callers. What remains is one cohesive thing, the queue (its records and
the :class:`Spool` class, whose put/peek/ack/dead-letter/thinning share one connection, lock and schema), so it
stays one module.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from station.errors import SinkError
from station.outputs.lineprotocol import encode_point
from station.outputs.sqlitefile import immediate_transaction, make_dir, open_wal, write_error_reason

from station.outputs.vocabulary import MEASUREMENTS, Point, coerce

log = logging.getLogger(__name__)

#: the spool's WAL is checkpointed every this many pages (SQLite's default 1000) ...
WAL_CHECKPOINT_PAGES = 256
#: ... and truncated back to this size after a checkpoint (SQLite's default: never truncated)
WAL_LIMIT_BYTES = 1 << 20

__all__ = [
    "LOW_WATER", "NEVER_DROPPED", "THIN_ORDER", "Batch", "DeadLetter", "PutReport", "Spool", "SpoolStatus", "coerce",
    "encode_points",
    "immediate_transaction", "open_wal", "write_error_reason",
]

#: thinning order under the disk quota; measurements not listed here are never dropped
THIN_ORDER = ("band_spectrum", "noise_floor", "station_health")
#: measurements the quota never drops
NEVER_DROPPED = tuple(m for m in MEASUREMENTS if m not in THIN_ORDER)
#: fraction of the quota the spool is thinned down to
LOW_WATER = 0.9


_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    measurement TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    enqueued_ns INTEGER NOT NULL,
    line BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    spool_id INTEGER NOT NULL,
    measurement TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    enqueued_ns INTEGER NOT NULL,
    failed_ns INTEGER NOT NULL,
    status INTEGER,
    error TEXT NOT NULL,
    line BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS spool_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Batch:
    """Oldest points of the spool, in order: spool ids, measurements and encoded lines (no newline)."""

    ids: list[int]
    measurements: list[str]
    lines: list[bytes]

    def __len__(self) -> int:
        return len(self.ids)

    def split(self) -> tuple["Batch", "Batch"]:
        h = len(self.ids) // 2
        return (
            Batch(self.ids[:h], self.measurements[:h], self.lines[:h]),
            Batch(self.ids[h:], self.measurements[h:], self.lines[h:]),
        )


@dataclass(frozen=True, slots=True)
class PutReport:
    """What :meth:`Spool.put` stored."""

    stored: int
    dropped_fields: int  # NaN/inf field values left out
    dropped_points: int  # points with no storable field
    thinned: int  # older points dropped by the quota policy during this put


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    spool_id: int
    measurement: str
    time_ns: int
    failed_ns: int
    status: int | None
    error: str
    line: bytes


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    """Depth and age for ``station_health`` and ``specmon spool status``."""

    path: str
    depth: int  # points waiting
    oldest_age_s: float | None  # age of the oldest waiting point (None when empty)
    by_measurement: dict[str, int]
    dead_letters: int
    used_bytes: int
    quota_bytes: int
    over_quota: bool
    counters: dict[str, int] = field(default_factory=dict)
    sink_uri: str | None = None


def encode_points(points: Iterable[Point]) -> tuple[list[tuple[str, int, bytes]], int, int]:
    """Vocabulary-check, coerce and encode points: ``((measurement, time_ns, line) per storable point,
    NaN/inf fields left out, points with no storable field)``. ValueError for a point outside the vocabulary."""
    items = []
    dropped_fields = dropped_points = 0
    for p in points:
        p = coerce(p)
        line, d = encode_point(p)
        dropped_fields += d
        if line is None:
            dropped_points += 1
            continue
        items.append((p.measurement, p.time_ns, line))
    return items, dropped_fields, dropped_points


class Spool:
    """The durable queue in one SQLite file. Thread-safe (one connection behind a lock); several processes
    may put into the same file, one of them sends (:meth:`acquire_sender`).

    ``quota_bytes``: 0 for no quota. ``synchronous``: SQLite's ``FULL`` (survives power loss, default) or
    ``NORMAL`` (survives a killed process; faster on slow flash)."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        quota_bytes: int = 0,
        synchronous: str = "FULL",
        clock_ns=time.time_ns,
    ):
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, got {synchronous!r}")
        if quota_bytes < 0:
            raise ValueError(f"quota_bytes must be >= 0, got {quota_bytes}")
        self.path = Path(path)
        self.quota_bytes = int(quota_bytes)
        self._clock_ns = clock_ns
        self._lock = threading.RLock()
        self._sender_fd: int | None = None
        make_dir(self.path.parent, "spool directory")
        try:
            self._db = open_wal(self.path, synchronous=synchronous)
            # a small disk footprint: checkpoint every ~1 MB of WAL and truncate the WAL back to 1 MB after it
            # (SQLite's defaults let an idle spool keep a 4 MB WAL, which on a small data disk is the space a
            # full disk needs to recover: removing sent points, checkpointing)
            self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            self._db.executescript(_SCHEMA)
            self._page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
            # re-derive the depth counter from the queue (in one transaction: another process may be putting)
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO spool_counters(name, value) VALUES('depth', (SELECT count(*) FROM spool)) "
                "ON CONFLICT(name) DO UPDATE SET value=excluded.value"
            )
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"cannot open the spool: {exc}", where=str(self.path)) from exc
        self._over_quota_logged = False
        self._thin_logged_ns = -(10**30)
        self._thinned_unlogged = 0

    # ---- writing -----------------------------------------------------------------------------------------
    def put(self, points: Iterable[Point]) -> PutReport:
        """Validate (vocabulary), coerce field types to the vocabulary, encode and commit the points in one
        transaction. Durable when it returns. Raises ValueError for a point outside the vocabulary (nothing
        of the call is stored then) and SinkError when the disk refuses."""
        items, dropped_fields, dropped_points = encode_points(points)
        return self.put_encoded(items, dropped_fields=dropped_fields, dropped_points=dropped_points)

    def put_encoded(self, items: list[tuple[str, int, bytes]], *, dropped_fields: int = 0,
                    dropped_points: int = 0) -> PutReport:
        """Commit points already encoded by :func:`encode_points` ((measurement, time_ns, line) each) in one
        transaction. SinkError when the disk refuses (nothing of the call is stored then)."""
        now = self._clock_ns()
        rows = [(m, t, now, line) for m, t, line in items]
        with self._lock:
            try:
                with immediate_transaction(self._db):
                    self._db.executemany(
                        "INSERT INTO spool(measurement, time_ns, enqueued_ns, line) VALUES(?,?,?,?)", rows
                    )
                    self._bump(
                        {"enqueued": len(rows), "depth": len(rows), "dropped_fields": dropped_fields,
                         "dropped_points": dropped_points}
                    )
            except sqlite3.Error as exc:
                raise SinkError(f"cannot store {len(rows)} points in the spool: {write_error_reason(exc, self.path)}",
                                where=str(self.path)) from exc
            except OSError as exc:  # the WAL/shm files themselves refused
                raise SinkError(f"cannot store {len(rows)} points in the spool: {write_error_reason(exc, self.path)}",
                                where=str(self.path)) from exc
            thinned = self._enforce_quota() if self.quota_bytes else 0
        return PutReport(len(rows), dropped_fields, dropped_points, thinned)

    def _bump(self, deltas: dict[str, int]) -> None:
        self._db.executemany(
            "INSERT INTO spool_counters(name, value) VALUES(?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value=value+excluded.value",
            [(k, v) for k, v in deltas.items() if v],
        )

    # ---- quota ---------------------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        """Bytes of live pages in the spool file (free pages are reused, so they do not count)."""
        with self._lock:
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * self._page_size

    def _enforce_quota(self) -> int:
        used = self.used_bytes()
        if used <= self.quota_bytes:
            self._over_quota_logged = False
            return 0
        target = int(self.quota_bytes * LOW_WATER)
        thinned = 0
        for measurement in THIN_ORDER:
            while used > target:
                n = self._db.execute("SELECT count(*) FROM spool WHERE measurement=?", (measurement,)).fetchone()[0]
                if n == 0:
                    break
                # rows to drop: the excess over the mean row size (oldest first); repeated when pages free less
                per_row = used / max(1, self._db.execute("SELECT count(*) FROM spool").fetchone()[0])
                k = min(n, max(1, math.ceil((used - target) / max(per_row, 1.0))))
                with immediate_transaction(self._db):
                    cur = self._db.execute(
                        "DELETE FROM spool WHERE id IN (SELECT id FROM spool WHERE measurement=? ORDER BY id LIMIT ?)",
                        (measurement, k),
                    )
                    self._bump({"depth": -cur.rowcount, f"thinned:{measurement}": cur.rowcount})
                thinned += cur.rowcount
                used = self.used_bytes()
        if thinned:
            self._thinned_unlogged += thinned
            now = self._clock_ns()
            if now - self._thin_logged_ns >= 3600 * 10**9:  # at most one warning per hour of a long outage
                log.warning(
                    "spool %s over its quota of %d bytes: dropped the oldest %d spectrum/noise/health points "
                    "(emissions, violations and occupancy are kept)", self.path, self.quota_bytes,
                    self._thinned_unlogged,
                )
                self._thin_logged_ns = now
                self._thinned_unlogged = 0
        if used > self.quota_bytes and not self._over_quota_logged:
            log.warning(
                "spool %s holds %d bytes, over its quota of %d: only emissions, violations and occupancy are "
                "left, which are never dropped", self.path, used, self.quota_bytes,
            )
            self._over_quota_logged = True
        return thinned

    # ---- sending -------------------------------------------------------------------------------------------
    def peek(self, max_points: int, max_bytes: int = 0, *, after_id: int | None = None) -> Batch:
        """The oldest ``max_points`` points (fewer when ``max_bytes`` > 0 would be exceeded), only those with a
        spool id above ``after_id`` when given (the sender reads past points it delivered but could not remove).
        SinkError when the spool cannot be read."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT id, measurement, line FROM spool WHERE id > ? ORDER BY id LIMIT ?",
                    (-1 if after_id is None else int(after_id), int(max_points)),
                ).fetchall()
            except sqlite3.Error as exc:
                raise SinkError(f"cannot read the spool: {write_error_reason(exc, self.path)}",
                                where=str(self.path)) from exc
        if max_bytes and rows:
            total = 0
            for i, r in enumerate(rows):
                total += len(r[2]) + 1
                if total > max_bytes and i > 0:
                    rows = rows[:i]
                    break
        return Batch([r[0] for r in rows], [r[1] for r in rows], [bytes(r[2]) for r in rows])

    def ack(self, batch: Batch) -> int:
        """Remove the points of an acknowledged batch; returns how many were still there. SinkError when the
        disk refuses (full, file-size limit): the points stay queued and are sent again later."""
        if not batch.ids:
            return 0
        try:
            return self._ack(batch)
        except sqlite3.Error as exc:
            raise SinkError(f"cannot remove {len(batch.ids)} sent points from the spool: "
                            f"{write_error_reason(exc, self.path)}", where=str(self.path)) from exc

    def _ack(self, batch: Batch) -> int:
        with self._lock:
            with immediate_transaction(self._db):
                ids = batch.ids
                if ids[-1] - ids[0] + 1 == len(ids):  # contiguous (the usual case): one range delete
                    cur = self._db.execute("DELETE FROM spool WHERE id BETWEEN ? AND ?", (ids[0], ids[-1]))
                else:
                    cur = self._db.executemany("DELETE FROM spool WHERE id=?", [(i,) for i in ids])
                n = cur.rowcount
                self._bump({"depth": -n, "sent": n})
        return n

    def dead_letter(self, batch: Batch, error: str, status: int | None = None) -> int:
        """Move the points of a batch the server rejected to the ``dead_letter`` table (with the error).
        SinkError when the disk refuses: the points stay queued."""
        if not batch.ids:
            return 0
        try:
            return self._dead_letter(batch, error, status)
        except sqlite3.Error as exc:
            raise SinkError(f"cannot move {len(batch.ids)} refused points to the dead letters: "
                            f"{write_error_reason(exc, self.path)}", where=str(self.path)) from exc

    def _dead_letter(self, batch: Batch, error: str, status: int | None) -> int:
        now = self._clock_ns()
        with self._lock:
            with immediate_transaction(self._db):
                n = 0
                for spool_id in batch.ids:
                    cur = self._db.execute(
                        "INSERT INTO dead_letter(spool_id, measurement, time_ns, enqueued_ns, failed_ns, status, "
                        "error, line) SELECT id, measurement, time_ns, enqueued_ns, ?, ?, ?, line FROM spool "
                        "WHERE id=?",
                        (now, status, error[:2000], spool_id),
                    )
                    if cur.rowcount:
                        self._db.execute("DELETE FROM spool WHERE id=?", (spool_id,))
                        n += 1
                self._bump({"depth": -n, "dead_lettered": n})
        return n

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, spool_id, measurement, time_ns, failed_ns, status, error, line FROM dead_letter "
                "ORDER BY id LIMIT ?",
                (int(limit),),
            ).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bytes(r[7])) for r in rows]

    def requeue_dead_letters(self) -> int:
        """Put every dead letter back at the end of the queue (after the server-side cause was fixed)."""
        with self._lock:
            with immediate_transaction(self._db):
                cur = self._db.execute(
                    "INSERT INTO spool(measurement, time_ns, enqueued_ns, line) "
                    "SELECT measurement, time_ns, enqueued_ns, line FROM dead_letter ORDER BY id"
                )
                n = cur.rowcount
                self._db.execute("DELETE FROM dead_letter")
                self._bump({"depth": n, "requeued": n})
        return n

    # ---- state ---------------------------------------------------------------------------------------------
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM spool_counters").fetchall())

    def depth(self) -> int:
        """Points waiting (exact, kept in the same transactions as the queue)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM spool_counters WHERE name='depth'").fetchone()
        return int(row[0]) if row else 0

    def dead_letter_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0])

    def oldest_age_s(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT enqueued_ns FROM spool ORDER BY id LIMIT 1").fetchone()
        return None if row is None else max(0.0, (self._clock_ns() - row[0]) / 1e9)

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO spool_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM spool_meta WHERE key=?", (key,)).fetchone()
        return None if row is None else row[0]

    def status(self) -> SpoolStatus:
        with self._lock:
            by = dict(self._db.execute("SELECT measurement, count(*) FROM spool GROUP BY measurement").fetchall())
            dead = self._db.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
        used = self.used_bytes()
        return SpoolStatus(
            path=str(self.path),
            depth=sum(by.values()),
            oldest_age_s=self.oldest_age_s(),
            by_measurement=by,
            dead_letters=dead,
            used_bytes=used,
            quota_bytes=self.quota_bytes,
            over_quota=bool(self.quota_bytes) and used > self.quota_bytes,
            counters=self.counters(),
            sink_uri=self.get_meta("sink_uri"),
        )

    # ---- one sender --------------------------------------------------------------------------------------
    def acquire_sender(self) -> None:
        """Become the only process sending this spool; SinkError when another process holds it."""
        if self._sender_fd is not None:
            return
        lock_path = str(self.path) + ".send.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SinkError(f"the spool is being sent by another process (pid {holder})", where=str(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._sender_fd = fd

    def sender_pid(self) -> int | None:
        """pid of the process sending this spool now (None when no sender holds the lock)."""
        if self._sender_fd is not None:
            return os.getpid()
        lock_path = str(self.path) + ".send.lock"
        if not os.path.exists(lock_path):
            return None
        fd = os.open(lock_path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.read(fd, 64).decode(errors="replace").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release_sender(self) -> None:
        if self._sender_fd is not None:
            fcntl.flock(self._sender_fd, fcntl.LOCK_UN)
            os.close(self._sender_fd)
            self._sender_fd = None

    def close(self) -> None:
        """Release the sender lock and close the file. Idempotent."""
        self.release_sender()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None  # type: ignore[assignment]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

