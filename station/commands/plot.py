"""``specmon plot FILE -o PNG``: waterfall and spectrum picture of a sweep file (MHz, dBFS)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plot",
        help="draw a waterfall/spectrum PNG of a sweep file",
        description="Draw a PNG of a sweep file: a waterfall of every sweep (time down, MHz across, colour = "
        "level in dBFS per RBW) above the mean, max-hold and latest spectrum; a single sweep draws its spectrum. "
        "Reads what 'specmon import' reads: rtl_power / soapy_power / hackrf_sweep CSV (or .gz) and specmon "
        "JSON Lines / npz.",
    )
    p.add_argument("file", metavar="FILE", help="sweep file (CSV, CSV.gz, JSON Lines, npz)")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="PNG file to write")
    p.add_argument("--tz", default="UTC", help="time zone of CSV timestamps: UTC (default), local, +HH:MM, or an "
                   "IANA name (rtl_power and hackrf_sweep write local time)")
    p.add_argument("--title", default="", help="title text (default: sweep count and source)")
    p.add_argument("--max-sweeps", type=int, default=None, metavar="N",
                   help="plot only the last N sweeps (default: all; a long log is averaged into at most "
                   "--rows clock-time rows, and the picture says so)")
    p.add_argument("--rows", type=int, default=1200, metavar="N",
                   help="at most N waterfall rows (default 1200); more sweeps are averaged into equal clock-time rows")
    p.add_argument("--band", default=None, metavar="LO:HI",
                   help="for a file holding several bands, plot the one overlapping LO:HI (e.g. 144M:146M); "
                   "default: the first band in the file")
    p.set_defaults(func=run)
    return p


def band_groups(spectra):
    """Spectra grouped by band (their span rounded to 1 kHz), in order of first appearance."""
    groups: dict[tuple[int, int], list] = {}
    for sp in spectra:
        groups.setdefault((round(sp.f_lo_hz / 1e3), round(sp.f_hi_hz / 1e3)), []).append(sp)
    return list(groups.values())


def run(args) -> int:
    import sys

    from station.errors import UsageError
    from station.formats.plot import save_sweeps_png
    from station.formats.sweepio import read_sweeps
    from station.units import parse_hz

    if args.max_sweeps is not None and args.max_sweeps < 1:
        raise UsageError(f"--max-sweeps must be >= 1, got {args.max_sweeps}")
    if args.rows < 10:
        raise UsageError(f"--rows must be >= 10, got {args.rows}")
    spectra = read_sweeps(args.file, tz=args.tz)
    if not spectra:
        raise UsageError(f"{args.file}: no sweeps to plot")
    groups = band_groups(spectra)
    chosen = groups[0]
    if args.band is not None:
        lo_txt, sep, hi_txt = args.band.partition(":")
        if not sep:
            raise UsageError(f"--band {args.band!r}: expected LO:HI such as 144M:146M")
        lo, hi = parse_hz(lo_txt, what="--band lower edge"), parse_hz(hi_txt, what="--band upper edge")
        hits = [g for g in groups if g[0].f_lo_hz < hi and g[0].f_hi_hz > lo]
        if not hits:
            spans = ", ".join(f"{g[0].f_lo_hz / 1e6:.3f}-{g[0].f_hi_hz / 1e6:.3f} MHz" for g in groups)
            raise UsageError(f"--band {args.band}: no band of {args.file} overlaps it (bands: {spans})")
        chosen = hits[0]
    elif len(groups) > 1:
        spans = ", ".join(f"{g[0].f_lo_hz / 1e6:.3f}-{g[0].f_hi_hz / 1e6:.3f} MHz" for g in groups)
        print(f"specmon plot: {args.file} holds {len(groups)} bands ({spans}); plotting the first, choose with --band",
              file=sys.stderr)
    if args.max_sweeps is not None and len(chosen) > args.max_sweeps:
        print(f"specmon plot: plotting the last {args.max_sweeps} of {len(chosen)} sweeps (--max-sweeps)",
              file=sys.stderr)
        chosen = chosen[-args.max_sweeps :]
    try:
        note = save_sweeps_png(chosen, args.output, title=args.title, max_rows=args.rows)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output} ({chosen[0].f_lo_hz / 1e6:.3f}-{chosen[0].f_hi_hz / 1e6:.3f} MHz: {note})")
    return 0
