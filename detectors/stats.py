"""Statistics of averaged (Welch) periodograms: equivalent degrees of freedom and Pfa thresholds.

Noise model. With a stationary noise of true density ``N(f)``, one windowed periodogram bin is
``N * chi2_2 / 2`` (exponential). A Welch average of ``K`` frames (window ``w``, hop ``D``) summed over
``M`` adjacent bins is a quadratic form in Gaussian samples; we match its first two moments with a Gamma
law (Welch 1967; Satterthwaite), mean ``N`` and relative variance

    var = 1/(K^2 M^2) * sum_{a,b<K} sum_{i,j<M} rho^2(|a-b| D, i-j)
    rho(tau, m) = |sum_n w[n] w[n+tau] exp(-2j pi m n / nfft)| / sum_n w[n]^2

i.e. ``nu = 2 / var`` equivalent degrees of freedom (chi-square), ``shape = nu / 2``. Window overlap
(correlation across frames) and window leakage (correlation across adjacent bins) both lower ``nu``
below ``2 K M``. Everything here is pure and cached; no I/O.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from dsp.windows import window_coefficients


@lru_cache(maxsize=64)
def _rho2_table(window: str, nfft: int, overlap: float, max_bins: int) -> tuple[np.ndarray, int]:
    """rho^2(l*D, m) for frame lags l = 0..L-1 and bin offsets m = 0..max_bins-1, shape (L, max_bins); and D."""
    w = window_coefficients(window, nfft)
    hop = max(1, int(round(nfft * (1.0 - overlap))))
    n_lags = max(1, int(np.ceil(nfft / hop)))
    s2 = float(np.dot(w, w))
    table = np.zeros((n_lags, max_bins))
    for lag in range(n_lags):
        tau = lag * hop
        if tau >= nfft:
            break
        prod = np.zeros(nfft)
        prod[: nfft - tau] = w[: nfft - tau] * w[tau:]
        spec = np.fft.fft(prod)
        m = min(max_bins, nfft)
        table[lag, :m] = (np.abs(spec[:m]) / s2) ** 2
    return table, hop


@lru_cache(maxsize=4096)
def relative_variance(window: str, nfft: int, overlap: float, n_frames: int, n_bins: int = 1) -> float:
    """Relative variance of a Welch PSD averaged over ``n_frames`` frames and ``n_bins`` adjacent bins.

    ``window`` is a :data:`dsp.windows.WINDOWS` name, ``overlap`` the fraction 0 <= overlap < 1. White noise
    is assumed. Returns var(estimate)/mean(estimate)^2 (dimensionless).
    """
    if n_frames < 1 or n_bins < 1:
        raise ValueError(f"n_frames and n_bins must be >= 1, got {n_frames}, {n_bins}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    m_bins = int(min(n_bins, nfft))
    table, _hop = _rho2_table(window, int(nfft), float(overlap), m_bins)
    k = int(n_frames)
    lags = np.arange(table.shape[0])
    g = np.where(lags == 0, k, 2.0 * np.maximum(k - lags, 0))
    offs = np.arange(m_bins)
    h = np.where(offs == 0, m_bins, 2.0 * (m_bins - offs))
    total = float(g @ table[:, :m_bins] @ h)
    return total / (float(k) * k * m_bins * m_bins)


def equivalent_dof(window: str, nfft: int, overlap: float, n_frames: int, n_bins: int = 1) -> float:
    """Equivalent chi-square degrees of freedom ``nu = 2 / relative_variance`` (see module docstring)."""
    return 2.0 / relative_variance(window, nfft, overlap, n_frames, n_bins)


@lru_cache(maxsize=4096)
def gamma_threshold(rel_var: float, pfa: float) -> float:
    """Threshold ``t`` (ratio to the mean) with ``P(X > t) = pfa`` for ``X ~ Gamma(mean 1, variance rel_var)``."""
    if not 0.0 < pfa < 1.0:
        raise ValueError(f"pfa must be in (0, 1), got {pfa}")
    if rel_var <= 0.0:
        raise ValueError(f"relative variance must be > 0, got {rel_var}")
    shape = 1.0 / rel_var
    return float(special.gammainccinv(shape, pfa) / shape)


@lru_cache(maxsize=1024)
def gamma_median(rel_var: float) -> float:
    """Median over mean of a Gamma law with relative variance ``rel_var`` (the bias of a median floor)."""
    shape = 1.0 / rel_var
    return float(special.gammaincinv(shape, 0.5) / shape)


@lru_cache(maxsize=1024)
def gamma_quantile(rel_var: float, q: float) -> float:
    """Quantile ``q`` over mean of a Gamma law with relative variance ``rel_var``."""
    shape = 1.0 / rel_var
    return float(special.gammaincinv(shape, q) / shape)


def ideal_detection_probability(snr_db: np.ndarray | float, bandwidth_hz: float, duration_s: float, pfa: float):
    """Pd of the ideal energy detector: known band ``bandwidth_hz``, known noise, complex baseband, ``duration_s``.

    The band energy of complex white noise over time T and band B is a sum of ``B*T`` independent complex
    samples: chi-square with ``2BT`` degrees of freedom. With a Gaussian-like signal of in-band SNR ``s``
    (linear) the energy scales by ``1 + s``; the threshold is set from ``pfa``. Returns Pd, same shape.
    """
    n = max(1.0, float(bandwidth_hz) * float(duration_s))
    thr = special.gammainccinv(n, pfa)  # noise energy ~ Gamma(n, 1)
    s = 10.0 ** (np.asarray(snr_db, dtype=float) / 10.0)
    return special.gammaincc(n, thr / (1.0 + s))


def ideal_snr_at_pd(pd: float, bandwidth_hz: float, duration_s: float, pfa: float) -> float:
    """In-band SNR (dB) at which the ideal energy detector reaches ``pd`` (see ideal_detection_probability)."""
    n = max(1.0, float(bandwidth_hz) * float(duration_s))
    thr = special.gammainccinv(n, pfa)
    x = special.gammainccinv(n, pd)  # energy level exceeded with probability pd
    return float(10.0 * np.log10(thr / x - 1.0))
