"""SM.443 measurement on analytic spectra: exact 99 % bandwidth, x-dB, centroid, SNR; kernel vs reference."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from detectors._energy_kernels import measure_kernel
from detectors.measure import beta_band, measure_region, xdb_band

BIN = 100.0


def _axis(n=400):
    return np.arange(n) * BIN + 1e6


def test_rectangular_spectrum_gives_exact_99_percent_bandwidth():
    f = _axis()
    floor = np.full(f.size, 1e-9)
    x = floor.copy()
    x[100:200] += 1e-6  # a flat block of exactly 100 bins = 10 kHz
    m = measure_region(f, x, floor, BIN, 1.5 * BIN)
    assert m.bandwidth_hz == pytest.approx(0.99 * 10_000, rel=1e-9)
    lo_edge = f[100] - BIN / 2
    assert m.f_lo_hz == pytest.approx(lo_edge + 0.005 * 10_000, rel=1e-12)
    assert m.center_hz == pytest.approx(lo_edge + 5_000, rel=1e-12)
    # SNR: 0.99 of the block's power over the noise in 0.99 * 10 kHz
    assert m.snr_db == pytest.approx(10 * np.log10(1e-6 / 1e-9), abs=1e-6)
    assert m.power_dbfs == pytest.approx(10 * np.log10(1e-6 * 10_000), abs=1e-9)
    assert m.noise_dbfs_hz == pytest.approx(-90.0, abs=1e-9)


def test_asymmetric_spectrum_beta_points():
    # triangle: the 0.5 % points are where the cumulative power reaches 0.5 % / 99.5 %
    f = _axis(200)
    e = np.zeros(200)
    e[50:150] = np.arange(100, dtype=float)  # rising ramp, mass at the top
    lo, hi = beta_band(f, e, BIN)
    cum = np.cumsum(e) / e.sum()
    assert (lo - (f[0] - BIN / 2)) / BIN == pytest.approx(np.interp(0.005, np.concatenate(([0], cum)), np.arange(201)), abs=1e-9)
    assert hi == pytest.approx(f[149] + BIN / 2 - 0.005 * e.sum() / e[149] * BIN, rel=1e-12)


def test_kernel_matches_numpy_reference():
    rng = np.random.default_rng(3)
    f = _axis(300)
    floor = np.full(300, 1e-9) * (1 + 0.01 * rng.standard_normal(300))
    x = floor * (1 + 0.05 * rng.standard_normal(300))
    x[120:170] += np.hanning(50) * 1e-7
    lo, hi, c, k, total, *_ = measure_kernel(f, x, floor, BIN, 0.01)
    rlo, rhi = beta_band(f, x - floor, BIN)
    assert (lo, hi) == pytest.approx((rlo, rhi), rel=1e-12)
    assert int(k) == int(np.argmax(x))
    assert total == pytest.approx(np.clip(x - floor, 0, None).sum() * BIN, rel=1e-12)
    py_lo, py_hi, *_ = measure_kernel.py_func(f, x, floor, BIN, 0.01)
    assert (py_lo, py_hi) == pytest.approx((lo, hi), rel=1e-12)


def test_xdb_bandwidth_and_validity():
    f = _axis(400)
    floor = np.full(400, 1e-12)
    # a Gaussian line 60 dB over the floor: the -26 dB points are at +-sigma*sqrt(2*ln(10^2.6))
    sigma = 5.0
    shape = np.exp(-0.5 * ((np.arange(400) - 200) / sigma) ** 2)
    x = floor + 1e-6 * shape
    m = measure_region(f, x, floor, BIN, BIN)
    expect = 2 * sigma * np.sqrt(2 * np.log(10 ** 2.6)) * BIN
    assert m.xdb_valid and m.xdb_bandwidth_hz == pytest.approx(expect, rel=0.02)
    lo, hi = xdb_band(f, x)
    assert hi - lo == pytest.approx(m.xdb_bandwidth_hz)
    # only 20 dB over the floor: the 26 dB points are in the noise -> not measurable
    weak = measure_region(f, floor + 1e-10 * shape, floor, BIN, BIN)
    assert weak.xdb_bandwidth_hz is None and not weak.xdb_valid
    # 32 dB: measurable but flagged (less than 10 dB margin)
    marginal = measure_region(f, floor + 10 ** 3.2 * 1e-12 * shape, floor, BIN, BIN)
    assert marginal.xdb_bandwidth_hz is not None and not marginal.xdb_valid


def test_peak_interpolation_finds_off_bin_tone():
    f = _axis(200)
    floor = np.full(200, 1e-12)
    true = f[100] + 0.3 * BIN
    # Gaussian main lobe sampled off-centre: log-parabolic interpolation is exact for a Gaussian
    x = floor + 1e-6 * np.exp(-0.5 * ((f - true) / (1.2 * BIN)) ** 2)
    m = measure_region(f, x, floor, BIN, 1.5 * BIN)
    assert m.peak_hz == pytest.approx(true, abs=0.01 * BIN)


def test_measure_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match="equal non-empty"):
        measure_region(_axis(10), np.ones(9), np.ones(10), BIN, BIN)


def test_kernels_run_without_jit():
    """The whole detector gives the same emissions with NUMBA_DISABLE_JIT=1 (plain Python kernels)."""
    code = (
        "import json, numpy as np\n"
        "from tests.detect_helpers import noise_iq, tone, iq_spectrum\n"
        "from detectors.energy import EmissionDetector\n"
        "x = noise_iq(1, 60000) + tone(60000, 250e3, 31e3, 1e-4) + tone(60000, 250e3, -52e3, 3e-5)\n"
        "em = EmissionDetector().detect(iq_spectrum(x, nfft=512, frames=True))\n"
        "print(json.dumps([[round(e.center_hz, 3), round(e.bandwidth_hz, 3), round(e.snr_db, 3)] for e in em]))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = []
    for jit in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit, PYTHONPATH=root)
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, timeout=240)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout)
    assert outs[0] == outs[1]
    assert len(eval(outs[0])) == 2


def test_measure_regions_equals_measure_region_one_by_one():
    """The batched measurement gives exactly the figures of measure_region on each region."""
    from detectors.measure import measure_regions

    rng = np.random.default_rng(11)
    f = _axis(600)
    floor = 1e-9 * (1.0 + 0.2 * np.sin(np.arange(600) / 50.0))
    x = floor * rng.gamma(50, 1 / 50, 600)
    x[100:130] += 1e-6 * np.hanning(30)  # strong: x-dB measured
    x[300:304] += 3e-9  # weak, narrow
    x[590:600] += 1e-8  # at the edge: the peak may sit on the last bin
    starts = np.array([0, 97, 297, 420, 587])
    stops = np.array([3, 133, 307, 421, 600])
    got = measure_regions(f, x, floor, starts, stops, BIN, 1.5 * BIN)
    assert got == [measure_region(f[a:b], x[a:b], floor[a:b], BIN, 1.5 * BIN) for a, b in zip(starts, stops)]
    assert got[1].xdb_bandwidth_hz is not None
    assert measure_regions(f, x, floor, np.array([], int), np.array([], int), BIN, BIN) == []
    with pytest.raises(ValueError, match="non-empty slice"):
        measure_regions(f, x, floor, np.array([5]), np.array([5]), BIN, BIN)
