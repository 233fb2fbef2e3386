"""Seeded test scenes for the detector benchmark and tests: known emitters plus RTL-SDR impairments.

Every generator returns complex64 baseband at ``fs`` (samples/s) with unit mean power, so a scene sets each
emitter's power exactly. Noise is complex white Gaussian; ``inband_snr_db`` is the emitter's power over the
noise power in the emitter's 99 % bandwidth (the benchmark's definition). Pure functions of their seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)


def _lowpass_noise(rng, n: int, fs: float, cutoff_hz: float) -> np.ndarray:
    sos = signal.butter(6, cutoff_hz, fs=fs, output="sos")
    a = signal.sosfilt(sos, rng.standard_normal(n))
    return a / np.std(a)


def cw(rng, n: int, fs: float) -> np.ndarray:
    return np.exp(1j * (2 * np.pi * rng.random())).astype(np.complex64) * np.ones(n, np.complex64)


def fm(rng, n: int, fs: float, deviation_hz: float, audio_hz: float) -> np.ndarray:
    """FM by band-limited Gaussian audio (rms deviation ``deviation_hz``/2: peaks near ``deviation_hz``)."""
    audio = _lowpass_noise(rng, n, fs, audio_hz) * (deviation_hz / 2.0)
    phase = 2 * np.pi * np.cumsum(audio) / fs
    return _unit(np.exp(1j * phase))


def nbfm(rng, n: int, fs: float) -> np.ndarray:
    """NBFM voice, ~11 kHz occupied (3 kHz audio, ~1.9 kHz rms deviation)."""
    return fm(rng, n, fs, 3800.0, 3000.0)


def wbfm(rng, n: int, fs: float) -> np.ndarray:
    """Broadcast FM, ~180-200 kHz occupied (75 kHz deviation, 15 kHz audio)."""
    return fm(rng, n, fs, 75000.0, 15000.0)


def fsk4(rng, n: int, fs: float, baud: float = 4800.0, dev_scale: float = 1.6, shaping: float = 0.45) -> np.ndarray:
    """DMR-like 4FSK: 4800 baud, 4 deviations (+-648/+-1944 Hz x dev_scale), Gaussian shaping; 99 % BW 7.6 kHz."""
    sps = fs / baud
    n_sym = int(np.ceil(n / sps)) + 8
    sym = rng.choice(np.array([-1944.0, -648.0, 648.0, 1944.0]) * dev_scale, n_sym)
    idx = np.minimum((np.arange(n) / sps).astype(np.int64), n_sym - 1)
    freq = sym[idx]
    taps = signal.windows.gaussian(int(sps * 4) | 1, std=sps * shaping)
    freq = signal.oaconvolve(freq, taps / taps.sum(), mode="same")
    return _unit(np.exp(1j * 2 * np.pi * np.cumsum(freq) / fs))


def ofdm(rng, n: int, fs: float, bandwidth_hz: float = 1.536e6) -> np.ndarray:
    """OFDM-like: flat band-limited complex noise of width ``bandwidth_hz`` (many random subcarriers)."""
    spec = (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    f = np.fft.fftfreq(n, 1 / fs)
    spec[np.abs(f) > bandwidth_hz / 2] = 0
    return _unit(np.fft.ifft(spec))


def ook_burst(rng, n: int, fs: float, start_s: float, length_s: float, rate_hz: float = 2000.0) -> np.ndarray:
    """A key-fob OOK burst: carrier keyed at ``rate_hz`` between ``start_s`` and ``start_s + length_s``.
    Unit power while on (the mean over the whole buffer is the duty cycle)."""
    t = np.arange(n) / fs
    keyed = np.floor(t * rate_hz * 2) % 2 == 0
    on = (t >= start_s) & (t < start_s + length_s) & keyed
    x = on.astype(np.complex64) * np.sqrt(2.0)
    return x.astype(np.complex64)


MODULATIONS = {"cw": cw, "nbfm": nbfm, "4fsk": fsk4, "wbfm": wbfm, "ofdm": ofdm}


@dataclass(frozen=True, slots=True)
class Emitter:
    """A known emitter: modulation name, offset from the tuned centre (Hz), power (dBFS)."""

    kind: str
    offset_hz: float
    power_dbfs: float
    seed: int = 0
    burst: tuple[float, float] | None = None  # (start_s, length_s) for keyed bursts


@dataclass(frozen=True, slots=True)
class Impairments:
    """RTL-SDR impairments: DC offset (dBFS of the complex constant), IQ image rejection (dB, None = ideal),
    8-bit cu8 quantisation (b = round(127.5 x + 127.5), clipped) when ``quantise``."""

    dc_dbfs: float | None = None
    image_rejection_db: float | None = None
    quantise: bool = False
    rolloff: bool = False  # R820T-like response: +-1 dB passband ripple, edges rolled off by ~12 dB


@dataclass(frozen=True, slots=True)
class Scene:
    fs: float
    duration_s: float
    noise_dbfs: float  # total complex noise power over fs (dBFS)
    emitters: tuple[Emitter, ...] = ()
    impairments: Impairments = field(default_factory=Impairments)
    seed: int = 0

    @property
    def n(self) -> int:
        return int(round(self.fs * self.duration_s))

    def noise_density(self) -> float:
        """Noise density (FS^2/Hz, linear)."""
        return 10 ** (self.noise_dbfs / 10) / self.fs


def emitter_signal(e: Emitter, n: int, fs: float) -> np.ndarray:
    """The emitter alone at its offset and power, complex64 (n,)."""
    rng = np.random.default_rng(e.seed)
    if e.burst is not None:
        x = ook_burst(rng, n, fs, *e.burst)
    else:
        x = MODULATIONS[e.kind](rng, n, fs)
    t = np.arange(n) / fs
    return (x * np.exp(2j * np.pi * e.offset_hz * t) * 10 ** (e.power_dbfs / 20)).astype(np.complex64)


def occupied_bandwidth_hz(kind: str, fs: float, n: int = 1 << 20, seed: int = 99) -> float:
    """True 99 % bandwidth of a modulation, from a long noiseless high-resolution Welch PSD."""
    x = MODULATIONS[kind](np.random.default_rng(seed), n, fs)
    if kind == "cw":
        return 0.0
    f, p = signal.welch(x, fs, nperseg=1 << 16, return_onesided=False, window="hann")
    order = np.argsort(f)
    f, p = f[order], p[order]
    c = np.cumsum(p) / p.sum()
    return float(np.interp(0.995, c, f) - np.interp(0.005, c, f))


def receiver_response(f_norm: np.ndarray) -> np.ndarray:
    """Power response (linear) at normalised frequency f/fs in [-0.5, 0.5): 1 dB ripple over the passband,
    a raised-cosine roll-off of 12 dB over the outer 8 % on each side."""
    a = np.abs(f_norm)
    ripple_db = 1.0 * np.sin(2 * np.pi * f_norm * 7.3 + 0.4)
    roll = np.clip((a - 0.42) / 0.08, 0.0, 1.0)
    roll_db = -12.0 * (0.5 - 0.5 * np.cos(np.pi * roll))
    return 10 ** ((ripple_db + roll_db) / 10)


def render(scene: Scene) -> np.ndarray:
    """The scene's complex baseband, complex64 (n,), or raw cu8 bytes (2n,) uint8 when quantised."""
    n, fs = scene.n, scene.fs
    rng = np.random.default_rng(scene.seed)
    sigma = np.sqrt(10 ** (scene.noise_dbfs / 10) / 2)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) * sigma
    for e in scene.emitters:
        x = x + emitter_signal(e, n, fs)
    imp = scene.impairments
    if imp.rolloff:
        x = np.fft.ifft(np.fft.fft(x) * np.sqrt(receiver_response(np.fft.fftfreq(n, 1 / fs) / fs)))
    if imp.image_rejection_db is not None:
        g = 10 ** (-imp.image_rejection_db / 20)
        x = x + g * np.conj(x)
    if imp.dc_dbfs is not None:
        # LO leakage / DC offset: a constant plus a slow wander (1/f-like), so the spike has some width
        amp = 10 ** (imp.dc_dbfs / 20)
        walk = _lowpass_noise(rng, n, fs, 200.0) + 1j * _lowpass_noise(rng, n, fs, 200.0)
        x = x + amp * (np.exp(0.7j) + 0.3 * walk)
    x = x.astype(np.complex64)
    if imp.quantise:
        raw = np.empty(2 * n, dtype=np.float64)
        raw[0::2] = x.real * 127.5 + 127.5
        raw[1::2] = x.imag * 127.5 + 127.5
        return np.clip(np.round(raw), 0, 255).astype(np.uint8)
    return x
