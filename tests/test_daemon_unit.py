"""Daemon mechanics with a scripted pipeline and scripted receivers (fast; no DSP): receiver supervision and
backoff, failures every Nth read, stop requests mid-sweep, SIGHUP reload, sd_notify, run bounds."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from station.config import parse_config
from station.daemon import (
    Daemon,
    ReceiverSupervisor,
    SweepAbandoned,
    SystemdNotifier,
)
from station.errors import ReceiverError, ReceiverUnavailable
from station.pipeline import STAGES, SweepReport
from station.tui import LogReporter

CONFIG = """
[station]
id = "t-01"
latitude = 21.0
longitude = 105.8
[receiver]
uri = "sim://city"
reopen_initial = "10ms"
reopen_max = "40ms"
[[bands]]
name = "a"
f_lo = "144M"
f_hi = "146M"
revisit = "10ms"
priority = 5
[[bands]]
name = "b"
f_lo = "430M"
f_hi = "432M"
revisit = "10ms"
priority = 1
[store]
data_dir = "{data_dir}"
[run]
health_interval = "50ms"
"""


def make_config(tmp_path: Path, **run):
    cfg = parse_config(CONFIG.format(data_dir=tmp_path), source="t.toml", base_dir=tmp_path)
    return replace(cfg, run=replace(cfg.run, **run)) if run else cfg


class ScriptedReceiver:
    """Counts reads; fails every ``fail_every``-th read with ReceiverError; tracks open/close."""

    def __init__(self, fail_every: int = 0, read_delay_s: float = 0.0):
        self.fail_every = fail_every
        self.read_delay_s = read_delay_s
        self.reads = 0
        self.closed = False
        self.uri = "scripted://0"
        self.sample_rate_hz = 2.4e6
        self.info = None

    def set_center_freq(self, f):
        return f

    def read_raw(self, n):
        self.reads += 1
        if self.read_delay_s:
            time.sleep(self.read_delay_s)
        if self.fail_every and self.reads % self.fail_every == 0:
            raise ReceiverError("usb transfer error (scripted)", where=self.uri)
        return np.zeros(2 * n, np.uint8)

    def close(self):
        self.closed = True


class ScriptedPipeline:
    """Each sweep = ``hops`` tunes + reads through the daemon's guarded receiver."""

    def __init__(self, hops: int = 4):
        self.hops = hops
        self.processed: list[str] = []
        self.health_points: list[dict] = []
        self.saved = 0
        self.flushed = 0
        self.closed = False
        self.reloaded = []

    def sweep(self, band, rx, progress=None):
        for h in range(self.hops):
            rx.set_center_freq(band.f_lo_hz + h * 1e6)
            if progress is not None:
                progress(h + 1, self.hops)
            rx.read_raw(1024)
        return band.name

    def process(self, band, result, revisit_s=None, receiver=None, supervisor=None):
        self.processed.append(band.name)
        now = datetime.now(timezone.utc)
        return SweepReport(band=band.name, sweep_no=len(self.processed), start_utc=now, end_utc=now,
                           n_hops=self.hops, duration_s=0.01, revisit_s=revisit_s,
                           timings_s={k: 0.0 for k in STAGES}, results=())

    def capture_evidence(self, report, rx):
        return []

    def health(self):
        return {"spool_depth": 0, "store_state": "ok"}

    def write_health(self, h):
        self.health_points.append(dict(h))

    def save_state(self):
        self.saved += 1

    def flush(self, timeout_s):
        self.flushed += 1
        return True

    def reload(self, config):
        self.reloaded.append(config)

    def open_cases(self, limit=10):
        return []

    def export(self, out_dir):
        return []

    def close(self):
        self.closed = True


def make_daemon(tmp_path, *, factory, pipeline=None, **run):
    cfg = make_config(tmp_path, **run)
    return Daemon(cfg, receiver_factory=factory, reporter=LogReporter(), pipeline=pipeline or ScriptedPipeline(),
                  notifier=SystemdNotifier(environ={}))


def test_bounded_by_sweeps_each_band_swept_n_times(tmp_path):
    rx = ScriptedReceiver()
    d = make_daemon(tmp_path, factory=lambda cfg: rx, sweeps=3)
    s = d.run()
    assert s.stopped_by == "sweeps"
    assert s.sweeps_per_band == {"a": 3, "b": 3}
    assert d.pipeline.processed.count("a") == 3 and d.pipeline.saved >= 1 and d.pipeline.closed
    # the achieved revisits were recorded
    assert d.scheduler.stats("a").count == 2
    assert rx.closed


