"""Statistics of averaged periodograms: the thresholds give the design false-alarm rate on pure noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats as sps

from detectors import stats
from detectors._energy_kernels import mark_multiresolution
from detectors.energy import DetectorParams, EmissionDetector, window_thresholds, _widths
from tests.detect_helpers import noise_spectrum


def test_dof_without_overlap_or_leakage_is_2k():
    # rectangular window, no overlap: frames independent and bins uncorrelated -> exactly 2*K*M
    assert stats.equivalent_dof("rect", 256, 0.0, 100, 1) == pytest.approx(200.0)
    assert stats.equivalent_dof("rect", 256, 0.0, 100, 8) == pytest.approx(1600.0)


def test_dof_hann_matches_welch_formula():
    # Welch (1967): Hann at 50 % overlap, K large -> nu ~ 2K / (1 + 2 * 0.1667^2 ... ) ~ 1.89 K
    nu = stats.equivalent_dof("hann", 1024, 0.5, 1000, 1)
    assert nu / 1000 == pytest.approx(1.894, abs=0.01)
    # adjacent Hann bins are correlated (|rho|^2 = 4/9): summing 2 bins gives less than twice the dof
    nu2 = stats.equivalent_dof("hann", 1024, 0.0, 1000, 2)
    assert nu2 == pytest.approx(2 * 2000 / (1 + 4 / 9), rel=1e-3)


def test_gamma_threshold_matches_scipy():
    for rel_var, pfa in ((1.0, 1e-2), (0.01, 1e-6), (1e-4, 1e-3)):
        shape = 1 / rel_var
        ref = sps.gamma.isf(pfa, shape, scale=1 / shape)
        assert stats.gamma_threshold(rel_var, pfa) == pytest.approx(ref, rel=1e-9)
    # exponential (one frame, one bin): -ln(pfa)
    assert stats.gamma_threshold(1.0, 1e-3) == pytest.approx(-np.log(1e-3))
    with pytest.raises(ValueError, match="pfa"):
        stats.gamma_threshold(0.1, 0.0)


def test_ideal_detector_reference_value():
    # the figure: a 7.6 kHz emission in 1 s at Pfa 1e-6 needs about -12.5 dB in-band SNR for Pd 50 %
    assert stats.ideal_snr_at_pd(0.5, 7600, 1.0, 1e-6) == pytest.approx(-12.5, abs=0.2)
    pd = stats.ideal_detection_probability(np.array([-30.0, -12.5, 0.0]), 7600, 1.0, 1e-6)
    assert pd[0] < 1e-3 and 0.4 < pd[1] < 0.6 and pd[2] > 0.999


@pytest.mark.parametrize("window,overlap,n_bins", [("hann", 0.5, 1), ("hann", 0.5, 4), ("rect", 0.0, 2),
                                                   ("blackmanharris", 0.75, 1)])
def test_pure_noise_false_alarm_rate_matches_design(window, overlap, n_bins):
    """Known noise level: windows of n_bins exceed the threshold at the design Pfa (binomial bounds)."""
    rng = np.random.default_rng(7)
    nfft, n_frames_target, pfa = 512, 60, 0.01
    hits = tests = 0
    for rep in range(6):
        hop = int(nfft * (1 - overlap))
        n = hop * (n_frames_target - 1) + nfft
        x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)  # density 1/fs
        f, p = signal.welch(x, 1.0, window=signal.get_window("boxcar" if window == "rect" else window, nfft),
                            noverlap=nfft - hop, return_onesided=False, detrend=False)
        ratio = p / 1.0  # true density is 1 (fs = 1)
        k = 1 + (n - nfft) // hop
        thr = stats.gamma_threshold(stats.relative_variance(window, nfft, overlap, k, n_bins), pfa)
        sums = np.convolve(ratio, np.ones(n_bins) / n_bins, mode="valid")
        hits += int((sums > thr).sum())
        tests += sums.size
    rate = hits / tests
    # tests are correlated over neighbouring positions: allow 4 sigma of n_eff = tests / (n_bins + 1)
    sigma = np.sqrt(pfa * (1 - pfa) / (tests / (n_bins + 1)))
    assert abs(rate - pfa) < 4 * sigma, (rate, pfa, sigma)


def test_detector_false_alarm_rate_on_noise_with_estimated_floor():
    """With the floor estimated from the data the per-test rate stays near the design (never above 2x):
    the floor's own variance is in the threshold."""
    pfa = 1e-2
    det = EmissionDetector(DetectorParams(pfa=pfa))
    hits = tests = 0
    for seed in range(4):
        sp = noise_spectrum(seed=seed, nfft=1024, seconds=0.25)
        floor = det.noise_floor(sp)
        ratio = np.ascontiguousarray(10 ** (sp.psd_dbfs_hz / 10) / floor.floor_lin)
        widths = np.array([1], dtype=np.int64)
        thr = window_thresholds(sp, floor, widths, pfa)
        hits += mark_multiresolution(ratio, widths, thr, np.zeros(sp.n_bins, np.bool_))
        tests += sp.n_bins
    rate = hits / tests
    assert pfa / 4 < rate < 2 * pfa, rate


def test_widths_are_powers_of_two_up_to_a_quarter():
    assert list(_widths(1024, 0)) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert list(_widths(1024, 16)) == [1, 2, 4, 8, 16]
