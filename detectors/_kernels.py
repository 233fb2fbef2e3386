"""Compiled kernels of the detectors (numba, ``cache=True``). Callers pass clean contiguous arrays; the
public wrappers in :mod:`detectors.energy` check arguments. Each kernel has a plain-Python twin via
``.py_func`` (and runs under ``NUMBA_DISABLE_JIT=1``)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def mark_multiresolution(ratio, widths, thresholds, marked):
    """Hierarchical matched-width energy test.

    ratio (n,) float64: PSD over noise floor per bin; widths (L,) int64 ascending window lengths (bins);
    thresholds (L,) float64: window-mean threshold for each width; marked (n,) bool, in/out.
    For each width in turn, every window [i, i+M) whose mean ratio exceeds the threshold and that does not
    overlap a bin marked at a *finer* width marks its bins. Returns the number of exceeding windows (int).
    """
    n = ratio.shape[0]
    csum = np.zeros(n + 1)
    for i in range(n):
        csum[i + 1] = csum[i] + ratio[i]
    prev = np.zeros(n + 1, np.int64)
    hits = 0
    for level in range(widths.shape[0]):
        m = widths[level]
        if m > n:
            break
        thr = thresholds[level] * m
        prev[0] = 0
        for i in range(n):
            prev[i + 1] = prev[i] + (1 if marked[i] else 0)
        new = np.zeros(n, np.bool_)
        for i in range(n - m + 1):
            if csum[i + m] - csum[i] > thr:
                hits += 1
                if prev[i + m] - prev[i] == 0:
                    for j in range(i, i + m):
                        new[j] = True
        for i in range(n):
            if new[i]:
                marked[i] = True
    return hits


@njit(cache=True)
def runs_of(mask, bridge):
    """Runs of True in ``mask`` (n,) bool, joining runs separated by at most ``bridge`` False bins.
    Returns (starts, stops) int64 arrays, stop exclusive."""
    n = mask.shape[0]
    starts = np.empty(n, np.int64)
    stops = np.empty(n, np.int64)
    k = 0
    i = 0
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            if k > 0 and i - stops[k - 1] <= bridge:
                stops[k - 1] = j
            else:
                starts[k] = i
                stops[k] = j
                k += 1
            i = j
        else:
            i += 1
    return starts[:k], stops[:k]


@njit(cache=True)
def block_means_lin(frames_db, frames_per_block, n_blocks):
    """Linear block means of a dB spectrogram: frames_db (n_frames, n_bins) float32 dB; returns
    (n_blocks, n_bins) float64, block b = mean over frames [b*fpb, (b+1)*fpb) of 10**(dB/10)."""
    n_bins = frames_db.shape[1]
    out = np.zeros((n_blocks, n_bins))
    c = np.log(10.0) / 10.0
    for b in range(n_blocks):
        for f in range(b * frames_per_block, (b + 1) * frames_per_block):
            for k in range(n_bins):
                out[b, k] += np.exp(c * frames_db[f, k])
        for k in range(n_bins):
            out[b, k] /= frames_per_block
    return out


@njit(cache=True)
def measure_kernel(freqs, x, nf, bin_hz, beta):
    """One region's SM.443 figures. freqs, x, nf (n,) float64: bin centres (Hz), linear PSD, noise floor.

    Returns (f_lo, f_hi, centroid, k_peak, total_power, inband_signal, inband_noise, noise_density):
    band edges (Hz) holding 1 - beta of the clipped excess power with beta/2 outside each side (linear
    interpolation inside bins, bin k covering [f_k - bin/2, f_k + bin/2)); the excess-weighted centroid over
    that band; index of the strongest bin; powers in FS^2 (sum * bin_hz); mean floor density in the band.
    """
    n = x.shape[0]
    total = 0.0
    for k in range(n):
        e = x[k] - nf[k]
        if e > 0:
            total += e
    k_peak = 0
    for k in range(1, n):
        if x[k] > x[k_peak]:
            k_peak = k
    if total <= 0.0:
        c = freqs[n // 2]
        return c - bin_hz / 2, c + bin_hz / 2, c, k_peak, 0.0, 0.0, nf[n // 2] * bin_hz, nf[n // 2]
    target = beta / 2 * total
    # lower edge
    acc = 0.0
    lo = freqs[0] - bin_hz / 2
    for k in range(n):
        e = max(x[k] - nf[k], 0.0)
        if acc + e >= target:
            lo = freqs[k] - bin_hz / 2 + (target - acc) / e * bin_hz if e > 0 else freqs[k] - bin_hz / 2
            break
        acc += e
    acc = 0.0
    hi = freqs[n - 1] + bin_hz / 2
    for k in range(n - 1, -1, -1):
        e = max(x[k] - nf[k], 0.0)
        if acc + e >= target:
            hi = freqs[k] + bin_hz / 2 - (target - acc) / e * bin_hz if e > 0 else freqs[k] + bin_hz / 2
            break
        acc += e
    wsum = 0.0
    wf = 0.0
    sig = 0.0
    noise = 0.0
    nsum = 0.0
    ncount = 0.0
    for k in range(n):
        left = freqs[k] - bin_hz / 2
        ov = (min(left + bin_hz, hi) - max(left, lo)) / bin_hz
        if ov <= 0:
            continue
        e = x[k] - nf[k]
        w = max(e, 0.0) * ov
        wsum += w
        wf += w * freqs[k]
        sig += e * ov
        noise += nf[k] * ov
        nsum += nf[k]
        ncount += 1.0
    centroid = wf / wsum if wsum > 0 else 0.5 * (lo + hi)
    nd = nsum / ncount if ncount > 0 else nf[n // 2]
    return lo, hi, centroid, k_peak, total * bin_hz, sig * bin_hz, noise * bin_hz, nd


@njit(cache=True)
def _bisect(buf, m, v):
    lo = 0
    hi = m
    while lo < hi:
        mid = (lo + hi) >> 1
        if buf[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def running_quantile(vals, seg_bounds, half, q):
    """Running quantile ``q`` (0..1, the nearest order statistic) of ``vals`` (n,) float64 over windows
    [i - half, i + half] truncated at the bounds of the segment holding i; ``seg_bounds`` (k+1,) int64 are
    segment starts then the end (n). A sorted window buffer slides along each segment: O(n * half)."""
    n = vals.shape[0]
    out = np.empty(n)
    buf = np.empty(2 * half + 2)
    for s in range(seg_bounds.shape[0] - 1):
        a = seg_bounds[s]
        b = seg_bounds[s + 1]
        m = 0
        hi = a  # next index to add
        lo = a  # next index to remove
        for i in range(a, b):
            while hi < b and hi <= i + half:
                v = vals[hi]
                j = _bisect(buf, m, v)
                t = m
                while t > j:
                    buf[t] = buf[t - 1]
                    t -= 1
                buf[j] = v
                m += 1
                hi += 1
            while lo < i - half:
                j = _bisect(buf, m, vals[lo])
                for t in range(j, m - 1):
                    buf[t] = buf[t + 1]
                m -= 1
                lo += 1
            out[i] = buf[int(q * (m - 1) + 0.5)]
    return out


@njit(cache=True)
def floor_over_clean(x, clean, window, bias):
    """Running median of ``x`` (n,) over its clean bins (``clean`` (n,) bool), ``window`` clean bins long, clean
    runs separated by more than half a window filtered separately, divided by ``bias`` and interpolated
    linearly in log across occupied bins (constant beyond the first/last clean bin)."""
    n = x.shape[0]
    idx = np.flatnonzero(clean)
    m = idx.shape[0]
    out = np.empty(n)
    if m == 0:
        med = np.median(x)
        for i in range(n):
            out[i] = med / bias
        return out
    half_gap = max(1, window // 2)
    n_cuts = 0
    for k in range(1, m):
        if idx[k] - idx[k - 1] > half_gap:
            n_cuts += 1
    bounds = np.empty(n_cuts + 2, np.int64)
    bounds[0] = 0
    c = 1
    for k in range(1, m):
        if idx[k] - idx[k - 1] > half_gap:
            bounds[c] = k
            c += 1
    bounds[c] = m
    vals = np.empty(m)
    for k in range(m):
        vals[k] = x[idx[k]]
    med = running_quantile(vals, bounds, window // 2, 0.5)
    if m == n:
        for i in range(n):
            out[i] = med[i] / bias
        return out
    logm = np.log(med)
    k = 0
    for i in range(n):
        if i <= idx[0]:
            out[i] = med[0] / bias
        elif i >= idx[m - 1]:
            out[i] = med[m - 1] / bias
        else:
            while idx[k + 1] < i:
                k += 1
            if idx[k + 1] == i:
                out[i] = med[k + 1] / bias
            else:
                f = (i - idx[k]) / (idx[k + 1] - idx[k])
                out[i] = np.exp(logm[k] + f * (logm[k + 1] - logm[k])) / bias
    return out


@njit(cache=True)
def fcme_loop(x, fl, widths, thr_first, thr_rest, guard, window, bias, iterations, min_clean):
    """The excision iterations of the noise floor (see :mod:`detectors.noise`): mark occupied bins with the
    matched-width test of ``x / fl`` (thresholds ``thr_first`` on the first pass, ``thr_rest`` after), widen
    by ``guard``, re-estimate the floor over the clean bins; stop when the clean set repeats. Keeps at least
    ``min_clean`` of the lowest bins clean. Returns (floor (n,), clean (n,) bool)."""
    n = x.shape[0]
    clean = np.ones(n, np.bool_)
    for it in range(iterations):
        marks = np.zeros(n, np.bool_)
        ratio = x / fl
        mark_multiresolution(ratio, widths, thr_first if it == 0 else thr_rest, marks)
        new_clean = np.ones(n, np.bool_)
        count = 0
        for i in range(n):
            lo = max(0, i - guard)
            hi = min(n, i + guard + 1)
            for j in range(lo, hi):
                if marks[j]:
                    new_clean[i] = False
                    break
            if new_clean[i]:
                count += 1
        if count < min_clean:
            order = np.argsort(x)
            new_clean[:] = False
            for k in range(min_clean):
                new_clean[order[k]] = True
        if it > 0:
            same = True
            for i in range(n):
                if new_clean[i] != clean[i]:
                    same = False
                    break
            if same:
                break
        clean = new_clean
        fl = floor_over_clean(x, clean, window, bias)
    return fl, clean
