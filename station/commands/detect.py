"""``specmon detect RECORDING``: find the emissions in a recording or an imported sweep log.

RECORDING is a SigMF pair (``x.sigmf-meta``/``x.sigmf-data``), a raw ``.cu8``/``.cs8``/``.cs16``/``.cf32``
file (rate and centre from an rtl_433-style name such as ``g001_433.92M_250k.cu8`` or from
``--sample-rate``/``--center-freq``), or a sweep log (rtl_power / soapy_power / hackrf_sweep CSV, plain or
.gz). IQ recordings are turned into one Welch spectrum with per-frame spectra (bursts, occupancy); every
sweep of a log is detected and the emissions are followed across sweeps (occupancy = sweeps in which the
emission was seen over sweeps that covered it). A raw file's start time is its modification time minus its
duration (SigMF gives core:datetime).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

SWEEP_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz")
#: largest spectrogram (per-frame spectra, float32) kept for the burst search
MAX_FRAMES_BYTES = 512 << 20


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "detect",
        help="find emissions in a recording (SigMF, raw cu8/cs8/cs16/cf32) or a sweep CSV",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recording", metavar="RECORDING", help="SigMF pair, raw IQ file or sweep CSV")
    p.add_argument("--json", action="store_true", help="print one JSON object {source, spectrum, emissions: [...]}")
    p.add_argument(
        "--nfft", type=int, default=0,
        help="FFT size for IQ recordings (default: the power of two giving bins of at most ~300 Hz, "
        "256..16384; finer bins measure narrow emissions' bandwidth better)",
    )
    p.add_argument("--pfa", type=float, default=1e-6, help="false-alarm probability per test (default 1e-6)")
    p.add_argument("--keep-artifacts", action="store_true",
                   help="also report artifacts, marked with their reason: DC spikes, spurs, IQ images, hop-edge "
                   "roll-off, and skirts, intermodulation, clipping and splatter products naming their parent")
    p.add_argument("--min-snr", type=float, default=None, metavar="DB",
                   help="report only emissions whose in-band SNR is at least DB (default: every detection; the "
                   "detector's Pfa is the only gate)")
    p.add_argument("--spur", type=float, action="append", default=[], metavar="HZ",
                   help="a known spur frequency (Hz) to mark as artifact; repeatable")
    p.add_argument("--spur-map", default=None, metavar="FILE",
                   help="the recording receiver's spur map (JSON of `specmon spurs show --json`): lines at its "
                   "spurs' baseband offsets are marked 'spur' artifacts (the map for the recording's sample rate)")
    p.add_argument("--sample-rate", default=None, metavar="R", help="sample rate of a raw file, e.g. 250k, 2.4M")
    p.add_argument("--center-freq", default=None, metavar="F", help="centre frequency of a raw file, e.g. 433.92M")
    p.add_argument("--format", default=None, choices=["cu8", "cs8", "cs16", "cf32"],
                   help="sample format of a raw file with an untyped extension (.raw, .bin, .data)")
    p.add_argument("--window", default="hann", choices=["rect", "hann", "blackmanharris", "flattop"],
                   help="FFT window (default hann)")
    p.add_argument("--overlap", type=float, default=0.5, help="frame overlap fraction 0..0.9 (default 0.5)")
    p.add_argument("--max-seconds", type=float, default=10.0,
                   help="analyse at most this many seconds of an IQ recording, from its start (default 10)")
    p.set_defaults(func=run)
    return p


def auto_nfft(sample_rate_hz: float) -> int:
    """Power of two with bins of at most ~300 Hz, clamped to 256..16384."""
    n = 2 ** math.ceil(math.log2(max(sample_rate_hz / 300.0, 1.0)))
    return int(min(16384, max(256, n)))


def _check_args(args) -> None:
    from station.errors import UsageError

    if not 0.0 < args.pfa < 0.5:
        raise UsageError(f"--pfa {args.pfa} must be between 0 and 0.5 (e.g. 1e-6)")
    if args.nfft and not 16 <= args.nfft <= 1 << 20:
        raise UsageError(f"--nfft {args.nfft} must be between 16 and 1048576")
    if not 0.0 <= args.overlap <= 0.9:
        raise UsageError(f"--overlap {args.overlap} must be between 0 and 0.9")
    if args.max_seconds <= 0:
        raise UsageError(f"--max-seconds {args.max_seconds} must be > 0")


def _params(args, sample_rate_hz: float | None = None):
    from detectors.artifacts import ArtifactParams
    from detectors.energy import DetectorParams

    offsets = spur_map_offsets(args.spur_map, sample_rate_hz) if getattr(args, "spur_map", None) else ()
    return DetectorParams(pfa=args.pfa, keep_artifacts=args.keep_artifacts,
                          artifacts=ArtifactParams(spurs_hz=tuple(args.spur), spur_offsets_hz=offsets))


def spur_map_offsets(path: str, sample_rate_hz: float | None) -> tuple[float, ...]:
    """Confirmed spur offsets (Hz from the tuned centre) of the map in ``path`` (``specmon spurs show --json``:
    a list of maps, or one map) for ``sample_rate_hz`` (maps are kept per receiver and rate: ``KEY@RATE``);
    with no rate (a sweep log) the file must hold one map. UsageError naming the file otherwise."""
    from detectors.spurs import SpurMap
    from station.errors import UsageError

    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"cannot read the spur map: {exc.strerror}", where=path) from None
    except ValueError as exc:
        raise UsageError(f"the spur map is not JSON: {exc}", where=path) from None
    docs = doc if isinstance(doc, list) else [doc]
    try:
        maps = [SpurMap.from_state(d) for d in docs]
    except (ValueError, AttributeError) as exc:
        raise UsageError(f"not a spur map (expected the output of `specmon spurs show --json`): {exc}",
                         where=path) from None
    if sample_rate_hz is not None:
        maps = [m for m in maps if m.key.rsplit("@", 1)[-1] == f"{float(sample_rate_hz):.0f}"]
        if not maps:
            rates = ", ".join(sorted({m.key for m in (SpurMap.from_state(d) for d in docs)})) or "none"
            raise UsageError(f"no spur map for the recording's sample rate {sample_rate_hz:.0f} Hz (maps: {rates})",
                             where=path)
    if len(maps) != 1:
        raise UsageError(f"{len(maps)} spur maps in the file; give one (the recording receiver's)", where=path)
    return maps[0].offsets_hz()


#: a line no wider than this, on the air through the whole capture, may be a receiver spur
LINE_MAX_BANDWIDTH_HZ = 5000.0
LINE_NOTE = ("continuous narrow line at a fixed offset: a carrier or a receiver spur, one tuning cannot tell "
             "(re-record with the LO shifted, or give --spur-map)")


def line_note(e) -> str | None:
    """The note of a transmitter-looking emission that one single-tuning capture cannot confirm: a narrow
    line on the air through the whole capture (a receiver spur looks exactly so; the station confirms it by
    re-measuring with the LO shifted, :mod:`station.spurs`). None for anything else."""
    if e.artifact or e.occupancy < 0.95 or e.bandwidth_hz > LINE_MAX_BANDWIDTH_HZ:
        return None
    return LINE_NOTE


def is_sweep_log(path: str) -> bool:
    return path.lower().endswith(SWEEP_SUFFIXES)


def iq_spectrum(args):
    """Open RECORDING through the ``file:`` receiver and compute its Spectrum (with per-frame spectra)."""
    from dsp.psd import psd_spectrum
    from station.errors import DataError, UsageError
    from station.receivers.file import FileReceiver

    options = {"rate": args.sample_rate, "freq": args.center_freq, "format": args.format}
    rx = FileReceiver.from_uri(f"file:{args.recording}", **options)
    try:
        fs = rx.sample_rate_hz
        n = min(rx.n_samples, int(args.max_seconds * fs))
        nfft = args.nfft or auto_nfft(fs)
        if n < nfft:
            raise DataError(f"recording holds {rx.n_samples} samples, fewer than one FFT frame (--nfft {nfft})",
                            where=args.recording)
        raw = rx.read_raw(n)
        # a raw file says nothing about time: its last write is about when its last sample arrived
        start = rx.start_utc or (datetime.fromtimestamp(Path(rx.path).stat().st_mtime, tz=UTC)
                                 - timedelta(seconds=rx.n_samples / fs))
        hop = max(1, int(round(nfft * (1.0 - args.overlap))))
        frames_bytes = 4 * nfft * (1 + (n - nfft) // hop)
        keep_frames = frames_bytes <= MAX_FRAMES_BYTES
        if not keep_frames:
            log.warning("%s: %d MB of per-frame spectra would be needed; bursts and occupancy are not analysed "
                        "(use --max-seconds or a smaller --nfft)", args.recording, frames_bytes >> 20)
        try:
            return psd_spectrum(raw, fs, rx.center_freq_hz, start, fmt=rx.info.native_format, nfft=nfft,
                                window=args.window, overlap=args.overlap, keep_frames=keep_frames,
                                source=f"file:{args.recording}")
        except ValueError as exc:
            raise UsageError(str(exc), where=args.recording) from None
    finally:
        rx.close()


def emission_json(e, **extra) -> dict:
    from detectors.tracking import emission_to_dict

    d = emission_to_dict(e)
    d.update(extra)
    return d


def _fmt_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def print_table(rows: list[dict], out=None) -> None:
    out = out or sys.stdout
    if not rows:
        print("no emission found", file=out)
        return
    head = f"{'centre MHz':>14} {'99% BW kHz':>10} {'26dB kHz':>9} {'power dBFS':>10} {'SNR dB':>7} {'occ %':>6} " \
           f"{'bursts':>6} {'first seen':>12} {'last seen':>12}  note"
    print(head, file=out)
    for d in rows:
        xdb = "-" if d["xdb_bandwidth_hz"] is None else f"{d['xdb_bandwidth_hz'] / 1e3:.2f}" + ("" if d["xdb_valid"] else "?")
        note = d.get("artifact_reason") or d.get("note") or ""
        if d.get("track_id"):
            note = f"{d['track_id']} seen {d['n_obs']}/{d['n_revisits']}" + (f" {note}" if note else "")
        print(
            f"{d['center_hz'] / 1e6:14.6f} {d['bandwidth_hz'] / 1e3:10.2f} {xdb:>9} {d['power_dbfs']:10.1f} "
            f"{d['snr_db']:7.1f} {100 * d['occupancy']:6.1f} {d['n_bursts']:6d} "
            f"{_fmt_time(datetime.fromisoformat(d['first_seen'])):>12} {_fmt_time(datetime.fromisoformat(d['last_seen'])):>12}  {note}",
            file=out,
        )


def detect_sweeps(args, detector) -> tuple[dict, list[dict]]:
    from detectors.tracking import Tracker
    from station.formats.sweepio import read_sweeps

    spectra = read_sweeps(args.recording)
    tracker = Tracker()
    for sp in spectra:
        tracker.update(detector.detect(sp), sp.end_utc, covered_hz=(sp.f_lo_hz, sp.f_hi_hz))
    rows = []
    for t in tracker.tracks:
        if args.min_snr is not None and t.last.snr_db < args.min_snr:
            continue
        occ = t.n_obs / t.n_revisits if t.n_revisits else 0.0
        rows.append(emission_json(
            t.last, center_hz=t.center_hz, power_dbfs=t.mean_power_dbfs, occupancy=occ,
            first_seen=t.first_seen.isoformat(), last_seen=t.last_seen.isoformat(), track_id=t.track_id,
            n_obs=t.n_obs, n_revisits=t.n_revisits, max_power_dbfs=t.max_power_dbfs,
        ))
    first = spectra[0]
    info = {
        "kind": "sweeps",
        "n_sweeps": len(spectra),
        "f_lo_hz": min(s.f_lo_hz for s in spectra),
        "f_hi_hz": max(s.f_hi_hz for s in spectra),
        "bin_hz": first.bin_hz,
        "start_utc": min(s.start_utc for s in spectra).isoformat(),
        "end_utc": max(s.end_utc for s in spectra).isoformat(),
    }
    return info, rows


def run(args) -> int:
    from detectors.energy import EmissionDetector

    _check_args(args)
    if is_sweep_log(args.recording):
        info, rows = detect_sweeps(args, EmissionDetector(_params(args)))
    else:
        sp = iq_spectrum(args)
        detector = EmissionDetector(_params(args, sp.sample_rate_hz))
        rows = [emission_json(e, note=line_note(e)) for e in detector.detect(sp)
                if args.min_snr is None or e.snr_db >= args.min_snr]
        info = {
            "kind": "iq",
            "center_hz": float(sp.hop_centers_hz[0]),
            "sample_rate_hz": sp.sample_rate_hz,
            "nfft": sp.nfft,
            "bin_hz": sp.bin_hz,
            "n_frames": sp.n_frames,
            "duration_s": sp.dwell_s,
            "start_utc": sp.start_utc.isoformat(),
            "end_utc": sp.end_utc.isoformat(),
        }
    if args.json:
        json.dump({"source": args.recording, "pfa": args.pfa, "spectrum": info, "emissions": rows}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"{args.recording}: {info['kind']}, {len(rows)} emission(s)")
        print_table(rows)
    return 0
