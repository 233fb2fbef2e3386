"""``specmon config check FILE`` and ``specmon config sample``: validate a station config, print the sample."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "config",
        help="validate a station config file or print the commented sample",
        description="Validate a station configuration (TOML) without running the station, or print the "
        "commented sample config that documents every key.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    c = actions.add_parser(
        "check",
        help="validate FILE: exit 0 and print a summary, or print the first error (file:key or file:line:col)",
        description="Validate FILE exactly as specmon run does at start-up and on a SIGHUP reload (one shared "
        "function): types and plausible ranges, receiver URIs (parsed without opening; sim: scenario files loaded "
        "and validated), each band inside its receiver's tuning range, rbw feasible at the sample rate, the "
        "register and exempt bands (every row, and the checker's index). Exit 0 when valid; otherwise one line "
        "naming the file, key (or line:column) and reason, exit 3 (config), 4 (a bad data file such as the "
        "register or a scenario) or 2 (a malformed URI).",
    )
    c.add_argument("file", metavar="FILE", help="station config (TOML)")
    s = actions.add_parser("sample", help="print the commented sample config (every key with its default)")
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout (not overwritten)")
    p.set_defaults(func=run, _parser=p)
    return p


def run(args) -> int:
    from station.config import load_config, sample_text
    from station.errors import UsageError

    if args.action == "check":
        from station.preflight import check_config

        cfg = load_config(args.file)
        check_config(cfg)
        print(f"{args.file}: OK: station {cfg.station.id} ({cfg.station.name}) at {cfg.station.latitude:.4f}, "
              f"{cfg.station.longitude:.4f}")
        for r in cfg.receivers:
            gain = "auto" if r.gain_db is None else f"{r.gain_db:g} dB"
            print(f"  receiver {r.name}: {r.uri}, {r.sample_rate_hz / 1e6:g} MS/s, gain {gain}, ppm {r.ppm}")
        for b in cfg.bands:
            ch = f", {b.channels.n_channels} channels" if b.channels else ""
            print(f"  band {b.name}: {b.f_lo_hz / 1e6:g}-{b.f_hi_hz / 1e6:g} MHz, rbw {b.rbw_hz:g} Hz, dwell "
                  f"{b.dwell_s:g} s, revisit {b.revisit_s:g} s, priority {b.priority}, receiver {b.receiver}{ch}")
        reg = cfg.compliance.register
        print(f"  register: {reg if reg else 'none (emissions are not judged)'}")
        print(f"  store: {cfg.store.data_dir}; sinks: {', '.join(_masked(u) for u in cfg.store.sinks)}")
        return 0
    if args.action == "sample":
        text = sample_text()
        if args.output:
            from pathlib import Path

            out = Path(args.output)
            if out.exists():
                raise UsageError(f"{out} exists; not overwriting it")
            out.write_text(text, encoding="utf-8")
            print(f"wrote {out}")
        else:
            print(text, end="")
        return 0
    args._parser.print_help()
    return 2


def _masked(uri: str) -> str:
    try:
        from station.outputs.sinks._uri import mask_uri

        return mask_uri(uri)
    except ImportError:  # pragma: no cover - the sinks package ships with specmon
        return uri
