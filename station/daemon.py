"""The station daemon: the scheduled, supervised loop behind ``specmon run``.

One main loop (no threads): ask the :class:`~station.scheduler.Scheduler` which band is due, take its
receiver from a :class:`ReceiverSupervisor` (opened with backoff after failures), sweep it and hand the
spectrum to the :class:`~station.pipeline.Pipeline` (detect -> track -> comply -> cases -> spool/sinks),
capture evidence for new violation cases, persist the tracker state, emit ``station_health`` points and pet
the systemd watchdog. Everything that can fail in the field is contained here:

- receiver read errors, timeouts, short reads, an unplugged dongle, a restarted rtl_tcp server: the
  receiver is closed and reopened with exponential backoff (state ``reopening`` in health); its bands are
  held meanwhile, other receivers' bands keep running; the loop never crashes on them;
- sinks down: the pipeline writes every point to the on-disk spool first, so measuring continues;
- SIGTERM/SIGINT (:meth:`Daemon.request_stop`): the current hop is abandoned at the next read, the spool is
  flushed for at most ``STOP_FLUSH_S``, the state saved; ``run`` returns and the process exits 0 in < 5 s;
- SIGHUP (:meth:`Daemon.request_reload`): config and register are reloaded between sweeps; tracks, cases,
  revisit history and spool are kept; a bad new config is logged and the old one stays;
- wall-clock jumps: scheduling and durations use ``time.monotonic``; only record timestamps use UTC;
- a full disk: the error is reported in health (``store_state``) and measuring continues; SQLite's
  transactions keep the store consistent.

Signal handlers are installed only by :func:`install_signal_handlers` (called from the CLI's main).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable

from station.config import Config, ReceiverConfig, load_config
from station.errors import ConfigError, EndOfRecording, ReceiverError, SpecmonError, TuningError, UsageError
from station.heap import trim_heap
from station.scheduler import BandSlot, Scheduler

log = logging.getLogger("specmon.daemon")

#: at most this long is spent flushing sinks on stop (the spool keeps the rest on disk)
STOP_FLUSH_S = 2.0
#: at the end of a bounded run (--sweeps/--duration) the sinks get this long to drain
BOUNDED_FLUSH_S = 15.0
#: stop reasons of a run that ended by itself (not by a signal): drain, capture, export before exiting
BOUNDED = ("sweeps", "duration", "end_of_recording")
#: ... and the evidence still waiting gets this long
BOUNDED_EVIDENCE_S = 20.0


class SweepAbandoned(Exception):
    """Raised inside a read when a stop was requested: the current hop/sweep is dropped unfinished."""


# ---------------------------------------------------------------------------------------------------------
# systemd notification (sd_notify protocol, written here: no libsystemd needed)
# ---------------------------------------------------------------------------------------------------------
class SystemdNotifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=...``, ``STOPPING=1`` to ``$NOTIFY_SOCKET`` when set.

    ``watchdog_interval_s`` is half of ``$WATCHDOG_USEC`` (None without a watchdog). Failures are ignored
    (a notification must never break the station)."""

    def __init__(self, environ: dict | None = None):
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        ok_pid = pid is None or pid == str(os.getpid())
        self.watchdog_interval_s = int(usec) / 2e6 if usec and usec.isdigit() and ok_pid else None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(lines).encode(), addr)
            return True
        except OSError as exc:
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


