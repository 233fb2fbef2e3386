"""Benchmark: licence register load time for 100,000 rows (CSV and JSON), and matching 10,000 emissions against
the 100,000-assignment register (target < 100 ms), next to a brute-force scan of every row as the baseline.

    .venv/bin/python benchmarks/compliance.py            # prints the table, writes benchmarks/compliance.txt

The register is synthetic but shaped like a national one: channel assignments on 12.5/25 kHz rasters in the
VHF/UHF land-mobile bands, FM and TV broadcasting, airband, block (IMT) assignments and microwave links, with
sites scattered over a 600 km x 600 km country and a mix of statuses and validity periods.
"""

from __future__ import annotations

import csv
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from station.compliance.checker import ComplianceChecker  # noqa: E402
from detectors.records import Emission  # noqa: E402
from station.compliance.register import COLUMNS, load_exempt_bands_strict, load_register, write_register_json  # noqa: E402

N_ROWS = 100_000
N_EMISSIONS = 10_000
WHEN = datetime(2026, 11, 29, 12, tzinfo=timezone.utc)
STATION = (21.0285, 105.8542)


def make_register(path: Path, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["lmr_vhf", "lmr_uhf", "fm", "air", "block", "link"], size=n, p=[0.35, 0.35, 0.05, 0.05,
                                                                                      0.02, 0.18])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for i, k in enumerate(kinds):
            row = dict.fromkeys(COLUMNS, "")
            row["licence"] = f"L-{i:07d}"
            row["licensee"] = f"Licensee {rng.integers(0, 5000)}"
            row["service"] = k
            row["station_name"] = f"site {rng.integers(0, 20000)}"
            if k == "lmr_vhf":
                row["frequency_mhz"] = f"{146 + 0.0125 * rng.integers(0, 2240):.4f}"
                row["designator"] = str(rng.choice(["11K0F3E", "7K60FXE", "16K0F3E"]))
                row["tolerance_hz"] = "2500"
            elif k == "lmr_uhf":
                row["frequency_mhz"] = f"{403 + 0.0125 * rng.integers(0, 5360):.4f}"
                row["designator"] = str(rng.choice(["11K0F3E", "7K60FXE"]))
                row["tolerance_ppm"] = "5"
            elif k == "fm":
                row["frequency_mhz"] = f"{87.6 + 0.1 * rng.integers(0, 204):.1f}"
                row["designator"] = "180KF8EHF"
                row["tolerance_hz"] = "2000"
            elif k == "air":
                row["frequency_mhz"] = f"{118 + 0.025 * rng.integers(0, 760):.3f}"
                row["designator"] = "6K00A3E"
                row["tolerance_ppm"] = "20"
            elif k == "block":
                lo = 700 + 5 * rng.integers(0, 400)
                row["lower_mhz"], row["upper_mhz"] = str(lo), str(lo + int(rng.choice([5, 10, 20])))
                row["tolerance_ppm"] = "0.05"
            else:
                row["frequency_mhz"] = f"{rng.uniform(6000, 23000):.3f}"
                row["designator"] = str(rng.choice(["28M0D7W", "14M0D7W"]))
                row["tolerance_ppm"] = "10"
            if k != "block":
                row["latitude"] = f"{rng.uniform(18.3, 23.7):.5f}"
                row["longitude"] = f"{rng.uniform(103.0, 108.7):.5f}"
                row["radius_km"] = str(int(rng.choice([5, 10, 25, 50])))
            y = int(rng.integers(2015, 2026))
            row["valid_from"] = f"{y}-{int(rng.integers(1, 13)):02d}-01"
            row["valid_to"] = f"{y + int(rng.choice([2, 5, 10]))}-12-31"
            row["status"] = str(rng.choice(["current", "expired", "pending", "cancelled"], p=[0.9, 0.05, 0.03, 0.02]))
            w.writerow([row[c] for c in COLUMNS])


def make_emissions(assignments, n: int, seed: int = 11) -> list[Emission]:
    rng = np.random.default_rng(seed)
    centres = np.array([a.center_hz for a in assignments])
    out = []
    for k in range(n):
        if k % 2 == 0:  # near an assigned channel, with a measurement offset
            c = float(rng.choice(centres) + rng.normal(0, 1500))
        else:  # anywhere in the monitored range
            c = float(rng.uniform(87.5e6, 1000e6))
        bw = float(rng.choice([6e3, 8e3, 11e3, 16e3, 40e3, 180e3]))
        out.append(Emission(center_hz=c, peak_hz=c, f_lo_hz=c - bw / 2, f_hi_hz=c + bw / 2, bandwidth_hz=bw,
                            xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=-60.0, peak_dbfs=-65.0, snr_db=20.0,
                            noise_dbfs_hz=-130.0, occupancy=1.0, first_seen=WHEN, last_seen=WHEN))
    return out


