"""``specmon violations list|show|export|confirm|close|note``: the violation cases in the station's store.

The store is the embedded SQLite file of the station (``--db PATH``; default: the ``sqlite:`` store of
``--config``, else ``DATA_DIR/specmon.db`` with ``--data-dir``, default ./specmon-data). States move
new -> confirmed -> exported -> closed; ``export`` marks the confirmed cases it wrote as exported (``--no-mark``
leaves them). History is append-only: notes and state changes are added, never edited.
"""

from __future__ import annotations

import argparse

STATES = ("new", "confirmed", "exported", "closed")
CLASSES = ("unlicensed", "off_frequency", "excess_bandwidth", "expired", "not_yet_valid", "exempt_nonconforming")
FORMATS = ("csv", "xlsx", "geojson", "pdf", "bundle")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "violations",
        help="list, inspect, export and handle violation cases (one case per transmitter)",
        description="Violation cases found by the station: one case per persistent transmitter, with states "
        "new -> confirmed -> exported -> closed, operator notes and evidence files with SHA-256.",
    )
    actions = p.add_subparsers(dest="violations_action", metavar="ACTION", required=True)

    def store_args(a):
        a.add_argument("--db", metavar="PATH", help="the station's SQLite store")
        a.add_argument("--config", metavar="FILE", help="take the store from this station config")
        a.add_argument("--data-dir", metavar="DIR", help="the station's data directory (store DIR/specmon.db)")

    def filters(a):
        a.add_argument("--state", action="append", choices=STATES, metavar="STATE",
                       help="only cases in this state (repeatable): new, confirmed, exported, closed")
        a.add_argument("--since", metavar="WHEN",
                       help="only cases seen since WHEN: ISO date/time (2026-11-29, 2026-11-29T08:00Z) or an age "
                       "(24h, 7d, 30min)")

    a = actions.add_parser("list", help="one line per case: id, class, state, frequency, last seen, count, licences")
    store_args(a)
    filters(a)
    a.add_argument("--class", dest="klass", choices=CLASSES, help="only cases of this class")
    a.add_argument("--json", action="store_true", help="print JSON")
    a.set_defaults(func=run_list)

    a = actions.add_parser("show", help="one case in full: measurements, register lookup, history, evidence")
    store_args(a)
    a.add_argument("case", metavar="CASE", help="case id, e.g. VC-000003")
    a.add_argument("--verify", action="store_true",
                   help="check the case's hash chain, recompute the evidence files' SHA-256 and report evidence "
                   "that is missing; exit 4 with one line per problem")
    a.set_defaults(func=run_show)

    a = actions.add_parser("export", help="write the cases as csv, xlsx, geojson, pdf and/or signed evidence bundles "
                                          "(one zip per case) into --out DIR")
    store_args(a)
    filters(a)
    a.add_argument("--format", action="append", required=True, metavar="FORMAT",
                   help="csv, xlsx, geojson, pdf or bundle (repeatable, or comma separated); bundle: one signed zip "
                   "per case with its PDF pages, SigMF archive, spectrum and spectrogram PNGs, demodulated audio, "
                   "register rows, settings, hash-chained history and a manifest (check with `specmon verify`)")
    a.add_argument("--lang", choices=("en", "vi"), default="en", help="labels of the xlsx/pdf (default en)")
    a.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    a.add_argument("--no-mark", action="store_true", help="do not mark the exported confirmed cases 'exported'")
    a.set_defaults(func=run_export)

    for name, helptext in (("confirm", "confirm a new case (an inspector checked it)"),
                           ("close", "close a case (handled); the transmitter seen again opens a new case")):
        a = actions.add_parser(name, help=helptext)
        store_args(a)
        a.add_argument("case", metavar="CASE", help="case id, e.g. VC-000003")
        a.add_argument("--note", metavar="TEXT", help="a note recorded with the state change")
        a.add_argument("--author", metavar="NAME", help="who did it")
        a.set_defaults(func=run_state, target=("confirmed" if name == "confirm" else "closed"))

    a = actions.add_parser("note", help="add an operator note to a case")
    store_args(a)
    a.add_argument("case", metavar="CASE", help="case id")
    a.add_argument("text", metavar="TEXT", help="the note")
    a.add_argument("--author", metavar="NAME", help="who wrote it")
    a.set_defaults(func=run_note)
    return p


def _formats(values) -> list[str]:
    from station.errors import UsageError

    out = []
    for v in values:
        for f in v.split(","):
            f = f.strip()
            if f not in FORMATS:
                raise UsageError(f"--format {f!r} is not one of {', '.join(FORMATS)}")
            if f not in out:
                out.append(f)
    return out


def db_path(args):
    from pathlib import Path

    if getattr(args, "db", None):
        return Path(args.db).expanduser()
    if getattr(args, "config", None):
        from station.config import load_config

        return load_config(args.config).store.db_path
    return Path(args.data_dir or "specmon-data").expanduser() / "specmon.db"


def parse_since(text: str | None):
    """ISO date/time (UTC when no zone) or an age like 24h / 7d / 30min -> tz-aware UTC datetime."""
    if not text:
        return None
    import re
    from datetime import datetime, timedelta, timezone

    from station.errors import UsageError

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(d|h|min|m|s)\s*", text)
    if m:
        scale = {"d": 86400, "h": 3600, "min": 60, "m": 60, "s": 1}[m.group(2)]
        return datetime.now(timezone.utc) - timedelta(seconds=float(m.group(1)) * scale)
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r} is neither an ISO date/time (2026-11-29T08:00Z) nor an age (24h, 7d)") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _store(args):
    from station.compliance.cases import open_store

    return open_store(db_path(args))


