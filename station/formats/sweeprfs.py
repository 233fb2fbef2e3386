"""RTLSDR-Scanner ``.rfs`` scans (JSON ``["RTLSDR Scanner", {..., "Spectrum": {unix_time: {MHz: dB}}}]``) read
into :class:`~dsp.spectrum.Spectrum` records."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from dsp.spectrum import Spectrum
from station.errors import DataError
from station.formats._text import open_text
from station.redact import shown


def read_rfs(path: str | Path) -> list[Spectrum]:
    """Read an RTLSDR-Scanner ``.rfs`` scan (JSON ``["RTLSDR Scanner", {..., "Spectrum": {unix_time: {MHz: dB}}}]``)
    into one Spectrum per sweep (ascending time). Levels are the scanner's uncalibrated dB per bin (its matplotlib
    PSD plus calibration), stored like CSV imports: ``psd_dbfs_hz = dB - 10*log10(bin_hz)``. DataError naming the
    file for anything malformed."""
    where = str(path)
    try:
        with open_text(path) as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", where=f"{where}:{exc.lineno}:{exc.colno}") from None
    if not (isinstance(doc, list) and len(doc) == 2 and doc[0] == "RTLSDR Scanner" and isinstance(doc[1], dict)):
        raise DataError("not an RTLSDR-Scanner file (expected [\"RTLSDR Scanner\", {...}])", where=where)
    body = doc[1]
    sweeps = body.get("Spectrum")
    if not isinstance(sweeps, dict) or not sweeps:
        raise DataError("RTLSDR-Scanner file has no 'Spectrum' sweeps", where=where)
    try:
        ordered = sorted(sweeps.items(), key=lambda kv: float(kv[0]))
    except (TypeError, ValueError, OverflowError):
        bad = next(k for k in sweeps if not _is_number(k))
        raise DataError(f"sweep time {shown(bad)} is not a unix time", where=where) from None
    out = []
    for stamp, points in ordered:
        try:
            t = datetime.fromtimestamp(float(stamp), tz=UTC)
            pairs = sorted((float(f) * 1e6, float(v)) for f, v in points.items())
        except (TypeError, ValueError, AttributeError, OverflowError):
            raise DataError(
                f"sweep {shown(stamp)}: expected {{MHz: dB}} with numeric keys and values", where=where
            ) from None
        if len(pairs) < 2:
            raise DataError(f"sweep {shown(stamp)} has {len(pairs)} points; need at least 2", where=where)
        freqs = np.array([p[0] for p in pairs])
        values = np.maximum(np.array([p[1] for p in pairs]), -300.0)
        keep = np.ones(freqs.shape[0], dtype=bool)
        keep[1:] = np.diff(freqs) > 0
        freqs, values = freqs[keep], values[keep]
        step = float(np.median(np.diff(freqs)))
        nfft = int(body.get("Nfft") or freqs.shape[0])
        out.append(Spectrum(
            freqs_hz=freqs, psd_dbfs_hz=values - 10.0 * math.log10(step), bin_hz=step, enbw_hz=step, nfft=nfft,
            window="rect", overlap=0.0, average="mean", n_frames=1, sample_rate_hz=step * nfft, start_utc=t,
            end_utc=t + timedelta(seconds=float(body.get("Dwell") or 0.0)),
            hop_centers_hz=np.array([(freqs[0] + freqs[-1]) / 2]),
            hop_edges_hz=np.array([[freqs[0] - step / 2, freqs[-1] + step / 2]]),
            dwell_s=float(body.get("Dwell") or 0.0), source=where,
            meta={"format": "rtlsdr_scanner", "level_reference": "RTLSDR-Scanner dB per bin (uncalibrated)",
                  "device": str(body.get("Device", "")), "description": str(body.get("Description", "")),
                  "gain_db": body.get("Gain"), "version": body.get("Version")},
        ))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError, OverflowError):
        return False
    return True
