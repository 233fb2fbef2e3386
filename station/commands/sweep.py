"""``specmon sweep``: sweep bands with a receiver and write rtl_power CSV, JSON Lines or npz."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  specmon sweep --source sim://city --band 88M:108M --rbw 10k --dwell 0.1
  specmon sweep --source rtlsdr://0 --band 144M:146M --band 430M:440M --rbw 5k --interval 10 --sweeps 0 \\
      --output survey.csv          (rtl_power model: revisit every hop for 10 s per sweep, run until Ctrl-C)
  specmon sweep --source file:capture.cu8?rate=2.4M&freq=100M --band 99M:101M --rbw 2k --format json

Bands are LO:HI with k/M/G suffixes, optionally NAME=LO:HI. The rtl_power output is byte-compatible with
rtl_power's CSV except that timestamps are UTC and levels are calibrated dBFS per bin (docs/SWEEPS.md).
"""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep",
        help="sweep bands and write rtl_power CSV / JSON Lines / npz",
        description="Sweep one or more bands with a receiver and write one band spectrum per sweep. Without "
        "--interval each hop is visited once for --dwell seconds (soapy_power model); with --interval S the "
        "hops are revisited in quick passes of --dwell seconds each until S seconds have passed (rtl_power "
        "model), which gives per-bin revisit counts for occupancy.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--source", required=True, metavar="URI",
                   help="receiver URI: rtlsdr://0, rtltcp://host:1234, file:PATH, sim://city")
    p.add_argument("--band", action="append", required=True, metavar="LO:HI",
                   help="band to sweep, e.g. 88M:108M or fm=87.5M:108M (repeatable)")
    p.add_argument("--rbw", default="10k", metavar="HZ",
                   help="resolution bandwidth upper limit (window ENBW), e.g. 10k (default 10k)")
    p.add_argument("--dwell", default="0.1", metavar="S",
                   help="seconds of samples per hop visit (default 0.1; with --interval a few ms is typical)")
    p.add_argument("--interval", default=None, metavar="S",
                   help="integration interval per sweep in seconds: selects the rtl_power revisit model")
    p.add_argument("--sweeps", type=int, default=1, metavar="N", help="number of sweeps, 0 = until Ctrl-C (default 1)")
    p.add_argument("--rate", default=None, metavar="HZ",
                   help="receiver sample rate (default: the source's own rate, e.g. a recording's; else 2.4M)")
    p.add_argument("--gain", default="auto", metavar="DB", help="tuner gain in dB or 'auto' (default auto)")
    p.add_argument("--ppm", type=int, default=0, help="frequency correction in ppm (default 0)")
    p.add_argument("--window", default="hann", choices=["rect", "hann", "blackmanharris", "flattop"],
                   help="FFT window (default hann)")
    p.add_argument("--overlap", type=float, default=0.5, help="frame overlap fraction 0..0.95 (default 0.5)")
    p.add_argument("--crop", type=float, default=0.25,
                   help="fraction of each hop's spectrum discarded at the edges (default 0.25)")
    p.add_argument("--average", default="mean", choices=["mean", "max", "min"],
                   help="what the written level is: mean, max-hold or min-hold over frames (default mean)")
    p.add_argument("--threshold", type=float, default=None, metavar="DBFS_HZ",
                   help="count frames (revisits with --interval) above this density in dBFS/Hz (json/npz only)")
    p.add_argument("--format", default=None, choices=["rtl_power", "json", "npz"],
                   help="output format (default: from the --output extension, else rtl_power)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="output file (appended sweep by sweep; .gz compresses text; default stdout)")
    p.set_defaults(func=run)
    return p


def parse_band(text: str):
    """'LO:HI' or 'NAME=LO:HI' -> (name, lo_hz, hi_hz). UsageError naming the text."""
    from station.errors import UsageError
    from station.units import parse_hz

    name, _, span = text.rpartition("=")
    lo_txt, sep, hi_txt = span.partition(":")
    if not sep:
        raise UsageError(f"--band {text!r}: expected LO:HI such as 88M:108M")
    lo = parse_hz(lo_txt, what=f"--band {text!r} lower edge")
    hi = parse_hz(hi_txt, what=f"--band {text!r} upper edge")
    if lo < 0 or hi <= lo:
        raise UsageError(f"--band {text!r}: the upper edge must exceed the lower edge and both be >= 0")
    return (name or f"{lo / 1e6:g}M-{hi / 1e6:g}M", lo, hi)


def run(args) -> int:
    import logging

    from dsp.sweep import BandOutOfRange
    from station.errors import EndOfRecording, TuningError, UsageError
    from station.receivers import open_receiver
    from station.sweep import SweepPlan, run_sweep
    from station.formats.sweepio import format_for_path, write_spectra
    from station.units import parse_duration_s, parse_gain_db, parse_positive_hz

    log = logging.getLogger("specmon.sweep")
    bands = [parse_band(b) for b in args.band]
    rbw = parse_positive_hz(args.rbw, what="--rbw")
    rate = parse_positive_hz(args.rate, what="--rate") if args.rate is not None else None
    dwell = parse_duration_s(args.dwell, what="--dwell")
    interval = parse_duration_s(args.interval, what="--interval") if args.interval is not None else 0.0
    gain = parse_gain_db(args.gain, what="--gain")
    if args.sweeps < 0:
        raise UsageError(f"--sweeps must be >= 0, got {args.sweeps}")
    if not (0.0 <= args.overlap <= 0.95):
        raise UsageError(f"--overlap must be in [0, 0.95], got {args.overlap}")
    fmt = args.format or format_for_path(args.output)
    if fmt == "npz" and args.output is None:
        raise UsageError("--format npz needs --output FILE")
    if fmt == "rtl_power" and args.threshold is not None:
        log.warning("--threshold counts are not stored in rtl_power CSV; use --format json or npz")

    with open_receiver(args.source) as rx:
        if rate is None:
            rate = rx.sample_rate_hz or 2.4e6
        try:
            plan = SweepPlan.make(
                bands, rbw, rate, dwell, mode="interleaved" if interval else "dwell", interval_s=interval,
                window=args.window, overlap=args.overlap, crop=args.crop, average=args.average,
                threshold_dbfs_hz=args.threshold, tuning_range_hz=rx.info.tuning_range_hz,
            )
        except BandOutOfRange as exc:
            raise TuningError(str(exc), where=args.source) from None
        except ValueError as exc:
            raise UsageError(f"--band/--rbw/--rate: {exc}") from None
        rx.set_gain(gain)
        if args.ppm:
            rx.set_ppm(args.ppm)
        for b in plan.bands:
            log.info("band %s: %.6f-%.6f MHz, nfft %d, rbw %.1f Hz, %d hops, %d bins", b.name, b.f_lo_hz / 1e6,
                     b.f_hi_hz / 1e6, b.nfft, b.enbw_hz, b.n_hops, b.n_bins)
        collected = []
        done = 0
        first = True
        try:
            while args.sweeps == 0 or done < args.sweeps:
                try:
                    results = run_sweep(rx, plan)
                except EndOfRecording as exc:
                    if done == 0:
                        raise
                    log.info("stopping after %d sweeps: %s", done, exc)  # a replayed recording ran out
                    break
                spectra = [r.spectrum for r in results]
                for r in results:
                    log.info("band %s: %d hop visits in %.2f s (receive %.2f s, dsp %.2f s), %d revisits", r.name,
                             len(r.hops), r.duration_s, r.receive_s, r.dsp_s, r.revisits)
                if fmt == "npz":
                    collected.extend(spectra)
                else:
                    write_spectra(spectra, args.output, fmt, append=not first)
                    first = False
                done += 1
        finally:
            if fmt == "npz" and collected:
                write_spectra(collected, args.output, fmt)
    return 0
