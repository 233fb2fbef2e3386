"""Noise floor: a per-bin estimate that follows the receiver's ripple and roll-off, not pulled up by emissions.

Method (forward consecutive mean excision, FCME, with local order statistics), per group of hops:

1. first pass: a running lower quartile over n/8 bins, capped by the lowest running median of the passband
   plus ``cap_allowance_db`` (an emission wider than n/8, even than half the hop, cannot raise it), plus
   ``initial_allowance_db`` for the ripple it does not follow;
2. excision: the matched-width energy test of the detector (widths 1, 2, 4 ... up to the window) at
   ``excision_pfa`` (plus ``excision_margin_db`` after the first pass) marks occupied bins, widened by
   ``guard_bins`` (window leakage skirts);
3. floor: running median over ``window_bins`` clean bins, divided by the Gamma median/mean ratio for the
   spectrum's degrees of freedom (the *mean* noise density, unbiased even for few averaged frames: a median of
   exponentials is 1.6 dB low), interpolated in dB across occupied runs, so a 1.5 MHz OFDM block is bridged
   by the floor on its flanks instead of raising it;
4. repeat 2-3 until the clean set stops changing.

The estimate also carries its own uncertainty (``floor_rel_var``: statistical, model and the measured excess
spread of the clean bins) and a bound of the running median's curvature bias (``curvature_lin``), both used
by the detection thresholds. Measured against a global percentile (SM.1753-like) and a plain running median
in ``benchmarks/detection.txt`` (section 5) and docs/DETECTION.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import percentile_filter

from detectors import stats
from detectors._floor_kernels import curvature_bias_db, noise_floor_group, running_quantile
from dsp.spectrum import Spectrum


@dataclass(frozen=True, slots=True)
class NoiseFloorParams:
    """Parameters of :class:`NoiseFloorEstimator`.

    Parameters
    ----------
    window_bins : int
        Running-median length in clean bins (bins); 0 = auto: n_bins_per_hop / 32, at least 31.
    excision_pfa : float
        Per-bin false-alarm probability of the excision threshold, in (0, 0.5).
    guard_bins : int
        Bins added on each side of an excised run (bins, >= 0).
    iterations : int
        Excision passes at most (count, >= 1).
    min_clean_fraction : float
        Below this fraction of clean bins in a hop the excision stops and the floor comes from the lowest
        bins (fraction, 0..1).
    initial_allowance_db : float
        Ripple allowed above the first-pass floor, a running lower quartile over n/8 bins (dB).
    cap_allowance_db : float
        Allowed above the lowest running median of the hop's passband: the cap of the first pass (dB).
    excision_margin_db : float
        Added to the excision threshold after the first pass, so that ripple the running median follows
        imperfectly is not excised (dB).
    edge_fraction : float
        Outer fraction of a hop's bins on each side left out of the first pass, where the anti-alias filter
        rolls off (fraction).
    model_db : float
        How far the floor model may be off beyond its statistical error (ripple curvature), one sigma; added
        to the detection thresholds' variance (dB).
    min_group_bins : int
        Hops with fewer bins are estimated together with their neighbours (bins).
    """

    window_bins: int = 0
    excision_pfa: float = 1e-3
    guard_bins: int = 2
    iterations: int = 6
    min_clean_fraction: float = 0.1
    initial_allowance_db: float = 1.0
    cap_allowance_db: float = 3.0
    excision_margin_db: float = 1.0
    edge_fraction: float = 0.1
    model_db: float = 0.1
    min_group_bins: int = 64

    def __post_init__(self):
        if self.window_bins < 0:
            raise ValueError(f"window_bins must be >= 0, got {self.window_bins}")
        if not 0.0 < self.excision_pfa < 0.5:
            raise ValueError(f"excision_pfa must be in (0, 0.5), got {self.excision_pfa}")
        if self.guard_bins < 0 or self.iterations < 1:
            raise ValueError("guard_bins must be >= 0 and iterations >= 1")


@dataclass(frozen=True, slots=True, eq=False)
class NoiseFloor:
    """Per-bin noise estimate. floor_lin (n_bins,) mean noise density (FS^2/Hz, linear);
    clean (n_bins,) bool, bins used for the estimate (not occupied); rel_var: relative variance of one bin of
    the spectrum; floor_rel_var: relative variance of the floor estimate itself; window_bins used;
    curvature_lin: where the floor bends (roll-off knees, ripple peaks) a running median is off by about
    window^2/24 times the second difference of the floor in dB: that bound, as a factor >= 1."""

    floor_lin: np.ndarray
    clean: np.ndarray
    rel_var: float
    floor_rel_var: float
    window_bins: int
    curvature_lin: np.ndarray | None = None  # (n_bins,) >= 1: bound of the running median's curvature bias

    @property
    def test_floor_lin(self) -> np.ndarray:
        """The floor the detection tests divide by: ``floor_lin`` raised by the curvature bias bound."""
        return self.floor_lin if self.curvature_lin is None else self.floor_lin * self.curvature_lin

    @property
    def floor_dbfs_hz(self) -> np.ndarray:
        return 10.0 * np.log10(self.floor_lin)


def _frames_for_var(spectrum: Spectrum, n_frames: int | None) -> int:
    """Frames averaged, as the variance law counts them: spectra averaged by "max"/"min" are treated as single
    frames (a conservative, wider law)."""
    k = int(n_frames if n_frames is not None else spectrum.n_frames)
    if spectrum.average != "mean" or k < 1:
        k = 1
    return k


def spectrum_rel_var(spectrum: Spectrum, n_bins: int = 1, n_frames: int | None = None) -> float:
    """Relative variance of ``n_bins`` summed bins of ``spectrum`` under noise (see :mod:`detectors.stats`).

    Spectra averaged by "max"/"min" are treated as single frames (a conservative, wider law).
    """
    k = _frames_for_var(spectrum, n_frames)
    return stats.relative_variance(spectrum.window, spectrum.nfft, spectrum.overlap, k, n_bins)


def doubling_widths(top: int) -> np.ndarray:
    """Window widths 1, 2, 4, ... up to ``top`` bins, (L,) int64: the ladder of the matched-width test, the
    same for the detector and for the floor's excision."""
    w = [1]
    while w[-1] * 2 <= top:
        w.append(w[-1] * 2)
    return np.asarray(w, dtype=np.int64)


