"""Spectral windows with the figures needed to calibrate levels.

All windows are *periodic* (DFT-even), identical to ``scipy.signal.get_window(name, n)``: that is what a
Welch PSD uses. Two figures turn an FFT power into calibrated levels:

* coherent gain ``cg = sum(w) / n`` (dimensionless): a tone of amplitude A exactly on a bin gives
  ``|X_k| = A * n * cg``;
* equivalent noise bandwidth ``enbw_bins = n * sum(w**2) / sum(w)**2`` (bins); times ``sample_rate / n`` it is
  the ENBW in Hz, the resolution bandwidth (RBW) of the spectrum.

With PSD density scaling (``|X_k|**2 / (fs * sum(w**2))``, dBFS/Hz), white noise of power ``P`` (FS^2) reads
``P / fs`` in every bin whatever the window, and a tone on a bin peaks at ``A**2 / enbw_hz``: its level in dBFS
is ``peak_dbfs_hz + 10*log10(enbw_hz)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: cosine-sum coefficients a_k of w[j] = sum_k (-1)**k a_k cos(2 pi k j / n) (scipy's values)
_COSINE_SUMS: dict[str, tuple[float, ...]] = {
    "rect": (1.0,),
    "hann": (0.5, 0.5),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}

#: window names accepted everywhere (config, CLI, Spectrum.window)
WINDOWS: tuple[str, ...] = tuple(_COSINE_SUMS)


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """A window of length ``n`` and its calibration figures.

    coefficients: (n,) float64 periodic window
    coherent_gain: sum(w)/n (dimensionless; 1.0 for rect)
    enbw_bins: n*sum(w^2)/sum(w)^2 (bins; 1.0 rect, 1.5 hann, ~2.004 blackmanharris, ~3.77 flattop)
    sum_w2: sum(w^2), the density normaliser
    """

    name: str
    n: int
    coefficients: np.ndarray
    coherent_gain: float
    enbw_bins: float
    sum_w2: float

    def enbw_hz(self, sample_rate_hz: float) -> float:
        """Equivalent noise bandwidth (Hz) at ``sample_rate_hz`` (samples/s)."""
        return self.enbw_bins * float(sample_rate_hz) / self.n


def window_coefficients(name: str, n: int) -> np.ndarray:
    """Periodic window ``name`` of length ``n`` as float64, shape (n,). ValueError for unknown names or n < 1."""
    if name not in _COSINE_SUMS:
        raise ValueError(f"unknown window {name!r}; known: {', '.join(WINDOWS)}")
    n = int(n)
    if n < 1:
        raise ValueError(f"window length must be >= 1, got {n}")
    j = np.arange(n, dtype=np.float64)
    w = np.zeros(n, dtype=np.float64)
    for k, a in enumerate(_COSINE_SUMS[name]):
        w += (-1) ** k * a * np.cos(2.0 * np.pi * k * j / n)
    return w


def window_info(name: str, n: int) -> WindowInfo:
    """The window ``name`` of length ``n`` with its coherent gain and ENBW (see module docstring)."""
    w = window_coefficients(name, n)
    s1 = float(w.sum())
    s2 = float(np.dot(w, w))
    return WindowInfo(
        name=name, n=int(n), coefficients=w, coherent_gain=s1 / n, enbw_bins=n * s2 / (s1 * s1), sum_w2=s2
    )


def enbw_bins(name: str, n: int = 4096) -> float:
    """ENBW of window ``name`` in bins (at length ``n``; the value barely depends on n for n >= 64)."""
    return window_info(name, n).enbw_bins
