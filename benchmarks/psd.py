"""Benchmark of the PSD path (issue 3), one thread.

PSD of 1 s of cu8 at 2.4 MS/s, Hann, 50 % overlap, nfft 1024 and 4096, from raw bytes to the averaged
spectrum: specmon (:func:`dsp.psd.welch`, which also removes DC) vs ``scipy.signal.welch`` (same settings, detrend
off, timed together with the byte conversion) vs the bare ``scipy.fft.fft`` of the same pre-windowed frames
(conversion and windowing excluded: the floor any implementation pays). CPU-time medians over interleaved rounds;
MS/s and ratios side by side. The welch baseline is given twice: after pyrtlsdr's own byte conversion
(complex128, what users run today) and after the cheapest complex64 one (stricter). Then the sweep overhead per
hop (planning, stitching, bookkeeping) with an instant receiver. Targets: specmon >= 8x welch, specmon <= 1.5x
the bare FFT time.

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
    """The cheapest numpy conversion of rtl_sdr bytes (complex64): the stricter baseline."""
    return ((raw.astype(np.float32) - np.float32(127.5)) / np.float32(127.5)).view(np.complex64)


def cu8_to_complex128_pyrtlsdr(raw: np.ndarray) -> np.ndarray:
    """pyrtlsdr's ``RtlSdr.packed_bytes_to_iq`` (what RTL-SDR Python users run today): complex128."""
    iq = raw.astype(np.float64).view(np.complex128)
    iq /= 127.5
    iq -= 1 + 1j
    return iq


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
            "welch128": lambda: scipy_welch(cu8_to_complex128_pyrtlsdr),
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
    print(f"specmon PSD benchmark: 1 s cu8 at {RATE / 1e6:.1f} MS/s, Hann, 50 % overlap, one thread")
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, {platform.machine()}")
    print("CPU (process) time, medians of interleaved rounds; ratios are medians of per-round ratios.")
    print("All from raw cu8 bytes to the averaged spectrum, except 'bare fft' (the FFT of pre-windowed frames only,")
    print("the faster of one whole-array call and cache-sized blocks). specmon also removes the DC offset.")
    print("  welch/pyrtlsdr = pyrtlsdr's packed_bytes_to_iq (complex128) + scipy.signal.welch(detrend=False,")
    print("                   return_onesided=False): what RTL-SDR Python users run today")
    print("  welch/c64      = the cheapest numpy conversion to complex64 + the same welch (stricter baseline)")
    print()
    head = (f"{'nfft':>5} | {'specmon':>19} | {'welch/pyrtlsdr':>19} | {'welch/c64':>19} | {'bare fft':>19} |"
            f" {'speedup':>8} {'(c64)':>6} | {'specmon/fft':>11}")
    print(head)
    print("-" * len(head))
    ok_main = ok_strict = ok_fft = True
    for nfft in (1024, 4096):
        r = bench_psd(raw, nfft)

        def cell(t: float) -> str:
            return f"{t * 1e3:6.1f} ms {r['n'] / t / 1e6:4.0f} MS/s"

        ok_main &= r["speedup128"] >= 8.0
        ok_strict &= r["speedup"] >= 8.0
        ok_fft &= r["vs_fft"] <= 1.5
        print(
            f"{nfft:>5} | {cell(r['spec'])} | {cell(r['welch128'])} | {cell(r['welch'])} | {cell(r['fft'])} |"
            f" {r['speedup128']:7.1f}x {r['speedup']:5.1f}x | {r['vs_fft']:10.2f}x"
        )
    print()
    print("target: >= 8x faster than scipy.signal.welch as users run it (pyrtlsdr conversion):",
          "MET" if ok_main else "NOT MET")
    print("        >= 8x faster than welch after the cheapest complex64 conversion (stricter):",
          "MET" if ok_strict else "NOT MET")
    print("target: <= 1.5x the bare FFT time:", "MET" if ok_fft else "NOT MET")
    print()
    print("sweep overhead, 88-108 MHz at rbw 10 kHz (nfft 512, 12 hops), instant receiver:")
    for dwell_s in (0.0, 0.01):
        t_plan, per_hop_s, n_hops = bench_sweep_overhead(dwell_s)
        print(f"  dwell {dwell_s * 1e3:4.0f} ms: planning {t_plan * 1e3:.3f} ms per sweep, tuning+stitching+"
              f"bookkeeping {per_hop_s * 1e3:.3f} ms per hop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
