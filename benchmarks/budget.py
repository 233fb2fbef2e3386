"""Station budget on the simulated receiver (issue 8): per-hop time split receive / dsp / detect / compliance /
sinks, CPU per second of 2.4 MS/s samples, peak RSS of a whole `specmon run` (the default demo, and a longer run
with evidence capture: 24 sweeps per band), start-up to the first hop with a warm numba cache.

    .venv/bin/python benchmarks/budget.py             # prints the figures; commit them as benchmarks/budget.txt

Single thread for the DSP (NUMBA_NUM_THREADS=1 and BLAS/OMP threads 1, set before numpy loads). `receive` on
the simulator is the time the simulator takes to *generate* the samples (a real dongle's receive time is the
dwell itself, spent waiting, not computing), so the CPU figure is given with and without it.
"""

from __future__ import annotations

import os

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SWEEPS = 4


def pipeline_split(data_dir: Path) -> list[str]:
    """Run the demo bands through the real pipeline in-process (no idle time) and split the time per stage."""
    from dataclasses import replace

    from station.config import demo_config
    from station.daemon import Daemon, SystemdNotifier
    from station.pipeline import STAGES
    from station.tui import LogReporter

    cfg = demo_config(data_dir)
    cfg = replace(cfg, bands=tuple(replace(b, revisit_s=0.001) for b in cfg.bands),
                  evidence=replace(cfg.evidence, enabled=False),
                  export=replace(cfg.export, on_exit=False)).with_bounds(sweeps=SWEEPS + 1)
    reports: list = []

    class Collect(LogReporter):
        def sweep_done(self, report):
            reports.append((report, time.process_time()))

        def start(self, daemon):
            self.daemon = daemon

    d = Daemon(cfg, reporter=Collect(), notifier=SystemdNotifier(environ={}))
    d.run()
    warm = [r for r in reports if r[0].sweep_no > 1]  # the first sweep of each band compiles/warms caches
    lines = [f"demo bands on sim://city, {SWEEPS} sweeps per band after one warm-up sweep; wall ms per hop "
             "(median over sweeps)", ""]
    head = f"{'band':<8} {'hops':>4} {'rbw Hz':>7} {'dwell ms':>8} " + " ".join(f"{s:>10}" for s in STAGES) + \
        f" {'total':>8}"
    lines.append(head)
    tot_samples = 0.0
    tot = {s: 0.0 for s in STAGES}
    for b in cfg.bands:
        rs = [r for r, _ in warm if r.band == b.name]
        per_hop = {s: statistics.median(r.per_hop_s[s] for r in rs) * 1e3 for s in STAGES}
        n_hops = rs[0].n_hops
        plan = d.pipeline._plans[b.name] if hasattr(d.pipeline, "_plans") else None
        spv = plan.samples_per_visit(plan.bands[0]) if plan else b.dwell_s * 2.4e6
        tot_samples += spv * n_hops * len(rs)
        for s in STAGES:
            tot[s] += sum(r.timings_s[s] for r in rs)
        lines.append(f"{b.name:<8} {n_hops:>4} {b.rbw_hz:>7.0f} {b.dwell_s * 1e3:>8.0f} "
                     + " ".join(f"{per_hop[s]:>10.2f}" for s in STAGES) + f" {sum(per_hop.values()):>8.2f}")
    lines.append("")
    seconds_of_samples = tot_samples / 2.4e6
    wall = sum(tot.values())
    no_rx = wall - tot["receive"]
    cpu = warm[-1][1] - warm[0][1]
    lines.append(f"samples processed: {tot_samples / 1e6:.1f} M = {seconds_of_samples:.2f} s at 2.4 MS/s")
    lines.append(f"stage share of the wall time: " + ", ".join(f"{s} {100 * tot[s] / wall:.0f} %" for s in STAGES))
    lines.append(f"wall per second of samples: {wall / seconds_of_samples:.3f} s (with simulator generation), "
                 f"{no_rx / seconds_of_samples:.3f} s without receive (dsp+detect+compliance+sinks)")
    lines.append(f"process CPU per second of samples: {cpu / seconds_of_samples:.3f} CPU-s "
                 f"(includes the simulator and the sink threads)")
    return lines


def startup_and_rss(data_dir: Path) -> list[str]:
    """Start-up to the first hop (warm numba cache) and peak RSS of a whole bounded `specmon run` (demo)."""
    out = []
    runs = []
    for i in range(3):  # run 0 warms the numba cache (and the OS page cache)
        t0 = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "station", "run", "--data-dir", str(data_dir / f"r{i}"),
                            "--sweeps", "2", "--tui", "off"], capture_output=True, text=True, cwd=ROOT)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            raise SystemExit(f"specmon run failed: {p.stderr[-2000:]}")
        m = re.search(r"first hop ([0-9.]+) s after the process started", p.stderr)
        runs.append((float(m.group(1)) if m else float("nan"), wall))
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # the README's first command as it is: `specmon run`, no bound given (the demo's default sweeps per band)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "station", "run", "--data-dir", str(data_dir / "default"),
                        "--tui", "off"], capture_output=True, text=True, cwd=ROOT)
    default_wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"specmon run failed: {p.stderr[-2000:]}")
    default_rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the max over all runs so far
    m = re.search(r"after (\d+) band sweeps", p.stdout + p.stderr)
    default_sweeps = f"{int(m.group(1)) // 5} sweeps per band" if m else "its default sweeps"
    out.append(f"start-up to the first hop, warm numba cache: {runs[1][0]:.2f} s, {runs[2][0]:.2f} s "
               f"(first run of this benchmark: {runs[0][0]:.2f} s)   target < 3 s")
    out.append(f"whole demo run (5 bands x 2 sweeps, evidence, CSV+PDF export): {runs[2][1]:.1f} s wall; "
               f"default demo (`specmon run`, {default_sweeps}): {default_wall:.1f} s wall")
    out.append(f"peak RSS of `specmon run` (demo, all 5 bands, sim:// in-process): {rss_kb / 1024:.0f} MB with "
               f"--sweeps 2, {default_rss_kb / 1024:.0f} MB for the default demo   target < 300 MB")
    out.append(f"peak RSS of the station process with the simulator behind rtl_tcp (as with a real dongle): "
               f"{station_rss_over_rtltcp(data_dir):.0f} MB")
    out += long_run_rss(data_dir / "long", LONG_SWEEPS)
    return out


