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
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from station.errors import SinkError
from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient
from station.outputs.spool import Batch, PutReport, Spool
from station.outputs.sqlitefile import write_error_reason

log = logging.getLogger("station.outputs.sinks")


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
            while (max_batches is None or batches < max_batches) and not self._stopping.is_set():
                batch = self.spool.peek(self.batch_points, self.max_batch_bytes)
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

    def _failed(self, exc: SinkError, retry_after_s: float | None) -> None:
        self.stats.retries += 1
        self.stats.consecutive_failures += 1
        self.stats.last_error = str(exc)
        if self._connected and isinstance(exc, SinkTransient):
            self._disconnect()
        delay = self.backoff_s(self.stats.consecutive_failures, retry_after_s)
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
        n = self.spool.ack(batch)
        self.stats.delivered += n
        return n

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
                self._failed(SinkError(write_error_reason(exc, self.spool.path), where=str(self.spool.path)), None)
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
        while self._thread is not None and self.spool.depth() and time.monotonic() < deadline:
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
    """One configured output: spool + sink + sender thread. What the daemon holds per sink URI."""

    def __init__(self, sink: Sink, spool: Spool, runner: SinkRunner):
        self.sink = sink
        self.spool = spool
        self.runner = runner

    @property
    def name(self) -> str:
        return self.sink.name

    def write(self, points) -> PutReport:
        """Commit points to the spool (durable on return) and wake the sender when a batch is full."""
        report = self.spool.put(points)
        if self.spool.depth() >= self.runner.batch_points:
            self.runner.wake()
        return report

    def health(self) -> dict[str, float | int | None]:
        """``station_health`` fields of this output: spool depth, age, dead letters, thinned points."""
        counters = self.spool.counters()
        return {
            "spool_depth": self.spool.depth(),
            "spool_age_s": self.spool.oldest_age_s(),
            "spool_dead_letters": self.spool.dead_letter_count(),
            "spool_thinned": sum(v for k, v in counters.items() if k.startswith("thinned:")),
        }

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the spool is empty (True) or the timeout passed (False)."""
        deadline = time.monotonic() + timeout_s
        while self.spool.depth():
            if time.monotonic() >= deadline:
                return False
            self.runner.wake()
            time.sleep(0.02)
        return True

    def close(self, flush_timeout_s: float = 10.0) -> bool:
        """Stop sending (after trying to flush for up to ``flush_timeout_s``) and close. True when empty."""
        try:
            return self.runner.stop(flush_timeout_s)
        finally:
            self.spool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
