"""The v2 write API sink (influxdb-client) against Debian's victoria-metrics, which accepts /api/v2/write and
keeps numeric fields as ``measurement_field`` series; numbers read back through /api/v1/export."""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from datetime import datetime, timezone

import pytest

from station.errors import ConfigError
from station.outputs.sinks import SinkRunner, SinkTransient, open_sink
from station.outputs.spool import Spool
from tests._influx_helpers import make_emission, make_spectrum
from station.outputs.points import PointContext, emission_points, spectrum_points


def _wait_export(vm, selector: str, n_values: int) -> list[dict]:
    return vm.export_wait(selector, n_values)


def test_v2_write_api_through_influxdb_client_reads_back_the_numbers(victoria_metrics, tmp_path, monkeypatch):
    monkeypatch.setenv("VM_TOKEN", "not-checked-by-victoria-metrics")
    uri = f"influx2://127.0.0.1:{victoria_metrics.port}?org=specmon&bucket=station&token_env=VM_TOKEN"
    sink = open_sink(uri)
    spool = Spool(tmp_path / "spool.sqlite")
    # VictoriaMetrics drops points older than its retention: use the present
    now = datetime.fromtimestamp(int(time.time()), tz=timezone.utc)
    spec = make_spectrum(now)
    ctx = PointContext.from_spectrum(spec, station="v2-test", band="vhf")
    emissions = [make_emission(145e6 + 1e5 * j, now, -60.0 - j) for j in range(3)]
    points = emission_points(emissions, ctx, now) + spectrum_points(spec, ctx, n_points=16)
    spool.put(points)
    try:
        assert SinkRunner(sink, spool).send_pending() == len(points)
    finally:
        sink.close()
    assert spool.depth() == 0

    series = _wait_export(victoria_metrics, '{__name__="emission_power_dbfs",station="v2-test"}', 3)
    assert len(series) == 1
    s = series[0]
    assert s["metric"]["band"] == "vhf" and s["metric"]["class"] == "unknown"
    assert sorted(s["values"]) == [-62.0, -61.0, -60.0]
    # VictoriaMetrics keeps ms: the emissions of one sweep (sweep start + rank ns) share the sweep's ms
    assert set(s["timestamps"]) == {int(now.timestamp() * 1000)}
    freq = _wait_export(victoria_metrics, '{__name__="band_spectrum_freq_hz",station="v2-test"}', 16)
    assert sorted(freq[0]["values"]) == sorted(p.fields["freq_hz"] for p in points if p.measurement == "band_spectrum")
    nfft = _wait_export(victoria_metrics, '{__name__="emission_nfft",station="v2-test"}', 3)
    assert set(nfft[0]["values"]) == {512}


def test_v2_needs_a_token_and_names_where_to_give_it(monkeypatch):
    monkeypatch.delenv("SPECMON_INFLUX_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="no token"):
        open_sink("influx2://127.0.0.1:8086?org=o&bucket=b")
    with pytest.raises(ConfigError, match="UNSET_VAR_X"):
        open_sink("influx2://127.0.0.1:8086?org=o&bucket=b&token_env=UNSET_VAR_X")


def test_v2_token_from_file(tmp_path, monkeypatch):
    monkeypatch.delenv("SPECMON_INFLUX_TOKEN", raising=False)
    f = tmp_path / "token"
    f.write_text("s3cret-token\n")
    sink = open_sink(f"influx2://127.0.0.1:8086?org=o&bucket=b&token_file={f}")
    assert sink._token == "s3cret-token"
    assert "s3cret" not in repr(sink.target) and "s3cret" not in sink.name
    with pytest.raises(ConfigError, match="cannot read token_file"):
        open_sink(f"influx2://127.0.0.1:8086?org=o&bucket=b&token_file={tmp_path / 'missing'}")



class _Refuser(http.server.BaseHTTPRequestHandler):
    """A /api/v2/write that answers 400 to a body holding a line with 'BAD', 503 + Retry-After to 'BUSY',
    and 204 otherwise, remembering accepted lines. (VictoriaMetrics itself skips unparsable lines with a
    204, so the refusal path needs a server that refuses the way InfluxDB 2.x does.)"""

    accepted: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if b"BUSY" in body:
            self.send_response(503)
            self.send_header("Retry-After", "42")
            self.end_headers()
            return
        if b"BAD" in body:
            msg = b'{"code":"invalid","message":"unable to parse BAD line"}'
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        type(self).accepted += body.splitlines()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_v2_refused_point_is_dead_lettered_and_503_honours_retry_after(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECMON_INFLUX_TOKEN", "x")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sink = open_sink(f"influx2://127.0.0.1:{server.server_port}?org=o&bucket=b")
        spool = Spool(tmp_path / "spool.sqlite")
        points = [_pt(i, "BAD" if i == 6 else "ok") for i in range(10)]
        spool.put(points)
        runner = SinkRunner(sink, spool, clock=lambda: 1000.0)
        assert runner.send_pending() == 9
        (dead,) = spool.dead_letters()
        assert dead.status == 400 and "unable to parse BAD line" in dead.error
        assert len(_Refuser.accepted) == 9
        spool.put([_pt(20, "BUSY")])
        with pytest.raises(SinkTransient, match="HTTP 503"):
            runner.send_pending()
        assert runner.next_attempt == 1042.0
        assert spool.depth() == 1
        sink.close()
    finally:
        server.shutdown()
        server.server_close()


def _pt(i: int, reason: str):
    from station.outputs.vocabulary import Point

    return Point("violation", {"station": "s", "band": "b"}, {"reason": reason, "snr_db": float(i)}, 10**18 + i)
