"""The numba kernels against plain numpy references, compiled and as plain Python (``.py_func``)."""

from __future__ import annotations

import numpy as np
import pytest

from detectors._energy_kernels import block_means_lin, mark_multiresolution, runs_of
from detectors._floor_kernels import running_quantile


def ref_mark(ratio, widths, thresholds):
    marked = np.zeros(ratio.size, bool)
    for m, t in zip(widths, thresholds):
        new = np.zeros(ratio.size, bool)
        for i in range(ratio.size - m + 1):
            if ratio[i: i + m].mean() > t and not marked[i: i + m].any():
                new[i: i + m] = True
        marked |= new
    return marked


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_mark_multiresolution_matches_reference(fn):
    rng = np.random.default_rng(1)
    ratio = rng.gamma(50, 1 / 50, 400)
    ratio[100:104] += 0.8  # narrow and strong
    ratio[200:260] += 0.15  # wide and weak
    widths = np.array([1, 2, 4, 8, 16, 32], dtype=np.int64)
    thr = np.array([1.6, 1.45, 1.33, 1.24, 1.17, 1.12])
    kernel = mark_multiresolution if fn == "jit" else mark_multiresolution.py_func
    marked = np.zeros(400, np.bool_)
    kernel(ratio, widths, thr, marked)
    assert np.array_equal(marked, ref_mark(ratio, widths, thr))
    assert marked[100:104].all() and marked[200:260].mean() > 0.8


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_runs_of_bridges_gaps(fn):
    kernel = runs_of if fn == "jit" else runs_of.py_func
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1], dtype=np.bool_)
    starts, stops = kernel(mask, 2)
    assert list(zip(starts, stops)) == [(1, 6), (9, 11)]
    starts, stops = kernel(mask, 0)
    assert list(zip(starts, stops)) == [(1, 3), (5, 6), (9, 11)]


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_running_quantile_matches_truncated_window_reference(fn):
    rng = np.random.default_rng(2)
    vals = rng.random(300)
    bounds = np.array([0, 120, 121, 300], dtype=np.int64)
    half = 7
    kernel = running_quantile if fn == "jit" else running_quantile.py_func
    for q in (0.25, 0.5):
        out = kernel(vals, bounds, half, q)
        for a, b in zip(bounds[:-1], bounds[1:]):
            for i in range(a, b):
                w = np.sort(vals[max(a, i - half): min(b, i + half + 1)])
                assert out[i] == w[int(q * (w.size - 1) + 0.5)]


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_block_means_lin(fn):
    rng = np.random.default_rng(3)
    frames_db = rng.normal(-80, 3, (12, 16)).astype(np.float32)
    kernel = block_means_lin if fn == "jit" else block_means_lin.py_func
    out = kernel(frames_db, 4, 3)
    ref = (10 ** (frames_db.astype(np.float64) / 10)).reshape(3, 4, 16).mean(axis=1)
    np.testing.assert_allclose(out, ref, rtol=1e-6)


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_floor_over_clean_matches_numpy_reference(fn):
    from detectors._floor_kernels import floor_over_clean
    from detectors.noise import _running_floor

    rng = np.random.default_rng(4)
    x = rng.gamma(100, 0.01, 600) * np.linspace(1.0, 2.0, 600)
    clean = rng.random(600) > 0.2
    clean[150:330] = False  # a wide occupied run: the two sides are filtered separately
    kernel = floor_over_clean if fn == "jit" else floor_over_clean.py_func
    np.testing.assert_allclose(kernel(x, clean, 33, 0.98), _running_floor(x, clean, 33) / 0.98, rtol=1e-12)
    np.testing.assert_allclose(kernel(x, np.ones(600, np.bool_), 33, 1.0), _running_floor(x, np.ones(600, bool), 33),
                               rtol=1e-12)


def test_fcme_loop_excises_an_emission_and_keeps_the_floor():
    from detectors._floor_kernels import fcme_loop

    rng = np.random.default_rng(5)
    x = rng.gamma(500, 1 / 500, 1024)  # noise, nu = 1000
    x[400:440] += 0.5  # an emission 1.8 dB over the floor, 40 bins
    widths = np.array([1, 2, 4, 8, 16, 32], dtype=np.int64)
    thr = np.array([1.2, 1.14, 1.1, 1.07, 1.05, 1.035])
    fl, clean = fcme_loop(x, np.full(1024, 1.0), widths, thr, thr * 1.05, 2, 33, 1.0, 6, 102)
    assert not clean[400:440].any() and clean[:380].mean() > 0.95
    assert np.abs(fl[400:440] - 1.0).max() < 0.03
    fl_py, clean_py = fcme_loop.py_func(x, np.full(1024, 1.0), widths, thr, thr * 1.05, 2, 33, 1.0, 6, 102)
    np.testing.assert_allclose(fl_py, fl, rtol=1e-12)
    assert np.array_equal(clean_py, clean)


