"""The web app's cost to the station (issue 16): the sweep loop's per-hop time without the web app, with it and
no browser, and with two live browsers (WebSocket clients taking every spectrum and health message), and the
station's resident memory in each case.

    .venv/bin/python -m benchmarks.web            # prints the figures; commit them as benchmarks/web.txt

Every run is a real `specmon run` on the simulated city (bands vhf + fm back to back, revisit 0.2 s, evidence
off so captures do not add noise). Per-hop time = the sweep's duration_s / hops from the station's own log lines.
The shared machine's load drifts by +/-20 % between runs, more than the effect sought, so both comparisons are
paired at a short time scale and summarised by medians, never by one run against another:

1. Two live browsers vs none, in ONE station process: a client process connects two WebSocket clients for
   TOGGLE_S seconds, disconnects them for TOGGLE_S, and so on (A/B/A/B...). Each sweep is stamped with the time
   its log line arrives and assigned to the clients-on or clients-off window it falls in (sweeps within
   SETTLE_S of a toggle are dropped). Per on-window: ratio of its median per-hop time to the median of the two
   adjacent off-windows; the figure is the median of these ratios with a bootstrap 95 % interval.
2. Web app on (idle) vs off: separate processes, interleaved A/B/A/B for ROUNDS rounds; per B run the ratio to
   the mean of the A runs before and after it; median ratio with its bootstrap interval.
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
sys.path.insert(0, str(ROOT))

from tests.web_helpers import city_config_text  # noqa: E402
DURATION_S = 20  # one run of the web on/off comparison
ROUNDS = 10  # A/B rounds of the web on/off comparison
TOGGLE_DURATION_S = 600  # the clients on/off run
TOGGLE_S = 5.0  # clients connected / disconnected for this long, alternately
SETTLE_S = 1.0  # sweeps this close to a toggle are dropped
WARMUP_S = 8.0  # start-up (numba cache, first sweeps) left out

CLIENTS = r"""
import asyncio, sys, time, aiohttp
async def one(url, counts, i):
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(url) as ws:
            async for msg in ws:
                counts[i] += len(msg.data)
async def main(url, toggle, total):
    counts = [0, 0]
    end = time.monotonic() + total
    while time.monotonic() < end:
        tasks = [asyncio.ensure_future(one(url, counts, i)) for i in range(2)]
        print("on", time.monotonic(), flush=True)
        await asyncio.sleep(toggle)
        for t in tasks: t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print("off", time.monotonic(), flush=True)
        await asyncio.sleep(toggle)
    print("bytes", counts[0] + counts[1], flush=True)
asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
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


def station(web: bool, duration_s: float, tmp: str, port: int) -> subprocess.Popen:
    cfg = Path(tmp) / "bench.toml"
    cfg.write_text(city_config_text(port, station='id = "bench-01"', revisit="200ms", evidence="enabled = false",
                                    web=web))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "station", "run", "--config", str(cfg), "--sweeps", "0",
                             "--duration", str(duration_s), "--tui", "off"], cwd=tmp, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def follow(proc: subprocess.Popen, started: float) -> tuple[list[tuple[float, float]], list[float]]:
    """Read the station's log as it comes: [(arrival monotonic time, per-hop ms)] after the warm-up, and the RSS
    samples (MB) taken along the way."""
    sweeps: list[tuple[float, float]] = []
    rss: list[float] = []
    for line in proc.stdout:
        now = time.monotonic()
        m = SWEEP.search(line)
        if m and now - started > WARMUP_S and int(m.group(3)) > 0:
            sweeps.append((now, 1e3 * float(m.group(4)) / int(m.group(3))))
            r = rss_mb(proc.pid)
            if r:
                rss.append(r)
    proc.wait(60)
    return sweeps, rss


def bootstrap_ci(ratios: list[float], n: int = 4000) -> tuple[float, float]:
    import random

    rng = random.Random(1)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n)]


def run_onoff() -> dict:
    """Web off (A) vs web on without browser (B), separate processes, A B A B ... A."""
    runs: list[tuple[str, float, float]] = []
    order = ["off", "on"] * ROUNDS + ["off"]
    for k, case in enumerate(order):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            proc = station(case == "on", DURATION_S, tmp, free_port())
            sweeps, rss = follow(proc, started)
        hop = statistics.median(h for _, h in sweeps)
        runs.append((case, hop, max(rss) if rss else float("nan")))
        print(f"run {k + 1}/{len(order)} web {case}: per-hop {hop:.2f} ms, {len(sweeps)} sweeps", file=sys.stderr)
    ratios = [runs[i][1] / (0.5 * (runs[i - 1][1] + runs[i + 1][1])) for i in range(1, len(runs) - 1, 2)]
    return {"runs": runs, "ratios": ratios}


