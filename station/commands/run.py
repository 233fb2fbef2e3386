"""``specmon run``: the station daemon (see station/daemon/ and docs/DEPLOY.md)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "run",
        help="run the monitoring station (no --config: the built-in simulated demo)",
        description="Run the monitoring station: sweep the configured bands on their revisit periods, detect "
        "emissions, check them against the licence register, open violation cases with evidence, store "
        "everything (SQLite, InfluxDB). Without --config it runs the built-in demo: a simulated city "
        "receiver (sim://city), the demo register and the embedded SQLite store in ./specmon-data, for 5 "
        "sweeps of each band, then prints a summary and exports the violation cases (CSV + PDF). "
        "SIGTERM/SIGINT stop cleanly (exit 0); SIGHUP reloads the config and the register. A bounded run "
        "(--sweeps/--duration) that completed no band sweep (no receiver) exits 5 and writes no export; a "
        "broken scenario or recording behind the receiver URI fails at start (exit 4); a data directory that "
        "cannot be created or written (read-only filesystem), or an end-of-run export the disk refused, exits 6.",
    )
    p.add_argument("--config", metavar="FILE", help="station config (TOML; `specmon config sample` shows every key)")
    p.add_argument("--sweeps", metavar="N", type=_nonneg_int,
                   help="stop after every band was swept N times (0: no limit; demo default 5). The bound "
                   "belongs to the run, not the process: a run killed before it finished (SIGKILL, crash, power "
                   "loss) and restarted with the same N finishes the original N sweeps per band; a run that ended "
                   "by itself or by SIGTERM/SIGINT starts N new ones")
    p.add_argument("--duration", metavar="S", type=_duration,
                   help="stop after S (seconds, or 90s / 15min / 2h); default: no limit")
    p.add_argument("--data-dir", metavar="DIR",
                   help="store, spool, state and exports here (overrides store.data_dir; demo: ./specmon-data)")
    p.add_argument("--tui", choices=("auto", "on", "off"),
                   help="live terminal view: auto (when stdout is a TTY, the default), on, off (log lines)")
    p.add_argument("--no-warmup", action="store_true",
                   help="skip compiling the numba kernels before the first sweep (they then compile during it; "
                   "with an empty cache that can take minutes on a Pi: run `specmon warmup` at install)")
    p.set_defaults(func=run)
    return p


def _nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of sweeps, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def _duration(text: str) -> float:
    from station.errors import UsageError
    from station.units import parse_duration_s

    try:
        return parse_duration_s(text, what="--duration")
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args) -> int:
    import logging
    import signal
    from dataclasses import replace
    from pathlib import Path

    from station.config import demo_config, load_config
    from station.daemon import Daemon, install_signal_handlers

    if args.config:
        config = load_config(args.config)
        if args.data_dir:
            config = config.with_data_dir(Path(args.data_dir).expanduser().absolute())
    else:
        config = demo_config(args.data_dir or "specmon-data")
    config = config.with_bounds(sweeps=args.sweeps, duration_s=args.duration)
    if args.tui:
        config = replace(config, run=replace(config.run, tui=args.tui))
    for noisy in ("fontTools", "matplotlib", "PIL", "numba"):  # libraries' INFO chatter is not station news
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    early: list[str] = []  # SIGTERM/SIGINT while the register loads and the store opens: stop right after

    def early_stop(signum, frame):
        early.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, early_stop)
    signal.signal(signal.SIGINT, early_stop)
    from station.heap import fix_mmap_threshold

    fix_mmap_threshold()  # large freed arrays back to the OS at once: a long-running process (station.heap)
    daemon = Daemon(config, config_path=args.config, warmup=not args.no_warmup)
    install_signal_handlers(daemon)
    if early:
        daemon.request_stop(early[0])
    summary = daemon.run()
    print_summary(summary, demo=not args.config)
    if summary.no_sweep:  # measured nothing: a failure, whatever stopped it (see RunSummary.no_sweep)
        from station.errors import ReceiverError, SpecmonError

        cls = ReceiverError if summary.receiver_errors else SpecmonError
        raise cls(f"no band sweep completed in {summary.elapsed_s:.1f} s ({summary.receiver_errors} receiver "
                  f"errors; last: {summary.last_receiver_error or 'none'}); no export written")
    if summary.export_error:  # measured and stored, but the exports asked for are not there
        from station.errors import SinkError

        raise SinkError(f"export failed (the cases stay in the store): {summary.export_error}")
    return 0


def print_summary(summary, *, demo: bool = False) -> None:
    """The end-of-run summary on stdout: emissions per band and class, violation cases, where things are."""
    print()
    print(f"specmon run: stopped ({summary.stopped_by}) after {summary.sweeps} band sweeps in "
          f"{summary.elapsed_s:.1f} s; receiver errors {summary.receiver_errors}")
    if summary.band_lines:
        print("emissions in the last sweep of each band:")
        for line in summary.band_lines:
            print("  " + line)
    print(f"violation cases ({len(summary.case_lines)}; {summary.new_cases} opened in this run):")
    for line in summary.case_lines or ["(none)"]:
        print("  " + line)
    print(f"store: {summary.db_path}")
    if summary.exports:
        print("exports:")
        for path in summary.exports:
            print(f"  {path}")
    if demo:
        print("next: `specmon violations list --db " + summary.db_path + "`, `specmon config sample` for a "
              "real station config, docs/DEPLOY.md to deploy on a Raspberry Pi")