def ref_split(level_db, start, stop, split_db):
    """The valley split as plain recursive numpy (what ``split_valleys`` must reproduce)."""
    sm = level_db[start:stop]
    if sm.size < 5:
        return [(start, stop)]
    left_max = np.maximum.accumulate(sm)
    right_max = np.maximum.accumulate(sm[::-1])[::-1]
    depth = np.minimum(left_max, right_max) - sm
    k = int(np.argmax(depth[1:-1])) + 1
    if depth[k] < split_db:
        return [(start, stop)]
    return ref_split(level_db, start, start + k, split_db) + ref_split(level_db, start + k, stop, split_db)


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_split_valleys_matches_recursive_reference(fn):
    from detectors._energy_kernels import split_valleys

    kernel = split_valleys if fn == "jit" else split_valleys.py_func
    rng = np.random.default_rng(6)
    for trial in range(300):
        n = int(rng.integers(1, 90))
        level = rng.normal(0, 12, n)
        if trial % 3 == 0:
            level = np.round(level)  # ties: the first deepest valley
        if trial % 5 == 0:
            level = np.repeat(rng.normal(0, 25, n // 4 + 1), 4)[:n]  # flat steps
        cuts = np.sort(rng.choice(n + 1, size=min(n + 1, int(rng.integers(2, 7))), replace=False)).astype(np.int64)
        starts, stops = kernel(level, cuts[:-1], cuts[1:], 15.0)
        ref = [piece for a, b in zip(cuts[:-1], cuts[1:]) for piece in ref_split(level, int(a), int(b), 15.0)]
        assert list(zip(starts.tolist(), stops.tolist())) == ref


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_running_quantile_long_window(fn):
    """Windows over 48 values take the branch-free path of the sorted-buffer update."""
    rng = np.random.default_rng(8)
    vals = np.round(rng.random(400) * 50)  # ties
    bounds = np.array([0, 250, 400], dtype=np.int64)
    half = 40
    kernel = running_quantile if fn == "jit" else running_quantile.py_func
    out = kernel(vals, bounds, half, 0.5)
    for a, b in zip(bounds[:-1], bounds[1:]):
        for i in range(a, b):
            w = np.sort(vals[max(a, i - half): min(b, i + half + 1)])
            assert out[i] == w[int(0.5 * (w.size - 1) + 0.5)]


def ref_curvature_db(fdb, slices, window):
    """The curvature bias in dB as plain numpy, hop by hop."""
    out = np.zeros_like(fdb)
    for sl in slices:
        seg = fdb[sl]
        n = seg.size
        h = max(1, window // 2)
        if n < 2 * h + 1:
            continue
        k = min(window | 1, n if n % 2 else n - 1)
        r = k // 2
        padded = np.concatenate((np.full(r, seg[0]), seg, np.full(r, seg[-1])))
        c = np.concatenate(([0.0], np.cumsum(padded)))
        sm = (c[k:] - c[:-k]) / k
        pad = np.concatenate((np.full(h, sm[0]), sm, np.full(h, sm[-1])))
        d2 = (pad[2 * h:] - 2.0 * pad[h:-h] + pad[: -2 * h]) / (h * h)
        out[sl] = np.minimum(window * window / 24.0 * np.maximum(-d2, 0.0), 3.0)
    return out


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_curvature_bias_db_matches_numpy_reference(fn):
    from detectors._floor_kernels import curvature_bias_db

    kernel = curvature_bias_db if fn == "jit" else curvature_bias_db.py_func
    rng = np.random.default_rng(9)
    i = np.arange(1000)
    fdb = -80 + 1.0 * np.sin(i / 40.0) - 12 * ((np.abs(i % 500 - 250) / 250.0) ** 8) + rng.normal(0, 0.1, 1000)
    bounds = np.array([0, 500, 520, 1000], dtype=np.int64)  # a 20-bin hop is too short: no bias there
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    for window in (31, 33, 64):
        got = kernel(fdb, bounds, window)
        assert np.array_equal(got, ref_curvature_db(fdb, slices, window))
        assert got.max() > 0.1 and not got[500:520].any()


def test_artifact_median_is_numpys():
    from detectors.artifacts import _median

    rng = np.random.default_rng(10)
    for n in (1, 2, 3, 10, 11, 1024):
        for a in (rng.normal(-80, 5, n), np.round(rng.normal(0, 2, n))):
            assert _median(a) == float(np.median(a))
    assert np.isnan(_median(np.array([1.0, np.nan, 2.0])))


@pytest.mark.parametrize("fn", ["jit", "py"])
def test_floor_update_reuses_medians_bit_for_bit(fn):
    """Each FCME pass recomputes the running median only where the clean set changed: a sequence of clean sets
    (growing, shrinking, moving occupied runs, none clean) gives exactly floor_over_clean's result each time."""
    from detectors._floor_kernels import _floor_over_clean_update, floor_over_clean

    rng = np.random.default_rng(6)
    update = _floor_over_clean_update if fn == "jit" else _floor_over_clean_update.py_func
    for n, window in ((600, 33), (200, 31), (1500, 65)):
        x = np.round(rng.gamma(3, 1 / 3, n), 2) + 0.01  # ties too
        prev = np.ones(n, np.bool_)
        med_bin = np.empty(n)
        bounds = np.array([0, n], dtype=np.int64)
        med_bin[:] = running_quantile(x, bounds, window // 2, 0.5)
        prev_floor = med_bin / 0.9
        for step in range(12):
            clean = prev.copy()
            for _ in range(int(rng.integers(1, 6))):
                a = int(rng.integers(0, n))
                clean[a: a + int(rng.integers(1, n // 4))] = bool(rng.integers(0, 2))
            if step == 7:
                clean[:] = False
            fl = update(x, clean, prev, med_bin, prev_floor, window, 0.9)
            ref = floor_over_clean(x, clean, window, 0.9)
            if fn == "jit":
                assert np.array_equal(fl, ref)
            else:  # numpy's exp/log against the compiled ones: a few ulp
                np.testing.assert_allclose(fl, ref, rtol=1e-13)
            prev[:] = clean
            prev_floor = fl
