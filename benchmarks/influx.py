"""Benchmark: the spool's cost per point and sustained points/s from the spool into a local InfluxDB 1.x.

Targets (issue 6): spool overhead < 20 us per point; >= 50,000 points/s from the spool into InfluxDB.
Starts Debian's influxd on free loopback ports in a temporary directory (tests/services.py), prints the
figures next to the targets and writes them to benchmarks/influx.txt.

    .venv/bin/python benchmarks/influx.py [--points 300000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from station.outputs.sinks import SinkRunner, open_sink  # noqa: E402
from station.outputs.spool import Spool  # noqa: E402
from tests._influx_helpers import sweep_points  # noqa: E402
from tests.services import InfluxServer  # noqa: E402


def realistic_sweeps(n_points: int) -> list[list]:
    """Sweeps of ~540 points (512 band_spectrum + noise + 5 emissions + violation + occupancy) over 5 bands."""
    sweeps, total, k = [], 0, 0
    bands = ["fm", "airband", "vhf", "dab", "uhf"]
    while total < n_points:
        pts, _, _ = sweep_points(k, band=bands[k % 5], n_points=512)
        sweeps.append(pts)
        total += len(pts)
        k += 1
    return sweeps


def bench_spool(tmp: Path, sweeps, synchronous: str, repeats: int = 3) -> tuple[float, float, float, float]:
    """Best of ``repeats`` fresh spools, one put per sweep: (put us/point wall, put us/point CPU,
    peek+ack us/point wall, bytes/point)."""
    n = sum(len(s) for s in sweeps)
    best = (float("inf"), float("inf"), float("inf"), 0.0)
    for r in range(repeats):
        sp = Spool(tmp / f"spool-{synchronous}-{r}.sqlite", synchronous=synchronous)
        t0, c0 = time.perf_counter(), time.process_time()
        for s in sweeps:
            sp.put(s)
        put_us = (time.perf_counter() - t0) / n * 1e6
        put_cpu_us = (time.process_time() - c0) / n * 1e6
        size = sp.used_bytes() / n
        t0 = time.perf_counter()
        while True:
            b = sp.peek(5000)
            if not b:
                break
            sp.ack(b)
        ack_us = (time.perf_counter() - t0) / n * 1e6
        sp.close()
        best = (min(best[0], put_us), min(best[1], put_cpu_us), min(best[2], ack_us), size)
    return best


def bench_send(server: InfluxServer, tmp: Path, sweeps, *, gzip: bool, batch: int, run: int = 0) -> tuple[float, int]:
    """Points/s from a full spool into influxd (send_pending until empty), and points sent."""
    db = f"bench_{int(gzip)}_{batch}_{run}"
    server.create_database(db)
    sp = Spool(tmp / f"send-{db}.sqlite", synchronous="NORMAL")
    for s in sweeps:
        sp.put(s)
    n = sp.depth()
    sink = open_sink(f"influx://127.0.0.1:{server.port}/{db}?gzip={int(gzip)}&timeout=60")
    runner = SinkRunner(sink, sp, batch_points=batch)
    t0 = time.perf_counter()
    sent = runner.send_pending()
    dt = time.perf_counter() - t0
    sink.close()
    sp.close()
    assert sent == n, (sent, n)
    got = server.count("band_spectrum", db=db, field="freq_hz")
    expected = sum(1 for s in sweeps for p in s if p.measurement == "band_spectrum")
    assert got == expected, (got, expected)
    return sent / dt, sent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=300_000, help="points per measurement run (default 300000)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "influx.txt"))
    args = ap.parse_args()
    sweeps = realistic_sweeps(args.points)
    n = sum(len(s) for s in sweeps)
    lines = [
        "specmon benchmark: spool and InfluxDB 1.x output (benchmarks/influx.py)",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}; "
        f"{n} points in {len(sweeps)} sweeps of ~{n // len(sweeps)} points (512 band_spectrum + detections)",
        "",
        f"{'measure':<52} {'target':>12} {'measured':>12}",
    ]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for sync in ("FULL", "NORMAL"):
            put_us, put_cpu_us, ack_us, size = bench_spool(tmp, sweeps, sync)
            lines.append(f"{'spool put (encode+commit), synchronous=' + sync + ', us/point':<52} {'< 20':>12} {put_us:>12.2f}")
            lines.append(f"{'  the same, CPU time only, us/point':<52} {'-':>12} {put_cpu_us:>12.2f}")
            lines.append(f"{'spool peek+ack, synchronous=' + sync + ', us/point':<52} {'-':>12} {ack_us:>12.2f}")
        lines.append(f"{'spool disk use, bytes/point':<52} {'-':>12} {size:>12.0f}")
        with InfluxServer.start(tmp / "influxd") as server:
            for gzip, batch in ((True, 5000), (False, 5000), (True, 10000)):
                rate = max(bench_send(server, tmp, sweeps, gzip=gzip, batch=batch, run=r)[0] for r in range(2))
                label = f"spool -> influxd, gzip={'on' if gzip else 'off'}, batch {batch}, points/s"
                lines.append(f"{label:<52} {'>= 50000':>12} {rate:>12.0f}")
    lines.append("")
    lines.append("best of 3 runs (spool) and of 2 runs (send), wall clock unless said; the machine is shared.")
    lines.append("send figures include reading the spool, HTTP /write (precision=ns) until acknowledged, and the")
    lines.append("acknowledging delete; influxd runs on the same shared cores. Every run is checked by count query.")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
