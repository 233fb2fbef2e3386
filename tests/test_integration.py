"""Evidence over revisits (detectors/integration.py): the revisit integrator, the detector on integrated
spectra, and the confirmation rule's false-confirmation probability under noise."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from scipy import stats

from detectors.energy import DetectorParams, EmissionDetector
from detectors.integration import (
    Confirmation,
    RevisitIntegrator,
    reading_log_pvalue,
    reading_pfa,
    required_readings,
)
from tests.detect_helpers import band_noise, iq_spectrum, noise_iq

FS = 250e3
DWELL_N = 12_500  # 50 ms


def _sweep(seed: int, snr_db: float | None, width_hz: float = 12e3, offset_hz: float = 40e3):
    """One 50 ms capture: unit-density noise plus, when ``snr_db`` is given, a flat band of ``width_hz`` at
    that in-band SNR."""
    x = noise_iq(seed, DWELL_N, power=1e-3)
    if snr_db is not None:
        noise_in_band = 1e-3 * width_hz / FS
        x = x + band_noise(seed + 10_000, DWELL_N, FS, offset_hz, width_hz, noise_in_band * 10 ** (snr_db / 10))
    s = iq_spectrum(x, fs=FS, nfft=512)
    return replace(s, start_utc=s.start_utc + timedelta(seconds=seed), end_utc=s.end_utc + timedelta(seconds=seed))


def test_integrator_averages_linear_psd_and_counts_frames():
    spectra = [_sweep(s, None) for s in range(4)]
    integ = RevisitIntegrator(4)
    outs = [integ.add(s) for s in spectra]
    assert outs[:3] == [None, None, None] and integ.pending == 0
    block = outs[3]
    want = 10 * np.log10(np.mean([10 ** (s.psd_dbfs_hz / 10) for s in spectra], axis=0))
    np.testing.assert_allclose(block.psd_dbfs_hz, want, rtol=0, atol=1e-9)
    assert block.n_frames == sum(s.n_frames for s in spectra)
    assert block.start_utc == spectra[0].start_utc and block.end_utc == spectra[-1].end_utc
    assert block.frames_dbfs_hz is None and block.meta["integrated_revisits"] == 4
    # a sweep on other bins restarts the block
    integ.add(spectra[0])
    other = replace(spectra[1], freqs_hz=spectra[1].freqs_hz + 1.0)
    assert integ.add(other) is None and integ.pending == 1
    with pytest.raises(ValueError):
        RevisitIntegrator(1)


def test_integrated_spectrum_finds_what_single_dwells_miss():
    """A 4 kHz emission at -5 dB in-band SNR in 50 ms dwells: rarely found in one dwell at pfa 1e-6, found in
    the average of 8; and on noise alone the integrated spectra give (almost) no detection."""
    det = EmissionDetector(DetectorParams(pfa=1e-6, detect_bursts=False))
    near = lambda es: [e for e in es if not e.artifact and abs(e.center_hz - (433.92e6 + 40e3)) < 4e3]  # noqa: E731
    singles, blocks = 0, 0
    for rep in range(3):
        integ = RevisitIntegrator(8)
        block = None
        for k in range(8):
            s = _sweep(100 * rep + k, -5.0, width_hz=4e3)
            singles += bool(near(det.detect(s)))
            block = integ.add(s) or block
        blocks += bool(near(det.detect(block)))
    assert singles <= 3 and blocks == 3, (singles, blocks)
    false_int = 0
    for rep in range(4):
        integ = RevisitIntegrator(4)
        block = None
        for k in range(4):
            block = integ.add(_sweep(5000 + 10 * rep + k, None)) or block
        false_int += len([e for e in det.detect(block) if not e.artifact])
    assert false_int <= 1


def test_required_readings_is_the_smallest_count_within_case_pfa():
    for p, w, a in [(1e-4, 20, 1e-6), (1e-3, 20, 1e-6), (0.05, 10, 1e-2), (1e-6, 64, 1e-9)]:
        k = required_readings(p, w, a)
        assert k >= 2
        assert stats.binom.sf(k - 2, w - 1, p) <= a
        if k > 2:
            assert stats.binom.sf(k - 3, w - 1, p) > a
    assert required_readings(0.9, 3, 1e-6) == 4  # a window too short to ever confirm by count
    assert reading_pfa(1e-6, 10, 20, 2) == pytest.approx(4e-4, rel=1e-3)


def _noise_track(rng, p_reading: float, window: int, case_pfa: float, log_p_reading: float) -> bool:
    """One track made by noise: its first reading, then at each revisit a reading with probability
    ``p_reading`` whose p-value (multiplicity included) is uniform on (0, p_reading)."""
    k = required_readings(p_reading, window, case_pfa / 2)
    c = Confirmation(window)
    for look in range(window):
        hit = look == 0 or rng.random() < p_reading
        log_p = math.log(rng.random() * p_reading) if hit else 0.0
        if c.look(hit, k, log_p, log_p_reading, case_pfa):
            return True
    return False


def test_noise_tracks_are_confirmed_at_most_at_case_pfa():
    """Monte Carlo with a high false-reading probability so the rule is exercised: noise tracks are confirmed
    at a rate within case_pfa (plus 3 standard errors)."""
    rng = np.random.default_rng(7)
    p, w, a = 0.05, 20, 0.02
    n = 20_000
    rate = sum(_noise_track(rng, p, w, a, math.log(p)) for _ in range(n)) / n
    assert rate <= a + 3 * math.sqrt(a * (1 - a) / n), rate


def test_strong_readings_confirm_on_the_second_weak_ones_need_the_count():
    rv = lambda n: 1.0 / (60.0 * n)  # noqa: E731  60 frames
    lp_read = math.log(reading_pfa(1e-6, 12, 16, 2.25))
    mult = lp_read - math.log(1e-6)
    k = required_readings(math.exp(lp_read), 20, 0.5e-6)
    strong = Confirmation(20)
    assert not strong.look(True, k, reading_log_pvalue(25.0, 16, rv) + mult, lp_read, 1e-6)
    assert strong.look(True, k, reading_log_pvalue(25.0, 16, rv) + mult, lp_read, 1e-6)
    weak = Confirmation(20)
    log_p = math.log(math.exp(lp_read) * 0.5)  # readings just over the detection threshold
    got = [weak.look(True, k, log_p, lp_read, 1e-6) for _ in range(k)]
    assert got == [False] * (k - 1) + [True] and k >= 3
    # a window that ends unconfirmed is forgotten
    lone = Confirmation(3)
    lone.look(True, 3, log_p, lp_read, 1e-6)
    lone.look(False, 3)
    lone.look(False, 3)
    assert not lone.look(True, 3, log_p, lp_read, 1e-6) and (lone.hits, lone.looks) == (1, 1)
    assert Confirmation.from_state(strong.to_state()).confirmed
