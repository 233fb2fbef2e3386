"""How fast the non-simulated sources deliver samples, against an RTL-SDR's 2.4 MS/s real time.

  * ``file:`` replay of a cu8 recording (read_raw, and read = raw + conversion to complex64), looping;
  * ``rtltcp://`` client <-> ``RtlTcpServer`` over loopback, server unpaced (the protocol path's ceiling);
  * the same server paced at 2.4 MS/s: the delivered rate must match the sample rate (GQRX and the station
    depend on it).

Prints one line per path: MS/s and the ratio to 2.4 MS/s real time.

    .venv/bin/python benchmarks/sources.py [--seconds 2] [--block 262144]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REAL_TIME = 2.4e6


def _rate(read, block: int, seconds: float) -> float:
    read(block)  # warm-up (imports, first buffers)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        read(block)
        n += block
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds to time each path (default 2)")
    ap.add_argument("--block", type=int, default=262144, help="samples per read (default 262144)")
    args = ap.parse_args()

    from station.receivers import open_receiver
    from station.rtltcp_server import RtlTcpServer

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "noise_100M_2400k.cu8"
        rng = np.random.default_rng(0)
        rng.integers(96, 160, size=2 * 2_400_000, dtype=np.uint8).tofile(path)  # 1 s at 2.4 MS/s

        with open_receiver(f"file:{path}?loop=1") as rx:
            rows.append(("file: read_raw (cu8)", _rate(rx.read_raw, args.block, args.seconds)))
            rows.append(("file: read (complex64)", _rate(rx.read, args.block, args.seconds)))

        for paced in (False, True):
            src = open_receiver(f"file:{path}?loop=1")
            server = RtlTcpServer(src, "127.0.0.1", 0, pace=paced)
            server.bind()
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            with open_receiver(f"rtltcp://127.0.0.1:{server.port}?settle=0") as rx:
                rx.set_sample_rate(REAL_TIME)
                label = "rtltcp: server paced at 2.4 MS/s" if paced else "rtltcp: loopback, server unpaced"
                rows.append((label, _rate(rx.read_raw, args.block, args.seconds)))
            server.shutdown()
            thread.join(5)
            src.close()

    print(f"{'path':<36} {'MS/s':>8} {'x real time (2.4 MS/s)':>24}")
    for label, rate in rows:
        print(f"{label:<36} {rate / 1e6:8.2f} {rate / REAL_TIME:24.2f}")


if __name__ == "__main__":
    main()
