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
    p.add_argument("--max-sweeps", type=int, default=2000, metavar="N",
                   help="plot at most the last N sweeps (default 2000)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from station.errors import UsageError
    from station.plot import save_sweeps_png
    from station.sweepio import read_sweeps

    if args.max_sweeps < 1:
        raise UsageError(f"--max-sweeps must be >= 1, got {args.max_sweeps}")
    spectra = read_sweeps(args.file, tz=args.tz)
    if not spectra:
        raise UsageError(f"{args.file}: no sweeps to plot")
    spectra = spectra[-args.max_sweeps :]
    try:
        save_sweeps_png(spectra, args.output, title=args.title)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {args.output} ({len(spectra)} sweeps, {spectra[0].f_lo_hz / 1e6:.3f}-"
          f"{spectra[0].f_hi_hz / 1e6:.3f} MHz)")
    return 0
