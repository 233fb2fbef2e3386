"""Level uncertainty coverage (issue 13): the stated ~95 % interval of the reported dBm level covers the dBm the
simulated transmitter puts at the antenna, over many seeded emitters, through the nominal R820T profile.

Two populations, because the nominal profile's uncertainty (2.5 dB, k=1) is the unit-to-unit spread of
R820T dongles, not an error of the simulator's default dongle (which IS the nominal one, so its total interval
covers ~100 %):
  * dongles drawn from that spread (full-scale level off nominal by N(0, u_cal)): the whole interval
    (calibration + SNR + averaging) covers close to 95 %;
  * the default dongle: the measurement's own terms (SNR, periodogram noise, averaging over revisits: what is
    left after a calibration) cover close to 95 %, per observation and for the canonical (median) level.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from detectors.energy import DetectorParams, EmissionDetector
from detectors.uncertainty import MeasurementSettings, level_budget, summarise
from dsp.psd import psd_spectrum
from station.calibration import LevelContext, nominal_profile
from station.receivers.sim import SimReceiver
from station.sim.scenario import ReceiverModel, Scenario, Transmitter

T0 = datetime(2026, 3, 1, tzinfo=UTC)
RATE, OFFSET, DWELL = 2.4e6, 400e3, 0.05
MODS = (("nbfm", 11e3), ("am", 6e3), ("wbfm", 180e3))
N_EMITTERS, REVISITS = 150, 3


def _run(population: bool):
    prof = nominal_profile()
    rng = np.random.default_rng(2026 + population)
    out = []
    for k in range(N_EMITTERS):
        mod, bw = MODS[k % 3]
        f = float(rng.uniform(80e6, 1200e6))
        p = float(rng.uniform(-95.0, -55.0))
        gain = float(rng.choice([19.7, 29.7, 38.6]))
        u_cal = prof.conversion(f, gain).u_db
        dev = float(rng.normal(0.0, u_cal)) if population else 0.0
        sc = Scenario("coverage", "<test>", ReceiverModel(fullscale_dbm=-10.0 + dev), (Transmitter("tx", f, mod, p, bw),))
        rx = SimReceiver("sim://coverage", sc, seed=k)
        rx.set_sample_rate(RATE)
        g = rx.set_gain(gain)
        rx.set_center_freq(f - OFFSET)
        obs = []
        for _ in range(REVISITS):
            spec = psd_spectrum(rx.read(int(RATE * DWELL)).astype(np.complex64), RATE, f - OFFSET, T0, nfft=2048,
                                window="hann", overlap=0.5)
            found = [e for e in EmissionDetector(DetectorParams()).detect(spec)
                     if not e.artifact and abs(e.center_hz - f) < bw]
            if found:
                e = max(found, key=lambda e: e.power_dbfs)
                s = MeasurementSettings.from_spectrum(spec)
                lvl = LevelContext(prof, g, settings=s).level(e.power_dbfs, e.center_hz, bandwidth_hz=e.bandwidth_hz,
                                                             snr_db=e.snr_db)
                obs.append((lvl, level_budget(e.bandwidth_hz, e.snr_db, s).with_systematic(lvl.u_cal_db)))
        if obs:
            out.append((p, obs))
    assert len(out) >= 0.9 * N_EMITTERS  # the detector found (nearly) every emitter
    return out


@pytest.mark.slow
def test_total_level_interval_covers_truth_over_the_nominal_population():
    res = _run(population=True)
    single = np.mean([abs(obs[0][0].power_dbm - p) <= obs[0][0].u95_db for p, obs in res])
    canon = [summarise([o.power_dbm for o, _ in obs], [b for _, b in obs]) for _, obs in res]
    multi = np.mean([abs(c.value - p) <= c.u95 for c, (p, _) in zip(canon, res)])
    assert 0.88 <= single <= 0.99, single
    assert 0.88 <= multi <= 0.99, multi


@pytest.mark.slow
def test_measurement_terms_cover_truth_on_the_default_dongle():
    res = _run(population=False)
    single = np.mean([abs(obs[0][0].power_dbm - p) <= 2.0 * obs[0][0].u_meas_db for p, obs in res])
    total = np.mean([abs(obs[0][0].power_dbm - p) <= obs[0][0].u95_db for p, obs in res])
    meas = [summarise([o.power_dbm for o, _ in obs], [level_budget_only(b) for _, b in obs]) for _, obs in res]
    multi = np.mean([abs(c.value - p) <= c.u95 for c, (p, _) in zip(meas, res)])
    assert 0.88 <= single <= 0.99, single
    assert 0.85 <= multi <= 0.99, multi  # medians of 3: few degrees of freedom
    assert total >= single  # the calibration term only widens it (on this dongle: ~100 %)


def level_budget_only(b):
    """The measurement's own part of a level budget (the calibration's systematic term removed)."""
    from detectors.uncertainty import Budget

    return Budget(b.random, 0.0, b.bias, b.k_random)
