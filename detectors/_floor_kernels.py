"""Compiled kernels of the noise floor (numba, ``cache=True``): running quantiles over sorted sliding windows,
the floor interpolated over clean bins, the FCME iteration and the one-call floor of a hop group, and the
running-median curvature bias (:mod:`detectors.noise`). Callers pass clean contiguous arrays; the public
wrappers check arguments. Each kernel has a plain-Python twin via ``.py_func`` (and runs under
``NUMBA_DISABLE_JIT=1``). The FCME iteration marks emissions with
:func:`detectors._energy_kernels.mark_multiresolution`."""

from __future__ import annotations

import numpy as np
from numba import njit

from detectors._energy_kernels import mark_multiresolution


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
def _insert_sorted(buf, m, v):
    """Insert ``v`` into the ascending ``buf[:m]`` (the caller then counts m + 1)."""
    j = _bisect(buf, m, v)
    t = m
    while t > j:
        buf[t] = buf[t - 1]
        t -= 1
    buf[j] = v


@njit(cache=True)
def _replace_sorted(buf, m, old, v):
    """Replace one ``old`` by ``v`` in the sorted ``buf[:m]``, shifting only the values between them. Both
    positions are lower bounds: binary search in a short buffer, branch-free counts in a long one."""
    if m <= 48:
        j_old = _bisect(buf, m, old)
        j_new = _bisect(buf, m, v)
    else:  # branch-free counts, one pass (vectorised)
        j_old = 0
        j_new = 0
        for t in range(m):
            b = buf[t]
            j_old += 1 if b < old else 0
            j_new += 1 if b < v else 0
    if j_new > j_old:
        for t in range(j_old, j_new - 1):
            buf[t] = buf[t + 1]
        buf[j_new - 1] = v
    else:
        for t in range(j_old, j_new, -1):
            buf[t] = buf[t - 1]
        buf[j_new] = v


@njit(cache=True)
def running_quantile(vals, seg_bounds, half, q):
    """Running quantile ``q`` (0..1, the nearest order statistic) of ``vals`` (n,) float64 over windows
    [i - half, i + half] truncated at the bounds of the segment holding i; ``seg_bounds`` (k+1,) int64 are
    segment starts then the end (n). A sorted window buffer slides along each segment: O(n * half); once the
    window is full each step replaces the leaving value by the entering one in a single shift."""
    n = vals.shape[0]
    out = np.empty(n)
    _running_quantile_need(vals, seg_bounds, half, q, np.ones(n, dtype=np.bool_), out)
    return out


@njit(cache=True)
def _running_quantile_need(vals, seg_bounds, half, q, need, out):
    """:func:`running_quantile` written into ``out`` (n,) only where ``need`` (n,) bool is set (``out`` keeps
    its value elsewhere): the sorted window is rebuilt where a needed run starts and slides along the run."""
    buf = np.empty(2 * half + 2)
    for s in range(seg_bounds.shape[0] - 1):
        a = seg_bounds[s]
        b = seg_bounds[s + 1]
        m = 0
        hi = a
        lo = a
        valid = True  # the buffer holds the window of the previous index
        for i in range(a, b):
            if not need[i]:
                valid = False
                continue
            if not valid:  # rebuild: the window [max(a, i - half), min(b - 1, i + half)]
                lo = max(a, i - half)
                hi = lo
                m = 0
                while hi < b and hi <= i + half:
                    _insert_sorted(buf, m, vals[hi])
                    m += 1
                    hi += 1
                valid = True
            else:
                while hi < b and hi <= i + half:
                    v = vals[hi]
                    if lo < i - half:
                        _replace_sorted(buf, m, vals[lo], v)
                        lo += 1
                    else:
                        _insert_sorted(buf, m, v)
                        m += 1
                    hi += 1
                while lo < i - half:
                    j = _bisect(buf, m, vals[lo])
                    for t in range(j, m - 1):
                        buf[t] = buf[t + 1]
                    m -= 1
                    lo += 1
            out[i] = buf[int(q * (m - 1) + 0.5)]


@njit(cache=True)
def _clean_segments(idx, window):
    """Segment bounds (k+1,) int64 of the clean indices ``idx`` (m,): runs separated by more than half a
    window."""
    m = idx.shape[0]
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
    return bounds


@njit(cache=True)
def _interp_clean(med, idx, n, bias):
    """Floor (n,) from the medians ``med`` (m,) at the clean bins ``idx`` (m,): divided by ``bias``,
    interpolated linearly in log across occupied bins (constant beyond the first/last clean bin)."""
    m = idx.shape[0]
    out = np.empty(n)
    if m == n:
        for i in range(n):
            out[i] = med[i] / bias
        return out
    k = 0
    k_log = -1  # logs of med[k], med[k + 1], taken only where an occupied gap is interpolated
    log0 = 0.0
    log1 = 0.0
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
                if k_log != k:
                    log0 = np.log(med[k])
                    log1 = np.log(med[k + 1])
                    k_log = k
                f = (i - idx[k]) / (idx[k + 1] - idx[k])
                out[i] = np.exp(log0 + f * (log1 - log0)) / bias
    return out


