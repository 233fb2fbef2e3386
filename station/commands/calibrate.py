"""``specmon calibrate``: measure the receiver's calibration profile against a signal generator."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Measure the receiver's calibration profile (dBm at the antenna port <-> dBFS, per frequency and gain)
against a signal generator delivering a carrier of a stated level at each frequency of a list, and write it
as a JSON profile to keep with the station (config: [receiver] calibration = "PATH"):

  specmon calibrate --source rtlsdr://0 --generator-dbm -60 --generator-u-db 0.5 \\
                    --frequencies 50M,100M,200M,400M,800M,1200M --step --out station-cal.json
  specmon calibrate --source sim://siggen --generator-dbm -60 --frequencies 60M,150M,400M,900M,1500M \\
                    --out sim-cal.json                     # the simulated bench: a comb at -60 dBm

For each frequency the receiver is tuned so the carrier sits --offset (default sample rate / 8) above the
centre; for each gain (--gains, default every gain the tuner has) the carrier's power is measured through
the normal receiver path with the noise subtracted. Readings that clip or are less than 25 dB above the
noise are refused and listed; run again at another level with --merge PROFILE to fill those gains (a high
level for low gains, a low level for high gains). --step waits for Enter before each frequency so the
operator can set the generator. The level is the one at the receiver's antenna port: subtract the cable.
Method and uncertainty budget: docs/CALIBRATION.md."""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("calibrate", help="measure the receiver's calibration profile against a signal generator",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", required=True, metavar="URI", help="receiver URI: rtlsdr://0, rtltcp://host:1234, sim://siggen")
    p.add_argument("--generator-dbm", required=True, type=float, metavar="DBM",
                   help="carrier level at the receiver's antenna port (dBm)")
    p.add_argument("--generator-u-db", type=float, default=0.5, metavar="DB",
                   help="standard uncertainty (k=1) of that level: generator accuracy, cable, mismatch (default 0.5)")
    p.add_argument("--frequencies", required=True, metavar="LIST", help="comma-separated generator frequencies, e.g. 100M,400M")
    p.add_argument("--gains", default="all", metavar="LIST", help="'all' (default) or comma-separated gains in dB")
    p.add_argument("--sample-rate", default="2.4M", metavar="R", help="sample rate (default 2.4M)")
    p.add_argument("--duration", default="0.2", metavar="S", help="seconds of samples per reading (default 0.2)")
    p.add_argument("--offset", default=None, metavar="F", help="carrier offset from the tuned centre (default rate/8)")
    p.add_argument("--ppm", type=int, default=0, help="frequency correction in ppm (default 0)")
    p.add_argument("--reference", default="signal generator", metavar="TEXT",
                   help="what the reference is (model, serial, certificate); stored in the profile")
    p.add_argument("--step", action="store_true", help="wait for Enter before each frequency (set the generator)")
    p.add_argument("--merge", default=None, metavar="PROFILE", help="merge into this earlier calibrated profile")
    p.add_argument("--out", required=True, metavar="FILE", help="profile to write (JSON)")
    p.set_defaults(func=run)
    return p


def _floats(text: str, what: str, parse) -> list[float]:
    from station.errors import UsageError

    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise UsageError(f"{what}: give at least one value")
    return [parse(t, what=what) for t in items]


def run(args) -> int:
    import math
    import sys

    from station.calibration.procedure import Reference, calibrate, merge_profiles
    from station.calibration.profile import load_profile, nominal_profile
    from station.errors import UsageError
    from station.receivers import open_receiver
    from station.units import format_hz, parse_duration_s, parse_gain_db, parse_hz, parse_positive_hz

    freqs = sorted(set(_floats(args.frequencies, "--frequencies", parse_positive_hz)))
    if not math.isfinite(args.generator_dbm) or not (math.isfinite(args.generator_u_db) and args.generator_u_db >= 0):
        raise UsageError("--generator-dbm and --generator-u-db must be finite (u >= 0)")
    rate = parse_positive_hz(args.sample_rate, what="--sample-rate")
    duration = parse_duration_s(args.duration, what="--duration")
    offset = None if args.offset is None else parse_hz(args.offset, what="--offset")
    old = load_profile(args.merge) if args.merge else None
    reference = Reference(args.generator_dbm, tuple(freqs), args.generator_u_db, args.reference)

    def prompt(f):
        input(f"set the generator to {format_hz(f)}Hz at {args.generator_dbm:g} dBm at the antenna port, then press Enter ")

    def progress(r):
        state = "ok" if r.accepted else f"refused: {r.why}"
        lvl = "   n/a" if math.isnan(r.level_dbfs) else f"{r.level_dbfs:6.1f}"
        print(f"  {format_hz(r.frequency_hz):>8}Hz gain {r.gain_db:4.1f} dB  {lvl} dBFS  snr {r.snr_db:5.1f} dB  {state}")

    with open_receiver(args.source) as rx:
        rx.set_sample_rate(rate)
        if args.ppm:
            rx.set_ppm(args.ppm)
        if args.gains.strip().lower() == "all":
            gains = list(rx.info.gains_db)
            if not gains:
                raise UsageError(f"{args.source} lists no gain steps: give --gains")
        else:
            gains = [g for g in _floats(args.gains, "--gains", parse_gain_db) if g is not None]
        if offset is not None and not (0 < abs(offset) < rx.sample_rate_hz / 2):
            raise UsageError(f"--offset must lie inside the span (0 < |offset| < {format_hz(rx.sample_rate_hz / 2)}Hz)")
        try:
            prof, readings = calibrate(rx, reference, gains, duration_s=duration, offset_hz=offset,
                                       prompt=prompt if args.step else None, progress=progress)
        except ValueError as exc:
            print(f"specmon calibrate: error: {exc}", file=sys.stderr)
            return 1
    if old is not None:
        prof = merge_profiles(old, prof)
    prof.save(args.out)
    nominal = nominal_profile()
    ok = [r for r in readings if r.accepted]
    diffs = [r.level_dbfs - args.generator_dbm - nominal.conversion(r.frequency_hz, r.gain_db).conversion_db
             for r in ok]
    print(f"wrote {args.out}: {prof.label()}, {len(ok)} of {len(readings)} readings accepted")
    if diffs:
        print(f"measured minus nominal R820T conversion: {min(diffs):+.1f} .. {max(diffs):+.1f} dB")
    print(f'keep it with the station: [receiver] calibration = "{args.out}"')
    return 0