def test_bounded_by_duration(tmp_path):
    d = make_daemon(tmp_path, factory=lambda cfg: ScriptedReceiver(), duration_s=0.3)
    t0 = time.monotonic()
    s = d.run()
    assert s.stopped_by == "duration"
    assert 0.25 <= time.monotonic() - t0 < 2.0
    assert s.sweeps >= 4


def test_receiver_failing_every_nth_read_is_reopened_and_never_crashes(tmp_path):
    opened = []
    total = {"reads": 0}

    class Flaky(ScriptedReceiver):  # every 7th read of the station fails, whichever receiver object serves it
        def read_raw(self, n):
            total["reads"] += 1
            if total["reads"] % 7 == 0:
                raise ReceiverError("usb transfer error (scripted)", where=self.uri)
            return np.zeros(2 * n, np.uint8)

    def factory(cfg):
        rx = Flaky()
        opened.append(rx)
        return rx

    d = make_daemon(tmp_path, factory=factory, sweeps=10)
    s = d.run()
    assert s.stopped_by == "sweeps"
    assert s.sweeps_per_band == {"a": 10, "b": 10}
    # each failure closed the receiver and a new one was opened
    assert s.receiver_errors >= 5
    assert len(opened) == s.receiver_errors + 1
    assert all(r.closed for r in opened)
    h = d.station_health()
    assert h["receiver_errors"] == s.receiver_errors and h["dropped_reads"] == s.receiver_errors


def test_unplugged_dongle_backoff_then_replug(tmp_path):
    state = {"plugged": False, "attempts": []}

    def factory(cfg):
        state["attempts"].append(time.monotonic())
        if not state["plugged"]:
            raise ReceiverUnavailable("no RTL-SDR found (serials: none)", where=cfg.uri)
        return ScriptedReceiver()

    d = make_daemon(tmp_path, factory=factory, sweeps=2)
    threading.Timer(0.25, lambda: state.__setitem__("plugged", True)).start()
    s = d.run()
    assert s.stopped_by == "sweeps"
    gaps = np.diff(state["attempts"])
    # exponential backoff 10 ms doubling, capped at 40 ms: no busy loop, no long stall
    assert len(state["attempts"]) >= 4
    assert gaps[0] >= 0.009 and gaps.max() < 0.2
    assert d.receivers["main"].counters.reopens == 1
    assert d.receivers["main"].state == "ok"


def test_supervisor_states_and_backoff_doubling():
    clock = [100.0]
    fails = {"n": 3}

    def factory(cfg):
        if fails["n"]:
            fails["n"] -= 1
            raise ReceiverUnavailable("gone", where=cfg.uri)
        return ScriptedReceiver()

    cfg = make_config(Path("/tmp")).receivers[0]
    sup = ReceiverSupervisor(cfg, threading.Event(), factory=factory, clock=lambda: clock[0])
    delays = []
    for _ in range(3):
        assert sup.acquire() is None and sup.state == "failed"
        delays.append(sup.next_attempt - clock[0])
        assert sup.acquire() is None  # still in backoff: no attempt
        clock[0] = sup.next_attempt
    assert delays == pytest.approx([0.01, 0.02, 0.04])
    rx = sup.acquire()
    assert rx is not None and sup.state == "ok" and sup.counters.reopens == 1
    sup.failed(ReceiverError("read timeout"))
    assert sup.state == "reopening" and sup.counters.dropped_reads == 1
    assert sup.next_attempt - clock[0] == pytest.approx(0.04)  # capped at reopen_max
    sup.succeeded()


def test_stop_request_mid_sweep_abandons_the_hop_quickly(tmp_path):
    rx = ScriptedReceiver(read_delay_s=0.05)
    pipeline = ScriptedPipeline(hops=200)  # one sweep would take 10 s
    d = make_daemon(tmp_path, factory=lambda cfg: rx, pipeline=pipeline)
    threading.Timer(0.3, d.request_stop, args=("SIGTERM",)).start()
    t0 = time.monotonic()
    s = d.run()
    assert time.monotonic() - t0 < 1.0
    assert s.stopped_by == "SIGTERM" and s.abandoned == 1
    assert pipeline.processed == []  # the unfinished sweep stored nothing
    assert pipeline.flushed == 1 and pipeline.saved == 1 and pipeline.closed


