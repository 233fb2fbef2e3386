"""Receivers under supervision: :class:`ReceiverSupervisor` keeps a configured receiver open and reopens it
with exponential backoff after a failure; :class:`GuardedReceiver` is what the sweep executor and evidence
capture read through (stop requests abandon a read with :class:`SweepAbandoned`; stalled and short reads
count as failures; read counters for health)."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from station.config import ReceiverConfig
from station.errors import ConfigError, DataError, ReceiverError, SpecmonError, UsageError

log = logging.getLogger("specmon.daemon")


class SweepAbandoned(Exception):
    """Raised inside a read when a stop was requested: the current hop/sweep is dropped unfinished."""


ReceiverFactory = Callable[[ReceiverConfig], object]


def open_configured_receiver(cfg: ReceiverConfig):
    """Open ``cfg.uri`` and apply sample rate, gain and ppm (the default :data:`ReceiverFactory`)."""
    from station.receivers import open_receiver

    options = {"settle_samples": cfg.settle_samples}
    if cfg.seed is not None:
        options["seed"] = cfg.seed
    rx = open_receiver(cfg.uri, **options)
    try:
        rx.set_sample_rate(cfg.sample_rate_hz)
        rx.set_gain(cfg.gain_db)
        if cfg.ppm:
            rx.set_ppm(cfg.ppm)
    except BaseException:
        rx.close()
        raise
    return rx


class GuardedReceiver:
    """A thin proxy over a Receiver that the sweep executor and evidence capture read through.

    Before each read it checks the stop flag (raising :class:`SweepAbandoned`), and it counts reads, short
    reads and read time for health. Everything else is delegated."""

    def __init__(self, inner, stop: threading.Event, counters: "ReceiverCounters", read_timeout_s: float = 0.0):
        self._inner = inner
        self._stop = stop
        self._counters = counters
        self._timeout_s = float(read_timeout_s)
        self.on_tune = None  # called after each retune (sweep progress)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    @property
    def inner(self):
        return self._inner

    def _check(self):
        if self._stop.is_set():
            raise SweepAbandoned("stop requested")

    def _timed(self, t0: float, n_samples: int) -> None:
        dt = time.perf_counter() - t0
        self._counters.read_s += dt
        self._counters.reads += 1
        # a read that takes far longer than its samples last is a stalled device/link (USB hiccup, half-dead
        # rtl_tcp peer): count it as a receiver failure so the receiver is reopened
        rate = getattr(self._inner, "sample_rate_hz", 0.0) or 0.0
        expected = n_samples / rate if rate > 0 else 0.0
        if self._timeout_s and dt > self._timeout_s + expected:
            raise ReceiverError(f"read of {n_samples} samples took {dt:.1f} s (read_timeout {self._timeout_s:g} s)",
                                where=getattr(self._inner, "uri", None))

    def read_raw(self, n_samples: int):
        self._check()
        t0 = time.perf_counter()
        out = self._inner.read_raw(n_samples)
        self._timed(t0, n_samples)
        if out is not None and len(out) < 2 * n_samples:
            self._counters.short_reads += 1
            raise ReceiverError(f"short read: {len(out) // 2} of {n_samples} samples", where=self._inner.uri)
        return out

    def read(self, n_samples: int):
        self._check()
        t0 = time.perf_counter()
        out = self._inner.read(n_samples)
        self._timed(t0, n_samples)
        if out is not None and len(out) < n_samples:
            self._counters.short_reads += 1
            raise ReceiverError(f"short read: {len(out)} of {n_samples} samples", where=self._inner.uri)
        return out

    def set_center_freq(self, freq_hz: float) -> float:
        self._check()
        if self._counters.first_tune_process_s is None:
            self._counters.first_tune_process_s = process_age_s()
        got = self._inner.set_center_freq(freq_hz)
        if self.on_tune is not None:
            self.on_tune()
        return got


@dataclass
class ReceiverCounters:
    reads: int = 0
    short_reads: int = 0
    dropped_reads: int = 0  # reads that failed with an error
    errors: int = 0  # failures that closed the receiver (open failures included)
    reopens: int = 0  # successful reopens after a failure
    read_s: float = 0.0
    first_tune_process_s: float | None = None  # process age at the first retune (start-up time)


class ReceiverSupervisor:
    """Keeps one configured receiver open; after a failure closes it and reopens with exponential backoff.

    States: ``closed`` (not opened yet), ``ok``, ``reopening`` (waiting for the next attempt), ``failed``
    (the last attempt to open failed; a next one is scheduled). Transient open failures (no device, host
    unreachable) are retried; permanent ones are raised at once with their exit code: a malformed URI
    (ConfigError) and a broken input file behind it (DataError: a ``sim:`` scenario, a ``file:`` recording)."""

    def __init__(self, cfg: ReceiverConfig, stop: threading.Event, *, factory: ReceiverFactory | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self._stop = stop
        self._factory = factory or open_configured_receiver
        self._clock = clock
        self.counters = ReceiverCounters()
        self.state = "closed"
        self.last_error: str | None = None
        self.next_attempt = 0.0
        self._delay = cfg.reopen_initial_s
        self._rx = None
        self._guarded: GuardedReceiver | None = None
        self.info = None

    def acquire(self) -> GuardedReceiver | None:
        """The open receiver, opening it when due; None while in backoff or when opening failed."""
        if self._rx is not None:
            return self._guarded
        if self._clock() < self.next_attempt:
            return None
        try:
            rx = self._factory(self.cfg)
        except UsageError as exc:  # a malformed URI or option never heals: it is a config error
            raise ConfigError(f"receiver {self.cfg.name}: {exc}", where=f"receivers.{self.cfg.name}.uri") from None
        except (ConfigError, DataError):  # a broken scenario/recording/config file never heals by waiting
            raise
        except (SpecmonError, OSError, ValueError, RuntimeError) as exc:
            self._failed(exc, opening=True)
            return None
        was_failing = self.state in ("reopening", "failed")
        self._rx = rx
        self._guarded = GuardedReceiver(rx, self._stop, self.counters, self.cfg.read_timeout_s)
        try:
            self.info = rx.info
        except Exception:  # info is descriptive only
            self.info = None
        self.state = "ok"
        if was_failing:
            self.counters.reopens += 1
            log.info("receiver %s reopened (%s)", self.cfg.name, self.cfg.uri)
        return self._guarded

    def succeeded(self) -> None:
        """A whole sweep went through: reset the backoff."""
        self._delay = self.cfg.reopen_initial_s
        self.last_error = None

    def failed(self, exc: BaseException) -> None:
        """A read/tune failed: close and schedule a reopen."""
        self.counters.dropped_reads += 1
        self._failed(exc, opening=False)

    def _failed(self, exc: BaseException, *, opening: bool) -> None:
        self.counters.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.close()
        self.state = "failed" if opening else "reopening"
        self.next_attempt = self._clock() + self._delay
        log.warning("receiver %s %s: %s; retrying in %.2f s", self.cfg.name,
                    "cannot be opened" if opening else "failed", self.last_error, self._delay)  # noqa: E501
        self._delay = min(self._delay * 2.0, self.cfg.reopen_max_s)

    def close(self) -> None:
        rx, self._rx, self._guarded = self._rx, None, None
        if rx is not None:
            try:
                rx.close()
            except Exception as exc:  # closing a dead device may fail; it is gone either way
                log.debug("closing receiver %s: %s", self.cfg.name, exc)


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), for the start-up-to-first-hop figure."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
