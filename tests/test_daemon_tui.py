"""The live terminal view (TTY) and the structured log lines (no TTY) of `specmon run`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

from detectors.records import Emission
from station.compliance.records import ComplianceClass, ComplianceResult
from station.pipeline import STAGES, Judged, SweepReport
from station.tui import LogReporter, TtyReporter, make_reporter
from tests.test_daemon_unit import ScriptedPipeline, ScriptedReceiver, make_daemon


def emission(mhz: float) -> Emission:
    now = datetime.now(timezone.utc)
    return Emission(center_hz=mhz * 1e6, peak_hz=mhz * 1e6, f_lo_hz=mhz * 1e6 - 5e3, f_hi_hz=mhz * 1e6 + 5e3,
                    bandwidth_hz=10e3, xdb_bandwidth_hz=12e3, xdb_valid=True, power_dbfs=-40.0, peak_dbfs=-45.0,
                    snr_db=30.0, noise_dbfs_hz=-120.0, occupancy=0.5, first_seen=now, last_seen=now)


def report(band: str) -> SweepReport:
    now = datetime.now(timezone.utc)
    rogue = ComplianceResult(emission(147.25), ComplianceClass.UNLICENSED, (), "no licence near 147.25 MHz")
    taxi = ComplianceResult(emission(150.125), ComplianceClass.LICENSED, ("LM-TAXI-150125",), "licensed")
    return SweepReport(band=band, sweep_no=1, start_utc=now, end_utc=now, n_hops=9, duration_s=0.2, revisit_s=None,
                       timings_s={k: 0.01 for k in STAGES},
                       results=(Judged(rogue.emission, rogue, "trk-1"), Judged(taxi.emission, taxi, "trk-2"),
                                Judged(emission(145.5), None, None, "SNR too low")),
                       n_violations=1)


def test_reporter_choice_follows_the_terminal():
    assert isinstance(make_reporter("auto", io.StringIO()), LogReporter)
    assert isinstance(make_reporter("on", io.StringIO()), TtyReporter)
    assert isinstance(make_reporter("off", io.StringIO()), LogReporter)
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w") as tty:
            assert isinstance(make_reporter("auto", tty), TtyReporter)
    finally:
        os.close(master)


def test_live_view_shows_bands_progress_emissions_classes_and_receiver(tmp_path):
    out = io.StringIO()
    view = TtyReporter(out)
    d = make_daemon(tmp_path, factory=lambda cfg: ScriptedReceiver(), pipeline=ScriptedPipeline())
    d.reporter = view
    view.start(d)
    band = d.config.band("a")
    view.sweep_started(band, 1)
    view.hop_progress(3, 9)
    view._last_draw = 0
    view.hop_progress(4, 9)
    text = view.render()
    assert "station t-01" in text and "sweeping" in text and "4/9" in text
    view.sweep_done(report("a"))
    view.health({"spool_depth": 12, "spool_age_s": 3.0, "store_state": "ok", "sink_state": "ok", "cpu_pct": 5.0})
    view.event("receiver main reopened")
    text = view.render()
    assert "147.25000" in text and "unlicensed" in text and "licensed" in text and "unknown" in text
    assert "spool 12 points" in text and "receiver main: sim://city" in text and "reopened" in text
    view.stop(d.summary)
    assert out.getvalue().count("\x1b[H") >= 3  # redrawn in place, not scrolled


def test_log_lines_are_key_value(caplog):
    import logging

    caplog.set_level(logging.INFO, logger="specmon.station")
    LogReporter().sweep_done(report("vhf"))
    line = caplog.records[-1].getMessage()
    assert line.startswith("sweep band=vhf sweep=1 hops=9 ")
    assert "violations=1" in line and "detect_s=0.010" in line


def test_specmon_run_on_a_tty_draws_the_live_view(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(f"""
[station]
id = "tty-01"
latitude = 21.0
longitude = 105.8
[receiver]
uri = "sim://city"
seed = 1
[[bands]]
name = "lmr"
f_lo = "450M"
f_hi = "452M"
rbw = "1k"
dwell = "20ms"
revisit = "100ms"
[store]
data_dir = "{tmp_path / 'data'}"
[run]
sweeps = 2
""")
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "station", "run", "--config", str(cfg)], stdout=slave,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "\x1b[H" in text and "station tty-01" in text and "latest emissions" in text
    assert "451.20" in text  # the licensed carrier in the band
    assert "specmon run: stopped (sweeps) after 2 band sweeps" in text
    view = text[text.index("\x1b[2J"):text.rindex("\x1b[?25h")]
    assert " INFO " not in view  # log lines do not scribble over the live view