def test_guarded_receiver_raises_sweep_abandoned_after_stop(tmp_path):
    d = make_daemon(tmp_path, factory=lambda cfg: ScriptedReceiver())
    rx = d.receivers["main"].acquire()
    rx.read_raw(16)
    d.request_stop()
    with pytest.raises(SweepAbandoned):
        rx.read_raw(16)


def test_short_read_counts_and_reopens(tmp_path):
    total = {"reads": 0}

    class Short(ScriptedReceiver):  # the station's 3rd read returns half the samples
        def read_raw(self, n):
            total["reads"] += 1
            return np.zeros(n, np.uint8) if total["reads"] == 3 else np.zeros(2 * n, np.uint8)

    d = make_daemon(tmp_path, factory=lambda cfg: Short(), sweeps=2)
    s = d.run()
    assert s.stopped_by == "sweeps"
    h = d.station_health()
    assert h["short_reads"] >= 1 and h["receiver_errors"] >= 1


def test_reload_keeps_state_and_bad_config_keeps_old(tmp_path):
    path = tmp_path / "station.toml"
    path.write_text(CONFIG.format(data_dir=tmp_path))
    cfg = parse_config(path.read_text(), source=str(path), base_dir=tmp_path)
    pipeline = ScriptedPipeline()
    d = Daemon(cfg, config_path=str(path), receiver_factory=lambda c: ScriptedReceiver(), reporter=LogReporter(),
               pipeline=pipeline, notifier=SystemdNotifier(environ={}))
    d.scheduler.started("a")
    path.write_text(CONFIG.format(data_dir=tmp_path).replace('name = "b"', 'name = "c"'))
    assert d.reload()
    assert d.scheduler.bands == ("a", "c") and d.scheduler.sweeps("a") == 1
    path.write_text("[station\n")
    assert not d.reload()
    assert d.config.bands[1].name == "c"
    assert len(pipeline.reloaded) == 1


