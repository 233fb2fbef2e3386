"""dsp.sweep: planning covers bands with no gaps or duplicates; stitching crops, replaces DC, keeps levels."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.psd import welch
from dsp.sweep import BandOutOfRange, StitchInfo, choose_nfft, plan_band, replace_dc, stitch

FS = 2.4e6
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def covered_bins(plan):
    """Frequencies each hop contributes, computed from hop centres and the FFT grid (independent of freqs_hz)."""
    out = []
    for h, c in enumerate(plan.hop_centers_hz):
        band_sl, hop_sl = plan.hop_slices(h)
        local = c + (np.arange(plan.nfft)[hop_sl] - plan.nfft // 2) * plan.bin_hz
        out.append(local)
    return np.concatenate(out)


@settings(max_examples=60, deadline=None)
@given(
    lo=st.floats(30e6, 1500e6),
    width=st.floats(1e3, 60e6),
    rbw=st.floats(500, 200e3),
    crop=st.floats(0.0, 0.6),
    rate=st.sampled_from([1.024e6, 2.048e6, 2.4e6, 3.2e6]),
)
def test_plan_covers_band_exactly(lo, width, rbw, crop, rate):
    plan = plan_band(lo, lo + width, rbw, rate, crop=crop)
    f = covered_bins(plan)
    np.testing.assert_allclose(f, plan.freqs_hz, rtol=0, atol=1e-6 * plan.bin_hz + 1e-3)
    assert np.all(np.diff(plan.freqs_hz) > 0)
    np.testing.assert_allclose(np.diff(plan.freqs_hz), plan.bin_hz)
    assert plan.freqs_hz[0] - plan.bin_hz / 2 == pytest.approx(lo)
    assert plan.freqs_hz[-1] + plan.bin_hz / 2 >= lo + width - 1e-6
    assert plan.freqs_hz[-1] - plan.bin_hz / 2 < lo + width
    assert plan.enbw_hz <= rbw
    assert plan.n_keep <= plan.nfft * (1 - crop) + 2
    edges = plan.hop_edges_hz()
    np.testing.assert_allclose(edges[1:, 0], edges[:-1, 1])  # hops abut: no gap, no overlap


def test_choose_nfft_and_rbw_errors():
    assert choose_nfft(10e3, 2.4e6, "hann") == 512  # 1.5 * 2.4e6 / 512 = 7031 Hz <= 10 kHz
    assert choose_nfft(7031.25, 2.4e6, "hann") == 512
    assert choose_nfft(7031.0, 2.4e6, "hann") == 1024
    with pytest.raises(ValueError, match=r"rbw 0.5 Hz needs an FFT larger than"):
        choose_nfft(0.5, 2.4e6)
    with pytest.raises(ValueError, match="not below the sample rate"):
        choose_nfft(3e6, 2.4e6)
    with pytest.raises(ValueError, match="rbw must be a positive"):
        choose_nfft(0, 2.4e6)


def test_band_errors():
    with pytest.raises(ValueError, match="is empty"):
        plan_band(108e6, 88e6, 10e3, FS)
    with pytest.raises(ValueError, match="finite"):
        plan_band(float("nan"), 88e6, 10e3, FS)
    with pytest.raises(ValueError, match="crop"):
        plan_band(88e6, 108e6, 10e3, FS, crop=0.95)
    with pytest.raises(BandOutOfRange, match=r"outside the receiver's tuning range 24.000-1766.000 MHz"):
        plan_band(10e6, 20e6, 10e3, FS, tuning_range_hz=(24e6, 1766e6))
    with pytest.raises(BandOutOfRange):
        plan_band(1760e6, 1800e6, 10e3, FS, tuning_range_hz=(24e6, 1766e6))


def tone_hops(plan, tones, noise=1e-4, seed=0):
    """Welch results per hop for complex tones (rf_hz, amplitude) plus white noise, as a receiver would see."""
    rng = np.random.default_rng(seed)
    n = 32 * plan.nfft
    t = np.arange(n) / plan.sample_rate_hz
    out = []
    for c in plan.hop_centers_hz:
        x = np.sqrt(noise / 2) * (rng.normal(size=n) + 1j * rng.normal(size=n))
        for f, a in tones:
            if abs(f - c) < plan.sample_rate_hz / 2:
                x = x + a * np.exp(2j * np.pi * (f - c) * t)
        out.append(welch(x, plan.sample_rate_hz, nfft=plan.nfft, window=plan.window, remove_dc=False))
    return out


def test_tone_at_hop_boundary_appears_once_at_right_level():
    plan = plan_band(100e6, 110e6, 5e3, FS, crop=0.25)
    edges = plan.hop_edges_hz()
    boundary = edges[1, 0]
    f_last_of_hop0 = boundary - plan.bin_hz / 2  # last bin of hop 0
    f_first_of_hop1 = boundary + plan.bin_hz / 2
    f_mid_hop2 = plan.hop_centers_hz[2] + 37 * plan.bin_hz
    tones = [(f_last_of_hop0, 0.1), (f_first_of_hop1 + 10 * plan.bin_hz, 0.05), (f_mid_hop2, 0.02)]
    s = stitch(plan, tone_hops(plan, tones), StitchInfo(T0, T0, 0.1))
    p = s.power_dbfs()
    for f, a in tones:
        i = int(np.argmin(np.abs(s.freqs_hz - f)))
        assert s.freqs_hz[i] == pytest.approx(f)
        assert p[i] == pytest.approx(20 * np.log10(a), abs=0.1)
    # each tone is one peak: exactly 3 local maxima 20 dB above the floor
    floor = np.median(p)
    peaks = [i for i in range(1, len(p) - 1) if p[i] > floor + 20 and p[i] >= p[i - 1] and p[i] >= p[i + 1]]
    assert len(peaks) == 3
    assert np.all(np.diff(s.freqs_hz) > 0) and s.n_bins == plan.n_bins


def test_dc_bin_replaced_and_listed():
    plan = plan_band(100e6, 105e6, 10e3, FS)
    hops = tone_hops(plan, [], noise=1e-4)
    for r in hops:  # an LO leakage spike at each hop's DC bin
        r.mean_lin[plan.nfft // 2] *= 1e4
        r.max_lin[plan.nfft // 2] *= 1e4
    s = stitch(plan, hops, StitchInfo(T0, T0, 0.1))
    assert s.psd_dbfs_hz.max() < np.median(s.psd_dbfs_hz) + 6
    dc = np.array(s.meta["dc_bins_hz"])
    assert len(dc) == plan.n_hops or len(dc) == plan.n_hops - 1
    for f, c in zip(dc, plan.hop_centers_hz, strict=False):
        assert abs(f - c) <= plan.bin_hz / 2 + 1e-6


def test_replace_dc_interpolates_linear():
    v = np.arange(16, dtype=float)
    v[8] = 1000
    assert replace_dc(v, 1)[8] == pytest.approx(8.0)
    w = replace_dc(np.arange(16.0), 3)
    np.testing.assert_allclose(w[6:11], [6, 7, 8, 9, 10])


def test_stitch_rejects_mismatched_hops():
    plan = plan_band(100e6, 105e6, 10e3, FS)
    hops = tone_hops(plan, [])
    with pytest.raises(ValueError, match="hop spectra for a plan of"):
        stitch(plan, hops[:-1], StitchInfo(T0, T0, 0.1))
    other = welch(np.zeros(4096, np.complex64) + 1e-3, FS, nfft=256)
    with pytest.raises(ValueError, match="nfft 256"):
        stitch(plan, [other] * plan.n_hops, StitchInfo(T0, T0, 0.1))


def test_plan_fixed_center_grid_and_errors():
    from dsp.sweep import plan_fixed_center

    band = plan_band(99.5e6, 100.5e6, 10e3, FS)
    fixed = plan_fixed_center(band, 100e6)
    assert fixed.n_hops == 1 and fixed.hop_centers_hz[0] == 100e6
    f = covered_bins(fixed)
    np.testing.assert_allclose(f, fixed.freqs_hz)
    assert f[0] >= 99.5e6 and f[0] - fixed.bin_hz < 99.5e6 and f[-1] < 100.5e6 <= f[-1] + fixed.bin_hz
    with pytest.raises(BandOutOfRange, match="a receiver fixed at 100.000000 MHz covers"):
        plan_fixed_center(plan_band(98e6, 102e6, 10e3, FS), 100e6)


@pytest.mark.parametrize("enbw", [1.4999999999999998, 1.5, 1.5000000000000002])
def test_choose_nfft_boundary_is_the_same_on_every_cpu(monkeypatch, enbw):
    """An rbw equal to a size's resolution picks that size whether the ENBW sum lands a last bit above or below
    1.5 (AMD EPYC without AVX-512 computes 1.5000000000000002 for Hann)."""
    import dsp.sweep

    monkeypatch.setattr(dsp.sweep, "enbw_bins", lambda window, n=4096: enbw)
    assert choose_nfft(7031.25, 2.4e6, "hann") == 512
    assert choose_nfft(7031.0, 2.4e6, "hann") == 1024
