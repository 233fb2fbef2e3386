"""Tracking across sweeps (stable identities, persistence) and SM.1880 occupancy counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from detectors.occupancy import OccupancyCounter, OccupancyParams, combine
from detectors.records import Emission
from detectors.tracking import Tracker, TrackerParams, emission_from_dict, emission_to_dict
from tests.detect_helpers import analytic_spectrum

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def em(center, bw=11e3, power=-40.0, when=T0, artifact=False):
    return Emission(center_hz=center, peak_hz=center, f_lo_hz=center - bw / 2, f_hi_hz=center + bw / 2,
                    bandwidth_hz=bw, xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=power, peak_dbfs=power,
                    snr_db=20.0, noise_dbfs_hz=-100.0, occupancy=1.0, first_seen=when, last_seen=when,
                    artifact=artifact, artifact_reason="dc_spike" if artifact else None)


def test_one_transmitter_keeps_one_identity_across_sweeps():
    tr = Tracker()
    ids = []
    for k in range(5):
        when = T0 + timedelta(seconds=10 * k)
        drift = 300.0 * (k % 2)  # measurement jitter within a bin or two
        out = tr.update([em(145.5e6 + drift, when=when), em(147.25e6, power=-30 - k, when=when)], when)
        ids.append(tuple(t.track_id for t in out))
    assert len(set(ids)) == 1 and len(set(ids[0])) == 2
    a, b = tr.tracks
    assert a.n_obs == 5 and a.first_seen == T0 and a.last_seen == T0 + timedelta(seconds=40)
    assert b.max_power_dbfs == -30 and b.mean_power_dbfs == pytest.approx(10 * np.log10(np.mean(10 ** (np.arange(-30, -35, -1) / 10))))
    assert a.track_id.startswith("trk-145500k-")


def test_neighbouring_channels_get_separate_tracks_and_nearest_wins():
    tr = Tracker()
    tr.update([em(150.0e6), em(150.0125e6)], T0)
    out = tr.update([em(150.0124e6), em(150.0001e6)], T0 + timedelta(seconds=5))
    assert [t.center_hz for t in out] == pytest.approx([150.0125e6, 150.0e6], abs=100)
    assert len(tr.tracks) == 2 and all(t.n_obs == 2 for t in tr.tracks)


def test_revisits_count_sweeps_that_covered_the_track():
    tr = Tracker()
    tr.update([em(100e6)], T0, covered_hz=(99e6, 101e6))
    tr.update([], T0 + timedelta(seconds=1), covered_hz=(99e6, 101e6))  # covered, not seen
    tr.update([], T0 + timedelta(seconds=2), covered_hz=(200e6, 201e6))  # elsewhere
    (t,) = tr.tracks
    assert (t.n_obs, t.n_revisits) == (1, 2)


def test_artifacts_are_not_tracked_and_old_tracks_retire():
    tr = Tracker(TrackerParams(max_age_s=60))
    assert tr.update([em(100e6, artifact=True)], T0) == []
    tr.update([em(101e6)], T0)
    tr.update([em(102e6, when=T0 + timedelta(seconds=120))], T0 + timedelta(seconds=120))
    assert [round(t.center_hz / 1e6) for t in tr.tracks] == [102]


def test_state_survives_a_restart_with_the_same_ids():
    tr = Tracker()
    first = tr.update([em(433.92e6), em(446.00625e6)], T0)
    state = json.loads(json.dumps(tr.to_state()))  # through JSON, as the daemon stores it
    again = Tracker.from_state(state)
    out = again.update([em(433.9201e6, when=T0 + timedelta(minutes=1)), em(460e6)], T0 + timedelta(minutes=1))
    assert out[0].track_id == first[0].track_id and out[0].n_obs == 2
    assert out[1].track_id not in {t.track_id for t in first}  # new serial, never reused
    assert again.to_state()["serial"] == 3


def test_bad_state_is_a_clear_error():
    with pytest.raises(ValueError, match="version"):
        Tracker.from_state({"tracks": []})
    with pytest.raises(ValueError, match=r"tracks\[0\]"):
        Tracker.from_state({"version": 1, "serial": 1, "tracks": [{"track_id": "x"}]})


def test_emission_dict_round_trip():
    e = em(123.4e6)
    assert emission_from_dict(json.loads(json.dumps(emission_to_dict(e)))) == e


def test_occupancy_counts_revisits_above_threshold_and_recombines():
    n = 1024
    params = OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 64e3, period_s=60.0)
    counter = OccupancyCounter(params)
    busy = np.full(n, 1e-9)
    busy[528:560] = 1e-7  # one 32 kHz emission inside the channel centred at 100.032 MHz
    quiet = np.full(n, 1e-9)
    for k in range(10):
        sp = analytic_spectrum(busy if k % 4 == 0 else quiet, n_frames=500, fs=1.024e6)
        counter.update(sp.__class__(**{**{f: getattr(sp, f) for f in sp.__slots__},
                                      "start_utc": T0 + timedelta(seconds=20 * k)}))
    recs = counter.records()
    periods = sorted({r.period_start for r in recs})
    assert len(periods) == 4  # 200 s of 20 s revisits in 60 s periods
    ch = [r for r in recs if r.channel_hz == pytest.approx(100.032e6)]
    assert [r.revisits for r in ch] == [3, 3, 3, 1]
    assert sum(r.revisits_above for r in ch) == 3  # revisits 0, 4, 8
    others = [r for r in recs if r.channel_hz != pytest.approx(100.032e6)]
    assert sum(r.revisits_above for r in others) == 0
    (whole,) = [r for r in combine(recs, periods[0], periods[-1] + timedelta(seconds=60)) if r.channel_hz == pytest.approx(100.032e6)]
    assert (whole.revisits, whole.revisits_above) == (10, 3) and whole.occupancy == pytest.approx(0.3)
    flushed = counter.flush(periods[2])
    assert {r.period_start for r in flushed} == set(periods[:2])
    assert {r.period_start for r in counter.records()} == set(periods[2:])


def test_occupancy_with_a_fixed_threshold():
    params = OccupancyParams(channels_hz=(100e6,), channel_width_hz=10e3, threshold_dbfs=-50.0)
    c = OccupancyCounter(params)
    covered, power, thr = c.channel_powers(analytic_spectrum(np.full(1024, 1e-9), fs=1.024e6))
    assert covered[0] and thr[0] == pytest.approx(-50.0) and power[0] == pytest.approx(-90 + 40, abs=0.1)
    with pytest.raises(ValueError, match="channels_hz"):
        OccupancyParams(channels_hz=(), channel_width_hz=1.0)


def test_occupancy_state_round_trip_and_plan_change():
    params = OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 64e3, period_s=60.0)
    c = OccupancyCounter(params)
    busy = np.full(1024, 1e-9)
    busy[528:560] = 1e-7
    c.update(analytic_spectrum(busy, n_frames=500, fs=1.024e6))
    state = json.loads(json.dumps(c.to_state()))
    again = OccupancyCounter(params)
    again.load_state(state)
    assert again.records() == c.records()
    other = OccupancyCounter(OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 32e3, period_s=60.0))
    with pytest.raises(ValueError, match="channel plan changed"):
        other.load_state(state)
    with pytest.raises(ValueError, match="missing key"):
        again.load_state({"channels_hz": list(params.channels_hz)})