def test_sd_notify_ready_watchdog_status_stopping(tmp_path):
    sock_path = str(tmp_path / "notify.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(sock_path)
    server.settimeout(0.2)
    msgs: list[str] = []
    done = threading.Event()

    def listen():  # like systemd: read continuously (the datagram queue is short)
        while not done.is_set():
            try:
                msgs.append(server.recv(4096).decode())
            except socket.timeout:
                pass

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        env = {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
        cfg = make_config(tmp_path, duration_s=0.35)
        d = Daemon(cfg, receiver_factory=lambda c: ScriptedReceiver(), reporter=LogReporter(),
                   pipeline=ScriptedPipeline(), notifier=SystemdNotifier(environ=env))
        assert d.notifier.watchdog_interval_s == pytest.approx(0.1)
        d.run()
        time.sleep(0.3)
    finally:
        done.set()
        listener.join()
        server.close()
    assert msgs[0].startswith("READY=1")
    assert sum(m == "WATCHDOG=1" for m in msgs) >= 3
    assert any(m.startswith("STATUS=receiver ok") for m in msgs)
    assert msgs[-1] == "STOPPING=1"


def test_notifier_without_socket_is_silent():
    n = SystemdNotifier(environ={})
    assert not n.enabled and not n.ready() and n.watchdog_interval_s is None


def test_stalled_read_counts_as_a_receiver_failure(tmp_path):
    cfg = make_config(tmp_path)
    cfg = replace(cfg, receivers=(replace(cfg.receivers[0], read_timeout_s=0.05),))
    total = {"reads": 0}

    class Stall(ScriptedReceiver):  # the station's 5th read stalls for 0.3 s
        def read_raw(self, n):
            total["reads"] += 1
            if total["reads"] == 5:
                time.sleep(0.3)
            return np.zeros(2 * n, np.uint8)

    cfg = replace(cfg, run=replace(cfg.run, sweeps=3))
    d = Daemon(cfg, receiver_factory=lambda c: Stall(), reporter=LogReporter(), pipeline=ScriptedPipeline(),
               notifier=SystemdNotifier(environ={}))
    s = d.run()
    assert s.stopped_by == "sweeps" and s.receiver_errors == 1
    c = d.receivers["main"].counters
    assert c.reopens == 1 and c.dropped_reads == 1


def test_malformed_receiver_uri_option_is_a_config_error_not_an_endless_retry(tmp_path):
    from station.errors import ConfigError, UsageError

    def factory(cfg):
        raise UsageError("unknown rtltcp option(s) tmeout; known: timeout, retries, settle", where=cfg.uri)

    d = make_daemon(tmp_path, factory=factory, sweeps=1)
    with pytest.raises(ConfigError, match="receivers.main.uri: receiver main: .*unknown rtltcp option"):
        d.run()
    assert d.pipeline.closed  # shut down cleanly on the way out


def test_a_processing_bug_on_one_sweep_is_logged_and_the_station_carries_on(tmp_path, caplog):
    class Buggy(ScriptedPipeline):
        def process(self, band, result, revisit_s=None, receiver=None, supervisor=None):
            if len(self.processed) == 1 and not getattr(self, "raised", False):
                self.raised = True
                raise ValueError("spectrum PSD contains NaN or infinite values")
            return super().process(band, result, revisit_s, receiver, supervisor)

    d = make_daemon(tmp_path, factory=lambda cfg: ScriptedReceiver(), pipeline=Buggy(), sweeps=2)
    s = d.run()
    assert s.stopped_by == "sweeps" and s.failed_sweeps == 1
    assert s.sweeps_per_band == {"a": 2, "b": 2}  # the failed sweep did not count
    assert any("processing the sweep" in r.getMessage() and r.exc_info for r in caplog.records)


def test_watchdog_is_pet_during_a_long_sweep(tmp_path):
    pings = []

    class Notifier(SystemdNotifier):
        def watchdog(self):
            pings.append(time.monotonic())
            return True

    n = Notifier(environ={})
    n.watchdog_interval_s = 0.2
    cfg = make_config(tmp_path, sweeps=1)
    d = Daemon(cfg, receiver_factory=lambda c: ScriptedReceiver(read_delay_s=0.02), reporter=LogReporter(),
               pipeline=ScriptedPipeline(hops=50), notifier=n)  # each sweep takes ~1 s
    d.run()
    gaps = np.diff(pings)
    assert len(pings) >= 8 and gaps.max() < 0.2  # never a gap the watchdog would take for a hang


def test_a_dead_receiver_holds_only_its_own_bands(tmp_path):
    text = CONFIG.format(data_dir=tmp_path).replace(
        '[receiver]\nuri = "sim://city"\nreopen_initial = "10ms"\nreopen_max = "40ms"',
        '[[receivers]]\nname = "main"\nuri = "sim://city"\nreopen_initial = "10ms"\nreopen_max = "40ms"\n'
        '[[receivers]]\nname = "aux"\nuri = "rtltcp://127.0.0.1:1"\nreopen_initial = "10ms"\nreopen_max = "40ms"')
    text = text.replace('name = "b"\nf_lo = "430M"', 'name = "b"\nreceiver = "aux"\nf_lo = "430M"')
    cfg = parse_config(text, source="t.toml", base_dir=tmp_path)
    cfg = replace(cfg, run=replace(cfg.run, duration_s=0.5))

    def factory(rc):
        if rc.name == "aux":
            raise ReceiverUnavailable("cannot connect: connection refused", where=rc.uri)
        return ScriptedReceiver()

    d = Daemon(cfg, receiver_factory=factory, reporter=LogReporter(), pipeline=ScriptedPipeline(),
               notifier=SystemdNotifier(environ={}))
    s = d.run()
    assert s.sweeps_per_band.get("a", 0) >= 10 and "b" not in s.sweeps_per_band
    assert d.receivers["aux"].state == "failed" and d.receivers["aux"].counters.errors >= 3
    assert d.station_health()["receiver_state"] == "failed"


def test_end_of_a_recording_ends_the_run_cleanly(tmp_path):
    from station.errors import EndOfRecording

    total = {"reads": 0}

    class Recording(ScriptedReceiver):
        def read_raw(self, n):
            total["reads"] += 1
            if total["reads"] > 10:
                raise EndOfRecording("end of recording after 10 reads", where="file:x.cu8")
            return np.zeros(2 * n, np.uint8)

    d = make_daemon(tmp_path, factory=lambda cfg: Recording())
    s = d.run()
    assert s.stopped_by == "end_of_recording" and s.sweeps == 2 and s.receiver_errors == 0
