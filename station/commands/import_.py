"""``specmon import FILE...``: read rtl_power / soapy_power / hackrf_sweep logs into band spectra."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  specmon import scan.csv                            one summary line per sweep
  specmon import --tz local 2019-*.csv.gz --output all.npz
  specmon import --json scan.csv > scan.jsonl        the Spectrum records as JSON Lines

Row layouts recognised (docs/SWEEPS.md): rtl_power (repeated last value, integer Hz), soapy_power (float Hz,
no repeat), hackrf_sweep (fractional seconds, rows in any order); with or without spaces after commas; gzip by
content. Levels become densities: dB per bin - 10*log10(bin width). A malformed line stops the import with
FILE:LINE:COL unless --skip-bad.
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "import",
        help="read rtl_power/soapy_power/hackrf_sweep CSV logs into band spectra",
        description="Read sweep logs (rtl_power, soapy_power, hackrf_sweep CSV, plain or gzip; specmon JSON Lines "
        "or npz; RTLSDR-Scanner .rfs) into the band-spectrum records the detectors consume. Streams: years of "
        "logs need memory for one sweep at a time (except --output x.npz, which holds all).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="sweep log(s)")
    p.add_argument("--tz", default="UTC",
                   help="time zone of the CSV timestamps: UTC (default), local, +HH:MM or an IANA name "
                   "(rtl_power and hackrf_sweep write the recording machine's local time)")
    p.add_argument("--json", action="store_true", help="print the Spectrum records as JSON Lines")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write the sweeps to FILE (format from --format or the extension: .npz, .json/.jsonl, "
                   "else rtl_power CSV)")
    p.add_argument("--format", default=None, choices=["rtl_power", "json", "npz"], help="format of --output")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip malformed lines (each reported on stderr) instead of stopping")
    p.set_defaults(func=run)
    return p


def summary_line(s) -> str:
    """One human line per sweep: time, span, bins, step, median and peak level."""
    import numpy as np

    per_bin = s.psd_dbfs_hz + 10 * np.log10(s.bin_hz)
    i = int(np.argmax(per_bin))
    return (
        f"{s.start_utc.strftime('%Y-%m-%dT%H:%M:%SZ')}  {s.f_lo_hz / 1e6:.6f}-{s.f_hi_hz / 1e6:.6f} MHz  "
        f"{s.n_bins} bins of {s.bin_hz:.2f} Hz  median {np.median(per_bin):.2f} dB  peak {per_bin[i]:.2f} dB at "
        f"{s.freqs_hz[i] / 1e6:.6f} MHz  ({s.meta.get('format', 'specmon')}, {s.source}:{s.meta.get('first_line', '')})"
    )


def run(args) -> int:
    import sys
    from pathlib import Path

    from station.errors import DataError
    from station.formats.sweepio import format_for_path, iter_csv_sweeps, parse_tz, read_sweeps, write_spectra

    parse_tz(args.tz)  # a bad zone is a usage error before any file is read
    out_fmt = args.format or format_for_path(args.output) if args.output else None
    collected = []
    n_sweeps = 0
    bad: list[str] = []
    first_write = True
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise DataError("no such file", where=name)
        with open(path, "rb") as fh:
            head = fh.read(2)
        if head == b"PK" or _looks_json(path):
            spectra = read_sweeps(path)
        else:
            spectra = iter_csv_sweeps(path, tz=args.tz, skip_bad=args.skip_bad, bad_lines=bad)
        for s in spectra:
            n_sweeps += 1
            if args.json:
                write_spectra([s], None, "json")
            elif not args.output:
                print(summary_line(s))
            if args.output:
                if out_fmt == "npz":
                    collected.append(s)
                else:
                    write_spectra([s], args.output, out_fmt, append=not first_write)
                    first_write = False
        for msg in bad:
            print(f"specmon import: skipped: {msg}", file=sys.stderr)
        bad.clear()
    if args.output and out_fmt == "npz":
        write_spectra(collected, args.output, "npz")
    print(f"specmon import: {n_sweeps} sweeps from {len(args.files)} file(s)", file=sys.stderr)
    return 0


def _looks_json(path) -> bool:
    from station.formats.sweepio import _open_text

    with _open_text(path) as fh:
        return fh.readline().lstrip().startswith(("{", "["))
