"""The framework every sink runs in: one :class:`SinkRunner` per sink owns batching, retries with
exponential backoff and jitter, back-pressure and the 4xx split / dead-letter handling, reading from a
:class:`station.outputs.spool.Spool`; :class:`Output` ties a spool, a sink and its runner together for the daemon.

Flow: ``Output.write(points)`` commits the points to the spool (durable on return, never blocked by the
network) and wakes the sender when a full batch is waiting; the sender thread takes the oldest
``batch_points`` from the spool, writes them, and removes them only after the sink acknowledged. Back-
pressure: a slow or absent server never slows the producer; the spool absorbs the backlog (within its disk
quota policy) and the sender drains it in full batches, back to back, as soon as the server answers.

Errors: SinkTransient -> the same batch is retried after ``min(backoff_max_s, backoff_initial_s * 2**k)``
scaled by a random factor in [1 - jitter, 1] (or the server's Retry-After when longer); SinkRejected (4xx)
-> the batch is split in halves, recursively, the accepted halves acknowledged, and a single point that is
still refused goes to the spool's dead-letter table with the server's message (counted, never retried
automatically: ``specmon spool dead-letters --requeue`` puts them back). The spool's own disk refusing
(full, file-size limit: :class:`SinkError` from the spool) is the same kind of state: one line in the log
for the first failures, ``last_error`` in health (``sink_state``), retried with the backoff.

A full disk may refuse to *remove* a batch the server acknowledged (a DELETE needs journal space). The sender
then keeps the batch's spool ids in memory (:attr:`SinkRunner.unacked`, id ranges: a few bytes per batch) and
goes on reading and sending the spool *after* them, so the backlog still reaches the server while the disk is
full, and no point is sent twice while the process lives. It probes the disk again by removing the held ids:
after ``SPOOL_PROBE_S`` (1 s), doubling per refusal up to ``SPOOL_PROBE_MAX_S``, at once when the output's
statvfs shows free space above its reserve (:attr:`SinkRunner.disk_has_room`) or when the output got a write
into the spool. Ids still held at exit stay in the spool and are sent again at the next start (InfluxDB keeps
one copy of identical points).
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from station.errors import SinkError
from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient
from station.outputs.memqueue import LOW_PRIORITY, Item, MemoryQueue
from station.outputs.spool import Batch, PutReport, Spool, encode_points
from station.outputs.sqlitefile import write_error_reason

log = logging.getLogger("station.outputs.sinks")

#: after the spool's disk refused a read or a removal, the sender probes it again after this long (s) ...
SPOOL_PROBE_S = 1.0
#: ... doubling per consecutive refusal up to this (s)
SPOOL_PROBE_MAX_S = 16.0
#: delivered points the disk would not let the sender remove, held by id; beyond this the sender stops reading
#: ahead and only probes the disk
MAX_UNACKED_POINTS = 2_000_000


@dataclass
class RunnerStats:
    """Counts since the runner started (the spool keeps the cumulative ones)."""

    delivered: int = 0  # points acknowledged
    requests: int = 0  # write calls
    retries: int = 0  # transient failures
    rejected_requests: int = 0  # 4xx answers
    dead_lettered: int = 0  # points moved to the dead-letter table
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success_monotonic: float | None = None


class SinkRunner:
    """Sends a spool through one sink. ``send_pending`` is the synchronous core (used by the thread, by
    ``specmon spool flush`` and by tests with a fake clock); ``start``/``stop`` run it in a daemon thread."""

    def __init__(
        self,
        sink: Sink,
        spool: Spool,
        *,
        batch_points: int = 5000,
        max_batch_bytes: int = 8 << 20,
        flush_interval_s: float = 1.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 300.0,
        jitter: float = 0.5,
        clock=time.monotonic,
        rng: random.Random | None = None,
    ):
        if batch_points <= 0:
            raise ValueError(f"batch_points must be positive, got {batch_points}")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"jitter must be in [0, 1), got {jitter}")
        self.sink = sink
        self.spool = spool
        self.batch_points = int(batch_points)
        self.max_batch_bytes = int(max_batch_bytes)
        self.flush_interval_s = float(flush_interval_s)
        self.backoff_initial_s = float(backoff_initial_s)
        self.backoff_max_s = float(backoff_max_s)
        self.jitter = float(jitter)
        self.clock = clock
        self.rng = rng or random.Random()
        self.stats = RunnerStats()
        self.next_attempt = 0.0  # clock value before which no write is tried
        self.memory: MemoryQueue | None = None  # the output's fallback queue (sent before the spool)
        self.spool_retry_at = 0.0  # clock value before which the spool's disk is not probed (it refused)
        self.spool_refusals = 0  # consecutive refusals of the spool's disk (probe backoff)
        self.unacked: list[Batch] = []  # delivered batches the disk refused to remove (ids only)
        self.unacked_points = 0
        self.spool_disk_error: str | None = None  # why the disk refused to remove delivered points (None: it does)
        self.disk_has_room = None  # callable -> bool: the output's free-space check (probe at once when True)
        self.lost_rejected: dict[str, int] = {}  # in-memory points the server refused alone (no spool to keep them)
        self._connected = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the synchronous core -----------------------------------------------------------------------------
    def backoff_s(self, failures: int, retry_after_s: float | None = None) -> float:
        """Delay before the next attempt after ``failures`` consecutive failures (>= 1)."""
        base = min(self.backoff_max_s, self.backoff_initial_s * 2.0 ** max(0, failures - 1))
        delay = base * (1.0 - self.jitter * self.rng.random())
        if retry_after_s:
            delay = max(delay, min(retry_after_s, self.backoff_max_s))
        return delay

    def send_pending(self, *, max_batches: int | None = None) -> int:
        """Send the spool until it is empty (or ``max_batches`` were sent); returns points delivered.

        On a transient failure: counts it, schedules ``next_attempt`` by the backoff and re-raises the
        SinkTransient (the batch stays in the spool). A permanent SinkError (bad configuration) is re-raised
        as it is, also with a backoff scheduled."""
        delivered = 0
        batches = 0
        try:
            if not self._connected:
                self.sink.connect()
                self._connected = True
            # points held in memory (the spool's disk refused them) first: they are the ones a crash would lose
            while self.memory is not None and len(self.memory) and not self._stopping.is_set():
                delivered += self._deliver_items(self.memory.take(self.batch_points))
            while (max_batches is None or batches < max_batches) and not self._stopping.is_set():
                if self.unacked and self._probe_due():
                    self._remove_unacked()
                if self.unacked_points >= MAX_UNACKED_POINTS or (not self.unacked and not self._probe_due()):
                    break  # too much held in memory, or the spool's disk refused a read: wait for the probe
                try:
                    batch = self.spool.peek(self.batch_points, self.max_batch_bytes,
                                            after_id=self._last_unacked_id())
                except SinkError as exc:
                    exc.spool_disk = True
                    raise
                if not batch:
                    break
                delivered += self._deliver(batch)
                batches += 1
        except SinkTransient as exc:
            self._failed(exc, exc.retry_after_s)
            raise
        except SinkError as exc:
            self._failed(exc, None)
            raise
        if self.stats.consecutive_failures:
            log.info("%s: delivering again after %d failed attempts", self.sink.name, self.stats.consecutive_failures)
        self.stats.consecutive_failures = 0
        self.stats.last_success_monotonic = self.clock()
        return delivered

    # ---- the spool's disk refusing ------------------------------------------------------------------------
    def _probe_due(self) -> bool:
        """Time to try the spool's disk again (backoff over, or the output sees room on it)."""
        if self.clock() >= self.spool_retry_at:
            return True
        try:
            return bool(self.disk_has_room and self.disk_has_room())
        except Exception:  # noqa: BLE001 - a failing statvfs only means: wait for the backoff
            return False

    def _spool_refused(self) -> float:
        """Schedule the next probe of the refusing disk; returns the delay (s)."""
        self.spool_refusals += 1
        delay = min(SPOOL_PROBE_MAX_S, SPOOL_PROBE_S * 2.0 ** (self.spool_refusals - 1))
        self.spool_retry_at = self.clock() + delay
        return delay

    def spool_writable(self) -> None:
        """The output got points into the spool: its disk takes writes, probe it at once."""
        self.spool_retry_at = 0.0
        self.spool_refusals = 0

    def _last_unacked_id(self) -> int | None:
        return self.unacked[-1].ids[-1] if self.unacked else None

    def _hold_unacked(self, batch: Batch, exc: SinkError | None = None) -> None:
        """The server has the batch but the disk refused its removal (``exc``; None: it refuses the batches
        held already, not tried again): hold its ids to remove later."""
        ids = batch.ids
        if len(ids) and ids[-1] - ids[0] + 1 == len(ids):
            ids = range(ids[0], ids[-1] + 1)  # a contiguous batch costs a few bytes however long
        self.unacked.append(Batch(ids, [], []))
        self.unacked_points += len(ids)
        if exc is None:
            return
        self.spool_disk_error = str(exc)
        delay = self._spool_refused()
        level = logging.WARNING if self.spool_refusals <= 3 else logging.DEBUG
        log.log(level, "%s; %d delivered points held to remove later (not sent again), disk probed again in "
                       "%.0f s", self._named(exc), self.unacked_points, delay)

    def _remove_unacked(self) -> None:
        """Remove the delivered points held by id, oldest first, while the disk lets us."""
        removed = 0
        while self.unacked:
            b = self.unacked[0]
            try:
                self.spool.ack(b)
            except SinkError as exc:
                self.spool_disk_error = str(exc)
                delay = self._spool_refused()
                log.log(logging.WARNING if self.spool_refusals <= 3 else logging.DEBUG,
                        "%s; still %d delivered points held, next probe in %.0f s", self._named(exc),
                        self.unacked_points, delay)
                return
            self.unacked.pop(0)
            self.unacked_points -= len(b)
            removed += len(b)
        self.spool_refusals = 0
        self.spool_retry_at = 0.0
        self.spool_disk_error = None
        if removed:
            log.info("%s: the spool's disk takes writes again: %d delivered points removed", self.sink.name, removed)

    def undelivered(self) -> int:
        """Points in the spool the server does not have yet (the spool minus the delivered ones held)."""
        return max(0, self.spool.depth() - self.unacked_points)

    def _failed(self, exc: SinkError, retry_after_s: float | None) -> None:
        self.stats.retries += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = str(exc)
        if self._connected and isinstance(exc, SinkTransient):
            self._disconnect()
        delay = self.backoff_s(self.stats.consecutive_failures, retry_after_s)
        if getattr(exc, "spool_disk", False):
            # the spool's own disk refused (not the server): probe it again with its own backoff, and keep
            # sending what the output holds in memory at the normal pace
            self._spool_refused()
            delay = min(delay, self.flush_interval_s)
        self.next_attempt = self.clock() + delay
        level = logging.WARNING if self.stats.consecutive_failures <= 3 else logging.DEBUG
        try:
            depth = str(self.spool.depth())
        except Exception:  # noqa: BLE001 - a broken spool file must not kill the sender's error path
            depth = "?"
        log.log(level, "%s; %s points wait in the spool, next attempt in %.1f s", self._named(exc), depth, delay)

    def _named(self, exc: Exception) -> str:
        """The error's message, starting with the (masked) sink name exactly once."""
        text = str(exc)
        return text if text.startswith(self.sink.name) else f"{self.sink.name}: {text}"

    def _disconnect(self) -> None:
        try:
            self.sink.close()
        except Exception:  # noqa: BLE001 - closing a broken connection must not hide the original error
            log.debug("%s: close after failure raised", self.sink.name, exc_info=True)
        self._connected = False

    def _deliver(self, batch: Batch) -> int:
        """Write one batch; split it on a 4xx; dead-letter single refused points. Returns points acked."""
        self.stats.requests += 1
        try:
            self.sink.write(batch.lines)
        except SinkRejected as exc:
            self.stats.rejected_requests += 1
            if len(batch) == 1:
                n = self.spool.dead_letter(batch, str(exc), exc.status)
                self.stats.dead_lettered += n
                log.warning("dead-lettered 1 %s point the server refused: %s", batch.measurements[0], self._named(exc))
                return 0
            first, second = batch.split()
            return self._deliver(first) + self._deliver(second)
        if self.unacked:  # the disk refuses removals: hold this batch too, the next probe removes them all
            self._hold_unacked(batch)
            n = len(batch)
        else:
            try:
                n = self.spool.ack(batch)
            except SinkError as exc:
                self._hold_unacked(batch, exc)
                n = len(batch)
        self.stats.delivered += n
        return n

    def _deliver_items(self, items: list[Item]) -> int:
        """Write points taken from the memory queue; on a 4xx split, and count a point the server refuses
        alone as lost (there is no spool to dead-letter it into). Anything not delivered on another error goes
        back to the queue before the error is re-raised."""
        if not items:
            return 0
        self.stats.requests += 1
        try:
            self.sink.write([line for _m, _t, line in items])
        except SinkRejected as exc:
            self.stats.rejected_requests += 1
            if len(items) == 1:
                m = items[0][0]
                self.lost_rejected[m] = self.lost_rejected.get(m, 0) + 1
                log.warning("lost 1 %s point the server refused (held in memory, no spool to dead-letter it): %s",
                            m, self._named(exc))
                return 0
            h = len(items) // 2
            try:
                n = self._deliver_items(items[:h])
            except BaseException:
                self.memory.put_back(items[h:])
                raise
            return n + self._deliver_items(items[h:])
        except BaseException:
            self.memory.put_back(items)
            raise
        self.stats.delivered += len(items)
        return len(items)

    # ---- the thread ------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Run the sender in a daemon thread (takes the spool's sender lock first)."""
        if self._thread is not None:
            return
        self.spool.acquire_sender()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=f"sink {self.sink.name}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            wait = self.next_attempt - self.clock()
            if wait > 0:
                self._stopping.wait(wait)
                continue
            try:
                self.send_pending()
            except SinkError:
                continue  # logged and backoff scheduled by send_pending
            except OSError as exc:  # the disk under the spool (ENOSPC, EFBIG...): an error state, not a bug
                err = SinkError(write_error_reason(exc, self.spool.path), where=str(self.spool.path))
                err.spool_disk = True
                self._failed(err, None)
                continue
            except Exception as exc:  # noqa: BLE001 - a bug must not kill the sender silently
                log.exception("%s: unexpected error in the sender", self.sink.name)
                self._failed(SinkTransient(f"unexpected {type(exc).__name__}: {exc}"), None)
                continue
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()

    def stop(self, flush_timeout_s: float = 10.0) -> bool:
        """Try to empty the spool for up to ``flush_timeout_s`` (whatever is left stays spooled for the next
        start), stop the thread and close the sink. Returns True when the spool was empty."""
        deadline = time.monotonic() + flush_timeout_s
        while self._thread is not None and (self.undelivered() or (self.memory is not None and len(self.memory))) \
                and time.monotonic() < deadline:
            self.wake()
            time.sleep(0.05)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            # a write in flight ends within the sink's own timeout
            self._thread.join(float(getattr(self.sink, "timeout_s", 10.0)) + 5.0)
            if self._thread.is_alive():
                log.warning("%s: sender still busy after stop; its batch stays spooled", self.sink.name)
            self._thread = None
        if self._connected:
            self._disconnect()
        if self.unacked:
            self._remove_unacked()
            if self.unacked:
                log.warning("%s: %d delivered points could not be removed from the spool (its disk refuses): "
                            "they are sent again at the next start", self.sink.name, self.unacked_points)
        self.spool.release_sender()
        return self.spool.depth() == 0


