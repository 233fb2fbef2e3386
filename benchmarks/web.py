"""The web app's cost to the station (issue 16): the sweep loop's per-hop time without the web app, with it and
no browser, and with two live browsers (WebSocket clients taking every spectrum and health message), and the
station's resident memory in each case.

    .venv/bin/python -m benchmarks.web            # prints the figures; commit them as benchmarks/web.txt

Each case is a real `specmon run` on the simulated city (bands vhf + fm back to back, revisit 0.2 s, evidence
off so captures do not add noise), run ROUNDS times interleaved (A B C A B C ...) so drifts of the shared
machine hit every case alike. Per-hop time = sweep duration_s / hops from the station's own log lines
(receive + dsp + detect + compliance + sinks). The two clients run in a separate process, as browsers would.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION_S = 30
ROUNDS = 3

CONFIG = """
[station]
id = "bench-01"
latitude = 21.0285
longitude = 105.8542
[receiver]
uri = "sim://city"
gain = 30.0
seed = 1
[defaults]
rbw = "1k"
dwell = "40ms"
revisit = "200ms"
[[bands]]
name = "vhf"
f_lo = "144M"
f_hi = "160M"
[[bands]]
name = "fm"
f_lo = "87.5M"
f_hi = "108M"
rbw = "5k"
dwell = "20ms"
[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"
[store]
data_dir = "data"
[evidence]
enabled = false
[export]
on_exit = false
[run]
health_interval = "2s"
[web]
enabled = {web}
port = {port}
"""

CLIENTS = r"""
import asyncio, sys, aiohttp
async def one(url, counts, i):
    while True:
        try:
            async with aiohttp.ClientSession() as s:
                async with s.ws_connect(url) as ws:
                    async for msg in ws:
                        counts[i] += len(msg.data)
        except aiohttp.ClientError:
            await asyncio.sleep(0.2)
async def main(url, seconds):
    counts = [0, 0]
    tasks = [asyncio.ensure_future(one(url, counts, i)) for i in range(2)]
    await asyncio.sleep(seconds)
    print(counts[0], counts[1])
    for t in tasks: t.cancel()
asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""

SWEEP = re.compile(r"sweep band=(\w+) sweep=(\d+) hops=(\d+) duration_s=([0-9.]+)")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_case(web: bool, clients: bool) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(CONFIG.format(web="true" if web else "false", port=port))
        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1")
        log = Path(tmp) / "log"
        proc = subprocess.Popen([sys.executable, "-m", "station", "run", "--config", str(cfg), "--sweeps", "0",
                                 "--duration", str(DURATION_S), "--tui", "off"], cwd=tmp, env=env,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
        cl = None
        if clients:
            time.sleep(3)
            cl = subprocess.Popen([sys.executable, "-c", CLIENTS, f"ws://127.0.0.1:{port}/ws", str(DURATION_S - 6)],
                                  stdout=subprocess.PIPE, text=True)
        rss = []
        t_end = time.monotonic() + DURATION_S + 30
        while proc.poll() is None and time.monotonic() < t_end:
            time.sleep(2)
            r = rss_mb(proc.pid)
            if r:
                rss.append(r)
        proc.wait(60)
        received = cl.communicate(timeout=60)[0].split() if cl else []
        text = log.read_text()
    per_hop = [float(m.group(4)) / int(m.group(3)) for m in SWEEP.finditer(text) if int(m.group(2)) > 2]
    return {"per_hop_ms": 1e3 * statistics.median(per_hop), "sweeps": len(per_hop),
            "rss_mb": max(rss) if rss else float("nan"), "bytes": sum(int(x) for x in received)}


def main() -> None:
    cases = {"web off": (False, False), "web on, no browser": (True, False), "web on, 2 live browsers": (True, True)}
    results: dict[str, list[dict]] = {k: [] for k in cases}
    for r in range(ROUNDS):
        for name, (web, clients) in cases.items():
            results[name].append(run_case(web, clients))
            print(f"round {r + 1} {name}: {results[name][-1]}", file=sys.stderr)
    base = statistics.median(x["per_hop_ms"] for x in results["web off"])
    print(f"benchmarks/web.py: `specmon run` on sim://city (vhf 9 hops + fm 12 hops, revisit 0.2 s), {DURATION_S} s "
          f"per run, {ROUNDS} interleaved rounds; median per-hop time of the sweeps after the 2nd of each band")
    print(f"{'case':<26} {'per-hop ms':>10} {'vs off':>8} {'sweeps':>7} {'peak RSS MB':>12} {'WS MB sent':>11}")
    for name, rs in results.items():
        hop = statistics.median(x["per_hop_ms"] for x in rs)
        rss = statistics.median(x["rss_mb"] for x in rs)
        sent = statistics.median(x["bytes"] for x in rs) / 1e6
        print(f"{name:<26} {hop:10.2f} {100 * (hop / base - 1):+7.1f}% {sum(x['sweeps'] for x in rs):7d} "
              f"{rss:12.1f} {sent:11.2f}")
    print("per round (per-hop ms): " + "; ".join(f"{k}: " + ", ".join(f"{x['per_hop_ms']:.2f}" for x in v)
                                                 for k, v in results.items()))


if __name__ == "__main__":
    main()
