"""``influxs://`` against influxd serving HTTPS with a self-signed certificate: ``ca=`` trusts it, the default
refuses it (transient, nothing lost), ``verify=0`` skips the check; basic-auth passwords never show up."""

from __future__ import annotations

import pytest

from station.outputs.sinks import SinkRunner, SinkTransient, open_sink
from station.outputs.spool import Spool
from tests._influx_helpers import sweep_points
from tests.services import INFLUXD, InfluxServer, binary

pytestmark = pytest.mark.influx


@pytest.fixture(scope="module")
def influxdb_tls(tmp_path_factory):
    if binary(INFLUXD) is None or binary("openssl") is None:
        pytest.skip("influxd or openssl not installed")
    server = InfluxServer.start(tmp_path_factory.mktemp("influxd-tls"), tls=True)
    try:
        yield server
    finally:
        server.stop()


def test_tls_with_the_servers_ca_delivers(influxdb_tls, tmp_path):
    s = influxdb_tls
    sink = open_sink(f"influxs://127.0.0.1:{s.port}/tlsdb?ca={s.cert_path}")
    with Spool(tmp_path / "s.sqlite") as sp:
        points = sweep_points(0)[0]
        sp.put(points)
        assert SinkRunner(sink, sp).send_pending() == len(points)
    sink.close()
    assert s.count("emission", db="tlsdb") == 5


def test_tls_refuses_an_unknown_certificate_and_keeps_the_points(influxdb_tls, tmp_path, monkeypatch):
    monkeypatch.setenv("SPECMON_INFLUX_PASSWORD", "pw-never-logged")
    s = influxdb_tls
    sink = open_sink(f"influxs://station@127.0.0.1:{s.port}/tlsdb2")
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put(sweep_points(1)[0])
        runner = SinkRunner(sink, sp)
        with pytest.raises(SinkTransient, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed") as exc:
            runner.send_pending()
        assert "pw-never-logged" not in str(exc.value)
        assert sp.depth() == len(sweep_points(1)[0])
        sink.close()
        insecure = open_sink(f"influxs://station@127.0.0.1:{s.port}/tlsdb2?verify=0")
        runner.sink = insecure
        assert runner.send_pending() == len(sweep_points(1)[0])  # auth is off on the test server
        insecure.close()
    assert s.count("violation", db="tlsdb2") == 1