def run_toggle() -> dict:
    """One station with the web app; two clients toggled on/off every TOGGLE_S."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        started = time.monotonic()
        proc = station(True, TOGGLE_DURATION_S, tmp, port)
        time.sleep(WARMUP_S)
        cl = subprocess.Popen([sys.executable, "-c", CLIENTS, f"ws://127.0.0.1:{port}/ws", str(TOGGLE_S),
                               str(TOGGLE_DURATION_S - WARMUP_S - 2 * TOGGLE_S)], stdout=subprocess.PIPE, text=True)
        sweeps, rss = follow(proc, started)
        out = cl.communicate(timeout=120)[0].split("\n")
    toggles = [(line.split()[0], float(line.split()[1])) for line in out if line.startswith(("on ", "off "))]
    sent = next((int(line.split()[1]) for line in out if line.startswith("bytes ")), 0)
    windows = []  # (state, [per-hop ms])
    for (state, t0), (_, t1) in zip(toggles, toggles[1:]):
        windows.append((state, [h for t, h in sweeps if t0 + SETTLE_S <= t < t1 - 0.1]))
    ratios = []
    for i in range(1, len(windows) - 1):
        state, hops = windows[i]
        before, after = windows[i - 1][1], windows[i + 1][1]
        if state == "on" and hops and before and after:
            ratios.append(statistics.median(hops) / (0.5 * (statistics.median(before) + statistics.median(after))))
    on = [h for s, hs in windows if s == "on" for h in hs]
    off = [h for s, hs in windows if s == "off" for h in hs]
    return {"ratios": ratios, "on": on, "off": off, "rss": max(rss) if rss else float("nan"), "sent_mb": sent / 1e6,
            "windows": len(windows)}


def publish_cost(n_bins: int = 24_000, n_emissions: int = 12, repeats: int = 300) -> tuple[float, float]:
    """What the sweep loop itself spends handing a sweep to the web app (LiveHub.publish_sweep: peak decimation
    of the stitched spectrum, the emission marks, a lock): median and 90th percentile in ms per sweep, on a
    spectrum the size of the vhf band's (16 MHz at 1 kHz RBW). Deterministic work, unlike the A/B runs."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    import numpy as np

    from station.web.hub import LiveHub

    rng = np.random.default_rng(1)
    freqs = np.linspace(144e6, 160e6, n_bins)
    emission = SimpleNamespace(center_hz=150e6, f_lo_hz=149.99e6, f_hi_hz=150.01e6, bandwidth_hz=11e3,
                               power_dbfs=-60.0, peak_dbfs=-55.0, snr_db=20.0)
    judged = tuple(SimpleNamespace(emission=emission, result=None, track_id=f"t{i}", note="", klass="unknown")
                   for i in range(n_emissions))
    hub = LiveHub(1024)
    times = []
    for k in range(repeats):
        spec = SimpleNamespace(freqs_hz=freqs, psd_dbfs_hz=rng.normal(-110, 2, n_bins), f_lo_hz=144e6,
                               f_hi_hz=160e6, enbw_hz=1000.0, n_bins=n_bins)
        report = SimpleNamespace(spectrum=spec, band="vhf", sweep_no=k, end_utc=datetime.now(timezone.utc),
                                 results=judged, noise_median_dbfs_hz=-110.0, duration_s=0.1, revisit_s=0.2)
        t0 = time.perf_counter()
        hub.publish_sweep(report)
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1e3 * statistics.median(times), 1e3 * times[int(0.9 * len(times))]


def main() -> None:
    toggle = run_toggle()
    onoff = run_onoff()
    print(f"benchmarks/web.py: `specmon run` on sim://city (vhf 9 hops + fm 12 hops, revisit 0.2 s), one DSP thread; "
          f"per-hop time = sweep duration_s / hops from the station's log")
    print()
    r, (lo, hi) = statistics.median(toggle["ratios"]), bootstrap_ci(toggle["ratios"])
    print(f"1. two live WebSocket clients vs none, one station process, clients on/off every {TOGGLE_S:.0f} s for "
          f"{TOGGLE_DURATION_S} s ({toggle['windows']} windows, {len(toggle['ratios'])} on-windows each paired with "
          f"its neighbours)")
    print(f"   per-hop ms median: clients off {statistics.median(toggle['off']):.2f} ({len(toggle['off'])} sweeps), "
          f"on {statistics.median(toggle['on']):.2f} ({len(toggle['on'])} sweeps); {toggle['sent_mb']:.1f} MB sent")
    print(f"   paired ratio on/off: median {100 * (r - 1):+.1f} % (bootstrap 95 % interval {100 * (lo - 1):+.1f} % .. "
          f"{100 * (hi - 1):+.1f} %); peak RSS {toggle['rss']:.1f} MB")
    print("   ratios: " + ", ".join(f"{x:.3f}" for x in toggle["ratios"]))
    print()
    r, (lo, hi) = statistics.median(onoff["ratios"]), bootstrap_ci(onoff["ratios"])
    offs = [x for x in onoff["runs"] if x[0] == "off"]
    ons = [x for x in onoff["runs"] if x[0] == "on"]
    print(f"2. web app on (no browser) vs off, separate {DURATION_S} s runs interleaved A/B/A/B ({ROUNDS} rounds), "
          f"each B paired with the A before and after")
    print(f"   per-hop ms median: off {statistics.median(x[1] for x in offs):.2f}, on {statistics.median(x[1] for x in ons):.2f}; "
          f"peak RSS median: off {statistics.median(x[2] for x in offs):.1f} MB, on {statistics.median(x[2] for x in ons):.1f} MB")
    print(f"   paired ratio on/off: median {100 * (r - 1):+.1f} % (bootstrap 95 % interval {100 * (lo - 1):+.1f} % .. "
          f"{100 * (hi - 1):+.1f} %)")
    print("   per run (case, per-hop ms): " + ", ".join(f"{c} {h:.2f}" for c, h, _ in onoff["runs"]))
    print()
    print(publish_text())


def publish_text() -> str:
    med, p90 = publish_cost()
    return (f"3. the sweep loop's own work for the web app (LiveHub.publish_sweep of a 24,000-bin vhf sweep with 12 "
            f"emissions, 300 times): median {med:.3f} ms per sweep (90th percentile {p90:.3f} ms) = "
            f"{med / 9:.4f} ms per hop of the 9-hop vhf sweep")


if __name__ == "__main__":
    main()
