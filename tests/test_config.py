"""Station config: the sample and the demo load; every bad input is one ConfigError naming file and key (or
file:line:col for TOML syntax); `specmon config check|sample` exit codes and output."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from station.config import (
    SAMPLE_PATH,
    demo_config,
    load_config,
    parse_config,
    sample_text,
)
from station.errors import ConfigError

MINIMAL = """
[station]
id = "hn-01"
latitude = 21.0
longitude = 105.8
[receiver]
uri = "sim://city"
[[bands]]
name = "vhf"
f_lo = "144M"
f_hi = "146M"
[store]
data_dir = "data"
"""


def load(text: str, tmp_path: Path, name: str = "station.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


def err(text: str, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as exc:
        load(text, tmp_path)
    assert exc.value.exit_code == 3
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_sample_config_loads_and_documents_every_section():
    cfg = load_config(SAMPLE_PATH)
    assert cfg.station.id == "hn-01"
    assert [b.name for b in cfg.bands] == ["vhf-lmr", "fm"]
    vhf = cfg.band("vhf-lmr")
    assert vhf.f_lo_hz == 144e6 and vhf.rbw_hz == 1e3 and vhf.dwell_s == pytest.approx(0.04)
    assert vhf.revisit_s == 120.0 and vhf.priority == 8 and vhf.receiver == "main"
    assert vhf.channels.centers_hz[0] == 144.0125e6 and vhf.channels.width_hz == 12.5e3
    assert vhf.channels.period_s == 900.0 and vhf.channels.pfa == 1e-3
    assert cfg.band("fm").channels.centers_hz == (90e6, 94e6, 96e6, 104.5e6)
    assert cfg.receivers[0].gain_db is None and cfg.receivers[0].sample_rate_hz == 2.4e6
    assert cfg.compliance.register.name == "demo_register.csv"
    assert cfg.store.data_dir == Path("/var/lib/specmon")
    assert cfg.run.sweeps == 0 and cfg.run.duration_s == 0
    text = sample_text()
    for section in ("[station]", "[receiver]", "[defaults]", "[[bands]]", "[compliance]", "[store]", "[evidence]",
                    "[export]", "[run]"):
        assert section in text
    # every key set in the sample carries a comment on its line or the line above
    assert tomllib.loads(text)


def test_demo_config_is_the_design_city(tmp_path):
    cfg = demo_config(tmp_path / "d")
    assert cfg.source == "<demo>"
    assert cfg.receivers[0].uri == "sim://city"
    assert [(b.name, b.f_lo_hz, b.f_hi_hz) for b in cfg.bands] == [
        ("fm", 87.5e6, 108e6), ("airband", 118e6, 137e6), ("vhf", 144e6, 160e6), ("dab", 222e6, 226e6),
        ("uhf", 430e6, 470e6)]
    assert cfg.run.sweeps > 0  # bounded by default
    assert cfg.store.db_path == tmp_path / "d" / "specmon.db"
    assert cfg.export_dir == tmp_path / "d" / "exports"
    assert set(cfg.export.formats) >= {"csv", "pdf"}
    # the channel rasters put the city's channels on a channel centre
    vhf = cfg.band("vhf").channels.centers_hz
    assert min(abs(c - 147.25e6) for c in vhf) < 1.0 and min(abs(c - 155.5e6) for c in vhf) < 1.0


def test_minimal_config_defaults(tmp_path):
    cfg = load(MINIMAL, tmp_path)
    b = cfg.bands[0]
    assert (b.rbw_hz, b.dwell_s, b.revisit_s, b.priority, b.window) == (10e3, 0.05, 60.0, 5, "hann")
    assert cfg.store.data_dir == tmp_path / "data"
    assert cfg.store.sinks == ("sqlite:specmon.db",)
    assert cfg.compliance.register is None
    assert cfg.station.name == "hn-01"


@pytest.mark.parametrize(
    "change, where, reason",
    [
        (('f_hi = "146M"', 'f_hi = "146M"\nrbw = "10q"'), "station.toml:bands[0].rbw", "'10q' is not a frequency"),
        (('f_hi = "146M"', 'f_hi = "146M"\nrbww = "10k"'), "station.toml:bands[0].rbww", "unknown key"),
        (('f_hi = "146M"', 'f_hi = "143M"'), "station.toml:bands[0].f_hi", "must be above f_lo"),
        (('f_hi = "146M"', 'f_hi = "146M"\ndwell = "-1s"'), "station.toml:bands[0].dwell", "not a positive duration"),
        (('f_hi = "146M"', 'f_hi = "146M"\npriority = "high"'), "station.toml:bands[0].priority",
         "expected an integer"),
        (('f_hi = "146M"', 'f_hi = "146M"\nwindow = "kaiser"'), "station.toml:bands[0].window", "not one of"),
        (('f_hi = "146M"', 'f_hi = "146M"\nreceiver = "rx9"'), "station.toml:bands[0].receiver", "no receiver named"),
        (('latitude = 21.0', 'latitude = 121.0'), "station.toml:station.latitude", "out of range"),
        (('id = "hn-01"', 'id = "hn 01"'), "station.toml:station.id", "must be 1-64 letters"),
        (('uri = "sim://city"', 'uri = "usb:0"'), "station.toml:receiver.uri", "is not a receiver URI"),
        (('uri = "sim://city"', 'uri = "sim://city"\ngain = "loud"'), "station.toml:receiver.gain", "not a gain"),
        (('uri = "sim://city"', 'uri = "sim://city"\nsample_rate = "10M"'), "station.toml:receiver.sample_rate",
         "outside the RTL-SDR range"),
        (('data_dir = "data"', 'data_dir = "data"\nsinks = ["influxdb://x"]'), "station.toml:store.sinks[0]",
         "unknown sink scheme 'influxdb'"),
        (('data_dir = "data"', 'data_dir = "data"\nsinks = []'), "station.toml:store.sinks", "at least one sink"),
        (('data_dir = "data"', 'data_dir = "data"\n[compliance]\nregister = "nope.csv"'),
         "station.toml:compliance.register", "does not exist"),
        (('f_hi = "146M"', 'f_hi = "146M"\nchannels = { start = "143M", spacing = "12.5k", width = "12.5k" }'),
         "station.toml:bands[0].channels.start", "outside the band"),
        (('f_hi = "146M"', 'f_hi = "146M"\nchannels = { start = "144.1M", spacing = "12.5k" }'),
         "station.toml:bands[0].channels.width", "missing required key"),
        (('[store]\ndata_dir = "data"', ''), "station.toml:store", "missing required key"),
        (('f_hi = "146M"', 'f_hi = "146M"\n[[bands]]\nname = "vhf"\nf_lo = "1G"\nf_hi = "1.1G"'),
         "station.toml:bands[1].name", "duplicate band name"),
        (('[[bands]]', '[run]\nsweeps = -1\n[[bands]]'), "station.toml:run.sweeps", "out of range"),
        (('uri = "sim://city"', 'uri = "rtlsdr://0"\nseed = 3'), "station.toml:receiver.seed", "sim:// receivers only"),
        (('f_hi = "146M"', 'f_hi = "146M"\nmode = "interleaved"'), "station.toml:bands[0].interval",
         "needs an interval"),
        (('f_hi = "146M"', 'f_hi = "146M"\nmode = "sweep"'), "station.toml:bands[0].mode", "not one of"),
    ],
)
def test_bad_values_name_file_key_and_reason(tmp_path, change, where, reason):
    old, new = change
    assert old in MINIMAL
    msg = err(MINIMAL.replace(old, new, 1), tmp_path)
    assert msg.startswith(str(tmp_path / where.split(":")[0]) + ":" + where.split(":", 1)[1] + ":"), msg
    assert reason in msg


def test_toml_syntax_error_names_line_and_column(tmp_path):
    msg = err(MINIMAL.replace('f_lo = "144M"', 'f_lo = "144M'), tmp_path)
    path = tmp_path / "station.toml"
    assert msg.startswith(f"{path}:10:")
    assert "invalid TOML" in msg


def test_missing_file_and_wrong_type_of_section(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")
    msg = err("receiver = 3\n" + MINIMAL.replace("[receiver]\nuri = \"sim://city\"", ""), tmp_path)
    assert msg.endswith("station.toml:receiver: expected a table, got an integer")


def test_several_receivers_and_defaults(tmp_path):
    text = MINIMAL.replace('[receiver]\nuri = "sim://city"',
                           '[[receivers]]\nname = "a"\nuri = "sim://city"\n[[receivers]]\nname = "b"\n'
                           'uri = "rtltcp://10.0.0.2:1234"\ngain = 28\n[defaults]\nrbw = "2k"\nreceiver = "b"\n'
                           '[defaults.detector]\npfa = 1e-5')
    cfg = load(text, tmp_path)
    assert [r.name for r in cfg.receivers] == ["a", "b"]
    assert cfg.bands[0].receiver == "b" and cfg.bands[0].rbw_hz == 2e3 and cfg.bands[0].detector.pfa == 1e-5
    assert cfg.receiver("b").gain_db == 28.0


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "station", *args], capture_output=True, text=True, timeout=60)


def test_config_check_cli_ok_and_error(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL)
    p = run_cli("config", "check", str(good))
    assert p.returncode == 0, p.stderr
    assert "OK: station hn-01" in p.stdout and "band vhf: 144-146 MHz" in p.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('f_hi = "146M"', 'f_hi = "146M"\nrbw = "10q"'))
    p = run_cli("config", "check", str(bad))
    assert p.returncode == 3
    lines = p.stderr.strip().splitlines()
    assert lines == [f"specmon config: error: {bad}:bands[0].rbw: '10q' is not a frequency "
                     "(e.g. 433.92M, 12.5k, 2.4e6)"]


def test_config_sample_cli_prints_the_tested_sample(tmp_path):
    p = run_cli("config", "sample")
    assert p.returncode == 0
    assert p.stdout == sample_text()
    out = tmp_path / "s.toml"
    assert run_cli("config", "sample", "-o", str(out)).returncode == 0
    assert load_config(out).station.id == "hn-01"  # builtin: paths resolve wherever the file is
    p = run_cli("config", "sample", "-o", str(out))
    assert p.returncode == 2 and "not overwriting" in p.stderr


def test_run_with_malformed_config_exits_nonzero_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace("[[bands]]", "[[bands]\n"))
    p = run_cli("run", "--config", str(bad), "--sweeps", "1")
    assert p.returncode == 3
    err_lines = [l for l in p.stderr.splitlines() if "error" in l]
    assert len(err_lines) == 1 and f"{bad}:8:8: invalid TOML" in err_lines[0], p.stderr


def test_parse_config_from_text_without_file():
    cfg = parse_config(MINIMAL, source="inline.toml", base_dir=Path("/srv"))
    assert cfg.store.data_dir == Path("/srv/data")
