"""OccupancyCounter's public persistence (to_state / from_state), as the daemon saves and restores the open
integration periods across a restart (station.pipeline.make_occupancy)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from detectors.occupancy import OccupancyCounter, OccupancyParams
from station.config import demo_config
from station.pipeline import make_occupancy
from tests.detect_helpers import analytic_spectrum


def busy_spectrum():
    psd = np.full(1024, 1e-9)
    psd[528:560] = 1e-7  # one busy 32 kHz channel
    return analytic_spectrum(psd, n_frames=500, fs=1.024e6)


def test_from_state_round_trip_through_json_continues_the_period():
    params = OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 64e3, period_s=60.0)
    c = OccupancyCounter(params)
    c.update(busy_spectrum())
    c.update(busy_spectrum())
    state = json.loads(json.dumps(c.to_state()))  # through JSON, as the daemon stores it
    again = OccupancyCounter.from_state(state, params)
    assert again.records() == c.records() and again.to_state() == c.to_state()
    assert {r.revisits for r in again.records()} == {2}
    assert sum(r.revisits_above for r in again.records()) == 2 * 1  # the one busy channel, twice
    again.update(busy_spectrum())
    c.update(busy_spectrum())
    assert again.records() == c.records()  # restored counts go on accumulating
    assert OccupancyCounter.from_state(OccupancyCounter(params).to_state(), params).records() == []


def test_from_state_rejects_another_plan_and_bad_counts():
    params = OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 64e3, period_s=60.0)
    c = OccupancyCounter(params)
    c.update(busy_spectrum())
    state = c.to_state()
    with pytest.raises(ValueError, match="channel plan changed"):
        OccupancyCounter.from_state(state, OccupancyParams.raster(100e6 - 512e3, 100e6 + 512e3, 64e3, period_s=900.0))
    bad = json.loads(json.dumps(state))
    start = next(iter(bad["periods"]))
    bad["periods"][start][0] = [1, 2]
    with pytest.raises(ValueError, match="do not match"):
        OccupancyCounter.from_state(bad, params)
    with pytest.raises(ValueError, match="missing key"):
        OccupancyCounter.from_state({"channels_hz": list(params.channels_hz)}, params)


def test_pipeline_restores_the_counter_through_the_public_state(tmp_path, caplog):
    band = next(b for b in demo_config(tmp_path).bands if b.channels)
    fresh = make_occupancy(band, None)
    state = fresh.to_state()
    ch0 = fresh.params.channels_hz[0]
    state["periods"] = {"2026-11-29T19:00:00+00:00": [[3] + [0] * (len(fresh.params.channels_hz) - 1),
                                                       [1] + [0] * (len(fresh.params.channels_hz) - 1),
                                                       [3e-9] + [0.0] * (len(fresh.params.channels_hz) - 1)]}
    restored = make_occupancy(band, json.loads(json.dumps(state)))
    [rec] = restored.records()
    assert rec.channel_hz == ch0 and rec.revisits == 3 and rec.revisits_above == 1
    assert restored.params == fresh.params  # thresholds and pfa come from the config, not the state
    state["channel_width_hz"] = 1.0
    with caplog.at_level(logging.ERROR):
        again = make_occupancy(band, state)
    assert again.records() == [] and "saved occupancy counts unusable" in caplog.text
