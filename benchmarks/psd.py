"""Benchmark of the PSD path (issue 3), one thread.

PSD of 1 s of cu8 at 2.4 MS/s, Hann, 50 % overlap, nfft 1024 and 4096, from raw bytes to the averaged
spectrum: specmon (:func:`dsp.psd.welch`) vs ``scipy.signal.welch`` (same settings, detrend off, input already
converted to complex64, which flatters scipy) vs the bare ``scipy.fft.fft`` of the same pre-windowed frames
(conversion and windowing excluded: the floor any implementation pays). Medians over repeated runs; MS/s and
ratios side by side. Then the sweep overhead per hop (planning, stitching, bookkeeping) with an instant
receiver. Targets: specmon >= 8x welch, specmon <= 1.5x bare FFT time.

Run: ``.venv/bin/python benchmarks/psd.py`` (output committed as benchmarks/psd.txt).
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.fft  # noqa: E402
import scipy.signal  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dsp.convert import convert_window_frames  # noqa: E402
from dsp.psd import frame_step, welch  # noqa: E402
from dsp.windows import window_coefficients  # noqa: E402

RATE = 2_400_000
REPEATS = 21


def median_s(fn, repeats: int = REPEATS) -> float:
    """Median CPU time (s) of ``fn`` (process time: robust to other processes sharing the cores)."""
    fn()  # warm-up (JIT load, FFT plan cache)
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def interleaved_medians(fns: dict, repeats: int) -> dict:
    """Median CPU time (s) of each function, measured in interleaved rounds so that a burst of load from other
    processes hits every candidate alike; also the median of the per-round ratios to ``fns``' first entry."""
    for fn in fns.values():
        fn()  # warm-up
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.process_time()
            fn()
            times[k].append(time.process_time() - t0)
    first = next(iter(fns))
    out = {k: statistics.median(v) for k, v in times.items()}
    out["ratios"] = {k: statistics.median(a / b for a, b in zip(times[k], times[first], strict=True)) for k in fns}
    return out


def cu8_to_complex64_numpy(raw: np.ndarray) -> np.ndarray:
    """How a scipy user converts rtl_sdr bytes today (the cheapest numpy way, complex64)."""
    return ((raw.astype(np.float32) - np.float32(127.5)) / np.float32(127.5)).view(np.complex64)


def cu8_to_complex128_numpy(raw: np.ndarray) -> np.ndarray:
    """The common numpy default: float64 arithmetic, complex128 result."""
    y = (raw.astype(np.float64) - 127.5) / 127.5
    return y[0::2] + 1j * y[1::2]


