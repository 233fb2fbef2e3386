"""dsp.demod: AM / NBFM / WBFM demodulation of evidence IQ to audio near 16 kHz, checked against tones of known
frequency, deviation and depth, numpy references for the kernels, and the kernels without JIT."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dsp.demod import (
    channel_taps, decimation_plan, deemphasis, demodulate, fir_decimate, fm_discriminator, lowpass_taps, mix_decimate,
)
from tests.conftest import PROJECT_ROOT

FS = 1.024e6


def _noise(rng, n, rms):
    return (rng.normal(size=n) + 1j * rng.normal(size=n)) * rms / np.sqrt(2)


def _tone_level(audio, rate, f_hz):
    """Amplitude of the tone at f_hz (flat-top window: no scalloping loss) and the strongest frequency."""
    import scipy.signal

    w = scipy.signal.windows.flattop(audio.size)
    spec = np.abs(np.fft.rfft(audio * w)) * 2 / w.sum()
    f = np.fft.rfftfreq(audio.size, 1 / rate)
    k = int(np.argmin(np.abs(f - f_hz)))
    return spec[k - 2:k + 3].max(), f[int(np.argmax(spec))]


@pytest.mark.parametrize("rate,mode,expect", [
    (1.024e6, "nbfm", (32, 2, 16000.0)), (1.024e6, "am", (64, 1, 16000.0)), (1.024e6, "wbfm", (2, 32, 16000.0)),
    (2.4e6, "wbfm", (6, 25, 16000.0)), (2.4e6, "nbfm", (75, 2, 16000.0)), (250e3, "nbfm", (8, 2, 15625.0)),
])
def test_decimation_plan(rate, mode, expect):
    p = decimation_plan(rate, mode)
    assert (p.channel_decim, p.audio_decim) == expect[:2]
    assert p.audio_rate_hz == pytest.approx(expect[2])
    from dsp.demod import CHANNEL_HALF_HZ

    assert p.channel_rate_hz >= 2.5 * CHANNEL_HALF_HZ[mode]


def test_bad_arguments_say_what():
    with pytest.raises(ValueError, match="unknown demodulation mode 'usb'"):
        decimation_plan(FS, "usb")
    with pytest.raises(ValueError, match="cannot hold a wbfm channel"):
        decimation_plan(100e3, "wbfm")
    with pytest.raises(ValueError, match="outside the recording"):
        mix_decimate(np.zeros(100, np.complex64), FS, 600e3, 4)
    with pytest.raises(TypeError, match="must be complex"):
        fm_discriminator(np.zeros(10), FS)
    with pytest.raises(ValueError, match="cutoff"):
        lowpass_taps(0.7, 11)


def test_nbfm_tone_deviation_and_adjacent_channel_rejected():
    """A 1 kHz tone at 3 kHz peak deviation comes back at 1 kHz with 3 kHz amplitude (no de-emphasis), and an
    equally strong carrier 25 kHz away does not leak in."""
    rng = np.random.default_rng(3)
    n = int(FS)
    t = np.arange(n) / FS
    off = 200e3
    x = 0.3 * np.exp(1j * (2 * np.pi * off * t + 3.0 * np.sin(2 * np.pi * 1000 * t)))
    x += 0.3 * np.exp(1j * 2 * np.pi * (off + 25e3) * t) + _noise(rng, n, 0.01)
    audio, plan = demodulate(x.astype(np.complex64), FS, off, "nbfm", tau_s=None)
    assert plan.audio_rate_hz == 16000.0
    assert audio.size == pytest.approx(n / 64, rel=0.01)
    level, peak = _tone_level(audio, plan.audio_rate_hz, 1000.0)
    assert abs(peak - 1000.0) < 2.0
    assert level == pytest.approx(3000.0, rel=0.03)
    # de-emphasis (750 us) attenuates 1 kHz by 1 / sqrt(1 + (2 pi f tau)^2)
    audio_d, _ = demodulate(x.astype(np.complex64), FS, off, "nbfm")
    level_d, _ = _tone_level(audio_d, plan.audio_rate_hz, 1000.0)
    assert level_d / level == pytest.approx(1 / np.sqrt(1 + (2 * np.pi * 1000 * 750e-6) ** 2), rel=0.05)


def test_am_tone_depth():
    rng = np.random.default_rng(4)
    n = int(FS / 2)
    t = np.arange(n) / FS
    x = 0.2 * (1 + 0.5 * np.sin(2 * np.pi * 700 * t)) * np.exp(-2j * np.pi * 150e3 * t) + _noise(rng, n, 0.005)
    audio, plan = demodulate(x.astype(np.complex64), FS, -150e3, "am")
    level, peak = _tone_level(audio, plan.audio_rate_hz, 700.0)
    assert abs(peak - 700.0) < 3.0
    assert level == pytest.approx(0.2 * 0.5, rel=0.03)  # carrier amplitude x depth
    assert abs(audio.mean()) < 1e-3


def test_wbfm_deemphasis_restores_a_flat_response():
    """Tones at 1 and 5 kHz, pre-emphasised with 50 us (the 5 kHz one transmitted 1.9x stronger), come back
    at equal levels after the receiver's 50 us de-emphasis."""
    n = int(FS)
    t = np.arange(n) / FS
    tau = 50e-6
    w1, w5 = 2 * np.pi * 1000, 2 * np.pi * 5000
    # pre-emphasis H(f) = 1 + j 2 pi f tau on each tone: an amplitude and phase per tone
    tones = [(w, np.hypot(1, w * tau), np.arctan(w * tau)) for w in (w1, w5)]
    dev = 30e3
    msg = sum(g * np.sin(w * t + p) for w, g, p in tones)
    phase = 2 * np.pi * (np.cumsum(dev * msg) / FS + 100e3 * t)
    audio, plan = demodulate(np.exp(1j * phase).astype(np.complex64) * 0.3, FS, 100e3, "wbfm", tau_s=tau)
    l1, _ = _tone_level(audio, plan.audio_rate_hz, 1000.0)
    l5, _ = _tone_level(audio, plan.audio_rate_hz, 5000.0)
    assert l1 == pytest.approx(dev, rel=0.05)
    assert l5 == pytest.approx(l1, rel=0.05)