# ---------------------------------------------------------------------------------------------------------
# receivers under supervision
# ---------------------------------------------------------------------------------------------------------
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
    (the last attempt to open failed; a next one is scheduled). Never raises on open failures."""

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


# ---------------------------------------------------------------------------------------------------------
# the daemon
# ---------------------------------------------------------------------------------------------------------
@dataclass
class RunSummary:
    """What a run did (printed at the end of a bounded run)."""

    sweeps: int = 0
    sweeps_per_band: dict[str, int] = field(default_factory=dict)
    abandoned: int = 0
    failed_sweeps: int = 0  # sweeps whose processing raised (logged with the traceback)
    receiver_errors: int = 0
    emissions_last: dict[str, int] = field(default_factory=dict)  # per band, last sweep
    new_cases: int = 0
    stopped_by: str = ""  # "sweeps", "duration", "end_of_recording", a signal name, "error"
    elapsed_s: float = 0.0
    exports: list = field(default_factory=list)  # paths written at the end
    band_lines: list = field(default_factory=list)  # per band: emissions by class in its last sweep
    case_lines: list = field(default_factory=list)  # one line per violation case in the store
    data_dir: str = ""
    db_path: str = ""


class Daemon:
    """The station. ``Daemon(config).run()`` until the bounds in ``config.run`` or a stop request."""

    def __init__(self, config: Config, *, config_path: str | None = None,
                 receiver_factory: ReceiverFactory | None = None, reporter=None,
                 notifier: SystemdNotifier | None = None, clock: Callable[[], float] = time.monotonic,
                 pipeline=None):
        self.config = config
        self.config_path = config_path
        self._clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload = threading.Event()
        self.stop_reason = ""
        self._receiver_factory = receiver_factory
        self.receivers = {r.name: ReceiverSupervisor(r, self._stop, factory=receiver_factory, clock=clock)
                          for r in config.receivers}
        self.scheduler = Scheduler(self._slots(config), clock=clock)
        self.notifier = notifier or SystemdNotifier()
        if reporter is None:
            from station.tui import make_reporter

            reporter = make_reporter(config.run.tui)
        self.reporter = reporter
        if pipeline is None:
            from station.pipeline import Pipeline

            pipeline = Pipeline(config)
        self.pipeline = pipeline
        self.summary = RunSummary(data_dir=str(config.store.data_dir), db_path=str(config.store.db_path))
        self.started_mono = clock()
        self.last_health = float("-inf")
        self.last_watchdog = float("-inf")
        self._last_reports: dict = {}
        self.completed: dict[str, int] = {}  # band -> sweeps completed (processed and stored)

    @staticmethod
    def _slots(config: Config) -> list[BandSlot]:
        return [BandSlot(b.name, b.revisit_s, b.priority) for b in config.bands]

    # ---- requests from signal handlers (async-signal-safe: they only set events) -------------------------
    def request_stop(self, reason: str = "signal") -> None:
        if not self.stop_reason:
            self.stop_reason = reason
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        self._reload.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ---- the loop ---------------------------------------------------------------------------------------
    def run(self) -> RunSummary:
        cfg = self.config
        t0 = self._clock()
        self.started_mono = t0
        self.notifier.ready(f"sweeping {len(cfg.bands)} bands")
        self.reporter.start(self)
        try:
            self._loop()
        finally:
            self.summary.elapsed_s = self._clock() - t0
            self._shutdown()
        return self.summary

    def _bounds_reached(self) -> str | None:
        run = self.config.run
        if run.duration_s and self._clock() - self.started_mono >= run.duration_s:
            return "duration"
        if run.sweeps and all(self.completed.get(b, 0) >= run.sweeps for b in self.scheduler.bands):
            return "sweeps"
        return None

    def _finished_bands(self) -> list[str]:
        """Bands that completed the run's ``sweeps`` bound (failed/abandoned sweeps do not count)."""
        n = self.config.run.sweeps
        return [b for b in self.scheduler.bands if n and self.completed.get(b, 0) >= n]

    def _loop(self) -> None:
        while not self._stop.is_set():
            reason = self._bounds_reached()
            if reason:
                self.stop_reason = reason
                break
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            self._periodic()
            decision = self.scheduler.next(exclude=self._finished_bands())
            if decision.band is None:
                self._idle(decision.wait_s)
                continue
            band = self.config.band(decision.band)
            sup = self.receivers[band.receiver]
            rx = sup.acquire()
            if rx is None:  # in backoff (the supervisor logged why): its bands wait, other receivers go on
                self.scheduler.hold(band.name, sup.next_attempt)
                continue
            self._sweep(band, sup, rx)
            trim_heap()  # the sweep's arrays are freed: hand the pages back (RSS creeps up otherwise)

    def _idle(self, wait_s: float) -> None:
        """Sleep until the next band is due, the next health tick, the run's end or a signal."""
        now = self._clock()
        limits = [wait_s, self.last_health + self.config.run.health_interval_s - now]
        if self.notifier.watchdog_interval_s:
            limits.append(self.last_watchdog + self.notifier.watchdog_interval_s - now)
        if self.config.run.duration_s:
            limits.append(self.started_mono + self.config.run.duration_s - now)
        timeout = max(0.0, min(limits))
        self._wake.wait(timeout=min(timeout, 60.0))
        self._wake.clear()

    def _sweep(self, band, sup: ReceiverSupervisor, rx) -> None:
        revisit_s = self.scheduler.started(band.name)
        self.reporter.sweep_started(band, self.scheduler.sweeps(band.name))
        try:
            result = self.pipeline.sweep(band, rx, progress=self._hop_progress)
        except SweepAbandoned:
            self.summary.abandoned += 1
            log.info("sweep of %s abandoned: stop requested", band.name)
            return
        except EndOfRecording as exc:  # a file: source replayed to its end (no loop): the run is complete
            log.info("%s; stopping", exc)
            self.stop_reason = self.stop_reason or "end_of_recording"
            self._stop.set()
            return
        except TuningError as exc:  # the band, not the receiver, is the problem: retry after its period
            self.reporter.event(f"band {band.name}: {exc}")
            return
        except (ReceiverError, OSError, EOFError) as exc:
            sup.failed(exc)
            self.summary.receiver_errors += 1
            self.reporter.event(f"band {band.name}: receiver error: {exc}")
            self.scheduler.hold(band.name, sup.next_attempt)
            return
        sup.succeeded()
        if self.summary.sweeps == 0 and sup.counters.first_tune_process_s is not None:
            log.info("first hop %.2f s after the process started", sup.counters.first_tune_process_s)
        try:
            report = self.pipeline.process(band, result, revisit_s=revisit_s, receiver=sup)
        except Exception as exc:  # a processing bug on one sweep must not stop an unattended station
            self.summary.failed_sweeps += 1
            log.exception("processing the sweep of %s failed", band.name)
            self.reporter.event(f"band {band.name}: processing failed: {type(exc).__name__}: {exc}")
            return
        if report.store_error:
            self.reporter.event(f"store: {report.store_error}")
        self.summary.sweeps += 1
        self.completed[band.name] = self.completed.get(band.name, 0) + 1
        self.summary.sweeps_per_band[band.name] = self.completed[band.name]
        self.summary.emissions_last[band.name] = len(report.results)
        self._last_reports[band.name] = replace(report, spectrum=None)  # keep the summary, not the sweep
        self.summary.new_cases += len(report.new_cases)
        self.reporter.sweep_done(report)
        if self.config.evidence.enabled and not self._stop.is_set() and getattr(self.pipeline, "evidence_pending", 0):
            trim_heap()  # the sweep's arrays are freed: do not carry their pages through the capture
            self._capture_evidence()
        self._periodic(after_sweep=True)

    def _receiver_of(self, band_name: str):
        try:
            sup = self.receivers[self.config.band(band_name).receiver]
        except KeyError:  # band or receiver removed by a reload: capture with the first receiver
            sup = next(iter(self.receivers.values()))
        return sup, sup.acquire()

    def _capture_evidence(self) -> None:
        """Evidence for new cases (retune + IQ + snapshot), bounded per sweep; failures never stop the station."""
        failed = {}

        def receiver_for(band_name):
            sup, rx = self._receiver_of(band_name)
            failed["sup"] = sup
            return rx

        try:
            self.pipeline.capture_evidence(receiver_for)
        except SweepAbandoned:
            pass
        except (ReceiverError, OSError, EOFError) as exc:
            if "sup" in failed:
                failed["sup"].failed(exc)
            self.reporter.event(f"evidence capture: receiver error: {exc}")
        except Exception as exc:  # an evidence bug must not take the station down: log it in full
            log.exception("evidence capture failed")
            self.reporter.event(f"evidence capture failed: {type(exc).__name__}: {exc}")

    def _hop_progress(self, done: int, total: int) -> None:
        """At each retune: the live view's progress, and the watchdog (a long band sweep is not a hang; a read
        that never returns is, and stops the pings)."""
        self.reporter.hop_progress(done, total)
        self._pet_watchdog()

    def _pet_watchdog(self) -> None:
        now = self._clock()
        if self.notifier.watchdog_interval_s and now - self.last_watchdog >= self.notifier.watchdog_interval_s / 2:
            self.notifier.watchdog()
            self.last_watchdog = now

    def _periodic(self, after_sweep: bool = False) -> None:
        now = self._clock()
        self._pet_watchdog()
        if now - self.last_health >= self.config.run.health_interval_s:
            self.last_health = now
            health = self.station_health()
            self.pipeline.write_health(health)
            self.reporter.health(health)
            self.notifier.status(self._status_line(health))

    def station_health(self) -> dict:
        """Station-wide health (vocabulary ``station_health`` fields, band 'all')."""
        states = [s.state for s in self.receivers.values()]
        state = "ok" if all(s == "ok" for s in states) else (
            "failed" if any(s == "failed" for s in states) else
            "reopening" if any(s == "reopening" for s in states) else states[0])
        c = [s.counters for s in self.receivers.values()]
        health = {
            "receiver_state": state,
            "receiver_errors": sum(x.errors for x in c),
            "dropped_reads": sum(x.dropped_reads for x in c),
            "short_reads": sum(x.short_reads for x in c),
            "uptime_s": self._clock() - self.started_mono,
            "latitude": self.config.station.latitude,
            "longitude": self.config.station.longitude,
            "cpu_pct": _cpu_pct(self),
            "temperature_c": _soc_temperature_c(),
        }
        health.update(self.pipeline.health())
        return health

    @staticmethod
    def _status_line(h: dict) -> str:
        return (f"receiver {h.get('receiver_state')}, spool {h.get('spool_depth', '?')} points, "
                f"store {h.get('store_state', 'ok')}")

    def reload(self) -> bool:
        """Re-read the config file (SIGHUP): bands, register, sinks; keeps tracks, cases and history."""
        if not self.config_path:
            log.info("SIGHUP: the built-in demo config has no file to reload; reloading the register only")
            new = self.config
        else:
            try:
                new = load_config(self.config_path)
            except SpecmonError as exc:
                log.error("SIGHUP: keeping the running config: %s", exc)
                self.reporter.event(f"reload failed, old config kept: {exc}")
                return False
            new = new.with_data_dir(self.config.store.data_dir).with_bounds(
                sweeps=self.config.run.sweeps, duration_s=self.config.run.duration_s)
        try:
            self.pipeline.reload(new)
        except SpecmonError as exc:
            log.error("SIGHUP: keeping the running config and register: %s", exc)
            self.reporter.event(f"reload failed, old config kept: {exc}")
            return False
        for name, sup in list(self.receivers.items()):
            if name not in {r.name for r in new.receivers} or new.receiver(name) != sup.cfg:
                sup.close()
                del self.receivers[name]
        for r in new.receivers:
            if r.name not in self.receivers:
                self.receivers[r.name] = ReceiverSupervisor(r, self._stop, factory=self._receiver_factory,
                                                            clock=self._clock)
        self.scheduler.set_bands(self._slots(new))
        self.config = new
        log.info("SIGHUP: configuration reloaded (%d bands)", len(new.bands))
        self.reporter.event("configuration and register reloaded")
        return True

    def _shutdown(self) -> None:
        self.notifier.stopping()
        self.summary.stopped_by = self.stop_reason or "error"
        if self.stop_reason in BOUNDED and self.config.evidence.enabled:
            # a bounded run has no schedule left to protect: capture the evidence still waiting
            deadline = self._clock() + BOUNDED_EVIDENCE_S
            while getattr(self.pipeline, "evidence_pending", 0) and self._clock() < deadline \
                    and not self._stop.is_set():
                before = self.pipeline.evidence_pending
                self._capture_evidence()
                if self.pipeline.evidence_pending >= before:
                    break
        for sup in self.receivers.values():
            sup.close()
        try:
            self.pipeline.save_state()
        except Exception as exc:  # must not hide the flush below
            log.error("saving the tracker state failed: %s", exc)
        try:
            self.pipeline.write_health(self.station_health())
        except Exception as exc:
            log.debug("final health point: %s", exc)
        try:
            bounded = self.stop_reason in BOUNDED  # nobody waits on us: drain the spools
            if not self.pipeline.flush(timeout_s=BOUNDED_FLUSH_S if bounded else STOP_FLUSH_S):
                log.warning("sinks not drained at exit; the spool keeps the rest for the next start")
        except Exception as exc:
            log.error("flushing sinks failed (the spool keeps the points): %s", exc)
        if self.stop_reason in BOUNDED and self.config.export.on_exit:
            try:
                self.summary.exports = self.pipeline.export(self.config.export_dir)
            except SpecmonError as exc:
                log.error("export failed: %s", exc)
        self.summary.receiver_errors = sum(s.counters.errors for s in self.receivers.values())
        self.summary.band_lines = [_band_line(r) for r in self._last_reports.values()]
        try:
            self.summary.case_lines = self.pipeline.open_cases(limit=1000)
        except Exception as exc:
            log.error("listing the violation cases failed: %s", exc)
        self.pipeline.close()
        self.reporter.stop(self.summary)
        self.notifier.close()


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


