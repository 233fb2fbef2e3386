"""specmon's own sweep files: JSON Lines (one :class:`~dsp.spectrum.Spectrum` record per line) and compressed
npz (per sweep i, ``i.<field>`` arrays and an ``i.header`` JSON string, plus ``count``). Both keep every field
of a Spectrum, so reading gives back what was written."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import numpy as np

from dsp.spectrum import Spectrum
from station.errors import DataError
from station.formats._text import open_text

JSON_KIND = "specmon.spectrum"
JSON_VERSION = 1
_ARRAYS = ("freqs_hz", "psd_dbfs_hz", "hop_centers_hz", "hop_edges_hz", "maxhold_dbfs_hz", "frames_dbfs_hz",
           "frame_times_s", "above_counts", "above_threshold_dbfs_hz")
_SCALARS = ("bin_hz", "enbw_hz", "nfft", "window", "overlap", "average", "n_frames", "sample_rate_hz", "dwell_s",
            "source")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def spectrum_to_dict(s: Spectrum) -> dict:
    """A JSON-ready dict of a Spectrum (arrays as lists, times ISO 8601 UTC); :func:`spectrum_from_dict` inverts it."""
    d = {"kind": JSON_KIND, "version": JSON_VERSION}
    d["start_utc"] = s.start_utc.astimezone(UTC).isoformat()
    d["end_utc"] = s.end_utc.astimezone(UTC).isoformat()
    for k in _SCALARS:
        d[k] = _jsonable(getattr(s, k))
    for k in _ARRAYS:
        v = getattr(s, k)
        d[k] = None if v is None else _jsonable(np.asarray(v))
    d["meta"] = _jsonable(dict(s.meta))
    return d


def spectrum_from_dict(d: dict, *, where: str = "") -> Spectrum:
    """Inverse of :func:`spectrum_to_dict`; DataError at ``where`` for a missing key or wrong kind."""
    if not isinstance(d, dict) or d.get("kind") != JSON_KIND:
        raise DataError(f"not a specmon spectrum record (kind {d.get('kind') if isinstance(d, dict) else None!r})",
                        where=where or None)
    try:
        arrays = {}
        for k in _ARRAYS:
            v = d.get(k)
            dtype = np.int64 if k == "above_counts" else (np.float32 if k == "frames_dbfs_hz" else np.float64)
            arrays[k] = None if v is None else np.asarray(v, dtype=dtype)
        arrays["hop_edges_hz"] = arrays["hop_edges_hz"].reshape(-1, 2)
        return Spectrum(
            **arrays,
            bin_hz=float(d["bin_hz"]), enbw_hz=float(d["enbw_hz"]), nfft=int(d["nfft"]), window=str(d["window"]),
            overlap=float(d["overlap"]), average=str(d["average"]), n_frames=int(d["n_frames"]),
            sample_rate_hz=float(d["sample_rate_hz"]), dwell_s=float(d["dwell_s"]), source=str(d.get("source", "")),
            start_utc=datetime.fromisoformat(d["start_utc"]), end_utc=datetime.fromisoformat(d["end_utc"]),
            meta=dict(d.get("meta") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"bad spectrum record: {exc.__class__.__name__}: {exc}", where=where or None) from None


def write_json_lines(spectra: Iterable[Spectrum], fh: IO[str]) -> None:
    """One JSON object per spectrum per line (JSON Lines)."""
    for s in spectra:
        fh.write(json.dumps(spectrum_to_dict(s), separators=(",", ":"), allow_nan=True))
        fh.write("\n")


def read_json_lines(path: str | Path) -> list[Spectrum]:
    """Read a JSON Lines file written by :func:`write_json_lines`; DataError at file:line on a bad line."""
    out = []
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", where=f"{where}:{exc.colno}") from None
            out.append(spectrum_from_dict(d, where=where))
    return out


def write_npz(spectra: Iterable[Spectrum], path: str | Path) -> None:
    """Write spectra to a compressed npz: per sweep i, keys ``i.<field>`` (arrays) and ``i.header`` (JSON)."""
    payload: dict[str, np.ndarray] = {}
    n = 0
    for i, s in enumerate(spectra):
        d = spectrum_to_dict(s)
        header = {k: v for k, v in d.items() if k not in _ARRAYS}
        payload[f"{i}.header"] = np.array(json.dumps(header))
        for k in _ARRAYS:
            v = getattr(s, k)
            if v is not None:
                payload[f"{i}.{k}"] = np.asarray(v)
        n = i + 1
    payload["count"] = np.array(n)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **payload)


def read_npz(path: str | Path) -> list[Spectrum]:
    """Read spectra written by :func:`write_npz`; DataError naming the file for anything else."""
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read npz: {exc}", where=str(path)) from None
    with z:
        if "count" not in z.files:
            raise DataError("not a specmon npz (no 'count' entry)", where=str(path))
        out = []
        for i in range(int(z["count"])):
            header = json.loads(str(z[f"{i}.header"]))
            for k in _ARRAYS:
                header[k] = z[f"{i}.{k}"] if f"{i}.{k}" in z.files else None
            out.append(spectrum_from_dict(header, where=f"{path}:{i}"))
    return out

