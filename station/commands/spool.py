"""``specmon spool status|flush|dead-letters``: inspect and drain the on-disk spools of the sinks.

Each sink has its own spool file in ``DATA_DIR/spool/`` (see docs/INFLUXDB.md). ``status`` shows depth, age,
per-measurement counts, dead letters, disk use and cumulative counters; ``flush`` sends what waits now (it
refuses while a running daemon is the sender); ``dead-letters`` lists the points a server refused, with its
message, and ``--requeue`` puts them back once the cause is fixed.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "spool",
        help="show, flush and inspect the sinks' on-disk spools (points waiting to be sent, dead letters)",
        description="Every point goes through an on-disk spool (one SQLite file per sink in DATA_DIR/spool/) "
        "before it is sent; it leaves only when the server acknowledged it. A point the server refuses as "
        "malformed goes to the spool's dead-letter table.",
    )
    actions = p.add_subparsers(dest="spool_action", metavar="ACTION", required=True)

    def common(a):
        a.add_argument("--data-dir", metavar="DIR",
                       help="the station's data directory (default: store.data_dir of --config, else ./specmon-data)")
        a.add_argument("--config", metavar="FILE", help="take the data directory from this station config")
        a.add_argument("--sink", metavar="URI", help="only the spool of this sink URI")

    a = actions.add_parser(
        "status", help="depth, age of the oldest point, counts, dead letters, disk use",
        description="For each sink's spool: points waiting per measurement, age of the oldest, dead letters, "
        "disk use, the sending process, and counters since the spool was created (queued, sent, thinned by "
        "the disk quota, NaN/inf fields left out).",
    )
    common(a)
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a.set_defaults(func=run_status)

    a = actions.add_parser(
        "flush", help="send what waits now (not while a daemon is sending it)",
        description="Send every spool of the data directory to its sink now, with the sink URI recorded in the "
        "spool (or --sink URI); passwords and tokens come from the environment or files as in the config. "
        "Refused while a running daemon sends the spool. Exit 6 when points remain (unreachable sink).",
    )
    common(a)
    a.add_argument("--timeout", metavar="S", type=float, default=60.0,
                   help="give up after S seconds of retrying an unreachable sink (default 60)")
    a.set_defaults(func=run_flush)

    a = actions.add_parser(
        "dead-letters", help="list the points a server refused (and why); --requeue resends",
        description="List the points a server refused as malformed (HTTP 400/413: field type conflict, beyond "
        "the retention policy, unparsable), with the server's message and the line. After fixing the cause, "
        "--requeue puts them back at the end of the queue.",
    )
    common(a)
    a.add_argument("--limit", metavar="N", type=int, default=50, help="show at most N per spool (default 50)")
    a.add_argument("--requeue", action="store_true", help="put every dead letter back in the queue")
    a.add_argument("--json", action="store_true", help="print JSON instead of text")
    a.set_defaults(func=run_dead_letters)
    return p


def _data_dir(args):
    from pathlib import Path

    from station.errors import UsageError

    if args.data_dir:
        d = Path(args.data_dir).expanduser()
    elif args.config:
        from station.config import load_config

        d = load_config(args.config).store.data_dir
    else:
        d = Path("specmon-data")
    if not d.is_dir():
        raise UsageError(f"data directory {d} does not exist (give --data-dir or --config)")
    return d


def _spool_files(args) -> list:
    from station.errors import UsageError
    from station.outputs.sinks import parse_uri, spool_path

    d = _data_dir(args)
    if args.sink:
        path = spool_path(d, parse_uri(args.sink))
        if not path.exists():
            raise UsageError(f"no spool for sink {parse_uri(args.sink).masked} in {path.parent}")
        return [path]
    return sorted((d / "spool").glob("*.sqlite"))


def _age(s: float | None) -> str:
    if s is None:
        return "-"
    for unit, div in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= div:
            return f"{s / div:.1f} {unit}"
    return f"{s:.1f} s"


def run_status(args) -> int:
    import json

    from station.outputs.spool import Spool

    files = _spool_files(args)
    report = []
    senders = []
    for path in files:
        with Spool(path) as sp:
            report.append(sp.status())
            senders.append(sp.sender_pid())
    if args.json:
        print(json.dumps([
            {"path": s.path, "sink": s.sink_uri, "depth": s.depth, "oldest_age_s": s.oldest_age_s,
             "by_measurement": s.by_measurement, "dead_letters": s.dead_letters, "used_bytes": s.used_bytes,
             "counters": s.counters, "sender_pid": pid} for s, pid in zip(report, senders)
        ], indent=2))
        return 0
    if not report:
        print("no spool files (nothing was queued yet)")
        return 0
    for s, pid in zip(report, senders):
        c = s.counters
        thinned = sum(v for k, v in c.items() if k.startswith("thinned:"))
        sender = f"sent by pid {pid}" if pid else "no sender running"
        print(f"{s.sink_uri or '?'}  ({s.path}; {sender})")
        print(f"  waiting {s.depth} points, oldest {_age(s.oldest_age_s)}; dead letters {s.dead_letters}; "
              f"{s.used_bytes / 1e6:.1f} MB")
        if s.by_measurement:
            print("  " + ", ".join(f"{m} {n}" for m, n in sorted(s.by_measurement.items())))
        print(f"  since created: queued {c.get('enqueued', 0)}, sent {c.get('sent', 0)}, thinned by quota "
              f"{thinned}, NaN/inf fields left out {c.get('dropped_fields', 0)}")
    return 0


def run_flush(args) -> int:
    import logging
    import time

    from station.errors import SinkError, UsageError
    from station.outputs.sinks import SinkRunner, SinkTransient, open_sink
    from station.outputs.spool import Spool

    log = logging.getLogger("station.outputs.sinks")
    total_left = 0
    for path in _spool_files(args):
        with Spool(path) as sp:
            uri = args.sink or sp.get_meta("sink_uri")
            if not uri:
                raise UsageError(f"{path}: the spool does not record its sink; give --sink URI")
            sink = open_sink(uri, data_dir=path.parent.parent)
            sp.acquire_sender()
            runner = SinkRunner(sink, sp, backoff_max_s=10.0)
            deadline = time.monotonic() + args.timeout
            sent = 0
            while True:
                try:
                    sent += runner.send_pending()
                    break
                except SinkTransient:
                    if time.monotonic() + (runner.next_attempt - runner.clock()) > deadline:
                        break
                    time.sleep(max(0.0, runner.next_attempt - runner.clock()))
                except SinkError:
                    sink.close()
                    raise
            sink.close()
            left = runner.undelivered()
            total_left += left
            held = (f", {runner.unacked_points} delivered but not removable (disk refuses: {runner.spool_disk_error})"
                    if runner.unacked_points else "")
            print(f"{sink.name}: sent {sent} points, {left} left, {runner.stats.dead_lettered} dead-lettered{held}")
            if left:
                log.error("%s: %s", sink.name, runner.stats.last_error)
    if total_left:
        raise SinkError(f"{total_left} points could not be sent and stay in the spool")
    return 0


def run_dead_letters(args) -> int:
    import json
    from datetime import datetime, timezone

    from station.outputs.spool import Spool

    out = []
    for path in _spool_files(args):
        with Spool(path) as sp:
            sink = sp.get_meta("sink_uri") or str(path)
            if args.requeue:
                n = sp.requeue_dead_letters()
                print(f"{sink}: {n} dead letters put back in the queue")
                continue
            for d in sp.dead_letters(args.limit):
                out.append((sink, d))
    if args.requeue:
        return 0
    if args.json:
        print(json.dumps([
            {"sink": s, "measurement": d.measurement, "time_ns": d.time_ns, "failed_ns": d.failed_ns,
             "status": d.status, "error": d.error, "line": d.line.decode(errors="replace")} for s, d in out
        ], indent=2))
        return 0
    if not out:
        print("no dead letters")
        return 0
    for sink, d in out:
        when = datetime.fromtimestamp(d.failed_ns / 1e9, tz=timezone.utc).isoformat(timespec="seconds")
        print(f"{sink}  {when}  {d.measurement}  HTTP {d.status or '-'}: {d.error}")
        print(f"    {d.line.decode(errors='replace')[:300]}")
    return 0
