"""Read and validate the metadata of a SigMF pair (:func:`read_meta`); :func:`sha512_of` checks core:sha512.

Errors name the file and the key (``rec.sigmf-meta:core:sample_rate``) or the JSON line:column.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator

from station.errors import DataError, UsageError
from station.redact import int_text_ok, shown
from station.formats.sigmfmeta import (
    SIGMF_DTYPES,
    SIGMF_TO_NATIVE,
    SIGMF_VERSION,
    Annotation,
    Capture,
    Geolocation,
    SigmfRecording,
    _parse_datetime,
    pair_paths,
)


#: the largest magnitude a numeric SigMF field may have (Hz, samples/s, degrees ...): 3 THz
MAX_VALUE = 3e12


def _number(obj: dict, key: str, where: str, *, required: bool = False, positive: bool = False):
    if key not in obj:
        if required:
            raise DataError(f"missing required key {key!r}", where=where)
        return None
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, int) and not int_text_ok(v)) \
            or not math.isfinite(v) or abs(v) > MAX_VALUE:
        raise DataError(f"{key} must be a finite number of plausible size, got {shown(v)}", where=f"{where}:{key}")
    if positive and v <= 0:
        raise DataError(f"{key} must be positive, got {shown(v)}", where=f"{where}:{key}")
    return v


def _int(obj: dict, key: str, where: str, *, default: int | None = 0) -> int | None:
    if key not in obj:
        return default
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 2**63:
        raise DataError(f"{key} must be a non-negative 64-bit integer, got {shown(v)}", where=f"{where}:{key}")
    return v


def _geolocation(obj, where: str) -> Geolocation:
    coords = obj.get("coordinates") if isinstance(obj, dict) else None
    if (
        not isinstance(obj, dict)
        or obj.get("type") != "Point"
        or not isinstance(coords, list)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)
    ):
        raise DataError(f"expected a GeoJSON point {{'type': 'Point', 'coordinates': [lon, lat(, alt)]}}, "
                        f"got {shown(obj)}", where=where)
    try:
        return Geolocation(lat_deg=float(coords[1]), lon_deg=float(coords[0]),
                           alt_m=float(coords[2]) if len(coords) == 3 else None)
    except OverflowError:
        raise DataError("coordinates are too large", where=where) from None
    except UsageError as exc:
        raise DataError(str(exc), where=where) from None


def _objects(doc: dict, key: str, noun: str, m: str) -> Iterator[tuple[int, dict, str]]:
    """(index, object, where) of each entry of the list ``doc[key]`` (absent = empty) of the metadata file ``m``.
    DataError when it is not a list, or an entry is not an object (``noun`` names one in the message)."""
    raw = doc.get(key, [])
    if not isinstance(raw, list):
        raise DataError(f"'{key}' must be a list", where=f"{m}:{key}")
    for i, obj in enumerate(raw):
        where = f"{m}:{key}[{i}]"
        if not isinstance(obj, dict):
            raise DataError(f"{noun} must be an object, got {shown(obj)}", where=where)
        yield i, obj, where


def read_meta(path: str | os.PathLike, *, verify_sha512: bool = False) -> SigmfRecording:
    """Read and validate the ``.sigmf-meta`` of a pair (``path`` may name either file or the base).

    Checks: the JSON parses (errors give file:line:col), core:datatype is supported, core:sample_rate is a
    positive number, captures and annotations are well formed, the data file exists and holds a whole number of
    samples (else it is truncated), captures start inside it, and, with ``verify_sha512``, that core:sha512
    matches the data file. Raises DataError naming the file and the key.
    """
    meta_path, data_path = pair_paths(path)
    try:
        text = meta_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("SigMF metadata file not found", where=str(meta_path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read SigMF metadata: {exc}", where=str(meta_path)) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", where=f"{meta_path}:{exc.lineno}:{exc.colno}") from None
    m = str(meta_path)
    if not isinstance(doc, dict) or not isinstance(doc.get("global"), dict):
        raise DataError("not a SigMF metadata file: no 'global' object", where=m)
    g = doc["global"]
    gw = f"{m}:global"
    datatype = g.get("core:datatype")
    if datatype is None:
        raise DataError("missing required key 'core:datatype'", where=gw)
    if not isinstance(datatype, str) or datatype not in SIGMF_TO_NATIVE:
        raise DataError(
            f"unsupported SigMF datatype {shown(datatype)}; supported: {', '.join(SIGMF_TO_NATIVE)}",
            where=f"{gw}:core:datatype",
        )
    rate = float(_number(g, "core:sample_rate", gw, required=True, positive=True))
    n_channels = _int(g, "core:num_channels", gw, default=1)
    if n_channels != 1:
        raise DataError(f"only single-channel recordings are supported, core:num_channels is {n_channels}",
                        where=f"{gw}:core:num_channels")
    geo = _geolocation(g["core:geolocation"], f"{gw}:core:geolocation") if "core:geolocation" in g else None
    sha = g.get("core:sha512")
    if sha is not None and not (isinstance(sha, str) and len(sha) == 128):
        raise DataError(f"core:sha512 must be 128 hex digits, got {shown(sha)}", where=f"{gw}:core:sha512")

    captures = []
    for i, c, cw in _objects(doc, "captures", "capture", m):
        freq = _number(c, "core:frequency", cw)
        dt = _parse_datetime(c["core:datetime"], f"{cw}:core:datetime") if "core:datetime" in c else None
        hb = _int(c, "core:header_bytes", cw)
        if hb and i > 0:
            raise DataError("core:header_bytes after the first capture is not supported", where=f"{cw}:core:header_bytes")
        extra = {k: v for k, v in c.items() if k not in ("core:sample_start", "core:frequency", "core:datetime",
                                                          "core:header_bytes")}
        captures.append(Capture(sample_start=_int(c, "core:sample_start", cw), frequency_hz=None if freq is None
                                else float(freq), datetime_utc=dt, header_bytes=hb, extra=extra))
    captures.sort(key=lambda c: c.sample_start)

    annotations = []
    for _, a, aw in _objects(doc, "annotations", "annotation", m):
        if "core:sample_start" not in a:
            raise DataError("missing required key 'core:sample_start'", where=aw)
        lo = _number(a, "core:freq_lower_edge", aw)
        hi = _number(a, "core:freq_upper_edge", aw)
        known = ("core:sample_start", "core:sample_count", "core:freq_lower_edge", "core:freq_upper_edge",
                 "core:label", "core:comment")
        annotations.append(Annotation(
            sample_start=_int(a, "core:sample_start", aw),
            sample_count=_int(a, "core:sample_count", aw, default=None),
            freq_lower_edge_hz=None if lo is None else float(lo),
            freq_upper_edge_hz=None if hi is None else float(hi),
            label=a.get("core:label"), comment=a.get("core:comment"),
            extra={k: v for k, v in a.items() if k not in known},
        ))

    # the data file
    try:
        size = data_path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"SigMF data file missing (metadata {meta_path.name} has no {data_path.name})",
                        where=str(data_path)) from None
    if not data_path.is_file():
        raise DataError("SigMF data path is not a regular file", where=str(data_path))
    header = captures[0].header_bytes if captures else 0
    bps = 2 * SIGMF_DTYPES[datatype].itemsize
    payload = size - header
    if payload <= 0:
        raise DataError(f"SigMF data file holds no samples ({size} bytes)", where=str(data_path))
    if payload % bps:
        raise DataError(f"data file is truncated: {payload} bytes is not a whole number of {bps}-byte "
                        f"{datatype} samples", where=str(data_path))
    n_samples = payload // bps
    for i, c in enumerate(captures):
        if c.sample_start >= n_samples:
            raise DataError(f"capture starts at sample {c.sample_start} but the data file holds only {n_samples} "
                            f"samples (truncated?)", where=f"{m}:captures[{i}]:core:sample_start")
    if verify_sha512 and sha is not None:
        actual = sha512_of(data_path)
        if actual.lower() != sha.lower():
            raise DataError("data file does not match core:sha512 (truncated or modified)", where=str(data_path))

    known_global = ("core:datatype", "core:sample_rate", "core:version", "core:hw", "core:description",
                    "core:author", "core:recorder", "core:geolocation", "core:sha512", "core:num_channels")
    return SigmfRecording(
        meta_path=meta_path, data_path=data_path, datatype=datatype, sample_rate_hz=rate,
        captures=tuple(captures), annotations=tuple(annotations),
        version=str(g.get("core:version", "")), hw=str(g.get("core:hw", "")),
        description=str(g.get("core:description", "")), author=str(g.get("core:author", "")),
        recorder=str(g.get("core:recorder", "")), geolocation=geo, sha512=sha, n_samples=n_samples,
        global_extra={k: v for k, v in g.items() if k not in known_global},
    )


def sha512_of(path: str | os.PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-512 of a file, read in chunks."""
    h = hashlib.sha512()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()