def brute_force_candidates(checker: ComplianceChecker, emissions: list[Emission]) -> float:
    """Baseline: scan all rows per emission (the candidate search alone), seconds."""
    lo, hi = checker._lo, checker._hi
    t = time.perf_counter()
    for e in emissions:
        np.flatnonzero((lo <= e.f_hi_hz + 50e3) & (hi >= e.f_lo_hz - 50e3))
    return time.perf_counter() - t


def best_of(fn, repeats: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def main() -> int:
    lines = []

    def say(text: str = "") -> None:
        print(text)
        lines.append(text)

    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "register100k.csv"
        json_path = Path(tmp) / "register100k.json"
        make_register(csv_path, N_ROWS)
        t_csv = best_of(lambda: load_register(csv_path), 3)
        reg = load_register(csv_path)
        assert not reg.errors, reg.errors[:3]
        write_register_json(reg.assignments, json_path)
        t_json = best_of(lambda: load_register(json_path), 3)
        size_mb = os.path.getsize(csv_path) / 1e6
    real = ROOT.parent / "shared" / "data" / "register" / "ourairports_airport-frequencies.csv"
    t_real = None
    if real.is_file():
        from station.compliance.register import import_register

        t_real = best_of(lambda: import_register([real], "ourairports"), 3)
        n_real = import_register([real], "ourairports").rows_read
    bands = load_exempt_bands_strict()
    t0 = time.perf_counter()
    checker = ComplianceChecker(reg.assignments, bands, STATION, 30_000.0, 1.0)
    t_build = time.perf_counter() - t0
    emissions = make_emissions(reg.assignments, N_EMISSIONS)
    checker.check(emissions[:10], WHEN)  # warm-up
    t_match = best_of(lambda: checker.check(emissions, WHEN), 7)
    t_match_cpu = best_of(lambda: checker.check(emissions, WHEN), 7, time.process_time)
    results = checker.check(emissions, WHEN)
    classes: dict[str, int] = {}
    for r in results:
        classes[r.klass.value] = classes.get(r.klass.value, 0) + 1
    sample = emissions[:1000]
    t_scan = brute_force_candidates(checker, sample) * (N_EMISSIONS / len(sample))

    say(f"specmon compliance benchmark  ({platform.python_implementation()} {platform.python_version()}, "
        f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs)")
    say(f"register: {N_ROWS:,} synthetic assignments, CSV {size_mb:.1f} MB; emissions: {N_EMISSIONS:,}")
    say(f"load average during the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (shared machine; wall times "
        "are best of several runs)")
    say("")
    say(f"{'measurement':<58}{'result':>12}{'target':>12}")
    say(f"{'load 100k-row register, CSV (validate every row)':<58}{t_csv:>10.2f} s{'seconds':>12}")
    say(f"{'load 100k-row register, JSON (validate every row)':<58}{t_json:>10.2f} s{'seconds':>12}")
    if t_real is not None:
        say(f"{f'import real OurAirports register ({n_real:,} rows)':<58}{t_real:>10.2f} s{'seconds':>12}")
    say(f"{'build checker (interval index, site distances)':<58}{t_build * 1e3:>9.1f} ms{'':>12}")
    say(f"{'match 10k emissions, interval index (whole check)':<58}{t_match * 1e3:>9.1f} ms{'< 100 ms':>12}")
    say(f"{'match 10k emissions, CPU time of the process':<58}{t_match_cpu * 1e3:>9.1f} ms{'< 100 ms':>12}")
    say(f"{'  baseline: candidate scan of all rows (10k, extrapolated)':<58}{t_scan * 1e3:>9.1f} ms{'':>12}")
    say(f"{'  per emission':<58}{t_match / N_EMISSIONS * 1e6:>9.1f} us{'':>12}")
    say("")
    say("classes found: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
    say("verdict: " + ("match target met" if t_match < 0.1 else "match target MISSED")
        + f" (best wall time {t_match * 1e3:.0f} ms of 7 runs; CPU {t_match_cpu * 1e3:.0f} ms)")
    (ROOT / "benchmarks" / "compliance.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
