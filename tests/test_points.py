"""Point builders: vocabulary names only, station/band/settings on every point, decimation, deterministic
timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from detectors.records import OccupancyRecord
from station.compliance.records import ComplianceClass, ComplianceResult
from station.outputs.points import (
    PointContext,
    ViolationObservation,
    channel_label,
    decimate_edges,
    emission_points,
    health_point,
    noise_floor_point,
    occupancy_points,
    spectrum_points,
    time_ns,
    violation_points,
)
from station.outputs.vocabulary import MEASUREMENTS, SETTINGS_FIELDS, check_point
from tests._influx_helpers import T0, make_emission, make_spectrum, sweep_points


def test_every_point_names_only_the_vocabulary_and_carries_station_band_settings():
    points, _, _ = sweep_points(0)
    assert {p.measurement for p in points} == set(MEASUREMENTS) - {"station_health", "network_case", "network_region", "network_link",
                                                        "case_checkpoint"}
    for p in points:
        check_point(p)
        assert p.tags["station"] == "hn-01" and p.tags["band"] == "vhf"
        assert set(SETTINGS_FIELDS) <= set(p.fields)
        assert p.fields["nfft"] == 512 and p.fields["dwell_s"] == 0.05 and p.fields["rbw_hz"] == 3906.25 * 1.5


def test_time_ns_is_exact():
    t = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert time_ns(t) == 1_795_953_600_123_456_000
    assert time_ns(t.astimezone(timezone(timedelta(hours=7)))) == time_ns(t)
    with pytest.raises(ValueError, match="naive"):
        time_ns(datetime(2026, 1, 1))


def test_decimation_keeps_peaks_and_covers_the_band():
    spec = make_spectrum(T0, n_bins=4096)
    ctx = PointContext.from_spectrum(spec, station="s", band="b")
    pts = spectrum_points(spec, ctx, n_points=100, noise_dbfs_hz=-120.0)
    assert len(pts) == 100
    assert [p.time_ns for p in pts] == [time_ns(T0) + i * 1000 for i in range(100)]
    rbw_db = 10 * np.log10(spec.enbw_hz)
    assert max(p.fields["power_dbfs"] for p in pts) == pytest.approx(-80.0 + rbw_db)  # the carrier survives
    assert pts[0].fields["noise_dbfs"] == pytest.approx(-120.0 + rbw_db)
    assert pts[0].fields["maxhold_dbfs"] >= pts[0].fields["power_dbfs"]
    edges = decimate_edges(4096, 100)
    assert edges[0] == 0 and edges[-1] == 4096 and np.all(np.diff(edges) >= 40)
    f = [p.fields["freq_hz"] for p in pts]
    assert f[0] > spec.f_lo_hz and f[-1] < spec.f_hi_hz and np.all(np.diff(f) > 0)
    # fewer bins than points: one point per bin, at the bin centres
    small = spectrum_points(make_spectrum(T0, n_bins=10), ctx, n_points=100)
    assert [p.fields["freq_hz"] for p in small] == pytest.approx(list(make_spectrum(T0, n_bins=10).freqs_hz))
    # the same sweep gives the same points (a resend overwrites)
    assert spectrum_points(spec, ctx, n_points=100) == spectrum_points(spec, ctx, n_points=100)


def test_emissions_get_distinct_deterministic_times_ranked_by_frequency():
    spec = make_spectrum(T0)
    ctx = PointContext.from_spectrum(spec, station="s", band="b")
    es = [make_emission(f, T0) for f in (150e6, 145e6, 147e6)]
    a = emission_points(es, ctx, T0)
    b = emission_points(list(reversed(es)), ctx, T0)
    assert a == b
    assert [p.fields["center_hz"] for p in a] == [145e6, 147e6, 150e6]
    assert [p.time_ns - time_ns(T0) for p in a] == [0, 1, 2]
    assert all(p.tags["class"] == "unknown" for p in a)
    r = ComplianceResult(es[0], ComplianceClass.EXCESS_BANDWIDTH, ("L-1", "L-2"), "40 kHz > 11 kHz", track_id="trk-9")
    (p,) = emission_points([r], ctx, T0)
    assert p.tags["class"] == "excess_bandwidth" and p.fields["track_id"] == "trk-9"
    invalid = make_emission(1e8, T0)
    object.__setattr__(invalid, "xdb_valid", False)
    (p,) = emission_points([invalid], ctx, T0)
    assert "xdb_bandwidth_hz" not in p.fields
    assert p.fields["f_lo_hz"] == 1e8 - 5500 and p.fields["f_hi_hz"] == 1e8 + 5500 and p.fields["n_bursts"] == 0
    assert "artifact_reason" not in p.fields
    spur = make_emission(1e8, T0)
    object.__setattr__(spur, "artifact", True)
    object.__setattr__(spur, "artifact_reason", "dc_spike")
    (p,) = emission_points([spur], ctx, T0)
    assert p.fields["artifact"] is True and p.fields["artifact_reason"] == "dc_spike"


def test_violation_points_and_refusal_of_licensed():
    spec = make_spectrum(T0)
    ctx = PointContext.from_spectrum(spec, station="s", band="b")
    e = make_emission(147.25e6, T0)
    r = ComplianceResult(e, ComplianceClass.UNLICENSED, ("L-1", "L-2"), "no licence", indicative=True, track_id="t")
    (p,) = violation_points([ViolationObservation(r, "case-1", "new")], ctx, T0)
    assert p.tags == {"station": "s", "band": "b", "class": "unlicensed"}
    assert p.fields["licence"] == "L-1,L-2" and p.fields["case_id"] == "case-1" and p.fields["indicative"] is True
    assert "offset_hz" not in p.fields  # unlicensed: no assignment, no offset
    off = ComplianceResult(e, ComplianceClass.OFF_FREQUENCY, ("L-1",), "off", track_id="t", offset_hz=-1250.0)
    (q,) = violation_points([ViolationObservation(off, "case-3", "new")], ctx, T0)
    assert q.fields["offset_hz"] == -1250.0
    ok = ComplianceResult(e, ComplianceClass.LICENSED, (), "fine")
    with pytest.raises(ValueError, match="case-2: class 'licensed' is not a violation"):
        violation_points([ViolationObservation(ok, "case-2", "new")], ctx, T0)


def test_occupancy_and_noise_and_health():
    spec = make_spectrum(T0)
    ctx = PointContext.from_spectrum(spec, station="s", band="b")
    rec = OccupancyRecord(145.5e6, 12500.0, T0, T0 + timedelta(minutes=15), 90, 9, -95.0)
    (p,) = occupancy_points([rec], ctx)
    assert p.tags["channel"] == "145.5000" == channel_label(145.5e6)
    assert p.fields["occupancy_pct"] == pytest.approx(10.0) and p.fields["period_s"] == 900.0
    assert p.time_ns == time_ns(T0)
    nf = noise_floor_point(spec, ctx, np.array([-120.0, np.nan, -110.0, -115.0]))
    assert (nf.fields["min_dbfs_hz"], nf.fields["median_dbfs_hz"], nf.fields["max_dbfs_hz"]) == (-120.0, -115.0, -110.0)
    with pytest.raises(ValueError, match="no finite value"):
        noise_floor_point(spec, ctx, np.array([np.nan]))
    h = health_point({"spool_depth": 3.0, "cpu_pct": 12, "receiver_state": "ok", "temperature_c": None},
                     station="s", at=T0)
    assert h.tags == {"station": "s", "band": "all"}
    assert h.fields == {"spool_depth": 3, "cpu_pct": 12.0, "receiver_state": "ok"}
    hb = health_point({"sweep_duration_s": 2.5}, station="s", at=T0, ctx=ctx)
    assert hb.tags["band"] == "b" and hb.fields["nfft"] == 512
    with pytest.raises(ValueError, match="field 'cpu' is not in the vocabulary"):
        health_point({"cpu": 1}, station="s", at=T0)
