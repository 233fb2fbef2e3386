"""``specmon warmup``: compile the numba kernels into numba's cache (at install; the systemd unit's ExecStartPre)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "warmup",
        help="compile the DSP/detection kernels into numba's cache (run once at install)",
        description="Compile every numba kernel the station uses (sweep conversion and PSD, simulator, noise "
        "floor and detection, evidence demodulators) by running each path once on tiny inputs, so that "
        "`specmon run` starts measuring at once and compilation never counts against a receiver read timeout. "
        "The machine code goes to numba's cache (NUMBA_CACHE_DIR, or __pycache__ next to the code); with an "
        "empty cache this takes minutes on a Raspberry Pi, afterwards a few seconds. `specmon run` also warms "
        "up before its first sweep (unless --no-warmup).",
    )
    p.add_argument("--config", metavar="FILE", help="station config (its bands' settings); default: the demo's")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import os

    from station.config import load_config
    from station.warmup import warm_up

    config = load_config(args.config) if args.config else None
    report = warm_up(config)
    cache = os.environ.get("NUMBA_CACHE_DIR") or "__pycache__ next to the code"
    print(f"specmon warmup: {report.bands} bands warmed in {report.seconds:.1f} s; numba cache: {cache}")
    for p in report.problems:
        print(f"  not warmed: {p}")
    return 0
