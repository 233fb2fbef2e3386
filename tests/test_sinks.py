"""Sink registry, URIs and secrets, the embedded SQLite store, and ``specmon spool``."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import station.outputs.sinks as sinks
from station.cli import main
from station.errors import ConfigError, SinkError
from station.outputs.sinks import SinkRunner, mask_uri, open_output, open_sink, parse_uri
from station.outputs.sinks.sqlite import read_series
from station.outputs.spool import Spool
from station.outputs.vocabulary import MEASUREMENTS
from tests._influx_helpers import sweep_points


def test_every_sink_module_is_registered_and_loads():
    modules = {m.name for m in pkgutil.iter_modules(sinks.__path__) if not m.name.startswith("_")}
    assert {v.rsplit(".", 1)[1] for v in sinks.REGISTRY.values()} == modules
    for scheme, module_name in sinks.REGISTRY.items():
        module = importlib.import_module(module_name)
        assert scheme in module.SCHEMES and callable(module.open_sink)


@pytest.mark.parametrize(
    "uri, message",
    [
        ("mqtt://host/x", "unknown sink scheme 'mqtt'"),
        ("influx://127.0.0.1:8086", "missing database name"),
        ("influx://:8086/db", "missing host"),
        ("influx://h:99999/db", "port is not a number"),
        ("influx://h/db?retention=x", "unknown option 'retention'"),
        ("influx://h/db?precision=ms", "precision=ms is not supported"),
        ("influx://h/db?gzip=maybe", "gzip='maybe' must be 1/0"),
        ("influx://h/db?timeout=-1", "timeout='-1' must be a positive number"),
        ("influx2://h?org=o", "missing option bucket="),
        ("influx://h/db?verify=0", "unknown option 'verify'"),  # TLS options need influxs://
        ("influx://h/db?consistency=most", "consistency='most' must be one, any, all or quorum"),
        ("sqlite:", "needs a file path"),
        ("nonsense", "not a sink URI"),
    ],
)
def test_bad_uris_are_one_line_config_errors_naming_the_uri(uri, message):
    with pytest.raises(ConfigError, match=message) as exc:
        open_sink(uri)
    assert "\n" not in str(exc.value)


def test_passwords_are_masked_and_read_from_env_or_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECMON_INFLUX_PASSWORD", raising=False)
    uri = "influxs://admin:hunter2@db.example:8086/specmon?rp=month&verify=0"
    assert mask_uri(uri) == "influxs://admin:***@db.example:8086/specmon?rp=month&verify=0"
    t = parse_uri(uri)
    assert "hunter2" not in repr(t) and t.resolve_secret("password") == "hunter2"
    sink = open_sink(uri)
    assert "hunter2" not in sink.name
    monkeypatch.setenv("MY_PW", "from-env")
    assert parse_uri("influx://u@h/db?password_env=MY_PW").resolve_secret("password") == "from-env"
    f = tmp_path / "pw"
    f.write_text("from-file\nignored\n")
    assert parse_uri(f"influx://u@h/db?password_file={f}").resolve_secret("password") == "from-file"
    with pytest.raises(ConfigError, match="environment variable NOPE_X"):
        parse_uri("influx://u@h/db?password_env=NOPE_X").resolve_secret("password")
    assert mask_uri("influx2://h?org=o&token=abc&bucket=b") == "influx2://h?org=o&token=***&bucket=b"
    t = parse_uri("influx://127.0.0.1:8086/specmon?rp=autogen&user=specmon&password_env=MY_PW")
    assert t.user == "specmon" and t.resolve_secret("password") == "from-env"
    with pytest.raises(ConfigError, match="two users given"):
        parse_uri("influx://a@h/db?user=b")


def test_embedded_store_holds_the_same_points_and_a_resend_overwrites(tmp_path):
    out = open_output("sqlite:store.db", data_dir=tmp_path, start=False)
    points = []
    for k in range(3):
        points += sweep_points(k)[0]
    out.write(points)
    out.write(points[:20])  # the same points again (a resend)
    assert out.runner.send_pending() == len(points) + 20
    out.close()
    path = tmp_path / "store.db"
    for m in MEASUREMENTS:
        expected = sorted((p for p in points if p.measurement == m), key=lambda p: p.time_ns)
        got = read_series(path, m)
        assert len(got) == len(expected), m
        for g, e in zip(got, expected):
            assert g.time_ns == e.time_ns and g.tags == e.tags and g.fields == e.fields
    assert len(read_series(path, "emission", band="vhf", start_ns=points[0].time_ns, end_ns=points[0].time_ns + 10)) == 5
    assert read_series(path, "emission", station="other") == []


def test_embedded_store_dead_letters_a_point_outside_the_vocabulary(tmp_path):
    sink = open_sink("sqlite:s.db", data_dir=tmp_path)
    sp = Spool(tmp_path / "spool.sqlite")
    sp.put(sweep_points(0)[0][:3])
    with sp._lock:  # a line from an older version with a field since renamed
        sp._db.execute("INSERT INTO spool(measurement, time_ns, enqueued_ns, line) VALUES('emission', 5, 0, "
                       "CAST('emission,station=s old_field=1.0 5' AS BLOB))")
        sp._db.execute("UPDATE spool_counters SET value=value+1 WHERE name='depth'")
    r = SinkRunner(sink, sp)
    assert r.send_pending() == 3
    (d,) = sp.dead_letters()
    assert "'old_field' is not in the vocabulary" in d.error
    sink.close()
    sp.close()


def test_spool_command_status_dead_letters_and_flush(tmp_path, capsys):
    out = open_output("sqlite:store.db", data_dir=tmp_path, start=False)
    out.write(sweep_points(0)[0])
    n = out.spool.depth()
    out.close(flush_timeout_s=0)
    assert main(["spool", "status", "--data-dir", str(tmp_path), "--json"]) == 0
    (st,) = json.loads(capsys.readouterr().out)
    assert st["depth"] == n and st["sink"] == "sqlite:store.db" and st["by_measurement"]["emission"] == 5
    assert main(["spool", "status", "--data-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert f"waiting {n} points" in text and "no sender running" in text
    assert main(["spool", "flush", "--data-dir", str(tmp_path)]) == 0
    assert f"sent {n} points, 0 left" in capsys.readouterr().out
    assert len(read_series(tmp_path / "store.db", "emission")) == 5
    assert main(["spool", "dead-letters", "--data-dir", str(tmp_path)]) == 0
    assert "no dead letters" in capsys.readouterr().out


def test_spool_flush_refuses_while_a_daemon_sends(tmp_path, capsys):
    import os

    out = open_output("sqlite:store.db", data_dir=tmp_path)  # sender thread holds the lock
    try:
        assert main(["spool", "flush", "--data-dir", str(tmp_path)]) == SinkError.exit_code
        assert "being sent by another process" in capsys.readouterr().err
        assert main(["spool", "status", "--data-dir", str(tmp_path)]) == 0
        assert f"sent by pid {os.getpid()}" in capsys.readouterr().out
    finally:
        out.close()


def test_spool_flush_to_an_unreachable_sink_keeps_the_points(tmp_path, capsys):
    from tests.services import free_port

    uri = f"influx://127.0.0.1:{free_port()}/x?timeout=1"
    out = open_output(uri, data_dir=tmp_path, start=False)
    out.write(sweep_points(0)[0])
    n = out.spool.depth()
    out.close(flush_timeout_s=0)
    assert main(["spool", "flush", "--data-dir", str(tmp_path), "--timeout", "0.5"]) == SinkError.exit_code
    captured = capsys.readouterr()
    assert f"{n} points could not be sent and stay in the spool" in captured.err
    with Spool(next((tmp_path / "spool").glob("*.sqlite"))) as sp:
        assert sp.depth() == n


def test_spool_command_usage_errors(tmp_path, capsys):
    assert main(["spool", "status", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["spool", "status", "--data-dir", str(tmp_path), "--sink", "influx://h/db"]) == 2
    assert "no spool for sink influx://h/db" in capsys.readouterr().err