def _band_line(report) -> str:
    from collections import Counter

    counts = Counter(j.klass for j in report.results)
    by_class = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    return f"{report.band:<10} sweep {report.sweep_no}: {len(report.results)} emissions ({by_class})"


def _cpu_pct(daemon: Daemon) -> float | None:
    """Process CPU use since the previous call, percent of one core."""
    now = time.monotonic()
    cpu = time.process_time()
    prev = getattr(daemon, "_cpu_prev", None)
    daemon._cpu_prev = (now, cpu)
    if prev is None or now - prev[0] <= 0:
        return None
    return 100.0 * (cpu - prev[1]) / (now - prev[0])


def _soc_temperature_c() -> float | None:
    """SoC temperature (Raspberry Pi and most Linux boards), None where not available."""
    try:
        with open("/sys/class/thermal/thermal_zone0/temp") as f:
            return int(f.read().strip()) / 1000.0
    except (OSError, ValueError):
        return None


def install_signal_handlers(daemon: Daemon) -> None:
    """SIGTERM/SIGINT -> stop, SIGHUP -> reload. Call from the main thread of the main program only."""

    def on_stop(signum, frame):
        if daemon.stopping and signum == signal.SIGINT:  # a second Ctrl-C: stop waiting for the flush
            raise KeyboardInterrupt
        daemon.request_stop(signal.Signals(signum).name)  # only sets events: safe inside a handler

    def on_hup(signum, frame):
        daemon.request_reload()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, on_hup)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


__all__ = ["Daemon", "GuardedReceiver", "ReceiverSupervisor", "RunSummary", "SweepAbandoned",
           "SystemdNotifier", "install_signal_handlers", "open_configured_receiver"]