def bench_psd(raw: np.ndarray, nfft: int) -> dict:
    step = frame_step(nfft, 0.5)
    frames = convert_window_frames(raw, "cu8", window_coefficients("hann", nfft), step, remove_dc=False)
    block = max(1, (1 << 16) // nfft)

    def scipy_welch(convert):
        return scipy.signal.welch(
            convert(raw), fs=RATE, window="hann", nperseg=nfft, noverlap=nfft - step, detrend=False,
            return_onesided=False,
        )

    def fft_blocked():
        for i in range(0, frames.shape[0], block):
            scipy.fft.fft(frames[i : i + block], axis=-1, workers=1)

    m = interleaved_medians(
        {
            "spec": lambda: welch(raw, RATE, fmt="cu8", nfft=nfft, window="hann", overlap=0.5),
            "welch": lambda: scipy_welch(cu8_to_complex64_numpy),
            "welch128": lambda: scipy_welch(cu8_to_complex128_numpy),
            "fft_whole": lambda: scipy.fft.fft(frames, axis=-1, workers=1),
            "fft_blocked": fft_blocked,
        },
        REPEATS,
    )
    fft_key = "fft_blocked" if m["fft_blocked"] <= m["fft_whole"] else "fft_whole"
    return {
        "nfft": nfft, "spec": m["spec"], "welch": m["welch"], "welch128": m["welch128"], "fft": m[fft_key],
        "fft_whole": m["fft_whole"], "fft_blocked": m["fft_blocked"], "n": raw.shape[0] // 2,
        "speedup": m["ratios"]["welch"], "speedup128": m["ratios"]["welch128"], "vs_fft": 1.0 / m["ratios"][fft_key],
    }


def bench_sweep_overhead(dwell_s: float) -> tuple[float, float, int]:
    """(planning per sweep s, overhead per hop s, hops): overhead = sweep wall time minus the receivers' read
    time and the PSD time of every hop, i.e. tuning calls, stitching, DC replacement, records, bookkeeping."""
    from station.sweep import SweepPlan, run_sweep
    from tests.sweep_fakes import InstantReceiver

    rx = InstantReceiver(sample_rate_hz=RATE, noise_rms=0.0)

    def make():
        return SweepPlan.make(bands=[(88e6, 108e6)], rbw_hz=10e3, sample_rate_hz=RATE, dwell_s=dwell_s)

    t_plan = median_s(make)
    plan = make()
    overheads = []
    run_sweep(rx, plan)
    for _ in range(9):
        t0 = time.perf_counter()
        [b] = run_sweep(rx, plan)
        wall = time.perf_counter() - t0
        overheads.append((wall - b.receive_s - b.dsp_s) / len(b.hops))
    return t_plan, statistics.median(overheads), plan.bands[0].n_hops


def main() -> int:
    rng = np.random.default_rng(2024)
    raw = rng.integers(0, 256, size=2 * RATE, dtype=np.uint8)  # 1 s of cu8 noise at 2.4 MS/s
    print(f"specmon PSD benchmark: 1 s cu8 at {RATE / 1e6:.1f} MS/s, Hann, 50 % overlap, one thread, medians")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, {platform.machine()}")
    print("CPU (process) time, medians of interleaved rounds; ratios are medians of per-round ratios.")
    print("all timings from raw cu8 bytes to the averaged spectrum, except 'bare fft' (FFT of pre-windowed frames")
    print("only: the faster of one whole-array call and cache-sized blocks). welch = numpy cu8->complex64 + ")
    print("scipy.signal.welch(detrend=False, return_onesided=False); welch128 = the same via complex128.")
    print()
    head = f"{'nfft':>5} | {'specmon':>19} | {'welch':>19} | {'welch128':>19} | {'bare fft':>19} | {'welch/specmon':>13} | {'specmon/fft':>11}"
    print(head)
    print("-" * len(head))
    ok = True
    for nfft in (1024, 4096):
        r = bench_psd(raw, nfft)

        def cell(t: float) -> str:
            return f"{t * 1e3:6.1f} ms {r['n'] / t / 1e6:4.0f} MS/s"

        speedup = r["speedup"]  # medians of per-round ratios
        vs_fft = r["vs_fft"]
        ok &= speedup >= 8.0 and vs_fft <= 1.5
        print(
            f"{nfft:>5} | {cell(r['spec'])} | {cell(r['welch'])} | {cell(r['welch128'])} | {cell(r['fft'])} |"
            f" {speedup:12.1f}x | {vs_fft:10.2f}x"
        )
        print(f"{'':>5}   (bare fft: whole array {r['fft_whole'] * 1e3:.1f} ms, blocked {r['fft_blocked'] * 1e3:.1f} ms;"
              f" welch128/specmon {r['speedup128']:.1f}x)")
    print()
    print("targets (welch/specmon >= 8x and specmon/fft <= 1.5x at both sizes):", "MET" if ok else "NOT MET")
    print()
    print("sweep overhead, 88-108 MHz at rbw 10 kHz (nfft 512, 12 hops), instant receiver:")
    for dwell_s in (0.0, 0.01):
        t_plan, per_hop_s, n_hops = bench_sweep_overhead(dwell_s)
        print(f"  dwell {dwell_s * 1e3:4.0f} ms: planning {t_plan * 1e3:.3f} ms per sweep, tuning+stitching+"
              f"bookkeeping {per_hop_s * 1e3:.3f} ms per hop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