def spool_path(data_dir: str | Path, target) -> Path:
    """Spool file of a sink: ``DATA_DIR/spool/<kind>-<host>-<port>-<db|bucket|file>.sqlite``."""
    if target.kind == "sqlite":
        name = f"sqlite-{Path(target.path).name}"
    else:
        tail = target.path or target.opt("bucket", "")
        name = f"{target.kind}-{target.host}-{target.port}-{tail}"
    return Path(data_dir) / "spool" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".sqlite")


class Output:
    """One configured output: spool + sink + sender thread. What the daemon holds per sink URI.

    A sick disk never loses points silently: when the spool's disk refuses a write (full, read-only, file-size
    limit, I/O error) or its free space is below ``reserve_bytes``, points go to a bounded in-memory queue
    (:class:`station.outputs.memqueue.MemoryQueue`, ``memory_points``) that the sender sends straight to the
    sink; below the reserve only spectra and health stay out of the spool, below a quarter of it nothing is
    spooled. When the disk takes writes again the backlog in memory goes into the spool. :meth:`health`
    reports the state (``store_state``: ok / degraded: why) and every point dropped (``points_lost``)."""

    def __init__(self, sink: Sink, spool: Spool, runner: SinkRunner, *, memory_points: int = 50_000,
                 reserve_bytes: int = 0):
        self.sink = sink
        self.spool = spool
        self.runner = runner
        self.memory = MemoryQueue(memory_points)
        runner.memory = self.memory
        runner.disk_has_room = self._disk_has_room
        self.reserve_bytes = int(reserve_bytes)
        self.spool_error: str | None = None  # why the spool's last write failed (None: it worked)
        self.low_space: str | None = None  # why the reserve keeps points out of the spool (None: room)
        self.lost_at_close = 0
        self._lock = threading.Lock()
        self._logged_state = "ok"

    @property
    def name(self) -> str:
        return self.sink.name

    def free_bytes(self) -> int | None:
        """Free bytes for this process on the spool's filesystem (None when it cannot be asked)."""
        try:
            st = os.statvfs(self.spool.path.parent)
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def _disk_has_room(self) -> bool:
        """statvfs shows free space above the reserve (at least 1 MB): worth probing a refusing disk now."""
        free = self.free_bytes()
        return free is not None and free >= max(self.reserve_bytes, 1 << 20)

    def write(self, points) -> PutReport:
        """Commit points to the spool (durable on return) and wake the sender when a batch is full. When the
        disk refuses or is below its reserve, the points (or the low-priority ones) are queued in memory and
        sent directly instead (see the class). Raises ValueError for a point outside the vocabulary only."""
        items, dropped_fields, dropped_points = encode_points(points)
        with self._lock:
            to_spool, to_memory = items, []
            free = self.free_bytes() if self.reserve_bytes else None
            self.low_space = None
            if free is not None and free < self.reserve_bytes:
                critical = free < self.reserve_bytes // 4
                to_spool = [] if critical else [i for i in items if i[0] not in LOW_PRIORITY]
                to_memory = items if critical else [i for i in items if i[0] in LOW_PRIORITY]
                self.low_space = (f"{free / 1e6:.1f} MB free, below the reserve of {self.reserve_bytes / 1e6:.1f} MB:"
                                  f" {'nothing' if critical else 'spectra and health not'} spooled")
            report = PutReport(0, dropped_fields, dropped_points, 0)
            if to_spool or (self.spool_error is None and self.low_space is None and len(self.memory)):
                try:
                    if to_spool:
                        report = self.spool.put_encoded(to_spool, dropped_fields=dropped_fields,
                                                        dropped_points=dropped_points)
                        self.spool_error = None
                        self.runner.spool_writable()
                except SinkError as exc:
                    self.spool_error = write_error_reason(exc.__cause__ or exc, self.spool.path)
                    to_memory = items
                if self.spool_error is None and self.low_space is None and len(self.memory):
                    try:
                        self._spool_backlog()
                    except SinkError as exc:
                        self.spool_error = write_error_reason(exc.__cause__ or exc, self.spool.path)
            if to_memory:
                self.memory.push(to_memory)
            self._log_state()
        if len(self.memory) or self.spool.depth() >= self.runner.batch_points:
            self.runner.wake()
        return report

    def _spool_backlog(self) -> None:
        """The disk takes writes again: move the points held in memory into the spool (raises SinkError, with
        the points back in memory, when it refuses)."""
        moved = 0
        while len(self.memory):  # in chunks, highest priority first, while the disk keeps its reserve
            free = self.free_bytes() if self.reserve_bytes else None
            if free is not None and free < 2 * self.reserve_bytes:
                break  # the rest stays in memory (sent directly): the backlog must not fill the disk again
            items = self.memory.take(1000)
            try:
                self.spool.put_encoded(items)
            except BaseException:
                self.memory.put_back(items)
                raise
            moved += len(items)
        if moved:
            log.info("%s: the disk takes writes again: %d points held in memory moved into the spool (%d left in "
                     "memory)", self.name, moved, len(self.memory))

    @property
    def lost(self) -> dict[str, int]:
        """Points this output could not keep, per measurement (dropped from the full memory queue, refused by
        the server with no spool to keep them, left in memory at exit)."""
        out = dict(self.memory.dropped)
        for m, n in self.runner.lost_rejected.items():
            out[m] = out.get(m, 0) + n
        return out

    def state(self) -> str:
        """``ok``, or ``degraded: <why>`` (the spool's disk refuses writes or is below its reserve)."""
        why = self.spool_error and f"spool refuses writes ({self.spool_error})" or self.low_space
        if why is None and self.runner.unacked_points:
            why = (f"spool refuses removals ({self.runner.spool_disk_error}): {self.runner.unacked_points} "
                   f"delivered points held to remove")
        if why is None:
            return "ok"
        return f"degraded: {why}; {len(self.memory)} points held in memory"

    def _log_state(self) -> None:
        state = self.state()
        kind = state.split(":")[0] if state == "ok" else ("refused" if self.spool_error else "reserve")
        if kind != self._logged_state:
            if state == "ok":
                log.info("%s: spooling again", self.name)
            else:
                log.error("%s: %s; points go to the sink directly", self.name, state)
            self._logged_state = kind

    def health(self) -> dict[str, float | int | str | None]:
        """``station_health`` fields of this output: spool depth, age, dead letters, thinned points, the
        spool's disk state, points held in memory and lost."""
        lost = self.lost
        out: dict[str, float | int | str | None] = {
            "store_state": self.state(),
            "memory_depth": len(self.memory),
            "points_lost": sum(lost.values()),
            "emissions_lost": lost.get("emission", 0),
            "violations_lost": lost.get("violation", 0),
        }
        try:
            counters = self.spool.counters()
            out.update({
                "spool_depth": self.spool.depth(),
                "spool_age_s": self.spool.oldest_age_s(),
                "spool_dead_letters": self.spool.dead_letter_count(),
                "spool_thinned": sum(v for k, v in counters.items() if k.startswith("thinned:")),
            })
        except Exception as exc:  # noqa: BLE001 - an unreadable spool file is a state to report, not a crash
            out["store_state"] = f"degraded: spool unreadable ({exc})"
        return out

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the spool and the memory queue are empty (True) or the timeout passed (False)."""
        deadline = time.monotonic() + timeout_s
        while len(self.memory) or self.runner.undelivered():
            if time.monotonic() >= deadline:
                return False
            self.runner.wake()
            time.sleep(0.02)
        return True

    def close(self, flush_timeout_s: float = 10.0) -> bool:
        """Stop sending (after trying to flush for up to ``flush_timeout_s``) and close. True when empty. Points
        still held in memory go into the spool if the disk takes them, else they are lost (logged, counted)."""
        try:
            empty = self.runner.stop(flush_timeout_s)
            if len(self.memory):
                try:
                    self._spool_backlog()
                except SinkError as exc:
                    self.lost_at_close = len(self.memory)
                    log.error("%s: %d points held in memory are lost at exit (%s): %s", self.name,
                              self.lost_at_close, ", ".join(f"{m} {n}" for m, n in
                                                            sorted(self.memory.by_measurement().items())), exc)
                empty = False
            return empty
        finally:
            self.spool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
