"""``specmon record``: record I/Q samples from any receiver into a SigMF pair."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Record I/Q samples from a receiver into a SigMF pair OUT.sigmf-meta + OUT.sigmf-data:

  specmon record --source sim://city --center-freq 433.92M --sample-rate 250k --duration 2 ism433
  specmon record --source rtlsdr://0 --center-freq 145.5M --sample-rate 2.4M --duration 10 --gain 28 \\
                 --lat 21.0285 --lon 105.8542 ham2m

The metadata holds core:datatype (the receiver's native format unless --datatype), core:sample_rate and
core:frequency actually set, core:datetime (UTC of the first sample kept), core:hw, core:geolocation (from
--lat/--lon, or the station config's location with --config) and core:sha512 of the data file. Frequencies
accept 433.92M / 250k / 2.4e6 forms; durations 10, 1.5s, 250ms, 2min. An interrupted recording (Ctrl-C,
receiver failure) keeps the samples written so far with valid metadata."""


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("record", help="record I/Q samples from a receiver into a SigMF pair",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", metavar="OUT", help="output base name (OUT.sigmf-meta and OUT.sigmf-data are written)")
    p.add_argument("--source", required=True, metavar="URI", help="receiver URI: sim://city, rtlsdr://0, "
                   "rtltcp://host:1234, file:PATH")
    p.add_argument("--center-freq", required=True, metavar="F", help="centre frequency, e.g. 433.92M")
    p.add_argument("--sample-rate", required=True, metavar="R", help="sample rate, e.g. 250k or 2.4M")
    p.add_argument("--duration", required=True, metavar="S", help="seconds of samples to keep, e.g. 10 or 500ms")
    p.add_argument("--gain", default=None, metavar="DB", help="tuner gain in dB, or 'auto' (default auto)")
    p.add_argument("--ppm", type=int, default=0, help="frequency correction in ppm (default 0)")
    p.add_argument("--datatype", choices=["cu8", "ci8", "ci16_le", "cf32_le"], default=None,
                   help="SigMF datatype to store (default: the receiver's native format, cu8 for RTL-SDR)")
    p.add_argument("--lat", type=float, default=None, help="station latitude in degrees (core:geolocation)")
    p.add_argument("--lon", type=float, default=None, help="station longitude in degrees (core:geolocation)")
    p.add_argument("--alt", type=float, default=None, help="station altitude in metres (optional)")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="station config whose location fills core:geolocation when --lat/--lon are not given")
    p.add_argument("--description", default="", help="core:description text")
    p.add_argument("--author", default="", help="core:author text")
    p.add_argument("--force", action="store_true", help="overwrite an existing OUT pair")
    p.set_defaults(func=run)
    return p


def _geolocation(args):
    from station.errors import UsageError
    from station.formats.sigmf import Geolocation

    if (args.lat is None) != (args.lon is None):
        raise UsageError("--lat and --lon go together; give both or neither")
    if args.lat is not None:
        return Geolocation(args.lat, args.lon, args.alt)
    if args.config:
        return _config_geolocation(args.config)
    return None


def _config_geolocation(path: str):
    """The station location (``[station] latitude/longitude/altitude_m``) of a config file."""
    from station.config import load_config
    from station.formats.sigmf import Geolocation

    st = load_config(path).station
    return Geolocation(float(st.latitude), float(st.longitude), float(st.altitude_m))


def run(args) -> int:
    import logging
    from datetime import datetime, timedelta, timezone

    from station.errors import EndOfRecording, ReceiverError, UsageError
    from station.receivers import open_receiver
    from station.formats.sigmf import NATIVE_TO_SIGMF, SigmfWriter, complex_to_native
    from station.units import format_hz, parse_duration_s, parse_gain_db, parse_positive_hz

    log = logging.getLogger("specmon.record")
    center = parse_positive_hz(args.center_freq, what="--center-freq")
    rate = parse_positive_hz(args.sample_rate, what="--sample-rate")
    duration_s = parse_duration_s(args.duration, what="--duration")
    gain = parse_gain_db(args.gain, what="--gain")
    geo = _geolocation(args)
    n_total = int(round(duration_s * rate))
    if n_total < 1:
        raise UsageError(f"--duration {args.duration} at {format_hz(rate)} S/s is less than one sample")

    with open_receiver(args.source) as rx:
        actual_rate = rx.set_sample_rate(rate)
        if args.ppm:
            rx.set_ppm(args.ppm)
        actual_center = rx.set_center_freq(center)
        actual_gain = rx.set_gain(gain)
        native = rx.info.native_format
        datatype = args.datatype or NATIVE_TO_SIGMF[native]
        n_total = int(round(duration_s * actual_rate))
        extra = {"specmon:source": args.source, "specmon:gain_db": actual_gain, "specmon:ppm": args.ppm,
                 "specmon:requested_frequency": center, "specmon:requested_sample_rate": rate}
        chunk = max(1024, min(262144, int(actual_rate // 10)))
        writer = SigmfWriter(args.out, datatype=datatype, sample_rate_hz=actual_rate, center_freq_hz=actual_center,
                             hw=rx.info.hw, description=args.description, author=args.author, geolocation=geo,
                             global_extra=extra, overwrite=args.force)
        interrupted = failure = None

        def put(raw):
            if writer.n_samples == 0:  # time-stamp the first sample kept (settling samples were dropped)
                writer.add_capture(actual_center, datetime.now(timezone.utc)
                                   - timedelta(seconds=(raw.shape[0] // 2) / actual_rate))
            if datatype == NATIVE_TO_SIGMF[native]:
                writer.write_raw(raw)
            else:
                from dsp.convert import to_complex64

                writer.write_raw(complex_to_native(to_complex64(raw, native), writer.native_format))

        with writer:
            try:
                while writer.n_samples < n_total:
                    want = min(chunk, n_total - writer.n_samples)
                    try:
                        raw = rx.read_raw(want)
                    except EndOfRecording:
                        left = getattr(rx, "samples_left", 0)  # a file source: keep what it still has
                        if left > 0:
                            put(rx.read_raw(left))
                        raise
                    put(raw)
            except KeyboardInterrupt as exc:
                interrupted, failure = "interrupted", exc
            except ReceiverError as exc:
                interrupted, failure = str(exc), exc
            if writer.n_samples == 0:  # nothing recorded: leave no empty pair behind
                writer.close()
                writer.meta_path.unlink(missing_ok=True)
                writer.data_path.unlink(missing_ok=True)
                raise failure
        rec = writer.close()
    print(f"wrote {rec.meta_path} + {rec.data_path.name}: {rec.n_samples} samples ({rec.duration_s:.3f} s) at "
          f"{format_hz(actual_center)}Hz, {format_hz(actual_rate)} S/s, {datatype}, gain "
          f"{'auto' if actual_gain is None else f'{actual_gain:g} dB'}")
    if interrupted:
        log.error("recording stopped early (%s); the %d samples written are kept", interrupted, rec.n_samples)
        return 130 if interrupted == "interrupted" else ReceiverError.exit_code
    return 0
