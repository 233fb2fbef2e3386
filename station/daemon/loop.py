"""The :class:`Daemon` loop: schedule, acquire the band's receiver, sweep, process, capture evidence, health
and watchdog; stop, reload and the orderly shutdown (see :mod:`station.daemon` for what is contained where).

One cohesive thing: every method reads or changes the same run state (receivers, scheduler, pipeline, stop
and reload flags, summary)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import replace
from typing import Callable

from station.config import Config, load_config
from station.daemon.signals import SystemdNotifier
from station.clock import clock_state
from station.daemon.summary import RunSummary, _band_line, _cpu_pct, _soc_temperature_c
from station.daemon.supervision import ReceiverFactory, ReceiverSupervisor, SweepAbandoned
from station.errors import EndOfRecording, ReceiverError, SpecmonError, TuningError
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


class Daemon:
    """The station. ``Daemon(config).run()`` until the bounds in ``config.run`` or a stop request."""

    def __init__(self, config: Config, *, config_path: str | None = None,
                 receiver_factory: ReceiverFactory | None = None, reporter=None,
                 notifier: SystemdNotifier | None = None, clock: Callable[[], float] = time.monotonic,
                 pipeline=None, warmup: bool = False):
        self.config = config
        self.warmup = warmup  # compile the numba kernels before the first receiver read (station.warmup)
        self.config_path = config_path
        self._clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload = threading.Event()
        self.stop_reason = ""
        self._receiver_factory = receiver_factory
        self.receivers = {r.name: ReceiverSupervisor(r, self._stop, factory=receiver_factory, clock=clock)
                          for r in config.receivers}
        self.scheduler = Scheduler(self._slots(config), clock=clock, jitter=config.run.revisit_jitter,
                                   seed=self._schedule_seed(config))
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
        self.hub = None  # station.web.LiveHub while the web app runs: the loop hands it each sweep and health
        self.web = None
        self.completed: dict[str, int] = {}  # band -> sweeps completed (processed and stored)
        self._last_store_error: str | None = None

    @staticmethod
    def _schedule_seed(config: Config) -> int | None:
        """Seed of the scheduler's jitter: the first seeded (simulated) receiver's seed, so a simulated run is
        reproducible; None (OS entropy) for a station of real receivers."""
        return next((r.seed for r in config.receivers if r.seed is not None), None)

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
    # ---- the run bound across restarts ------------------------------------------------------------------
    #: station_state key of a bounded run's progress: {"sweeps": N, "completed": {band: n}} while it runs
    RUN_PROGRESS_KEY = "run_progress"

    def _state_store(self):
        return getattr(self.pipeline, "state", None)

    def _resume_run_bound(self) -> None:
        """A bounded run (``--sweeps N``) killed before it finished (SIGKILL, crash, power loss) finishes its
        original N sweeps per band after the restart instead of starting N more; a run that ended in order
        (its bound reached, or SIGTERM/SIGINT) leaves nothing to resume."""
        n = self.config.run.sweeps
        store = self._state_store()
        if not n or store is None:
            return
        try:
            saved = store.load(self.RUN_PROGRESS_KEY)
        except Exception as exc:  # an unreadable record must not stop the station: start the bound afresh
            log.warning("run progress unreadable (%s); the --sweeps bound starts afresh", exc)
            return
        if not isinstance(saved, dict) or saved.get("sweeps") != n or not isinstance(saved.get("completed"), dict):
            return
        done = {b: int(v) for b, v in saved["completed"].items() if b in self.scheduler.bands
                and isinstance(v, int) and 0 <= v}
        if done:
            self.completed.update(done)
            log.info("resuming an interrupted run bounded to %d sweeps per band: %s already done", n,
                     ", ".join(f"{b} {v}" for b, v in sorted(done.items())))

    def _save_run_progress(self, *, finished: bool = False) -> None:
        store = self._state_store()
        if not self.config.run.sweeps or store is None:
            return
        try:
            store.save_many({self.RUN_PROGRESS_KEY: None if finished else
                             {"sweeps": self.config.run.sweeps, "completed": dict(self.completed)}})
        except Exception as exc:  # progress is a convenience: never stop measuring for it
            log.warning("saving the run progress failed: %s", exc)

    def run(self) -> RunSummary:
        cfg = self.config
        self._resume_run_bound()
        t0 = self._clock()
        self.started_mono = t0
        self._start_web()
        self.notifier.ready(f"sweeping {len(cfg.bands)} bands")
        self.reporter.start(self)
        if self.web is not None:
            self.reporter.event(f"web app on {self.web.url}")
        try:
            if self.warmup:
                self._warm_up()
            self._loop()
        finally:
            self.summary.elapsed_s = self._clock() - t0
            self._shutdown()
        return self.summary

    def _start_web(self) -> None:
        """The read-only web app (``[web] enabled``) in its own thread; a failure to start is logged and the
        station runs without it."""
        if not self.config.web.enabled:
            return
        from station.web import LiveHub, start_web

        hub = LiveHub(points=self.config.web.spectrum_points)
        self.web = start_web(self.config, hub, bands=lambda: [(b.name, b.f_lo_hz, b.f_hi_hz)
                                                              for b in self.config.bands])
        if self.web is not None:
            self.hub = hub

    def receiver_rows(self) -> list[dict]:
        """One dict per receiver for the web app's health page."""
        return [{"name": name, "uri": sup.cfg.uri, "state": sup.state, "errors": sup.counters.errors,
                 "reopens": sup.counters.reopens, "dropped_reads": sup.counters.dropped_reads,
                 "short_reads": sup.counters.short_reads, "last_error": str(sup.last_error or "")}
                for name, sup in self.receivers.items()]

    def _warm_up(self) -> None:
        """Compile the kernels (station.warmup) before any receiver is opened, so compilation never counts
        against a read timeout; the watchdog is petted meanwhile and a stop request is not held up by it."""
        from station.warmup import compile_in_child, warm_up

        done: dict = {}

        def work():
            compile_in_child(self.config)  # a cold numba cache: the compiler's memory stays in a child
            done["report"] = warm_up(self.config)

        t = threading.Thread(target=work, name="warm-up", daemon=True)
        t.start()
        while t.is_alive() and not self._stop.is_set():
            t.join(1.0)
            self._pet_watchdog()
        report = done.get("report")
        if report is not None:
            log.info("kernels ready in %.1f s (%d bands warmed)", report.seconds, report.bands)
        self.started_mono = self._clock()  # --duration counts measuring time, not compilation

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
            report = self.pipeline.process(band, result, revisit_s=revisit_s, receiver=rx, supervisor=sup)
        except Exception as exc:  # a processing bug on one sweep must not stop an unattended station
            self.summary.failed_sweeps += 1
            log.exception("processing the sweep of %s failed", band.name)
            self.reporter.event(f"band {band.name}: processing failed: {type(exc).__name__}: {exc}")
            return
        if report.store_error and report.store_error != self._last_store_error:  # once per new reason
            self.reporter.event(f"store: {report.store_error}")
        self._last_store_error = report.store_error
        self.summary.sweeps += 1
        self.completed[band.name] = self.completed.get(band.name, 0) + 1
        self.summary.sweeps_per_band[band.name] = self.completed[band.name]
        self._save_run_progress()
        self.summary.emissions_last[band.name] = len(report.results)
        self._last_reports[band.name] = replace(report, spectrum=None)  # keep the summary, not the sweep
        self.summary.new_cases += len(report.new_cases)
        self.reporter.sweep_done(report)
        if self.hub is not None:
            self.hub.publish_sweep(report)
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
            if self.hub is not None:
                self.hub.publish_health(health, self.receiver_rows())
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
            "position_source": "config",
        }
        health["clock_state"], health["clock_offset_s"] = clock_state()
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
            except Exception as exc:  # SpecmonError, or a bug: the running config stays either way
                log.error("SIGHUP: keeping the running config: %s", exc)
                self.reporter.event(f"reload failed, old config kept: {exc}")
                return False
            new = new.with_data_dir(self.config.store.data_dir).with_bounds(
                sweeps=self.config.run.sweeps, duration_s=self.config.run.duration_s)
        try:
            self.pipeline.reload(new)  # validates first (station.preflight.check_config), then swaps
        except SpecmonError as exc:
            log.error("SIGHUP: keeping the running config and register: %s", exc)
            self.reporter.event(f"reload failed, old config kept: {exc}")
            return False
        except Exception as exc:  # a bug on reload must not kill an unattended station (a crash loop)
            log.exception("SIGHUP: reload failed unexpectedly; keeping the running config and register")
            self.reporter.event(f"reload failed, old config kept: {type(exc).__name__}: {exc}")
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
        self.scheduler.set_jitter(new.run.revisit_jitter)
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
        if self.stop_reason:  # an orderly end (bound reached, or a stop signal): nothing left to resume
            self._save_run_progress(finished=True)
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
        self.summary.receiver_errors = sum(s.counters.errors for s in self.receivers.values())
        self.summary.last_receiver_error = next(
            (s.last_error for s in self.receivers.values() if s.last_error), self.summary.last_receiver_error)
        if self.summary.no_sweep:
            log.error("no band sweep completed (%s); no export written", self.summary.last_receiver_error
                      or "no receiver error")
        elif self.stop_reason in BOUNDED and self.config.export.on_exit:
            try:
                self.summary.exports = self.pipeline.export(self.config.export_dir)
            except (SpecmonError, OSError, sqlite3.Error) as exc:  # a full disk: one line, the cases stay stored
                self.summary.export_error = str(exc)
                log.error("export failed: %s", exc)
        self.summary.band_lines = [_band_line(r) for r in self._last_reports.values()]
        try:
            self.summary.case_lines = self.pipeline.open_cases(limit=1000)
        except Exception as exc:
            log.error("listing the violation cases failed: %s", exc)
        if self.web is not None:
            self.web.stop()
            self.web = self.hub = None
        self.pipeline.close()
        self.reporter.stop(self.summary)
        self.notifier.close()

