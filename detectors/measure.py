"""Emission measurement in ITU-R SM.443 terms, on the bins of one detected region.

All functions are pure: arrays in, a :class:`Measurement` out.

* occupied bandwidth, beta method (SM.443 / SM.328): the band outside which lies beta/2 = 0.5 % of the
  emission's power on each side; computed on the noise-subtracted PSD with linear interpolation inside bins
  (bin k covers [f_k - bin/2, f_k + bin/2)), so a rectangular spectrum gives exactly 0.99 of its width;
* x-dB bandwidth (x = 26 dB): outermost frequencies where the PSD is x dB below the peak, interpolated; not
  measurable (None) when the peak is less than x + 3 dB above the floor, flagged invalid below x + 10 dB;
* centre: power centroid over the 99 % band; peak: log-parabolic interpolation around the strongest bin;
* channel power (dBFS): noise-subtracted power integrated over the region; SNR: the power inside the 99 %
  band over the noise power in the same band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors._energy_kernels import measure_many

XDB_DB = 26.0
XDB_MEASURABLE_MARGIN_DB = 3.0
XDB_VALID_MARGIN_DB = 10.0


@dataclass(frozen=True, slots=True)
class Measurement:
    center_hz: float
    peak_hz: float
    f_lo_hz: float
    f_hi_hz: float
    bandwidth_hz: float
    xdb_bandwidth_hz: float | None
    xdb_valid: bool
    power_dbfs: float
    peak_dbfs: float
    snr_db: float
    noise_dbfs_hz: float


def beta_band(freqs_hz: np.ndarray, excess: np.ndarray, bin_hz: float, beta: float = 0.01) -> tuple[float, float]:
    """Lower and upper edges (Hz) of the band holding (1 - beta) of the power of ``excess`` (n,) (a linear
    noise-subtracted PSD on bin centres ``freqs_hz``), beta/2 outside on each side. Negative bins count as 0."""
    e = np.clip(np.asarray(excess, dtype=np.float64), 0.0, None)
    total = float(e.sum())
    if total <= 0.0:
        c = float(freqs_hz[len(freqs_hz) // 2])
        return c - bin_hz / 2, c + bin_hz / 2
    cum = np.concatenate(([0.0], np.cumsum(e))) / total  # at bin lower edges, len n+1
    edges = np.concatenate((freqs_hz - bin_hz / 2, [freqs_hz[-1] + bin_hz / 2]))
    lo = float(np.interp(beta / 2, cum, edges))
    # for the upper edge interpolate on the reversed cumulative so that flat zero tails do not matter
    hi = float(np.interp(beta / 2, (1.0 - cum)[::-1], edges[::-1]))
    return lo, hi


def xdb_band(freqs_hz: np.ndarray, psd_lin: np.ndarray, x_db: float = XDB_DB) -> tuple[float, float]:
    """Outermost frequencies (Hz) where ``psd_lin`` (n,) is ``x_db`` below its peak, interpolated (in dB)."""
    level = 10.0 * np.log10(np.maximum(psd_lin, 1e-30))
    ref = level.max() - x_db
    above = np.flatnonzero(level >= ref)
    i, j = int(above[0]), int(above[-1])
    lo = float(freqs_hz[i])
    if i > 0:
        f0, f1, l0, l1 = freqs_hz[i - 1], freqs_hz[i], level[i - 1], level[i]
        lo = float(f0 + (ref - l0) / (l1 - l0) * (f1 - f0)) if l1 != l0 else float(f1)
    hi = float(freqs_hz[j])
    if j < len(level) - 1:
        f0, f1, l0, l1 = freqs_hz[j], freqs_hz[j + 1], level[j], level[j + 1]
        hi = float(f0 + (l0 - ref) / (l0 - l1) * (f1 - f0)) if l1 != l0 else float(f0)
    return lo, hi


def measure_region(
    freqs_hz: np.ndarray,
    psd_lin: np.ndarray,
    floor_lin: np.ndarray,
    bin_hz: float,
    enbw_hz: float,
) -> Measurement:
    """Measure one emission from its region of bins.

    freqs_hz, psd_lin, floor_lin: (n,) bin centres (Hz), linear PSD and noise floor (FS^2/Hz) over the
    region (include a few noise bins on each side); bin_hz: bin spacing; enbw_hz: the RBW.
    """
    f = np.ascontiguousarray(freqs_hz, dtype=np.float64)
    x = np.ascontiguousarray(psd_lin, dtype=np.float64)
    nf = np.ascontiguousarray(floor_lin, dtype=np.float64)
    if not (f.shape == x.shape == nf.shape) or f.ndim != 1 or f.size == 0:
        raise ValueError(f"freqs, psd and floor must be equal non-empty 1-D arrays, got {f.shape}, {x.shape}, {nf.shape}")
    return measure_regions(f, x, nf, np.array([0]), np.array([f.size]), bin_hz, enbw_hz)[0]


def measure_regions(
    freqs_hz: np.ndarray,
    psd_lin: np.ndarray,
    floor_lin: np.ndarray,
    starts: np.ndarray,
    stops: np.ndarray,
    bin_hz: float,
    enbw_hz: float,
) -> list[Measurement]:
    """:func:`measure_region` of each region ``[starts[r], stops[r])`` (bins, padding included) of the same
    (n,) arrays, with one kernel call and one log per kind for all of them: the same figures, faster for many
    regions."""
    f = np.ascontiguousarray(freqs_hz, dtype=np.float64)
    x = np.ascontiguousarray(psd_lin, dtype=np.float64)
    nf = np.ascontiguousarray(floor_lin, dtype=np.float64)
    a = np.ascontiguousarray(starts, dtype=np.int64)
    b = np.ascontiguousarray(stops, dtype=np.int64)
    if not (f.shape == x.shape == nf.shape) or f.ndim != 1 or a.shape != b.shape:
        raise ValueError("freqs, psd and floor must be equal 1-D arrays, starts and stops of one length")
    if a.size == 0:
        return []
    if (a < 0).any() or (b > f.size).any() or (b <= a).any():
        raise ValueError("every region must be a non-empty slice of the arrays")
    figs, k_rel = measure_many(f, x, nf, a, b, float(bin_hz), 0.01)
    k = a + k_rel  # peak bin of each region
    inner = (k_rel > 0) & (k < b - 1)  # a neighbour on each side: log-parabolic peak interpolation
    ki = k[inner]
    logs = np.log(np.maximum(np.stack((x[ki - 1], x[ki], x[ki + 1]), axis=1), 1e-30)).tolist()
    enbw = float(max(enbw_hz, 1e-30))
    levels = (10.0 * np.log10(np.maximum(np.stack(
        (x[k], np.full(a.size, enbw), figs[:, 4], figs[:, 5], nf[k], figs[:, 3], figs[:, 6]), axis=1), 1e-30))).tolist()
    out: list[Measurement] = []
    j = 0
    for r, (lo, hi, center, _tp, _sig, _noise, _nd) in enumerate(figs.tolist()):
        kr = int(k[r])
        peak_hz = float(f[kr])
        if inner[r]:
            la, lb, lc = logs[j]
            j += 1
            den = la - 2 * lb + lc
            if den < 0:
                peak_hz = float(f[kr] + 0.5 * (la - lc) / den * bin_hz)
        peak_db, enbw_db, signal_db, noise_db, floor_peak_db, power_db, noise_density_db = levels[r]
        peak_over_floor_db = peak_db - floor_peak_db
        if peak_over_floor_db >= XDB_DB + XDB_MEASURABLE_MARGIN_DB:
            xlo, xhi = xdb_band(f[a[r] : b[r]], x[a[r] : b[r]])
            xdb_bw: float | None = xhi - xlo
            xdb_valid = peak_over_floor_db >= XDB_DB + XDB_VALID_MARGIN_DB
        else:
            xdb_bw, xdb_valid = None, False
        out.append(Measurement(
            center_hz=center,
            peak_hz=peak_hz,
            f_lo_hz=lo,
            f_hi_hz=hi,
            bandwidth_hz=hi - lo,
            xdb_bandwidth_hz=xdb_bw,
            xdb_valid=xdb_valid,
            power_dbfs=power_db,
            peak_dbfs=peak_db + enbw_db,
            snr_db=signal_db - noise_db,
            noise_dbfs_hz=noise_density_db,
        ))
    return out
