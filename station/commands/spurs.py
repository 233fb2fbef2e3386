"""``specmon spurs``: the receiver spur maps the station keeps (issue 12, docs/DETECTION.md section 5).

  specmon spurs show [--config FILE | --db PATH]
  specmon spurs learn --source URI --center-freq F [--sample-rate R] [--antenna-off] [--config FILE | --db PATH]

A spur stays at the same baseband offset when the receiver retunes; a transmitter stays at the same RF
frequency. The station learns each receiver's spurs from its sweeps (a narrow line at the same offset in most
hops at different RF frequencies) and from LO-shift re-measurements before a case opens. `learn` teaches them on
purpose: it tunes at several LO offsets (a non-integer number of bins apart) around --center-freq and keeps the
lines that stay in baseband in every tuning; with --antenna-off (antenna disconnected) every line found is the
receiver's. Maps are kept per receiver (serial or URI) and sample rate in the station store."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("spurs", help="show or learn the receiver spur maps",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["show", "learn"])
    p.add_argument("--config", default=None, metavar="FILE", help="station config (its store holds the maps)")
    p.add_argument("--db", default=None, metavar="PATH", help="the station's SQLite store (instead of --config)")
    p.add_argument("--source", default=None, metavar="URI", help="learn: receiver URI (sim://, rtltcp://, rtlsdr://)")
    p.add_argument("--center-freq", default=None, metavar="F", help="learn: centre of the dithered tunings, e.g. 145M")
    p.add_argument("--sample-rate", default="2.4M", metavar="R", help="learn: sample rate (default 2.4M)")
    p.add_argument("--nfft", type=int, default=2048, help="learn: FFT size (default 2048)")
    p.add_argument("--shifts", type=int, default=5, help="learn: number of LO offsets (default 5, at least 3)")
    p.add_argument("--dwell", type=float, default=0.2, help="learn: seconds of samples per tuning (default 0.2)")
    p.add_argument("--gain", default=None, metavar="DB", help="learn: tuner gain in dB (default auto)")
    p.add_argument("--antenna-off", action="store_true", help="learn: the antenna is disconnected: keep every line")
    p.add_argument("--json", action="store_true",
                   help="show: print the maps as one JSON list (what `specmon detect --spur-map FILE` reads)")
    p.set_defaults(func=run)
    return p


def _db_path(args) -> Path:
    from station.errors import UsageError

    if args.db:
        return Path(args.db)
    if args.config:
        from station.config import load_config

        return load_config(args.config).store.db_path
    raise UsageError("give --config FILE or --db PATH (the station store that holds the spur maps)")


def run(args) -> int:
    from station.errors import UsageError
    from station.pipeline.outputs import StateStore
    from station.spurs import learn_by_dither, load_map, receiver_key, save_map, saved_maps

    path = _db_path(args)
    if args.action == "show":
        if not path.exists():
            raise UsageError(f"no station store at {path}")
        state = StateStore(path)
        try:
            maps = saved_maps(state)
        finally:
            state.close()
        if args.json:
            import json
            import sys

            json.dump([m.to_state() for m in maps], sys.stdout)
            sys.stdout.write("\n")
            return 0
        if not maps:
            print(f"{path}: no spur map yet")
        for m in maps:
            spurs = m.spurs(confirmed_only=False)
            print(f"{m.key}: {sum(s.confirmed for s in spurs)} confirmed spur(s)")
            for s in spurs:
                print(f"  {s.offset_hz / 1e3:+11.3f} kHz  {s.level_db:5.1f} dB  seen {s.n_seen}/{s.n_tested} hops  "
                      f"{s.how:<11} {'confirmed' if s.confirmed else 'candidate'}")
        return 0
    from station.receivers import open_receiver
    from station.units import parse_hz

    if not args.source or not args.center_freq:
        raise UsageError("spurs learn needs --source URI and --center-freq F")
    if args.shifts < 3:
        raise UsageError(f"--shifts {args.shifts} must be at least 3")
    rate = parse_hz(args.sample_rate, what="--sample-rate")
    center = parse_hz(args.center_freq, what="--center-freq")
    rx = open_receiver(args.source)
    try:
        rx.set_sample_rate(rate)
        rx.set_gain(None if args.gain in (None, "auto") else float(args.gain))
        state = StateStore(path)
        try:
            smap = load_map(state, receiver_key(rx, rate))
            try:
                added = learn_by_dither(rx, smap, center_hz=center, sample_rate_hz=rate, nfft=args.nfft,
                                        n_shifts=args.shifts, dwell_s=args.dwell, antenna_off=args.antenna_off)
            except ValueError as exc:
                raise UsageError(str(exc), where=args.source) from None
            save_map(state, smap)
        finally:
            state.close()
    finally:
        rx.close()
    print(f"{smap.key}: {len(added)} spur(s) learnt at {center / 1e6:.6f} MHz")
    for s in added:
        print(f"  {s.offset_hz / 1e3:+11.3f} kHz  {s.level_db:5.1f} dB over the floor")
    return 0
