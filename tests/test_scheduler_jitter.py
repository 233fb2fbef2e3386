"""Scheduler jitter (issue 12, de-aliasing): each band's interval to its next due time is drawn in
revisit x [1 - j, 1 + j], so a one-hop band swept every 1 s no longer locks in phase with a device bursting
every 1 s; the mean revisit stays the wanted one, the draws are reproducible with a seed."""

from __future__ import annotations

import numpy as np
import pytest

from station.scheduler import BandSlot, Scheduler
from tests.test_scheduler import FakeClock, run


def test_jitter_keeps_the_mean_revisit_and_bounds_each_interval():
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 1.0, 5), BandSlot("b", 10.0, 5)], clock=clock, jitter=0.25, seed=7)
    run(s, clock, until=1000.0 + 2000.0, sweep_s=0.05)
    ra, rb = np.array(s.revisits("a")), np.array(s.revisits("b"))
    # an interval ends at the first scheduling point after its due time: at most one sweep (0.05 s) late
    assert ra.min() >= 0.75 - 1e-9 and ra.max() <= 1.25 + 0.05 + 1e-9
    assert rb.min() >= 7.5 - 1e-9 and rb.max() <= 12.5 + 0.05 + 1e-9
    # spread over the whole allowed range (uniform: sd = 0.25 / sqrt(3) of the period), mean = the period
    assert ra.std() == pytest.approx(0.25 / np.sqrt(3), rel=0.15)
    assert s.stats("a").mean_s == pytest.approx(1.0, abs=0.03)
    assert s.stats("b").mean_s == pytest.approx(10.0, abs=0.3)
    assert s.stats("a").wanted_s == 1.0


def test_jitter_is_reproducible_with_a_seed_and_off_at_zero():
    def starts(seed, jitter):
        clock = FakeClock()
        s = Scheduler([BandSlot("a", 2.0, 5)], clock=clock, jitter=jitter, seed=seed)
        return [t for t, _ in run(s, clock, until=1100.0, sweep_s=0.1)]

    assert starts(3, 0.25) == starts(3, 0.25)
    assert starts(3, 0.25) != starts(4, 0.25)
    assert np.diff(starts(3, 0.0)) == pytest.approx(2.0)


def test_jitter_bounds_checked_and_changeable():
    with pytest.raises(ValueError, match="jitter"):
        Scheduler([BandSlot("a", 1, 1)], jitter=0.6)
    with pytest.raises(ValueError, match="jitter"):
        Scheduler([BandSlot("a", 1, 1)], jitter=-0.1)
    clock = FakeClock()
    s = Scheduler([BandSlot("a", 10, 1)], clock=clock, jitter=0.5, seed=1)
    s.set_jitter(0.0)
    s.started("a")
    assert s.due_at("a") == pytest.approx(clock.t + 10)


def test_config_key_revisit_jitter(tmp_path):
    from station.config import load_config
    from station.errors import ConfigError
    from tests.test_config import MINIMAL as base

    p = tmp_path / "c.toml"
    p.write_text(base)
    assert load_config(p).run.revisit_jitter == pytest.approx(0.25)
    p.write_text(base + "[run]\nrevisit_jitter = 0\n")
    assert load_config(p).run.revisit_jitter == 0.0
    p.write_text(base + "[run]\nrevisit_jitter = 0.9\n")
    with pytest.raises(ConfigError, match="revisit_jitter"):
        load_config(p)


BURST_SCENARIO = """
[receiver]
retune_junk_samples = 0
ppm_error = 0
[[transmitters]]
id = "beacon"
frequency_hz = 433_920_000
modulation = "cw"
power_dbm = -60
burst_period_s = 1.0
burst_s = 0.05
burst_phase_s = 0.43
"""

DWELL_S = 0.05
SWEEPS = 300


def _seen_fraction(tmp_path, jitter: float, seed: int = 5) -> float:
    """One-hop band around a CW beacon bursting 50 ms every 1 s, swept every 1 s with a 50 ms dwell; the
    scheduler's clock is the simulator's own (idle waits let simulator time pass unread). Fraction of sweeps
    whose spectrum shows the beacon >= 10 dB over the band's median."""
    from station.receivers.sim import SimReceiver
    from station.sweep import SweepPlan, prepare_receiver, sweep_band

    path = tmp_path / "burst.toml"
    path.write_text(BURST_SCENARIO)
    rx = SimReceiver.from_uri(f"sim:{path}", seed=1, settle_samples=0)
    plan = SweepPlan.make([("one", 433.8e6, 434.0e6)], 1e3, 1.024e6, DWELL_S, window="hann",
                          tuning_range_hz=rx.info.tuning_range_hz)
    prepare_receiver(rx, plan)
    rx.set_gain(29.7)
    bp = plan.bands[0]
    assert bp.n_hops == 1
    s = Scheduler([BandSlot("one", 1.0, 5)], clock=lambda: rx.time_s, jitter=jitter, seed=seed)
    seen = []
    while len(seen) < SWEEPS:
        d = s.next()
        if d.band is None:
            rx.simulator.skip(d.wait_s + 1e-6)
            continue
        s.started("one")
        sp = sweep_band(rx, plan, bp).spectrum
        near = np.abs(sp.freqs_hz - 433.92e6) < 2e3
        seen.append(sp.psd_dbfs_hz[near].max() - np.median(sp.psd_dbfs_hz) > 10.0)
    rx.close()
    assert s.stats("one").mean_s == pytest.approx(1.0, abs=0.05)
    return float(np.mean(seen))


def test_one_hop_band_sees_a_periodic_burst_in_the_expected_fraction_of_sweeps(tmp_path):
    # without jitter the 1 s schedule is phase-locked with the 1 s beacon: the burst is seen in all sweeps
    # or in none, whatever the number of sweeps
    locked = _seen_fraction(tmp_path, 0.0)
    assert locked in (0.0, 1.0)
    # with the default jitter the sampling phase spreads over the cycle: (burst + dwell) / period = 0.10
    # (a partial overlap of a few ms is still 10 dB over the floor at this level); 300 sweeps with the
    # phase correlated over a few sweeps: ~0.03 standard error
    frac = _seen_fraction(tmp_path, 0.25)
    assert 0.04 < frac < 0.18, frac