LONG_SWEEPS = 24

#: run `specmon run` in-process, then print its peak/final RSS and the heavy modules it holds (stderr)
_RSS_WRAPPER = (
    "import logging, re, sys; from station.cli import main; "
    "logging.getLogger('station.childproc').setLevel(logging.DEBUG); rc = main(sys.argv[1:]); "
    "st = open('/proc/self/status').read(); "
    "print('VmHWM', re.search(r'VmHWM:\\s+(\\d+)', st).group(1), 'VmRSS', re.search(r'VmRSS:\\s+(\\d+)', st).group(1), "
    "'heavy', ','.join(m for m in ('matplotlib', 'fpdf', 'openpyxl', 'PIL') if m in sys.modules) or '-', "
    "file=sys.stderr); sys.exit(rc)")


def long_run_rss(data_dir: Path, sweeps: int) -> list[str]:
    """A longer demo run with evidence capture and the CSV+PDF export at the end (`specmon run --sweeps N` in an
    empty folder): the station's peak and final RSS, and the peak RSS of the short-lived child processes that
    draw the evidence snapshots and write the export (station.childproc), read from its debug log."""
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, "run", "--data-dir", str(data_dir), "--sweeps",
                        str(sweeps), "--tui", "off"], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"specmon run --sweeps {sweeps} failed: {p.stderr[-2000:]}")
    m = re.search(r"VmHWM (\d+) VmRSS (\d+) heavy (\S+)", p.stderr)
    hwm, rss, heavy = int(m.group(1)) / 1024, int(m.group(2)) / 1024, m.group(3)
    children = [(name, float(t), float(mb)) for name, t, mb in re.findall(
        r"(\S+) ran in a child process in ([0-9.]+) s, its peak RSS ([0-9.]+) MB", p.stderr)]
    snaps = [c for c in children if c[0].endswith("snapshot_png")]
    exports = [c for c in children if c[0].endswith("export_db")]
    cases = re.search(r"violation cases \((\d+)", p.stdout + p.stderr)
    out = [f"peak RSS of a longer run with evidence (`specmon run --sweeps {sweeps}` in an empty folder: "
           f"{cases.group(1) if cases else '?'} cases with evidence, CSV+PDF export): {hwm:.0f} MB for the station "
           f"process ({rss:.0f} MB at its end; heavy modules loaded in it: {heavy}); {wall:.0f} s wall   "
           f"aim < 250 MB"]
    if snaps:
        out.append(f"  evidence snapshots drawn in {len(snaps)} short-lived child processes: "
                   f"{min(c[1] for c in snaps):.2f}-{max(c[1] for c in snaps):.2f} s each, peak RSS "
                   f"{max(c[2] for c in snaps):.0f} MB (while one runs, station + child)")
    if exports:
        out.append(f"  export in a child process at the end: {exports[0][1]:.2f} s, peak RSS {exports[0][2]:.0f} MB")
    return out


def station_rss_over_rtltcp(data_dir: Path) -> float:
    """The station's own peak RSS: the simulator (whose numba kernels take ~80 MB) runs in a separate
    `specmon rtltcp-serve` process and the station reads it through rtltcp://, as it would a dongle."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "station", "rtltcp-serve", "--source", "sim://city",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    try:
        time.sleep(2.0)
        demo = (ROOT / "station" / "data" / "demo.toml").read_text()
        demo = demo.replace('uri = "sim://city"', f'uri = "rtltcp://127.0.0.1:{port}"').replace("seed = 1\n", "")
        cfg = data_dir / "rtltcp.toml"
        cfg.write_text(demo)
        code = ("import re, sys; from station.cli import main; rc = main(sys.argv[1:]); "
                "print('VmHWM', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1), "
                "file=sys.stderr); sys.exit(rc)")
        p = subprocess.run([sys.executable, "-c", code, "run", "--config", str(cfg), "--data-dir",
                            str(data_dir / "rtltcp"), "--sweeps", "2", "--tui", "off"], capture_output=True,
                           text=True, cwd=ROOT, timeout=600)
        if p.returncode != 0:
            raise SystemExit(f"specmon run over rtl_tcp failed: {p.stderr[-2000:]}")
        return int(re.search(r"VmHWM (\d+)", p.stderr).group(1)) / 1024
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    import platform

    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"# benchmarks/budget.py on {platform.machine()} {platform.python_version()}, "
                 f"{os.cpu_count()} CPUs (shared), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
                 f"# load average at start {os.getloadavg()[0]:.1f} (wall figures stretch with other load; CPU "
                 "figures less so)", ""]
        lines += startup_and_rss(Path(tmp))
        lines.append("")
        lines += pipeline_split(Path(tmp) / "split")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