@lru_cache(maxsize=256)
def _rel_vars(window: str, nfft: int, overlap: float, n_frames: int, widths: tuple[int, ...]) -> tuple[float, ...]:
    return tuple(stats.relative_variance(window, nfft, overlap, n_frames, m) for m in widths)


def width_thresholds(spectrum: Spectrum, widths: np.ndarray, extra_rel_var: float, pfa: float,
                     n_frames: int | None = None) -> np.ndarray:
    """Window-mean thresholds (ratio to the floor), (L,) float64, for each of ``widths`` (bins) at ``pfa`` per
    test: the Gamma law of ``spectrum`` averaged over ``n_frames`` frames (default its own) and summed over
    that many bins, its relative variance widened by ``extra_rel_var`` (the floor's own uncertainty). The
    variances depend only on (window, nfft, overlap, frames, widths) and are cached per combination."""
    k = _frames_for_var(spectrum, n_frames)
    rel = _rel_vars(spectrum.window, spectrum.nfft, spectrum.overlap, k, tuple(int(m) for m in widths))
    return np.array([stats.gamma_threshold(v + extra_rel_var, pfa) for v in rel])


def hop_slices(spectrum: Spectrum) -> list[slice]:
    """Bin slices of each hop (from ``hop_edges_hz``), in frequency order, covering every bin once."""
    f = spectrum.freqs_hz
    n = f.shape[0]
    edges = np.asarray(spectrum.hop_edges_hz, dtype=float).reshape(-1, 2)
    if edges.shape[0] <= 1:
        return [slice(0, n)]
    starts = sorted(int(np.searchsorted(f, lo)) for lo, _hi in edges)
    starts = [0] + [s for s in starts if 0 < s < n]
    starts = sorted(set(starts))
    bounds = starts + [n]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def floor_groups(spectrum: Spectrum, min_bins: int) -> list[slice]:
    """Hop slices joined with their neighbours until each group holds at least ``min_bins`` bins: a sweep of
    1-16-bin hops (rtl_power with wide bins) gets its floor from many hops at once."""
    groups: list[slice] = []
    for sl in hop_slices(spectrum):
        if groups and (groups[-1].stop - groups[-1].start < min_bins or sl.stop - sl.start < min_bins // 4):
            groups[-1] = slice(groups[-1].start, sl.stop)
        else:
            groups.append(sl)
    if len(groups) > 1 and groups[-1].stop - groups[-1].start < min_bins:
        last = groups.pop()
        groups[-1] = slice(groups[-1].start, last.stop)
    return groups


def _running_floor(x: np.ndarray, clean: np.ndarray, window: int) -> np.ndarray:
    """Running median of x over clean bins only, interpolated in dB over occupied bins.

    The window holds ``window`` clean bins (truncated at the ends); clean bins separated by an occupied gap
    wider than half the window are filtered as separate segments, so the floor on one side of a wide emission
    does not take values from the far side."""
    idx = np.flatnonzero(clean)
    if idx.size == 0:
        return np.full_like(x, np.median(x))
    cuts = np.flatnonzero(np.diff(idx) > max(1, window // 2)) + 1
    bounds = np.concatenate(([0], cuts, [idx.size])).astype(np.int64)
    med = running_quantile(np.ascontiguousarray(x[idx], dtype=np.float64), bounds, window // 2, 0.5)
    if idx.size == x.size:
        return med
    return np.exp(np.interp(np.arange(x.size), idx, np.log(med)))


def _curvature(floor: np.ndarray, window: int, spectrum: Spectrum) -> np.ndarray:
    """Factor >= 1 per bin: where the floor bends down (a ripple peak, the knee of the roll-off) a running
    median over ``window`` bins reads low by about window^2/24 times the second derivative of the floor in dB.
    The curvature is taken at the window's own scale (second difference over half a window of the floor
    smoothed over a window), so the estimate's bin-to-bin jitter does not count; at most 3 dB, per hop
    (:func:`detectors._floor_kernels.curvature_bias_db`)."""
    fdb = 10.0 * np.log10(floor)
    bounds = np.array([sl.start for sl in hop_slices(spectrum)] + [floor.shape[0]], dtype=np.int64)
    bias_db = curvature_bias_db(np.ascontiguousarray(fdb, dtype=np.float64), bounds, int(window))
    return np.exp(bias_db * (np.log(10.0) / 10.0))


def _dilate(mask: np.ndarray, guard: int) -> np.ndarray:
    if guard <= 0 or not mask.any():
        return mask
    k = np.ones(2 * guard + 1)
    return np.convolve(mask.astype(float), k, mode="same") > 0.5


class NoiseFloorEstimator:
    """Per-bin noise floor of a :class:`Spectrum` (see module docstring). One method: :meth:`estimate`."""

    def __init__(self, params: NoiseFloorParams | None = None):
        self.params = params or NoiseFloorParams()

    @staticmethod
    def _residual_excess(ratio_clean: np.ndarray, rel_var: float) -> float:
        """Relative variance of the clean bins' PSD/floor ratio beyond what the Welch statistics predict
        (ripple the floor does not follow, hop-to-hop steps in a stitched sweep, non-Gaussian interference),
        from the inter-quartile range compared with the Gamma law's: 0 when the data behave as modelled."""
        if ratio_clean.size < 16:
            return 0.0
        n = ratio_clean.size
        k25, k50, k75 = n // 4, n // 2, (3 * n) // 4
        part = np.partition(ratio_clean, (k25, k50, k75))
        q25, q50, q75 = float(part[k25]), float(part[k50]), float(part[k75])
        iqr_model = stats.gamma_quantile(rel_var, 0.75) - stats.gamma_quantile(rel_var, 0.25)
        iqr = (q75 - q25) / max(q50 / stats.gamma_median(rel_var), 1e-12)
        excess = (iqr**2 - 1.1 * iqr_model**2) / 1.349**2
        return max(0.0, excess)

    def window_for(self, n_bins_hop: int) -> int:
        w = self.params.window_bins or max(31, n_bins_hop // 32)
        return int(w) | 1

    def estimate(self, spectrum: Spectrum, psd_lin: np.ndarray | None = None, n_frames: int | None = None) -> NoiseFloor:
        """Estimate the floor of ``spectrum`` (or of ``psd_lin`` (n_bins,), a linear PSD on the same bins
        averaged over ``n_frames`` frames, e.g. one block of a spectrogram)."""
        p = self.params
        x = np.asarray(10.0 ** (spectrum.psd_dbfs_hz / 10.0) if psd_lin is None else psd_lin, dtype=np.float64)
        if x.ndim != 1 or x.shape[0] != spectrum.n_bins:
            raise ValueError(f"PSD must have shape ({spectrum.n_bins},), got {x.shape}")
        x = np.maximum(x, 1e-30)
        rel_var = spectrum_rel_var(spectrum, 1, n_frames)
        bias = stats.gamma_median(rel_var)
        q25_bias = stats.gamma_quantile(rel_var, 0.25)
        model = (10 ** (p.model_db / 10) - 1) ** 2
        floor = np.empty_like(x)
        clean_all = np.ones(x.shape, dtype=bool)
        window_used = 0
        for sl in floor_groups(spectrum, p.min_group_bins):
            xs = np.ascontiguousarray(x[sl])
            n = xs.size
            window = self.window_for(n)
            window_used = max(window_used, window)
            # first pass: a running lower quartile over a wide window (n/8; robust to emissions covering up to
            # 3/4 of it), capped by the lowest running median of the passband (the hop without its outer
            # ``edge_fraction`` on each side, where the anti-alias filter rolls off) so that an emission wider
            # than the wide window cannot pull it up either; ``initial_allowance_db`` covers the ripple it
            # does not follow; then the excision passes, in one kernel with the first pass (no Python between)
            widths = doubling_widths(window)
            thr = width_thresholds(spectrum, widths, model, p.excision_pfa, n_frames)
            min_clean = max(3, int(p.min_clean_fraction * n))
            wide = max(window, (n // 8) | 1)
            q25 = percentile_filter(xs, 25, size=min(wide, n | 1), mode="mirror")
            fl, clean = noise_floor_group(
                xs, q25, window, bias, q25_bias, int(p.edge_fraction * n),
                10 ** (p.initial_allowance_db / 10), 10 ** (p.cap_allowance_db / 10), widths, thr,
                thr * 10 ** (p.excision_margin_db / 10), p.guard_bins, p.iterations, min(min_clean, n))
            floor[sl] = fl
            clean_all[sl] = clean
        win_eff = max(1, min(window_used, int(clean_all.sum())))
        floor_rel_var = (np.pi / 2.0) * spectrum_rel_var(spectrum, win_eff, n_frames) + (10 ** (p.model_db / 10) - 1) ** 2
        floor_rel_var += self._residual_excess(x[clean_all] / floor[clean_all], rel_var)
        return NoiseFloor(floor, clean_all, rel_var, floor_rel_var, window_used, _curvature(floor, window_used, spectrum))
