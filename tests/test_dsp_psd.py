"""dsp.psd: agreement with scipy.signal.welch, calibrated levels, holds/counts/frames, JIT-off equivalence, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import numpy as np
import pytest
import scipy.signal

from dsp.convert import to_complex64
from dsp.psd import psd_spectrum, to_db, welch
from dsp.windows import WINDOWS

from .conftest import PROJECT_ROOT, shared_file

SCIPY_NAMES = {"rect": "boxcar", "hann": "hann", "blackmanharris": "blackmanharris", "flattop": "flattop"}
FS = 2.4e6


def scipy_psd(x, nfft, window, overlap):
    step = nfft - int(round(overlap * nfft))
    _, p = scipy.signal.welch(
        x.astype(np.complex128), fs=FS, window=SCIPY_NAMES[window], nperseg=nfft, noverlap=nfft - step,
        detrend=False, return_onesided=False, scaling="density",
    )
    return np.fft.fftshift(p)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("nfft,overlap", [(256, 0.0), (1024, 0.5), (512, 0.75), (1000, 0.3)])
def test_matches_scipy_welch(window, nfft, overlap):
    rng = np.random.default_rng(nfft)
    raw = rng.integers(0, 256, size=2 * 40000, dtype=np.uint8)
    r = welch(raw, FS, fmt="cu8", nfft=nfft, window=window, overlap=overlap, remove_dc=False)
    ref = scipy_psd(to_complex64(raw, "cu8"), nfft, window, overlap)
    np.testing.assert_allclose(r.mean_lin, ref, rtol=1e-4)
    assert r.offsets_hz[nfft // 2] == 0.0 and np.all(np.diff(r.offsets_hz) > 0)


@pytest.mark.parametrize("fmt,dtype", [("cs8", np.int8), ("cs16", np.int16), ("cf32", np.float32)])
def test_other_formats_and_complex_input_match_scipy(fmt, dtype):
    rng = np.random.default_rng(9)
    x = (rng.normal(0, 0.2, 30000) + 1j * rng.normal(0, 0.2, 30000)).astype(np.complex64)
    scale = {"cs8": 128.0, "cs16": 32768.0, "cf32": 1.0}[fmt]
    inter = np.empty(60000)
    inter[0::2], inter[1::2] = x.real, x.imag
    raw = np.clip(np.rint(inter * scale), -scale, scale - 1).astype(dtype) if fmt != "cf32" else inter.astype(dtype)
    ref = scipy_psd(to_complex64(raw, fmt), 512, "hann", 0.5)
    np.testing.assert_allclose(welch(raw, FS, fmt=fmt, nfft=512, remove_dc=False).mean_lin, ref, rtol=1e-4)
    np.testing.assert_allclose(welch(to_complex64(raw, fmt), FS, nfft=512, remove_dc=False).mean_lin, ref, rtol=1e-4)


def test_remove_dc_equals_welch_of_mean_removed_buffer():
    rng = np.random.default_rng(5)
    raw = rng.integers(100, 200, size=2 * 20000, dtype=np.uint8)  # strong DC offset
    x = to_complex64(raw, "cu8").astype(np.complex128)
    ref = scipy_psd(x - x.mean(), 256, "hann", 0.5)
    np.testing.assert_allclose(welch(raw, FS, fmt="cu8", nfft=256).mean_lin, ref, rtol=1e-4, atol=1e-12)


@pytest.mark.parametrize("window", WINDOWS)
def test_tone_level_within_0p1_db_every_window(window):
    nfft = 1024
    n = 64 * nfft
    amp = 0.3  # -10.46 dBFS
    k = 100  # on a bin
    t = np.arange(n)
    x = amp * np.exp(2j * np.pi * k * t / nfft)
    r = welch(x, FS, nfft=nfft, window=window, overlap=0.5, remove_dc=False)
    level = to_db(r.mean_lin.max()) + 10 * np.log10(r.enbw_hz)
    assert level == pytest.approx(20 * np.log10(amp), abs=0.1)
    assert np.argmax(r.mean_lin) == nfft // 2 + k


def test_flattop_reads_an_off_bin_tone_and_band_power_integrates():
    nfft, n = 1024, 64 * 1024
    t = np.arange(n)
    x = 0.1 * np.exp(2j * np.pi * 100.37 * t / nfft)
    r = welch(x, FS, nfft=nfft, window="flattop", remove_dc=False)
    assert to_db(r.mean_lin.max()) + 10 * np.log10(r.enbw_hz) == pytest.approx(-20.0, abs=0.1)
    r = welch(x, FS, nfft=nfft, window="hann", remove_dc=False)
    band_power = r.mean_lin.sum() * r.bin_hz  # integral of the density: exact whatever the scalloping
    assert to_db(band_power) == pytest.approx(-20.0, abs=0.1)


@pytest.mark.parametrize("window", WINDOWS)
def test_white_noise_density_within_0p2_db(window):
    rng = np.random.default_rng(11)
    sigma2 = 1e-3  # total complex noise power, FS^2
    n = 400_000
    x = (rng.normal(0, np.sqrt(sigma2 / 2), n) + 1j * rng.normal(0, np.sqrt(sigma2 / 2), n)).astype(np.complex64)
    r = welch(x, FS, nfft=1024, window=window, remove_dc=False)
    assert 10 * np.log10(np.mean(r.mean_lin)) == pytest.approx(10 * np.log10(sigma2 / FS), abs=0.2)


def reference_frames(x, nfft, window, overlap):
    from dsp.windows import window_info

    w = window_info(window, nfft)
    step = nfft - int(round(overlap * nfft))
    n = 1 + (len(x) - nfft) // step
    frames = np.stack([x[i * step : i * step + nfft] * w.coefficients for i in range(n)])
    return np.fft.fftshift(np.abs(np.fft.fft(frames, axis=1)) ** 2 / (FS * w.sum_w2), axes=1)


def test_holds_counts_and_frames_match_numpy_reference():
    rng = np.random.default_rng(12)
    x = (rng.normal(0, 0.1, 50000) + 1j * rng.normal(0, 0.1, 50000)).astype(np.complex64)
    x[20000:21000] += 0.5 * np.exp(2j * np.pi * 0.1 * np.arange(1000))  # a burst
    nfft = 256
    thr = np.full(nfft, -70.0)
    thr[:10] = -200.0  # every frame counts there
    r = welch(x, FS, nfft=nfft, remove_dc=False, want_min=True, keep_frames=True, threshold_dbfs_hz=thr)
    ref = reference_frames(x.astype(np.complex128), nfft, "hann", 0.5)
    np.testing.assert_allclose(r.frames_lin, ref, rtol=2e-3, atol=1e-14)
    np.testing.assert_allclose(r.max_lin, ref.max(axis=0), rtol=2e-3)
    np.testing.assert_allclose(r.min_lin, ref.min(axis=0), rtol=2e-3)
    np.testing.assert_allclose(r.mean_lin, ref.mean(axis=0), rtol=1e-4)
    expected = (ref > 10 ** (thr / 10)).sum(axis=0)
    assert np.abs(r.above_counts - expected).max() <= 1  # float32 vs float64 at the threshold edge
    assert np.all(r.above_counts[:10] == r.n_frames)
    assert r.frame_times_s[0] == pytest.approx(nfft / 2 / FS)
    burst_bin = nfft // 2 + int(round(0.1 * nfft))
    assert 5 <= r.above_counts[burst_bin] <= 12  # a 1000-sample burst spans ~8 frames of 128-sample steps
    assert r.above_counts[10:burst_bin - 5].max() == 0


def test_psd_errors_are_clear():
    with pytest.raises(ValueError, match="empty sample buffer"):
        welch(np.zeros(0, np.uint8), FS, fmt="cu8")
    with pytest.raises(ValueError, match="buffer has 100 samples, fewer than one FFT frame"):
        welch(np.zeros(200, np.uint8), FS, fmt="cu8", nfft=1024)
    with pytest.raises(ValueError, match="odd"):
        welch(np.zeros(2049, np.uint8), FS, fmt="cu8")
    with pytest.raises(ValueError, match="overlap must be in"):
        welch(np.zeros(4096, np.complex64), FS, overlap=1.0)
    with pytest.raises(ValueError, match="threshold vector has shape"):
        welch(np.zeros(4096, np.complex64), FS, nfft=1024, threshold_dbfs_hz=np.zeros(5))
    with pytest.raises(ValueError, match="sample rate"):
        welch(np.zeros(4096, np.complex64), 0)


def test_psd_spectrum_record():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    x = 0.5 * np.exp(2j * np.pi * 0.25 * np.arange(48000))
    s = psd_spectrum(x, FS, 100e6, t0, nfft=1024, average="max", keep_frames=True, threshold_dbfs_hz=-100.0)
    assert s.n_bins == 1024 and s.freqs_hz[512] == 100e6 and np.all(np.diff(s.freqs_hz) > 0)
    assert s.bin_hz == FS / 1024 and s.enbw_hz == pytest.approx(1.5 * FS / 1024)
    assert s.freqs_hz[np.argmax(s.psd_dbfs_hz)] == pytest.approx(100e6 + 0.25 * FS)
    assert s.power_dbfs().max() == pytest.approx(20 * np.log10(0.5), abs=0.1)
    assert s.frames_dbfs_hz.shape == (s.n_frames, 1024) and s.frames_dbfs_hz.dtype == np.float32
    assert s.end_utc > s.start_utc and s.hop_edges_hz.shape == (1, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        psd_spectrum(x, FS, 100e6, datetime(2026, 1, 1))


def test_real_capture_lines_found():
    """Real rtl_433 capture: the LaCrosse TX7U line is at +95.7 kHz (shared data README)."""
    path = shared_file("iq/rtl433t_lacrosse-tx7u_433.92M_250k.cu8")
    raw = np.fromfile(path, dtype=np.uint8)
    r = welch(raw, 250e3, fmt="cu8", nfft=1024)
    peak_hz = r.offsets_hz[np.argmax(r.max_lin)]
    assert peak_hz == pytest.approx(95.7e3, abs=1.5e3)


_JIT_SCRIPT = r"""
import json, sys
import numpy as np
from dsp.psd import welch
from dsp.convert import convert_window_frames, to_complex64
from dsp.windows import window_coefficients
rng = np.random.default_rng(21)
raw = rng.integers(0, 256, size=2 * 6000, dtype=np.uint8)
r = welch(raw, 2.4e6, fmt="cu8", nfft=256, overlap=0.5, want_min=True, keep_frames=True, threshold_dbfs_hz=-66.0)
f = convert_window_frames(raw, "cu8", window_coefficients("hann", 256), 100)
q = welch(raw, 2.4e6, fmt="cu8", nfft=128, window="flattop", overlap=0.25)  # the fast accumulate kernel
np.savez(sys.argv[1], mean=r.mean_lin, mx=r.max_lin, mn=r.min_lin, counts=r.above_counts, frames=r.frames_lin, f=f,
         qmean=q.mean_lin, qmax=q.max_lin)
