"""Station peak-RSS cuts (benchmarks/budget.py): each keeps the values the station computes."""

from __future__ import annotations

import sys

import numpy as np
import pytest


def test_band_power_blocks_in_row_chunks_equals_one_whole_pass():
    """The evidence trigger's block powers, now computed a few rows at a time, are the very values of one pass
    over the whole recording (the formula as it stood), float32 as before."""
    import scipy.fft

    from dsp import trigger

    rng = np.random.default_rng(7)
    n = 300_000
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    x[100_000:140_000] *= 30  # a burst
    for block, lo, hi in ((10240, -5e3, 5e3), (1024, 100e3, 300e3), (512, 1e3, 1.01e3)):
        nb = n // block
        w = np.hanning(block + 1)[:-1]
        frames = x[: nb * block].reshape(nb, block).astype(np.complex64) * w.astype(np.float32)
        spec = scipy.fft.fftshift(scipy.fft.fft(frames, axis=1, workers=1), axes=1)
        freqs = scipy.fft.fftshift(scipy.fft.fftfreq(block, 1.0 / 1.024e6))
        sel = (freqs >= lo) & (freqs <= hi)
        if not sel.any():
            sel = np.zeros(block, bool)
            sel[int(np.argmin(np.abs(freqs - 0.5 * (lo + hi))))] = True
        want = (np.abs(spec[:, sel]) ** 2).sum(axis=1) / (block * float(np.sum(w * w)))
        got = trigger.band_power_blocks(x, 1.024e6, lo, hi, block)
        assert got.dtype == want.dtype == np.float32
        assert nb > max(16, trigger._CHUNK_SAMPLES // block)  # more rows than one chunk holds
        np.testing.assert_array_equal(got, want)


def test_warm_up_leaves_the_stations_own_noise_tables_and_no_stand_in_ones(tmp_path):
    """The warm-up builds the noise tables of the configured simulated receiver (its seed, at the sweep rate and
    the evidence rate) before anything else, and warms the bands on that receiver: no seed-0 table is left."""
    from station.config import demo_config
    from station.receivers._rtl2832 import real_sample_rate_hz
    from station.sim.engine import _noise_table
    from station.warmup import warm_up

    config = demo_config(tmp_path)
    rx = config.receivers[0]
    assert rx.uri.startswith("sim://") and rx.seed is not None and config.evidence.enabled
    _noise_table.cache_clear()
    report = warm_up(config)
    assert report.problems == ()
    assert _noise_table.cache_info().currsize == 2
    from station.receivers import open_receiver

    sim = open_receiver(rx.uri, seed=rx.seed).simulator
    hits = _noise_table.cache_info().hits
    for rate in (rx.sample_rate_hz, config.evidence.sample_rate_hz):
        sim._noise(real_sample_rate_hz(rate))
    assert _noise_table.cache_info().hits == hits + 2  # both were there already
    _noise_table.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_fix_mmap_threshold_sets_it_on_glibc_and_is_a_no_op_elsewhere(monkeypatch):
    import ctypes

    import station.heap as heap

    assert heap.fix_mmap_threshold() in (True, False)  # musl also has mallopt (a no-op there)

    class NoMallopt:
        def __init__(self, *a):
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert heap.fix_mmap_threshold() is False


def test_compile_in_child_only_when_the_kernel_cache_is_cold(monkeypatch, tmp_path):
    """A cold numba cache is compiled in a child process (the compiler's memory leaves with it); a warm one is
    only loaded, in-process. A child that cannot run leaves the compiling to the in-process warm-up."""
    import station.childproc as childproc
    import station.warmup as warmup
    from station.config import demo_config

    config = demo_config(tmp_path)
    calls = []

    def fake_child(fn, *args, **kwargs):
        calls.append((fn, args))
        return warmup.WarmupReport(5, 1.0)

    monkeypatch.setattr(childproc, "call_in_child", fake_child)
    monkeypatch.setattr(warmup, "kernel_cache_cold", lambda: False)
    assert warmup.compile_in_child(config) is None and calls == []
    monkeypatch.setattr(warmup, "kernel_cache_cold", lambda: True)
    assert warmup.compile_in_child(config) == warmup.WarmupReport(5, 1.0)
    assert calls == [(warmup.warm_up, (config,))]

    def failing(fn, *args, **kwargs):
        raise childproc.ChildFailed("no")

    monkeypatch.setattr(childproc, "call_in_child", failing)
    assert warmup.compile_in_child(config) is None


def test_kernel_cache_cold_is_false_once_the_warm_up_ran_and_true_for_an_empty_cache(tmp_path):
    import station.warmup as warmup
    from dsp.psd import _accumulate_fast

    warmup.warm_up()
    assert warmup.kernel_cache_cold() is False
    cache_file = _accumulate_fast._cache._cache_file
    saved = cache_file._index_path
    try:
        cache_file._index_path = str(tmp_path / "absent.nbi")
        assert warmup.kernel_cache_cold() is True
    finally:
        cache_file._index_path = saved
