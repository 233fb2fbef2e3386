"""Issue 14: `config check` and `register check` run exactly the validation `run` and a SIGHUP reload run
(station.preflight), and a bad reload is logged while the old config and register stay. The daemon test runs
a real station process and sends it SIGHUP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from station.config import parse_config
from station.errors import ConfigError, DataError, SpecmonError, UsageError
from station.preflight import check_config
from tests.station_helpers import specmon_argv, unbuffered_env, wait_until

CONFIG = """[station]\nid = "t"\nlatitude = 21.0\nlongitude = 105.8
[receiver]\nuri = "{uri}"
[[bands]]\nname = "lmr"\nf_lo = "{f_lo}"\nf_hi = "{f_hi}"\nrbw = {rbw}
[store]\ndata_dir = "{data}"\n[run]\ntui = "off"\n"""

BAD_SCENARIO = """[scenario]\nname = "bad"\n[[transmitters]]\nid = "bad id!"\nfrequency = "451.2M"
modulation = "nbfm"\npower_dbm = -60\n"""


def config_text(tmp_path: Path, *, uri="sim://city", f_lo="450M", f_hi="452M", rbw='"1k"') -> str:
    return CONFIG.format(uri=uri, f_lo=f_lo, f_hi=f_hi, rbw=rbw, data=tmp_path / "data")


def cases(tmp_path: Path):
    (tmp_path / "bad.toml").write_text(BAD_SCENARIO)
    return {
        "band outside the tuner range": (config_text(tmp_path, f_lo="1800M", f_hi="1802M"), ConfigError,
                                         "bands[0].f_hi", "tuning range"),
        "rbw 1 Hz": (config_text(tmp_path, rbw='"1"'), ConfigError, "bands[0]", "rbw"),
        "rtlsdr:/0": (config_text(tmp_path, uri="rtlsdr:/0"), UsageError, "receivers[0].uri", "malformed"),
        "sim scenario with a bad transmitter id": (config_text(tmp_path, uri=f"sim:{tmp_path / 'bad.toml'}"),
                                                   DataError, "bad.toml", "id"),
    }


@pytest.mark.parametrize("case", ["band outside the tuner range", "rbw 1 Hz", "rtlsdr:/0",
                                  "sim scenario with a bad transmitter id"])
def test_config_check_refuses_what_run_refuses(tmp_path, case):
    text, kind, where, what = cases(tmp_path)[case]
    cfg = parse_config(text, source="station.toml", base_dir=tmp_path)  # the parser alone passes it ...
    with pytest.raises(kind) as exc:  # ... the shared preflight does not
        check_config(cfg)
    assert where in str(exc.value) and what in str(exc.value)
    path = tmp_path / "station.toml"
    path.write_text(text)
    outs = [subprocess.run(specmon_argv(*args), capture_output=True, text=True, timeout=120, cwd=tmp_path)
            for args in (("config", "check", str(path)), ("run", "--config", str(path), "--sweeps", "1"))]
    for out in outs:  # same one-line error, same exit code, from the check and from run
        assert out.returncode == kind.exit_code, out.stderr[-2000:]
        assert "Traceback" not in out.stderr
    assert [o.stderr.strip().splitlines()[-1].split("error: ", 1)[1] for o in outs][0] == \
           [o.stderr.strip().splitlines()[-1].split("error: ", 1)[1] for o in outs][1]


def test_good_config_passes_preflight_with_its_checker(tmp_path):
    text = config_text(tmp_path) + '[compliance]\nregister = "builtin:demo_register.csv"\n'
    pre = check_config(parse_config(text, source="s.toml", base_dir=tmp_path))
    assert pre.checker is not None and pre.tuning_ranges_hz["main"] == (24e6, 1766e6)


@pytest.mark.slow
def test_bad_sighup_reloads_keep_the_running_config_and_register(tmp_path):
    """Three bad reloads (a register row with channel_khz = 1e308, a band beyond the tuner, a scenario with a
    bad transmitter id), then a good one: the daemon logs each failure, keeps sweeping with the old config and
    register, and applies the good reload."""
    from station.compliance.register import builtin_path
    from tests.test_daemon_faults import rows, write_config

    reg = tmp_path / "register.csv"
    good_register = builtin_path("demo_register.csv").read_text()
    reg.write_text(good_register)
    cfg = write_config(tmp_path, f_lo="462M", f_hi="464M", register=str(reg))
    good_config = cfg.read_text()
    db = tmp_path / "data" / "specmon.db"
    log = tmp_path / "run.log"
    proc = subprocess.Popen(specmon_argv("run", "--config", str(cfg)), stdout=open(log, "w"),
                            stderr=subprocess.STDOUT, env=unbuffered_env())
    try:
        wait_until(lambda: len(rows(db, "emission")) > 0, 120, "first sweep stored", proc=proc, log=log)
        lines = good_register.splitlines()
        taxi = next(line for line in lines if line.startswith("LM-TAXI-150125,"))
        bad_row = taxi.replace("LM-TAXI-150125", "LM-HUGE").replace(",11K0F3E,,", ",11K0F3E,1e308,")
        assert ",1e308," in bad_row
        (tmp_path / "bad.toml").write_text(BAD_SCENARIO)
        steps = [
            ("register", "\n".join(lines + [bad_row]) + "\n", "channel_khz"),
            ("config", good_config.replace('f_hi = "464M"', 'f_hi = "1800M"'), "tuning range"),
            ("config", good_config.replace('uri = "sim://city"', f'uri = "sim:{tmp_path / "bad.toml"}"'), "bad.toml"),
        ]
        for n, (what, text, reason) in enumerate(steps, 1):
            (reg if what == "register" else cfg).write_text(text)
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: log.read_text().count("reload failed") + log.read_text().count("keeping the running")
                       >= n and reason in log.read_text(), 60, f"bad reload {n} refused", proc=proc, log=log)
            reg.write_text(good_register)
            cfg.write_text(good_config)
            assert proc.poll() is None, log.read_text()[-3000:]
            before = len(rows(db, "emission"))
            wait_until(lambda: len(rows(db, "emission")) > before, 60, "sweeping on after a bad reload",
                       proc=proc, log=log)
        proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "configuration reloaded" in log.read_text(), 60, "good reload applied", proc=proc, log=log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
