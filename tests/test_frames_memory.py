"""Per-frame spectra (the spectrogram for burst detection) are float32 end to end and are built without
full-size temporaries (issue 8, peak RSS): values equal the former float64 path within float32 rounding."""

from __future__ import annotations

import dataclasses
import math
import tracemalloc
from datetime import UTC, datetime

import numpy as np
import pytest

from detectors.bursts import make_blocks, on_mean_lin
from dsp.psd import to_db, welch
from dsp.sweep import (
    FrameStitcher,
    StitchInfo,
    lin_to_db_inplace,
    plan_band,
    plan_fixed_center,
    replace_dc,
    stitch,
    stitch_bins,
)
from station.sweep import SweepPlan, run_sweep

from .sweep_fakes import InstantReceiver

FS = 2.4e6
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def noisy_hops(plan, n_samples=40_000, seed=3):
    rng = np.random.default_rng(seed)
    hops = []
    for _ in range(plan.n_hops):
        x = (rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples)).astype(np.complex64) * 0.01
        x[::97] += 0.5  # some structure, and a DC offset for the notch to replace
        hops.append(welch(x, FS, nfft=plan.nfft, keep_frames=True))
    return hops


def reference_frames(plan, hops):
    """The former path: replace DC and stitch each hop in its own dtype, to dB in float64, then float32."""
    n = min(r.n_frames for r in hops)
    return to_db(stitch_bins(plan, [replace_dc(r.frames_lin[:n], plan.dc_notch_bins) for r in hops])).astype(
        np.float32
    )


@pytest.mark.parametrize("notch", [0, 1, 3])
def test_stitched_frames_are_float32_and_equal_the_float64_path(notch):
    plan = dataclasses.replace(plan_band(100e6, 104e6, 10e3, FS), dc_notch_bins=notch)
    hops = noisy_hops(plan)
    s = stitch(plan, hops, StitchInfo(T0, T0, 0.1))
    assert s.frames_dbfs_hz.dtype == np.float32 and s.frames_dbfs_hz.flags.c_contiguous
    np.testing.assert_array_equal(s.frames_dbfs_hz, reference_frames(plan, hops))


def test_frame_stitcher_on_a_fixed_center_plan_and_errors():
    band = plan_band(99.5e6, 100.5e6, 10e3, FS)
    fixed = plan_fixed_center(band, 100e6)  # kept span is not the plan's usual [edge, nfft - edge)
    hops = noisy_hops(fixed)
    fs = FrameStitcher(fixed, hops[0].n_frames - 2)  # extra rows of a hop are ignored
    assert not fs.complete
    fs.add(0, hops[0].frames_lin)
    assert fs.complete
    np.testing.assert_array_equal(fs.frames_dbfs_hz, reference_frames(fixed, hops)[: fs.n_frames])
    with pytest.raises(ValueError, match="expected at least"):
        FrameStitcher(fixed, hops[0].n_frames + 1).add(0, hops[0].frames_lin)
    with pytest.raises(ValueError, match="float32"):
        stitch(fixed, hops, StitchInfo(T0, T0, 0.1), frames_dbfs_hz=np.zeros((2, fixed.n_bins)))


def test_lin_to_db_inplace_matches_to_db_on_views_and_chunks(monkeypatch):
    import dsp.sweep

    monkeypatch.setattr(dsp.sweep, "_DB_CHUNK", 7)  # many chunks, rows wider than a chunk
    rng = np.random.default_rng(0)
    a = (rng.random((5, 12)) ** 4).astype(np.float32)
    a[0, 0] = 0.0  # floored at -300 dB
    want = to_db(a).astype(np.float32)
    b = a.copy()
    assert lin_to_db_inplace(b) is b
    np.testing.assert_array_equal(b, want)
    c = a.copy()
    lin_to_db_inplace(c[:, 3:9])  # a strided column view, converted in place
    np.testing.assert_array_equal(c[:, 3:9], want[:, 3:9])
    np.testing.assert_array_equal(c[:, :3], a[:, :3])
    d = a.copy()
    lin_to_db_inplace(d[2])
    np.testing.assert_array_equal(d[2], want[2])
    with pytest.raises(TypeError, match="float32"):
        lin_to_db_inplace(a.astype(np.float64))


