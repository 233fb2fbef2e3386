"""Analogue voice demodulators for evidence audio: AM (A3E), narrow-band FM (F3E voice) and broadcast FM.

An inspector listens to the evidence of a case; these turn a complex IQ recording (complex64 at full scale 1.0)
into mono audio near 16 kHz:

1. :func:`mix_decimate` shifts the emission to 0 Hz (``offset_hz`` from the tuned centre) and low-pass filters
   and decimates it to a channel rate wide enough for the emission (windowed-sinc FIR, only the kept outputs
   are computed);
2. the detector: :func:`am_envelope` (|x|, the carrier removed as the mean) or :func:`fm_discriminator`
   (instantaneous frequency in Hz from the phase step between samples, a quadrature discriminator);
3. :func:`deemphasis` for FM (single-pole low pass of time constant ``tau_s``: 50 us for broadcast FM in
   Vietnam/Europe, 75 us in the Americas, ITU-R BS.450; 750 us for narrow-band voice, whose +6 dB/octave
   pre-emphasis corner sits near 200-300 Hz);
4. :func:`fir_decimate` to the audio rate (anti-alias low pass at 0.45 of the audio rate).

:func:`demodulate` chains them with a plan from :func:`decimation_plan`. The audio is returned in the
detector's units (AM: envelope in FS, FM: frequency deviation in Hz), DC removed; scaling for a WAV file is
the caller's business. Pure functions: no I/O, clock or logging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

MODES: tuple[str, ...] = ("am", "nbfm", "wbfm")
#: half-width of the channel each mode keeps around the emission (Hz): AM voice (6 kHz A3E, 8.33/25 kHz airband
#: channels), NBFM voice (11-16 kHz F3E in 12.5/25 kHz channels), broadcast FM (+/-75 kHz deviation + audio)
CHANNEL_HALF_HZ = {"am": 5_000.0, "nbfm": 8_000.0, "wbfm": 110_000.0}
#: default de-emphasis time constant per mode (s); None: none
DEEMPHASIS_S = {"am": None, "nbfm": 750e-6, "wbfm": 50e-6}
#: a Blackman-windowed sinc of N taps has a transition band about 5.5 / N of the sample rate wide
_BLACKMAN_TRANSITION = 5.5
#: the longest channel filter (taps); the narrowest AM channel at 2.4 MHz needs ~5300, 1.024 MHz ~2300
_MAX_TAPS = 8191


@dataclass(frozen=True, slots=True)
class DemodPlan:
    """How :func:`demodulate` decimates: ``rate_hz`` -> channel rate (``/ channel_decim``) -> audio rate
    (``/ audio_decim``)."""

    mode: str
    rate_hz: float
    channel_decim: int
    audio_decim: int

    @property
    def channel_rate_hz(self) -> float:
        return self.rate_hz / self.channel_decim

    @property
    def audio_rate_hz(self) -> float:
        return self.rate_hz / (self.channel_decim * self.audio_decim)


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown demodulation mode {mode!r}; expected one of {', '.join(MODES)}")


def decimation_plan(rate_hz: float, mode: str, *, audio_rate_hz: float = 16_000.0,
                    channel_half_hz: float | None = None) -> DemodPlan:
    """Split the decimation ``round(rate_hz / audio_rate_hz)`` into channel x audio stages.

    The channel stage is the largest divisor of the total whose output rate is still >= 2.5 x the channel
    half-width (complex baseband spans +/- rate/2; the margin keeps the filter's transition band off the
    emission). ``channel_half_hz`` overrides :data:`CHANNEL_HALF_HZ` (e.g. half the measured bandwidth).
    The audio rate is exactly ``rate_hz / total`` (16 kHz for 1.024, 2.048 and 2.4 MHz; 15.625 kHz for 250 kHz).
    """
    _check_mode(mode)
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"sample rate must be positive, got {rate_hz}")
    if not (math.isfinite(audio_rate_hz) and audio_rate_hz > 0):
        raise ValueError(f"audio rate must be positive, got {audio_rate_hz}")
    half = CHANNEL_HALF_HZ[mode] if channel_half_hz is None else float(channel_half_hz)
    if not half > 0:
        raise ValueError(f"channel half-width must be positive, got {channel_half_hz}")
    if rate_hz < 2.0 * half:
        raise ValueError(f"a sample rate of {rate_hz:g} Hz cannot hold a {mode} channel of +/-{half:g} Hz")
    total = max(1, int(round(rate_hz / audio_rate_hz)))
    best = 1
    for d in range(1, total + 1):
        if total % d == 0 and rate_hz / d >= 2.5 * half:
            best = d
    return DemodPlan(mode, float(rate_hz), best, total // best)


def lowpass_taps(cutoff: float, n_taps: int) -> np.ndarray:
    """Windowed-sinc (Blackman) low-pass FIR, unit DC gain, float64, shape (n_taps,).

    ``cutoff``: -6 dB point as a fraction of the sample rate, in (0, 0.5)."""
    if not 0 < cutoff < 0.5:
        raise ValueError(f"cutoff must be in (0, 0.5) of the sample rate, got {cutoff}")
    if n_taps < 1:
        raise ValueError(f"n_taps must be >= 1, got {n_taps}")
    k = np.arange(n_taps) - (n_taps - 1) / 2.0
    h = 2 * cutoff * np.sinc(2 * cutoff * k) * np.blackman(n_taps) if n_taps > 2 else np.ones(n_taps)
    return h / h.sum()


def _odd(n: float) -> int:
    k = int(math.ceil(n))
    return min(_MAX_TAPS, k + 1 - k % 2)


def _taps_for(decim: int) -> np.ndarray:
    """Anti-alias low pass for decimation by ``decim``: flat to 0.3, -6 dB at 0.4, stop from 0.5 of the output
    rate (what aliases lands in the top fifth of the output band only)."""
    if decim == 1:
        return np.ones(1)
    return lowpass_taps(0.4 / decim, _odd(_BLACKMAN_TRANSITION * decim / 0.2))


def channel_taps(rate_hz: float, half_hz: float) -> np.ndarray:
    """Channel low pass at ``rate_hz`` that keeps +/-``half_hz`` (flat to half, stop from 1.5 x half): with a
    channel rate >= 2.5 x half (see :func:`decimation_plan`) nothing aliases into the kept channel."""
    trans = 0.5 * half_hz
    return lowpass_taps(min(0.45, 1.25 * half_hz / rate_hz), _odd(_BLACKMAN_TRANSITION * rate_hz / trans))


@njit(cache=True, nogil=True)
def _mix_fir_decimate(x, cyc_per_sample, taps, decim):  # pragma: no cover - compiled (tested with JIT off too)
    n = x.shape[0]
    nt = taps.shape[0]
    if n < nt:
        return np.zeros(0, dtype=np.complex64)
    mixed = np.empty(n, dtype=np.complex128)
    for i in range(n):
        ph = -2.0 * math.pi * ((cyc_per_sample * i) % 1.0)
        mixed[i] = x[i] * complex(math.cos(ph), math.sin(ph))
    n_out = (n - nt) // decim + 1
    out = np.empty(n_out, dtype=np.complex64)
    for m in range(n_out):
        base = m * decim + nt - 1
        acc = 0.0 + 0.0j
        for k in range(nt):
            acc += taps[k] * mixed[base - k]
        out[m] = acc
    return out


@njit(cache=True, nogil=True)
def _fir_decimate_real(x, taps, decim):  # pragma: no cover - compiled
    n = x.shape[0]
    nt = taps.shape[0]
    if n < nt:
        return np.zeros(0, dtype=np.float32)
    n_out = (n - nt) // decim + 1
    out = np.empty(n_out, dtype=np.float32)
    for m in range(n_out):
        base = m * decim + nt - 1
        acc = 0.0
        for k in range(nt):
            acc += taps[k] * x[base - k]
        out[m] = acc
    return out


@njit(cache=True, nogil=True)
def _discriminator(x, scale):  # pragma: no cover - compiled
    n = x.shape[0]
    out = np.zeros(n, dtype=np.float32)
    for i in range(1, n):
        a, b = x[i], x[i - 1]
        re = a.real * b.real + a.imag * b.imag  # a * conj(b)
        im = a.imag * b.real - a.real * b.imag
        out[i] = math.atan2(im, re) * scale
    if n > 1:
        out[0] = out[1]
    return out


@njit(cache=True, nogil=True)
def _one_pole(x, alpha):  # pragma: no cover - compiled
    out = np.empty(x.shape[0], dtype=np.float32)
    y = x[0] if x.shape[0] else 0.0
    for i in range(x.shape[0]):
        y += alpha * (x[i] - y)
        out[i] = y
    return out


def _complex(iq) -> np.ndarray:
    x = np.asarray(iq)
    if x.ndim != 1:
        raise ValueError(f"IQ must be 1-D complex samples, got shape {x.shape}")
    if x.dtype.kind != "c":
        raise TypeError(f"IQ must be complex (complex64 at full scale 1.0), got {x.dtype}")
    return np.ascontiguousarray(x, dtype=np.complex64)


def _real(x) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.dtype.kind not in "fiu":
        raise TypeError(f"audio must be a 1-D real array, got {a.dtype} of shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _check_decim(decim: int) -> int:
    if int(decim) != decim or decim < 1:
        raise ValueError(f"decimation must be a positive integer, got {decim}")
    return int(decim)


def mix_decimate(iq, rate_hz: float, offset_hz: float, decim: int, taps: np.ndarray | None = None) -> np.ndarray:
    """Shift the signal at ``offset_hz`` (from the tuned centre) to 0 Hz, low-pass and keep every ``decim``-th
    sample. ``iq``: (n,) complex; returns complex64 of shape ((n - n_taps) // decim + 1,) (empty when shorter
    than the filter). ``taps``: FIR low pass (default: windowed sinc at 0.45 of the output rate)."""
    x = _complex(iq)
    decim = _check_decim(decim)
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"sample rate must be positive, got {rate_hz}")
    if not abs(offset_hz) < rate_hz / 2:
        raise ValueError(f"offset {offset_hz:g} Hz is outside the recording's +/-{rate_hz / 2:g} Hz")
    h = np.ascontiguousarray(_taps_for(decim) if taps is None else taps, dtype=np.float64)
    return _mix_fir_decimate(x, float(offset_hz) / float(rate_hz), h, decim)


def fir_decimate(x, decim: int, taps: np.ndarray | None = None) -> np.ndarray:
    """Low-pass a real signal and keep every ``decim``-th sample (float32, "valid" part of the convolution)."""
    a = _real(x)
    decim = _check_decim(decim)
    h = np.ascontiguousarray(_taps_for(decim) if taps is None else taps, dtype=np.float64)
    return _fir_decimate_real(a, h, decim)


def fm_discriminator(iq, rate_hz: float) -> np.ndarray:
    """Instantaneous frequency (Hz) of complex baseband ``iq``: angle(x[n] conj(x[n-1])) * rate / 2 pi.
    float32, same length (the first sample repeats the second)."""
    x = _complex(iq)
    if not rate_hz > 0:
        raise ValueError(f"sample rate must be positive, got {rate_hz}")
    return _discriminator(x, float(rate_hz) / (2 * math.pi))


def am_envelope(iq) -> np.ndarray:
    """Envelope |x| with its mean (the carrier) removed, float32, in FS: a carrier A(1 + m s(t)) gives A m s(t)."""
    env = np.abs(_complex(iq)).astype(np.float32)
    return env - np.float32(env.mean()) if env.size else env


def deemphasis(x, rate_hz: float, tau_s: float) -> np.ndarray:
    """Single-pole low pass y += a (x - y), a = 1 - exp(-1 / (rate tau)): the de-emphasis of FM broadcast
    (tau 50 or 75 us) and voice (~750 us). Unit gain at DC, -3 dB at 1 / (2 pi tau) Hz. float32."""
    a = _real(x)
    if not (rate_hz > 0 and tau_s > 0):
        raise ValueError(f"rate and tau must be positive, got rate {rate_hz}, tau {tau_s}")
    alpha = 1.0 - math.exp(-1.0 / (rate_hz * tau_s))
    return _one_pole(a, alpha)


def demodulate(iq, rate_hz: float, offset_hz: float, mode: str, *, audio_rate_hz: float = 16_000.0,
               tau_s: float | None = -1.0, channel_half_hz: float | None = None) -> tuple[np.ndarray, DemodPlan]:
    """Demodulate the ``mode`` emission at ``offset_hz`` from the centre of ``iq`` (complex, ``rate_hz``) to
    mono audio near ``audio_rate_hz``. Returns (audio float32 with DC removed: FS for AM, Hz of deviation for
    FM; the plan, whose ``audio_rate_hz`` is the audio's exact rate). ``tau_s``: de-emphasis time constant
    (-1: the mode's default from :data:`DEEMPHASIS_S`; None: none). Empty audio when ``iq`` is too short."""
    _check_mode(mode)
    plan = decimation_plan(rate_hz, mode, audio_rate_hz=audio_rate_hz, channel_half_hz=channel_half_hz)
    half = CHANNEL_HALF_HZ[mode] if channel_half_hz is None else channel_half_hz
    ch = mix_decimate(iq, rate_hz, offset_hz, plan.channel_decim, channel_taps(rate_hz, half))
    if mode == "am":
        audio = am_envelope(ch)
    else:
        audio = fm_discriminator(ch, plan.channel_rate_hz)
        tau = DEEMPHASIS_S[mode] if tau_s == -1.0 else tau_s
        if tau is not None and audio.size:
            audio = deemphasis(audio, plan.channel_rate_hz, tau)
    audio = fir_decimate(audio, plan.audio_decim) if plan.audio_decim > 1 else audio
    if audio.size:
        audio = audio - np.float32(audio.mean())
    return audio.astype(np.float32, copy=False), plan


__all__ = ["CHANNEL_HALF_HZ", "DEEMPHASIS_S", "DemodPlan", "MODES", "am_envelope", "channel_taps", "decimation_plan", "deemphasis",
           "demodulate", "fir_decimate", "fm_discriminator", "lowpass_taps", "mix_decimate"]
