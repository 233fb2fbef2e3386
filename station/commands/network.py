"""``specmon network build|run|list|export``: the monitoring network over a central InfluxDB (docs/NETWORK.md).

``build`` reads every station's violation observations and health from the central InfluxDB (InfluxQL, v1
API), builds network cases (one emitter seen by several stations, located by power difference), stores them
in the network store (SQLite) and writes them back to InfluxDB for Grafana; ``run`` does so every interval
(the long-running service); ``list`` prints the stored cases; ``export`` writes csv, geojson, pdf or a bundle.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "network",
        help="build network cases from every station's observations in the central InfluxDB, locate emitters",
        description="The monitoring network: stations write to one InfluxDB; this command links the station "
        "cases of one emitter into a network case, locates it from the levels (power difference) and keeps "
        "the network cases in its own store (docs/NETWORK.md).",
    )
    actions = p.add_subparsers(dest="network_action", metavar="ACTION", required=True)

    def common(a, influx: bool = True):
        if influx:
            a.add_argument("--influx", metavar="URI", required=True,
                           help="the central InfluxDB, as a sink URI: influx://[user@]HOST:8086/DB "
                                "(password from SPECMON_INFLUX_PASSWORD or password_env/password_file)")
        a.add_argument("--store", metavar="FILE", default="network.db",
                       help="the network store (SQLite; default ./network.db)")

    def grouping(a):
        a.add_argument("--window", metavar="DURATION", default="24h",
                       help="observations considered: the last DURATION (default 24h)")
        a.add_argument("--shadowing-db", type=float, default=6.0,
                       help="log-normal shadowing the localiser assumes (dB, default 6)")
        a.add_argument("--exponent", type=float, default=3.0, help="prior mean of the path-loss exponent (3)")
        a.add_argument("--no-write-back", action="store_true",
                       help="do not write network_case/network_region points to InfluxDB")

    a = actions.add_parser("build", help="build the network cases once and print them",
                           description="Read the window, build, store, write back, print one line per case.")
    common(a)
    grouping(a)
    a.add_argument("--json", action="store_true", help="print the cases as JSON")
    a.set_defaults(func=run_build)

    a = actions.add_parser("run", help="the network service: build every interval until stopped",
                           description="Builds every --interval; an unreachable InfluxDB is logged and retried.")
    common(a)
    grouping(a)
    a.add_argument("--interval", metavar="DURATION", default="60s", help="time between builds (default 60s)")
    a.add_argument("--builds", type=int, default=0, help="stop after this many builds (0: run until stopped)")
    a.add_argument("--overlap", metavar="DURATION", default="5m",
                   help="each build re-reads this much before the previous build's high-water mark, for points "
                        "that arrive late from a station's spool (default 5m)")
    a.add_argument("--full-every", type=int, default=60, metavar="N",
                   help="re-read the whole window every N builds, for points later than the overlap "
                        "(default 60; 0: only the first build)")
    a.set_defaults(func=run_service)

    a = actions.add_parser("demo", help="four simulated stations into one InfluxDB, then the network cases",
                           description="Runs four simulated stations around central Hanoi (sim://netcity, as "
                           "deploy/network/hn-{n,e,s,w}.toml) as separate `specmon run` processes into one "
                           "InfluxDB, builds the network cases and prints them with their locations. Without "
                           "--influx it starts Debian's influxd on a free loopback port with a temporary data "
                           "directory (stopped afterwards).")
    a.add_argument("--influx", metavar="URI", help="use this InfluxDB (influx://HOST:PORT/DB) instead of a "
                   "temporary local influxd")
    a.add_argument("--sweeps", type=int, default=2, help="sweeps per band each station makes (default 2)")
    a.add_argument("--dir", metavar="DIR", help="keep the configs, station stores, logs and network store here "
                   "(default: a temporary folder, removed afterwards)")
    a.add_argument("--json", action="store_true", help="print the cases as JSON")
    a.set_defaults(func=run_demo)

    a = actions.add_parser("list", help="print the stored network cases")
    common(a, influx=False)
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=run_list)

    a = actions.add_parser("export", help="export the stored network cases: csv, geojson, pdf or bundle")
    common(a, influx=False)
    a.add_argument("--format", dest="formats", action="append", choices=("csv", "geojson", "pdf", "bundle"),
                   required=True, help="export format (repeat for several)")
    a.add_argument("--out", metavar="DIR", default="network-exports", help="output folder (default ./network-exports)")
    a.set_defaults(func=run_export)
    return p


def _params(args):
    from station.network.grouping import GroupingParams
    from station.network.locate import PathLossPrior

    return GroupingParams(prior=PathLossPrior(exponent=args.exponent, shadowing_db=args.shadowing_db))


def _open(args):
    from station.network.observations import InfluxReader
    from station.network.store import NetworkStore

    return InfluxReader(args.influx), NetworkStore(args.store)


def run_build(args) -> int:
    import json

    from station.network.service import build_once, describe
    from station.network.store import case_doc
    from station.units import parse_duration_s

    reader, store = _open(args)
    try:
        rep = build_once(reader, store, window_s=parse_duration_s(args.window, what="--window"), params=_params(args),
                         write_back=not args.no_write_back)
    finally:
        store.close()
    if args.json:
        print(json.dumps([case_doc(c) for c in rep.cases], indent=1))
    else:
        print(f"{len(rep.cases)} network cases from {rep.n_station_cases} station cases of {rep.n_stations} stations")
        for c in rep.cases:
            print("  " + describe(c))
    return 0


def run_demo(args) -> int:
    import contextlib
    import json
    import tempfile
    from pathlib import Path

    from station.errors import UsageError
    from station.network.demo import create_database, local_influxd, run_stations, station_configs
    from station.network.observations import InfluxReader
    from station.network.service import build_once, describe
    from station.network.store import NetworkStore, case_doc

    if args.sweeps < 1:
        raise UsageError(f"--sweeps must be >= 1, got {args.sweeps}")
    with contextlib.ExitStack() as stack:
        folder = Path(args.dir) if args.dir else Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="specmon-network-demo-")))
        folder.mkdir(parents=True, exist_ok=True)
        if args.influx:
            uri = args.influx
        else:
            url = stack.enter_context(local_influxd(folder / "influxd"))
            uri = f"influx://{url.split('//', 1)[1]}/specmon"
        reader = InfluxReader(uri)
        create_database(reader)
        print(f"demo: 4 simulated stations (hn-n, hn-e, hn-s, hn-w) -> {reader.target.masked}, "
              f"{args.sweeps} sweeps each; files in {folder}", flush=True)
        run_stations(station_configs(folder, uri), args.sweeps, folder)
        store = NetworkStore(folder / "network.db")
        try:
            rep = build_once(reader, store, window_s=86400.0)
        finally:
            store.close()
        if args.json:
            print(json.dumps([case_doc(c) for c in rep.cases], indent=1))
        else:
            print(f"{len(rep.cases)} network cases from {rep.n_station_cases} station cases of "
                  f"{rep.n_stations} stations")
            for c in rep.cases:
                print("  " + describe(c))
    return 0


def run_service(args) -> int:
    import logging
    import time

    from station.errors import SinkError
    from station.network.incremental import ObservationCache
    from station.network.service import build_once
    from station.units import parse_duration_s

    log = logging.getLogger("specmon.network")
    interval = parse_duration_s(args.interval, what="--interval")
    window = parse_duration_s(args.window, what="--window")
    overlap = parse_duration_s(args.overlap, what="--overlap")
    if args.full_every < 0:
        from station.errors import UsageError

        raise UsageError(f"--full-every must be >= 0, got {args.full_every}")
    reader, store = _open(args)
    cache = ObservationCache(window, overlap_s=overlap, full_every=args.full_every)
    n = 0
    try:
        while True:
            t0 = time.monotonic()
            try:
                build_once(reader, store, window_s=window, params=_params(args), write_back=not args.no_write_back,
                           cache=cache)
            except SinkError as exc:
                log.warning("network build failed, retrying next interval: %s", exc)
            n += 1
            if args.builds and n >= args.builds:
                return 0
            time.sleep(max(0.0, interval - (time.monotonic() - t0)))
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()


def _stations(cases):
    out = {}
    for d in cases:
        for st, (lat, lon) in d.get("station_positions", {}).items():
            out[st] = (lat, lon)
    return out


def run_list(args) -> int:
    import json

    from station.network.store import NetworkStore

    store = NetworkStore(args.store)
    try:
        cases = store.current()
    finally:
        store.close()
    if args.json:
        print(json.dumps(cases, indent=1))
        return 0
    for d in cases:
        est = d.get("estimate")
        where = f"{est['latitude']:.5f}, {est['longitude']:.5f}" if est else d["kind"]
        print(f"{d['case_id']} rev {d['revision']} {d['class']:<12} {d['center_hz'] / 1e6:11.5f} MHz "
              f"{len(d['stations'])} stations {where} {d.get('flag', '')}")
    return 0


def run_export(args) -> int:
    from station.network.exports import export
    from station.network.store import NetworkStore

    store = NetworkStore(args.store)
    try:
        cases = store.current()
    finally:
        store.close()
    for fmt in args.formats:
        print(export(cases, _stations(cases), fmt, args.out))
    return 0