def test_frame_stitching_needs_no_full_size_temporaries():
    """Peak traced memory while stitching the spectrogram: the float32 result plus one hop's frames and a
    bounded dB scratch, not float64 copies of the whole band (the former path took ~6x the result)."""
    plan = plan_band(430e6, 446e6, 1000, FS)  # nfft 4096, 9 hops, 27307 bins
    hops = noisy_hops(plan, n_samples=4096 + 2048 * 59)  # 60 frames per hop
    frames = [r.frames_lin for r in hops]
    out_bytes = hops[0].n_frames * plan.n_bins * 4
    tracemalloc.start()
    try:
        fs = FrameStitcher(plan, hops[0].n_frames)
        for h, f in enumerate(frames):
            fs.add(h, f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert fs.complete
    assert peak < out_bytes + 8e6, (peak, out_bytes)


def test_executor_keeps_float32_frames_in_both_models():
    rx = InstantReceiver(tones=[(100.3e6, 0.1)], noise_rms=0.01)
    plan = SweepPlan.make([("test", 100e6, 103e6)], 10e3, FS, 0.02, keep_frames=True)
    [b] = run_sweep(rx, plan)
    f = b.spectrum.frames_dbfs_hz
    assert f.dtype == np.float32 and f.shape == (b.spectrum.n_frames, b.spectrum.n_bins)
    assert b.spectrum.n_frames >= 2 and np.all(np.isfinite(f))
    i = int(np.argmin(np.abs(b.spectrum.freqs_hz - 100.3e6)))
    # each frame sees the tone; the mean over frames is near the averaged PSD there
    mean_db = 10 * np.log10(np.mean(10 ** (f[:, i].astype(np.float64) / 10)))
    assert mean_db == pytest.approx(b.spectrum.psd_dbfs_hz[i], abs=0.05)
    plan_i = dataclasses.replace(
        SweepPlan.make([("test", 100e6, 103e6)], 10e3, FS, 0.002, mode="interleaved", interval_s=100.0,
                       keep_frames=True),
        max_revisits=3,
    )
    [bi] = run_sweep(rx, plan_i)
    fi = bi.spectrum.frames_dbfs_hz
    assert fi.dtype == np.float32 and fi.shape == (3, bi.spectrum.n_bins)


def test_make_blocks_converts_other_dtypes_block_by_block():
    rng = np.random.default_rng(2)
    db32 = (-100 + 10 * rng.standard_normal((23, 50))).astype(np.float32)
    times = np.arange(23) * 0.002
    a = make_blocks(db32, times, 0.01)
    b = make_blocks(db32.astype(np.float64), times, 0.01)
    c = make_blocks(np.asfortranarray(db32), times, 0.01)
    assert a.frames_per_block == 5 and a.lin.shape == (4, 50)
    np.testing.assert_array_equal(a.lin, b.lin)
    np.testing.assert_array_equal(a.lin, c.lin)
    want = (10 ** (db32[:20].astype(np.float64) / 10)).reshape(4, 5, 50).mean(axis=1)
    np.testing.assert_allclose(a.lin, want, rtol=1e-6)
    on = np.array([True, False, True, True])
    np.testing.assert_array_equal(on_mean_lin(a, on, slice(10, 20)), a.lin[on].mean(axis=0)[10:20])


def test_sim_noise_table_built_in_place_is_unchanged():
    """The simulator's noise table, now built in place to cut its scratch, has the very same samples."""
    from station.sim import engine
    from station.sim.response import frontend_response_db
    from station.sim.scenario import ReceiverModel

    seed, rate, pb, roll = 5, 1.024e6, 0.8, 10.0
    rng = np.random.default_rng([seed & 0xFFFFFFFF, int(rate), 0x7461626C])
    n = engine.NOISE_TABLE_LEN
    spec = np.fft.fft(rng.standard_normal(n) + 1j * rng.standard_normal(n)) * math.sqrt(0.5)
    model = ReceiverModel(passband_fraction=pb, edge_rolloff_db=roll)
    spec *= 10 ** (frontend_response_db(np.fft.fftfreq(n, 1.0 / rate), rate, model) / 20)
    want = np.fft.ifft(spec).astype(np.complex64)
    got = engine._noise_table.__wrapped__(seed, rate, pb, roll)
    np.testing.assert_array_equal(got, want)


def test_trim_heap_is_safe_to_call_and_resolved_lazily(monkeypatch):
    import station.heap as heap

    monkeypatch.setattr(heap, "_resolved", False)
    monkeypatch.setattr(heap, "_trim", None)
    junk = [np.ones(40_000) for _ in range(50)]  # ~16 MB in heap-sized pieces, then freed
    del junk
    assert heap.trim_heap() in (True, False)
    assert heap._resolved
    monkeypatch.setattr(heap, "_trim", None)  # a C library without malloc_trim: a no-op
    assert heap.trim_heap() is False