@njit(cache=True)
def floor_over_clean(x, clean, window, bias):
    """Running median of ``x`` (n,) over its clean bins (``clean`` (n,) bool), ``window`` clean bins long, clean
    runs separated by more than half a window filtered separately, divided by ``bias`` and interpolated
    linearly in log across occupied bins (constant beyond the first/last clean bin)."""
    n = x.shape[0]
    idx = np.flatnonzero(clean)
    m = idx.shape[0]
    if m == 0:
        out = np.empty(n)
        med = np.median(x)
        for i in range(n):
            out[i] = med / bias
        return out
    bounds = _clean_segments(idx, window)
    vals = np.empty(m)
    for k in range(m):
        vals[k] = x[idx[k]]
    med = running_quantile(vals, bounds, window // 2, 0.5)
    return _interp_clean(med, idx, n, bias)


@njit(cache=True)
def _floor_over_clean_update(x, clean, prev_clean, med_bin, prev_floor, window, bias):
    """:func:`floor_over_clean` of ``clean`` given the medians ``med_bin`` (n,) of the previous clean set
    ``prev_clean`` (n,) bool at its clean bins (updated in place for ``clean``) and its floor ``prev_floor`` (n,). A clean bin's median depends
    only on the clean bins of its window and on where the window is cut; where the bins from the clean bin
    before its window to the clean bin after it kept their status, the window and its median are unchanged
    and reused. The others are recomputed, so the result is the same as :func:`floor_over_clean`'s."""
    n = x.shape[0]
    idx = np.flatnonzero(clean)
    m = idx.shape[0]
    if m == 0:
        return floor_over_clean(x, clean, window, bias)
    bounds = _clean_segments(idx, window)
    half = window // 2
    changed = np.zeros(n + 1, np.int64)  # changed[i]: bins before i whose status changed
    for i in range(n):
        changed[i + 1] = changed[i] + (1 if clean[i] != prev_clean[i] else 0)
    vals = np.empty(m)
    med = np.empty(m)
    need = np.zeros(m, np.bool_)
    for s in range(bounds.shape[0] - 1):
        a = bounds[s]
        b = bounds[s + 1]
        for k in range(a, b):
            vals[k] = x[idx[k]]
            lo = max(a, k - half)
            hi = min(b - 1, k + half)
            first = idx[lo - 1] + 1 if lo > 0 else 0
            last = idx[hi + 1] - 1 if hi + 1 < m else n - 1
            if changed[last + 1] - changed[first] == 0:
                med[k] = med_bin[idx[k]]
            else:
                need[k] = True
    _running_quantile_need(vals, bounds, half, 0.5, need, med)
    for k in range(m):
        med_bin[idx[k]] = med[k]
    if m == n:
        return _interp_clean(med, idx, n, bias)
    # an occupied gap between two clean bins whose medians were reused and with no status change from one
    # to the other was interpolated between the same two values last time: keep ``prev_floor`` there
    out = np.empty(n)
    for i in range(0, idx[0] + 1):
        out[i] = med[0] / bias
    for i in range(idx[m - 1], n):
        out[i] = med[m - 1] / bias
    for k in range(m - 1):
        a = idx[k]
        b = idx[k + 1]
        out[b] = med[k + 1] / bias
        if b - a > 1:
            if not need[k] and not need[k + 1] and changed[b + 1] - changed[a] == 0:
                for i in range(a + 1, b):
                    out[i] = prev_floor[i]
            else:
                log0 = np.log(med[k])
                log1 = np.log(med[k + 1])
                for i in range(a + 1, b):
                    f = (i - a) / (b - a)
                    out[i] = np.exp(log0 + f * (log1 - log0)) / bias
    return out


@njit(cache=True)
def fcme_loop(x, fl, widths, thr_first, thr_rest, guard, window, bias, iterations, min_clean):
    """The excision iterations of the noise floor (see :mod:`detectors.noise`): mark occupied bins with the
    matched-width test of ``x / fl`` (thresholds ``thr_first`` on the first pass, ``thr_rest`` after), widen
    by ``guard``, re-estimate the floor over the clean bins; stop when the clean set repeats. Keeps at least
    ``min_clean`` of the lowest bins clean. Returns (floor (n,), clean (n,) bool). Each pass recomputes the
    running median only where the clean set changed (:func:`_floor_over_clean_update`)."""
    n = x.shape[0]
    return _fcme(x, fl, widths, thr_first, thr_rest, guard, window, bias, iterations, min_clean,
                 np.zeros(n, np.bool_), np.empty(n), fl)


@njit(cache=True)
def _fcme(x, fl, widths, thr_first, thr_rest, guard, window, bias, iterations, min_clean, prev, med_bin,
          prev_floor):
    """:func:`fcme_loop` given the running medians ``med_bin`` (n,) of a clean set ``prev`` (n,) bool at its
    clean bins and the floor ``prev_floor`` (n,) computed from them (both updated as the passes go)."""
    n = x.shape[0]
    clean = np.ones(n, np.bool_)
    marks = np.empty(n, np.bool_)
    n_marks = np.zeros(n + 1, np.int64)
    ratio = np.empty(n)
    for it in range(iterations):
        marks[:] = False
        for i in range(n):
            ratio[i] = x[i] / fl[i]
        mark_multiresolution(ratio, widths, thr_first if it == 0 else thr_rest, marks)
        for i in range(n):
            n_marks[i + 1] = n_marks[i] + (1 if marks[i] else 0)
        new_clean = np.empty(n, np.bool_)
        count = 0
        for i in range(n):  # clean: no mark within ``guard`` bins
            c = n_marks[min(n, i + guard + 1)] - n_marks[max(0, i - guard)] == 0
            new_clean[i] = c
            count += 1 if c else 0
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
        fl = _floor_over_clean_update(x, clean, prev, med_bin, prev_floor, window, bias)
        prev[:] = clean
        prev_floor = fl
    return fl, clean


@njit(cache=True)
def noise_floor_group(x, q25, window, bias, q25_bias, edge, allowance, cap, widths, thr_first, thr_rest, guard,
                      iterations, min_clean):
    """The noise floor of one group of hops (see :mod:`detectors.noise`), x (n,) float64 linear PSD: the
    first-pass floor (``q25`` (n,), the running lower quartile over a wide window, over ``q25_bias`` times
    ``allowance``, at most ``cap`` times the lowest running median (over all bins, ``window`` long, over
    ``bias``) of the bins ``[edge, n - edge)`` (all bins if fewer than a window)), then :func:`fcme_loop`
    starting from the running medians already taken. Returns (floor (n,), clean (n,) bool)."""
    n = x.shape[0]
    half = window // 2
    bounds = np.empty(2, np.int64)
    bounds[0] = 0
    bounds[1] = n
    med_bin = running_quantile(x, bounds, half, 0.5)
    med = np.empty(n)
    for i in range(n):
        med[i] = med_bin[i] / bias
    a = edge
    b = n - edge
    if n - 2 * edge < window:
        a = 0
        b = n
    lowest = med[a]
    for i in range(a + 1, b):
        if med[i] < lowest:
            lowest = med[i]
    lim = lowest * cap
    fl = np.empty(n)
    for i in range(n):
        v = q25[i] / q25_bias * allowance
        fl[i] = v if v < lim else lim
    return _fcme(x, fl, widths, thr_first, thr_rest, guard, window, bias, iterations, min_clean,
                 np.ones(n, np.bool_), med_bin, med)


@njit(cache=True)
def curvature_bias_db(fdb, seg_bounds, window):
    """Running-median curvature bias (dB, >= 0, at most 3) of a floor ``fdb`` (n,) float64 in dB, per segment
    (``seg_bounds`` (k+1,) int64: starts then n; a segment shorter than a window + 1 gets 0): the floor is
    smoothed by a box mean over ``window | 1`` bins (edges repeated), its second difference taken over half a
    window h (edges repeated), and the bias is window^2/24 * max(-d2 / h^2, 0) (see
    :func:`detectors.noise._curvature`)."""
    n = fdb.shape[0]
    out = np.zeros(n)
    h = max(1, window // 2)
    coef = window * window / 24.0
    for s in range(seg_bounds.shape[0] - 1):
        a = seg_bounds[s]
        nseg = seg_bounds[s + 1] - a
        if nseg < 2 * h + 1:
            continue
        k = min(window | 1, nseg if nseg % 2 else nseg - 1)
        r = k // 2
        c = np.empty(nseg + 2 * r + 1)  # cumulative sum of the edge-padded floor, c[0] = 0
        c[0] = 0.0
        c[1] = fdb[a]
        for j in range(1, nseg + 2 * r):
            c[j + 1] = c[j] + fdb[a + min(max(j - r, 0), nseg - 1)]
        sm = np.empty(nseg)
        for j in range(nseg):
            sm[j] = (c[j + k] - c[j]) / k
        for j in range(nseg):
            d2 = (sm[min(j + h, nseg - 1)] - 2.0 * sm[j] + sm[max(j - h, 0)]) / (h * h)
            out[a + j] = min(coef * max(-d2, 0.0), 3.0)
    return out
