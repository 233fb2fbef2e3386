"""``influx://user@host/db`` against influxd with authentication on: the password comes from the environment
or a file, wrong credentials are a transient error naming the masked URI (points stay spooled), the
password is never in a message or log line."""

from __future__ import annotations

import logging

import pytest

from station.outputs.sinks import SinkRunner, SinkTransient, open_sink
from station.outputs.spool import Spool
from tests._influx_helpers import sweep_points
from tests.services import INFLUXD, InfluxServer, binary

pytestmark = pytest.mark.influx

ADMIN = ("admin", "adm1n-secret")


@pytest.fixture(scope="module")
def influxdb_auth(tmp_path_factory):
    if binary(INFLUXD) is None:
        pytest.skip("influxd not installed")
    server = InfluxServer.start(tmp_path_factory.mktemp("influxd-auth"), admin=ADMIN)
    server.query_raw("CREATE DATABASE authdb", method="POST")
    server.query_raw("CREATE USER station WITH PASSWORD 'st4tion pw'", method="POST")
    server.query_raw('GRANT WRITE ON "authdb" TO "station"', method="POST")
    try:
        yield server
    finally:
        server.stop()


def test_password_from_file_writes_and_create_database_refusal_is_ignored(influxdb_auth, tmp_path, monkeypatch):
    monkeypatch.delenv("SPECMON_INFLUX_PASSWORD", raising=False)
    pw = tmp_path / "pw"
    pw.write_text("st4tion pw\n")
    sink = open_sink(f"influx://station@127.0.0.1:{influxdb_auth.port}/authdb?password_file={pw}")
    with Spool(tmp_path / "s.sqlite") as sp:
        points = sweep_points(0)[0]
        sp.put(points)
        assert SinkRunner(sink, sp).send_pending() == len(points)  # CREATE DATABASE refused: not admin
    sink.close()
    assert influxdb_auth.count("emission", db="authdb") == 5


def test_wrong_password_is_transient_masked_and_keeps_the_points(influxdb_auth, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SPECMON_INFLUX_PASSWORD", "wrong-pw-123")
    sink = open_sink(f"influx://station@127.0.0.1:{influxdb_auth.port}/authdb")
    with Spool(tmp_path / "s.sqlite") as sp:
        points = sweep_points(1)[0]
        sp.put(points)
        runner = SinkRunner(sink, sp)
        with caplog.at_level(logging.DEBUG), pytest.raises(SinkTransient, match="HTTP 401: credentials refused") as exc:
            runner.send_pending()
        assert sp.depth() == len(points) and sp.dead_letters() == []
        assert "wrong-pw-123" not in str(exc.value) and "wrong-pw-123" not in caplog.text
        assert f"influx://station@127.0.0.1:{influxdb_auth.port}/authdb" in str(exc.value)
        monkeypatch.setenv("SPECMON_INFLUX_PASSWORD", "st4tion pw")
        runner.sink = open_sink(f"influx://station@127.0.0.1:{influxdb_auth.port}/authdb")
        assert runner.send_pending() == len(points)
        runner.sink.close()
    sink.close()
