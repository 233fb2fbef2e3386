"""Test doubles for the sweep tests and benchmarks: a receiver that synthesises tones and noise instantly."""

from __future__ import annotations

import numpy as np

from station.receivers.base import Receiver, ReceiverInfo


class InstantReceiver(Receiver):
    """A receiver that returns synthetic samples at once: complex tones at fixed RF frequencies plus white
    noise, quantised to ``fmt`` (cu8 by default, like an RTL-SDR).

    tones: list of (rf_hz, amplitude) with amplitude in full-scale units (1.0 = 0 dBFS).
    noise_rms: total complex noise RMS (E|n|^2 = noise_rms**2), full scale units.
    """

    def __init__(
        self,
        *,
        sample_rate_hz: float = 2.4e6,
        tones: list[tuple[float, float]] | None = None,
        noise_rms: float = 0.01,
        fmt: str = "cu8",
        tuning_range_hz: tuple[float, float] = (24e6, 1766e6),
        seed: int = 1,
    ):
        super().__init__("test://instant", settle_samples=0)
        self.tones = list(tones or [])
        self.noise_rms = float(noise_rms)
        self.fmt = fmt
        self._range = tuning_range_hz
        self._rng = np.random.default_rng(seed)
        self._sample_rate_hz = float(sample_rate_hz)
        self._t = 0  # sample counter (phase continuity)
        self.tuned: list[float] = []

    @property
    def info(self) -> ReceiverInfo:
        return ReceiverInfo(self.uri, "test", "instant test receiver", "test", self._range, (), self.fmt, 0.0)

    def _set_center_freq(self, freq_hz: float) -> float:
        self.tuned.append(freq_hz)
        return freq_hz

    def _set_sample_rate(self, rate_hz: float) -> float:
        return rate_hz

    def _set_gain(self, gain_db):
        return gain_db

    def complex_samples(self, n: int) -> np.ndarray:
        t = (self._t + np.arange(n)) / self._sample_rate_hz
        self._t += n
        x = np.zeros(n, dtype=np.complex128)
        for f, a in self.tones:
            off = f - self._center_freq_hz
            if abs(off) < self._sample_rate_hz / 2:
                x += a * np.exp(2j * np.pi * off * t)
        if self.noise_rms:
            s = self.noise_rms / np.sqrt(2)
            x += self._rng.normal(0, s, n) + 1j * self._rng.normal(0, s, n)
        return x

    def _read_raw(self, n_samples: int) -> np.ndarray:
        x = self.complex_samples(n_samples)
        inter = np.empty(2 * n_samples)
        inter[0::2], inter[1::2] = x.real, x.imag
        if self.fmt == "cu8":
            return np.clip(np.rint(inter * 127.5 + 127.5), 0, 255).astype(np.uint8)
        if self.fmt == "cs16":
            return np.clip(np.rint(inter * 32768), -32768, 32767).astype(np.int16)
        return inter.astype(np.float32)
