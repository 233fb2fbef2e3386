"""Spectra for the detector tests: analytic ones (exact shapes) and small seeded Welch ones."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from dsp.psd import psd_spectrum
from dsp.spectrum import Spectrum

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def analytic_spectrum(psd_lin: np.ndarray, *, fs: float = 1.024e6, center: float = 100e6, n_frames: int = 2000,
                      window: str = "hann", overlap: float = 0.5, frames_lin: np.ndarray | None = None,
                      frame_dt: float | None = None) -> Spectrum:
    """A Spectrum whose averaged PSD is exactly ``psd_lin`` (n,) (linear FS^2/Hz)."""
    n = psd_lin.shape[0]
    bin_hz = fs / n
    freqs = center + (np.arange(n) - n // 2) * bin_hz
    frames_db = None
    times = None
    if frames_lin is not None:
        frames_db = (10 * np.log10(frames_lin)).astype(np.float32)
        dt = frame_dt or n * (1 - overlap) / fs
        times = (np.arange(frames_lin.shape[0]) + 0.5) * dt
    return Spectrum(
        freqs_hz=freqs, psd_dbfs_hz=10 * np.log10(psd_lin), bin_hz=bin_hz, enbw_hz=1.5 * bin_hz, nfft=n,
        window=window, overlap=overlap, average="mean", n_frames=n_frames, sample_rate_hz=fs, start_utc=T0,
        end_utc=T0.replace(second=1), hop_centers_hz=np.array([center]),
        hop_edges_hz=np.array([[freqs[0] - bin_hz / 2, freqs[-1] + bin_hz / 2]]), dwell_s=1.0,
        frames_dbfs_hz=frames_db, frame_times_s=times,
    )


def noise_iq(seed: int, n: int, power: float = 1e-3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) * np.sqrt(power / 2)).astype(np.complex64)


def iq_spectrum(x: np.ndarray, *, fs: float = 250e3, center: float = 433.92e6, nfft: int = 1024,
                frames: bool = False, overlap: float = 0.5) -> Spectrum:
    return psd_spectrum(x, fs, center, T0, nfft=nfft, overlap=overlap, keep_frames=frames, remove_dc=False)


def noise_spectrum(seed: int = 0, nfft: int = 1024, seconds: float = 0.5, fs: float = 250e3, frames: bool = False):
    return iq_spectrum(noise_iq(seed, int(fs * seconds)), fs=fs, nfft=nfft, frames=frames)


def tone(n: int, fs: float, offset_hz: float, power: float) -> np.ndarray:
    t = np.arange(n) / fs
    return (np.sqrt(power) * np.exp(2j * np.pi * offset_hz * t)).astype(np.complex64)


def band_noise(seed: int, n: int, fs: float, offset_hz: float, width_hz: float, power: float) -> np.ndarray:
    """Flat band-limited complex noise of ``width_hz`` centred at ``offset_hz`` with total ``power``."""
    rng = np.random.default_rng(seed)
    spec = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    f = np.fft.fftfreq(n, 1 / fs)
    spec[np.abs(f - offset_hz) > width_hz / 2] = 0
    x = np.fft.ifft(spec)
    return (x * np.sqrt(power / np.mean(np.abs(x) ** 2))).astype(np.complex64)
