"""The v2 write API sink (influxdb-client) against Debian's victoria-metrics, which accepts /api/v2/write and
keeps numeric fields as ``measurement_field`` series; numbers read back through /api/v1/export."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from station.errors import ConfigError
from station.sinks import SinkRunner, open_sink
from station.spool import Spool
from tests._influx_helpers import make_emission, make_spectrum
from station.points import PointContext, emission_points, spectrum_points


def _wait_export(vm, selector: str, n_values: int, timeout_s: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while True:
        vm.flush()
        series = vm.export(selector)
        if sum(len(s["values"]) for s in series) >= n_values or time.monotonic() > deadline:
            return series
        time.sleep(0.2)


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