def test_kernels_match_numpy_references():
    rng = np.random.default_rng(5)
    x = (rng.normal(size=4001) + 1j * rng.normal(size=4001)).astype(np.complex64)
    taps = channel_taps(FS, 20e3)
    got = mix_decimate(x, FS, 123e3, 8, taps)
    mixed = x.astype(np.complex128) * np.exp(-2j * np.pi * 123e3 * np.arange(x.size) / FS)
    ref = np.convolve(mixed, taps, mode="valid")[::8]
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    r = rng.normal(size=3000).astype(np.float32)
    np.testing.assert_allclose(fir_decimate(r, 3), np.convolve(r, _default_taps(3), mode="valid")[::3], atol=1e-5)
    ref_fm = np.angle(x[1:] * np.conj(x[:-1])) * FS / (2 * np.pi)
    np.testing.assert_allclose(fm_discriminator(x, FS)[1:], ref_fm, rtol=1e-4, atol=1e-2)
    alpha = 1 - np.exp(-1 / (16000 * 75e-6))
    y, ref_d = r[0], []
    for v in r:
        y = y + alpha * (v - y)
        ref_d.append(y)
    np.testing.assert_allclose(deemphasis(r, 16000, 75e-6), ref_d, rtol=1e-4, atol=1e-5)


def _default_taps(decim):
    from dsp.demod import _taps_for

    return _taps_for(decim)


_JIT_SCRIPT = """
import sys, numpy as np
from dsp.demod import demodulate
rng = np.random.default_rng(9)
n = 40000
t = np.arange(n) / 256e3
x = (np.exp(1j * (2 * np.pi * 20e3 * t + 2 * np.sin(2 * np.pi * 900 * t))) + 0.05 * rng.normal(size=n)).astype(np.complex64)
out = {m: demodulate(x, 256e3, 20e3, m)[0] for m in ("am", "nbfm")}
np.savez(sys.argv[1], **out)
"""


def test_kernels_same_without_jit(tmp_path):
    out = {}
    for jit in ("0", "1"):
        path = tmp_path / f"jit{jit}.npz"
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit, PYTHONPATH=str(PROJECT_ROOT))
        subprocess.run([sys.executable, "-c", _JIT_SCRIPT, str(path)], cwd=PROJECT_ROOT, env=env, check=True,
                       timeout=240)
        out[jit] = np.load(path)
    for key in ("am", "nbfm"):
        np.testing.assert_allclose(out["0"][key], out["1"][key], rtol=1e-4, atol=1e-3, err_msg=key)


def test_short_input_gives_empty_audio():
    audio, plan = demodulate(np.zeros(50, np.complex64), FS, 0.0, "nbfm")
    assert audio.size == 0 and plan.audio_rate_hz == 16000.0