def _checkpoint_check(store, case_id: str, bad: list[str]) -> str:
    """Compare the case with the station's signed checkpoint log (problems appended to ``bad``); the line to
    print when it agrees (or why it could not be compared)."""
    from station.compliance.cases.checkpoints import case_problems, log_path, trusted_public_key, verify_checkpoints
    from station.errors import UsageError

    log = log_path(store.path)
    if not log.is_file():
        return (f"checkpoints: none ({log} is absent): a rewrite with recomputed hashes cannot show here; "
                "compare with the central copy: specmon verify --checkpoints --influx URL")
    try:
        key, _ = trusted_public_key(store.path)
    except UsageError as exc:
        bad.append(f"checkpoints: {exc}")
        return ""
    report = verify_checkpoints(store, key, path=log, case_id=case_id)
    problems = case_problems(report, case_id)
    bad.extend(f"checkpoints: {p}" for p in problems)
    return (f"checkpoints: agrees with the {report.n_lines} signed checkpoints in {log.name} (last "
            f"#{report.last_seq} {report.last_time})")


def _fmt_case(c) -> str:
    ind = " (indicative)" if c.indicative else ""
    return (f"{c.case_id}  {c.klass.value:<16} {c.state:<9} {c.center_hz / 1e6:12.6f} MHz  "
            f"{c.bandwidth_hz / 1e3:8.2f} kHz  last {c.last_seen:%Y-%m-%d %H:%M:%S}Z  x{c.n_obs:<5} "
            f"{','.join(s.station for s in c.stations)}  {','.join(c.licences) or '-'}{ind}")


def run_list(args) -> int:
    with _store(args) as store:
        cases = store.cases(state=args.state, since=parse_since(args.since), klass=args.klass)
    if args.json:
        import json

        print(json.dumps([{
            "case_id": c.case_id, "class": c.klass.value, "state": c.state, "center_hz": c.center_hz,
            "bandwidth_hz": c.bandwidth_hz, "first_seen": c.first_seen.isoformat(), "last_seen": c.last_seen.isoformat(),
            "n_obs": c.n_obs, "max_power_dbfs": c.max_power_dbfs, "mean_power_dbfs": c.mean_power_dbfs,
            "stations": [s.station for s in c.stations], "licences": list(c.licences), "reason": c.reason,
            "indicative": c.indicative,
        } for c in cases], indent=1, ensure_ascii=False))
        return 0
    for c in cases:
        print(_fmt_case(c))
    print(f"{len(cases)} cases")
    return 0


def run_show(args) -> int:
    with _store(args) as store:
        d = store.detail(args.case)
        bad = store.verify_case(args.case) if args.verify else []
        head = store.chain_head(args.case) if args.verify else None
        checkpointed = _checkpoint_check(store, args.case, bad) if args.verify else None
    c = d.case
    print(_fmt_case(c))
    print(f"  first seen {c.first_seen.isoformat()}  last seen {c.last_seen.isoformat()}  observations {c.n_obs}")
    print(f"  power max {c.max_power_dbfs:.1f} dBFS  mean {c.mean_power_dbfs:.1f} dBFS")
    print(f"  reason: {c.reason}")
    for s in c.stations:
        print(f"  station {s.station} at {s.latitude}, {s.longitude}")
    for a in c.register:
        freq = a["frequency_mhz"] or f"{a['lower_mhz']}-{a['upper_mhz']}"
        print(f"  register: {a['licence']} {a['licensee']} {freq} MHz {a['designator']} valid "
              f"{a['valid_from'] or '-'} to {a['valid_to'] or '-'} ({a['status']})")
    if c.previous_case_id:
        print(f"  previous case: {c.previous_case_id}")
    for e in d.events:
        what = e.state if e.kind == "state" else "note"
        print(f"  {e.time:%Y-%m-%d %H:%M:%S}Z {what}: {e.text or ''}{f' ({e.author})' if e.author else ''}")
    for ev in d.evidence:
        print(f"  evidence {ev.kind}: {ev.path} sha256 {ev.sha256}")
    if args.verify:
        import sys

        for problem in bad:
            print(f"{args.case}: VERIFY FAILED: {problem}", file=sys.stderr)
        if bad:
            print(f"  verification FAILED: {len(bad)} problem(s) (listed on stderr)")
            return 4
        print(f"  verified: hash chain intact (head {head}), {len(d.evidence)} evidence files intact, "
              "no evidence missing")
        print(f"  {checkpointed}")
        return 0
    return 0


def run_export(args) -> int:
    from station.compliance.exports import export_cases

    formats = _formats(args.format)
    since = parse_since(args.since)
    with _store(args) as store:
        n = len(store.cases(state=args.state, since=since))  # before export moves confirmed -> exported
        paths = export_cases(store, formats, args.out, since=since, states=tuple(args.state or ()),
                             lang=args.lang, mark_exported=not args.no_mark)
    for p in paths:
        print(p)
    print(f"{n} cases exported")
    return 0


def run_state(args) -> int:
    with _store(args) as store:
        store.set_state(args.case, args.target, note=args.note, author=args.author)
    print(f"{args.case}: {args.target}")
    return 0


def run_note(args) -> int:
    with _store(args) as store:
        store.add_note(args.case, args.text, author=args.author)
    print(f"{args.case}: note added")
    return 0
