"""``specmon register check FILE`` and ``specmon register import FILE... --format F --out OUT``.

``check`` validates every row of a canonical register (CSV or JSON, docs/REGISTER.md) or, with
``--exempt``, an exempt-band table; each problem is printed on one line as ``file:line:column: column: reason``,
then the counts. ``import`` converts a real register (NZ RSM API pages, ACMA RRL extracts, OurAirports
frequencies, or canonical CSV/JSON) to the canonical format, reporting every row it could not use.
Exit status: 0 when every row is good, 4 when any row was rejected (import still writes the good rows).
"""

from __future__ import annotations

import argparse

FORMATS = ("nz-rsm", "acma", "ourairports", "csv", "json")


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "register",
        help="validate a licence register, or import a real one into the canonical format",
        description="Licence register files (format: docs/REGISTER.md). Every bad row is reported with "
        "file:line:column and the reason; none is dropped silently. Exit status 4 when any row is bad.",
    )
    actions = p.add_subparsers(dest="register_action", metavar="ACTION", required=True)

    c = actions.add_parser("check", help="validate every row of a register (or --exempt table) and print counts",
                           description="Validate a canonical register (CSV or JSON by extension) exactly as specmon "
                           "run and a SIGHUP reload do (every field in its plausible range, then the checker's "
                           "frequency index) and print each problem as file:line:column: column: reason, then "
                           "counts by service and status.")
    c.add_argument("file", metavar="FILE", help="register .csv or .json (or an exempt-band .csv with --exempt)")
    c.add_argument("--exempt", action="store_true", help="FILE is a licence-exempt band table")
    c.add_argument("--quiet", "-q", action="store_true", help="print only the summary line, not each problem")
    c.set_defaults(func=run_check)

    i = actions.add_parser("import", help="convert a real register to the canonical CSV/JSON",
                           description="Read FILE(s) in --format and write the canonical register to --out "
                           "(.json -> JSON, else CSV). Rows that cannot be used are reported (file:line:column) "
                           "and counted; rows skipped on purpose (e.g. receive-only, no tolerance) are counted by "
                           "reason; rows whose source gives no bandwidth are flagged (warning) and imported with "
                           "bandwidth unknown, never given a default width.")
    i.add_argument("files", metavar="FILE", nargs="+", help="input file(s); nz-rsm takes several API pages")
    i.add_argument("--format", required=True, choices=FORMATS, help="input format")
    i.add_argument("--out", required=True, metavar="FILE", help="output register (.csv or .json)")
    i.add_argument("--sites", metavar="FILE",
                   help="acma: the RRL site.csv; ourairports: airports.csv (coordinates for the assignments)")
    i.add_argument("--channel-width", metavar="BW",
                   help="your channel width for rows whose source gives no bandwidth, e.g. 12.5k, marked "
                   "'operator' in each row (default: none: such rows are flagged and imported with bandwidth "
                   "unknown, their frequency judged, their bandwidth not; docs/REGISTER.md)")
    i.add_argument("--tolerance-ppm", type=float, default=None, metavar="PPM",
                   help="your frequency tolerance for rows whose source gives none, marked 'operator' in each row "
                   "(default: the ITU-R RR Appendix 2 rule for the row's category of station; a row with no rule "
                   "is flagged and left out)")
    i.add_argument("--mobile-radius-km", type=float, default=30.0, metavar="KM",
                   help="acma: service radius of mobiles transmitting on a site's receive frequency (default 30)")
    i.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    i.add_argument("--quiet", "-q", action="store_true", help="print only the summary line, not each problem")
    i.set_defaults(func=run_import)
    return p


def _print_problems(problems, quiet: bool) -> None:
    if quiet:
        return
    for p in problems:
        print(p)


def _print_counts(reg) -> None:
    counts = reg.counts()
    for what in ("service", "status"):
        items = ", ".join(f"{k}: {v}" for k, v in counts[what].most_common())
        print(f"  by {what}: {items or '-'}")


def run_check(args) -> int:
    from station.compliance.register import load_exempt_bands, load_register

    if args.exempt:
        bands, problems = load_exempt_bands(args.file)
        _print_problems(problems, args.quiet)
        bad = len({p.line for p in problems if p.severity == "error"})
        print(f"{args.file}: {len(bands)} exempt bands loaded, {bad} bad rows rejected")
        for b in bands:
            limit = f", max {b.max_bandwidth_hz / 1e3:g} kHz" if b.max_bandwidth_hz else ""
            print(f"  {b.name}: {b.f_lo_hz / 1e6:.6f}-{b.f_hi_hz / 1e6:.6f} MHz{limit}")
        return 4 if bad else 0
    reg = load_register(args.file)
    _print_problems(reg.problems, args.quiet)
    print(reg.summary())
    _print_counts(reg)
    if reg.errors:
        return 4
    from station.errors import DataError
    from station.preflight import check_register

    try:  # exactly what `specmon run` and a SIGHUP reload do with the file
        check_register(args.file)
    except DataError as exc:
        print(exc)
        return 4
    return 0


def run_import(args) -> int:
    from pathlib import Path

    from station.errors import UsageError
    from station.compliance.register import ImportOptions, import_register, write_register_csv, write_register_json
    from station.units import parse_positive_hz

    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists (use --force to replace it)")
    if not out.parent.is_dir():
        raise UsageError(f"output folder {out.parent} does not exist")
    if args.sites and args.format not in ("acma", "ourairports"):
        raise UsageError(f"--sites applies to --format acma or ourairports, not {args.format}")
    width = parse_positive_hz(args.channel_width, what="--channel-width") if args.channel_width else None
    if (args.tolerance_ppm is not None and args.tolerance_ppm < 0) or args.mobile_radius_km < 0:
        raise UsageError("--tolerance-ppm and --mobile-radius-km must be >= 0")
    options = ImportOptions(channel_width_hz=width, tolerance_ppm=args.tolerance_ppm,
                            mobile_radius_m=args.mobile_radius_km * 1e3,
                            sites=Path(args.sites) if args.sites else None)
    reg = import_register(list(args.files), args.format, options)
    _print_problems(reg.problems, args.quiet)
    writer = write_register_json if out.suffix.lower() == ".json" else write_register_csv
    n = writer(reg.assignments, out)
    print(reg.summary())
    _print_counts(reg)
    print(f"wrote {n} assignments to {out}")
    return 4 if reg.errors else 0
