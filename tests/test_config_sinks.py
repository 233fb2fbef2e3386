"""Sink URIs are validated at start-up with station.outputs.sinks.parse_uri: a bad option is a config error naming
the file and key, and the URI in the message has its password masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from station.config import load_config
from station.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

BASE = """
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
sinks = ["sqlite:specmon.db", {uri}]
"""


def config_error(tmp_path: Path, uri: str) -> str:
    path = tmp_path / "station.toml"
    path.write_text(BASE.replace("{uri}", f'"{uri}"'))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    msg = str(exc.value)
    assert exc.value.exit_code == 3 and "\n" not in msg
    assert msg.startswith(f"{path}:store.sinks[1]: "), msg
    return msg


@pytest.mark.parametrize(
    "uri, reason",
    [
        ("influx://127.0.0.1:8086/specmon?precision=ms", "precision=ms is not supported"),
        ("influx://127.0.0.1:8086/specmon?colour=red", "unknown option 'colour'"),
        ("influx2://127.0.0.1:8086?org=o&bucket=b&rp=x", "unknown option 'rp'"),
        ("influx://127.0.0.1:8086/specmon?verify=0", "unknown option 'verify'"),  # TLS only: influxs://
        ("influx://127.0.0.1:8086/specmon?consistency=most", "consistency='most' must be one, any, all or quorum"),
        ("influx://127.0.0.1:8086/specmon?gzip=maybe", "option gzip='maybe' must be 1/0/true/false"),
        ("influx://127.0.0.1:8086/specmon?timeout=-3", "option timeout='-3' must be a positive number"),
        ("influx://127.0.0.1:8086/specmon?batch=lots", "option batch='lots' must be a positive integer"),
        ("sqlite:other.db?batch=0", "option batch='0' must be a positive integer"),
        ("influx://127.0.0.1:8086", "missing database name"),
        ("influx2://127.0.0.1:8086?org=o", "missing option bucket="),
        ("influx://127.0.0.1:99999/specmon", "port is not a number"),
        ("influx://127.0.0.1:8086/specmon?gzip=1&gzip=0", "option gzip given twice"),
        ("influxdb://127.0.0.1/specmon", "unknown sink scheme 'influxdb'"),
        ("sqlite:", "sqlite sink needs a file path"),
    ],
)
def test_bad_sink_uris_are_config_errors_naming_file_and_key(tmp_path, uri, reason):
    msg = config_error(tmp_path, uri)
    assert reason in msg, msg


def test_passwords_are_masked_in_the_message(tmp_path):
    msg = config_error(tmp_path, "influx://admin:hunter2@127.0.0.1:8086/specmon?precision=s")
    assert "hunter2" not in msg and "influx://admin:***@127.0.0.1:8086/specmon" in msg
    assert "precision=s is not supported" in msg
    # a token written in the query is not an option (token_env / token_file are), and is not printed either
    msg = config_error(tmp_path, "influx2://127.0.0.1:8086?org=o&bucket=b&token=s3cr3t")
    assert "s3cr3t" not in msg and "token=***" in msg and "unknown option 'token'" in msg


def test_good_sink_uris_load(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECMON_INFLUX_PASSWORD", raising=False)
    path = tmp_path / "station.toml"
    uri = ("influxs://specmon@db.example:8086/specmon?rp=autogen&password_env=NOT_SET_HERE&gzip=0&timeout=2.5"
           "&batch=100&verify=1&precision=ns")
    path.write_text(BASE.replace("{uri}", f'"{uri}"'))
    cfg = load_config(path)  # secrets are resolved when the sink opens, not by the config check
    assert cfg.store.sinks[1] == uri


def test_config_check_reports_a_bad_sink_option_on_one_line(tmp_path):
    path = tmp_path / "station.toml"
    path.write_text(BASE.replace("{uri}", '"influx://u:pw123@127.0.0.1:8086/specmon?precision=us"'))
    p = subprocess.run([sys.executable, "-m", "station", "config", "check", str(path)], capture_output=True,
                       text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 3
    err = p.stderr.strip()
    assert f"{path}:store.sinks[1]: sink influx://u:***@127.0.0.1:8086/specmon?precision=us" in err
    assert "pw123" not in p.stderr + p.stdout