"""


def test_kernels_same_without_jit(tmp_path):
    """The numba kernels give the same results interpreted (NUMBA_DISABLE_JIT=1) as compiled."""
    out = {}
    for jit in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit)
        path = tmp_path / f"jit{jit}.npz"
        subprocess.run([sys.executable, "-c", _JIT_SCRIPT, str(path)], cwd=PROJECT_ROOT, env=env, check=True,
                       timeout=240)
        out[jit] = np.load(path)
    for key in ("mean", "mx", "mn", "frames", "f", "qmean", "qmax"):
        np.testing.assert_allclose(out["0"][key], out["1"][key], rtol=1e-5, err_msg=key)
    np.testing.assert_array_equal(out["0"]["counts"], out["1"]["counts"])
    assert json.dumps(True)


# overlap 0.3: the mean is summed while filling the frames; the others overlap-add to a constant (COLA), where the
# mean comes from the frames' DC bins
@pytest.mark.parametrize(
    "window,nfft,overlap",
    [(w, 512, 0.3) for w in WINDOWS]
    + [("hann", 512, 0.5), ("rect", 512, 0.0), ("blackmanharris", 512, 0.75), ("flattop", 500, 0.8)],
)
def test_dc_removal_after_fft_equals_removal_before(window, nfft, overlap):
    """remove_dc corrects the bins around DC after the FFT; every output equals analysing (x - mean(x))."""
    rng = np.random.default_rng(31)
    raw = rng.integers(90, 220, size=2 * 20111, dtype=np.uint8)  # offset I and Q, a tail after the last frame
    x = to_complex64(raw, "cu8").astype(np.complex128)
    kw = dict(nfft=nfft, window=window, overlap=overlap, want_min=True, keep_frames=True, threshold_dbfs_hz=-75.0)
    a = welch(raw, FS, fmt="cu8", remove_dc=True, **kw)
    b = welch((x - x.mean()).astype(np.complex64), FS, remove_dc=False, **kw)
    for name in ("mean_lin", "max_lin", "min_lin"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-3, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(a.frames_lin, b.frames_lin, rtol=1e-3, atol=1e-13)
    assert np.abs(a.above_counts - b.above_counts).max() <= 1
    assert a.mean_lin[nfft // 2] < 10 * np.median(a.mean_lin)  # the large DC offset is gone
