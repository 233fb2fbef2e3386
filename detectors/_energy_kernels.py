"""Compiled kernels of emission finding and measuring (numba, ``cache=True``): the matched-width energy test,
runs of marked bins and their valley splits (:mod:`detectors.energy`), linear block means of a spectrogram
(:mod:`detectors.bursts`) and the SM.443 figures of a region (:mod:`detectors.measure`). Callers pass clean
contiguous arrays; the public wrappers check arguments. Each kernel has a plain-Python twin via ``.py_func``
(and runs under ``NUMBA_DISABLE_JIT=1``). The noise-floor kernels are in :mod:`detectors._floor_kernels`."""

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
    prev = np.zeros(n + 1, np.int64)  # marked bins before each index, recounted only when marks were added
    new = np.zeros(n, np.bool_)
    hits = 0
    stale = True
    for level in range(widths.shape[0]):
        m = widths[level]
        if m > n:
            break
        thr = thresholds[level] * m
        if stale:
            for i in range(n):
                prev[i + 1] = prev[i] + (1 if marked[i] else 0)
            stale = False
        any_new = False
        done = 0  # bins [.., done) of this level already set in ``new``
        for i in range(n - m + 1):
            if csum[i + m] - csum[i] > thr:
                hits += 1
                if prev[i + m] - prev[i] == 0:
                    for j in range(max(i, done), i + m):
                        new[j] = True
                    done = i + m
                    any_new = True
        if any_new:
            for i in range(n):
                if new[i]:
                    marked[i] = True
                    new[i] = False
            stale = True
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
def split_valleys(level_db, starts, stops, split_db):
    """Split each run [starts[r], stops[r]) (int64) at valleys ``split_db`` below the lower of the highest
    levels on either side, recursively (a run under 5 bins stays whole; the deepest valley first, the first
    of equals); ``level_db`` (n,) float64. Returns (starts, stops) of the pieces, in order."""
    n_out = 0
    out_a = np.empty(level_db.shape[0], np.int64)
    out_b = np.empty(level_db.shape[0], np.int64)
    stack_a = np.empty(level_db.shape[0] + 1, np.int64)
    stack_b = np.empty(level_db.shape[0] + 1, np.int64)
    left = np.empty(level_db.shape[0])
    right = np.empty(level_db.shape[0])
    for r in range(starts.shape[0]):
        top = 0
        stack_a[0] = starts[r]
        stack_b[0] = stops[r]
        top = 1
        while top > 0:
            top -= 1
            a = stack_a[top]
            b = stack_b[top]
            n = b - a
            k = -1
            if n >= 5:
                left[0] = level_db[a]
                for j in range(1, n):
                    v = level_db[a + j]
                    left[j] = v if v > left[j - 1] else left[j - 1]
                right[n - 1] = level_db[b - 1]
                for j in range(n - 2, -1, -1):
                    v = level_db[a + j]
                    right[j] = v if v > right[j + 1] else right[j + 1]
                best = 0.0
                for j in range(1, n - 1):
                    d = min(left[j], right[j]) - level_db[a + j]
                    if k < 0 or d > best:
                        best = d
                        k = j
                if best < split_db:
                    k = -1
            if k < 0:
                out_a[n_out] = a
                out_b[n_out] = b
                n_out += 1
            else:  # the left part first: push the right one under it
                stack_a[top] = a + k
                stack_b[top] = b
                stack_a[top + 1] = a
                stack_b[top + 1] = a + k
                top += 2
    return out_a[:n_out], out_b[:n_out]


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
def measure_many(freqs, x, nf, starts, stops, bin_hz, beta):
    """:func:`measure_kernel` of each region ``[starts[r], stops[r])`` (R,) int64 of the same arrays. Returns
    (R, 7) float64 (f_lo, f_hi, centroid, total_power, inband_signal, inband_noise, noise_density) and the
    peak index of each region, (R,) int64, relative to its start."""
    r_n = starts.shape[0]
    out = np.empty((r_n, 7))
    k_peak = np.empty(r_n, np.int64)
    for r in range(r_n):
        a = starts[r]
        b = stops[r]
        lo, hi, c, k, tp, sig, noise, nd = measure_kernel(freqs[a:b], x[a:b], nf[a:b], bin_hz, beta)
        out[r, 0] = lo
        out[r, 1] = hi
        out[r, 2] = c
        out[r, 3] = tp
        out[r, 4] = sig
        out[r, 5] = noise
        out[r, 6] = nd
        k_peak[r] = k
    return out, k_peak
