"""SigMF (https://sigmf.org, core v1.2) recordings: read the metadata of a pair, write a pair.

A recording is two files with one base name: ``NAME.sigmf-meta`` (JSON) and ``NAME.sigmf-data`` (interleaved
I,Q samples). This module reads and validates the metadata (:func:`read_meta`), and writes pairs either in one
call (:func:`write_recording`) or streamed chunk by chunk (:class:`SigmfWriter`, used by ``specmon record``).

Written metadata: core:datatype, core:sample_rate, core:version, core:sha512 (of the data file), core:hw,
core:recorder, core:description, core:author, core:geolocation (GeoJSON point [lon, lat, alt]), one capture
per tuning (core:sample_start, core:frequency, core:datetime in UTC) and annotations (core:sample_start,
core:sample_count, core:freq_lower_edge, core:freq_upper_edge, core:label, core:comment, plus any
namespaced keys such as ``specmon:emission_id``; the ``specmon`` extension is then declared in
core:extensions).

Datatypes: SigMF ``cu8``, ``ci8``, ``ci16_le``, ``cf32_le`` <-> the receivers' native formats ``cu8``, ``cs8``,
``cs16``, ``cf32`` (:data:`SIGMF_TO_NATIVE`). Anything else is a DataError naming the datatype.

Errors name the file and the key (``rec.sigmf-meta:core:sample_rate``) or the JSON line:column.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from station import __version__
from station.errors import DataError, UsageError

log = logging.getLogger(__name__)

SIGMF_VERSION = "1.2.0"
META_SUFFIX = ".sigmf-meta"
DATA_SUFFIX = ".sigmf-data"

#: SigMF datatype -> native receiver format (station.receivers.base.NATIVE_FORMATS)
SIGMF_TO_NATIVE = {"cu8": "cu8", "ci8": "cs8", "ci16_le": "cs16", "cf32_le": "cf32"}
#: native receiver format -> SigMF datatype
NATIVE_TO_SIGMF = {v: k for k, v in SIGMF_TO_NATIVE.items()}
#: numpy dtype of one component for each SigMF datatype (little-endian where it matters)
SIGMF_DTYPES = {"cu8": np.dtype("u1"), "ci8": np.dtype("i1"), "ci16_le": np.dtype("<i2"), "cf32_le": np.dtype("<f4")}


@dataclass(frozen=True, slots=True)
class Geolocation:
    """A WGS84 point: latitude and longitude in degrees, optional altitude in metres above the ellipsoid."""

    lat_deg: float
    lon_deg: float
    alt_m: float | None = None

    def __post_init__(self):
        if not (math.isfinite(self.lat_deg) and -90.0 <= self.lat_deg <= 90.0):
            raise UsageError(f"latitude {self.lat_deg!r} is outside -90..90 degrees")
        if not (math.isfinite(self.lon_deg) and -180.0 <= self.lon_deg <= 180.0):
            raise UsageError(f"longitude {self.lon_deg!r} is outside -180..180 degrees")
        if self.alt_m is not None and not math.isfinite(self.alt_m):
            raise UsageError(f"altitude {self.alt_m!r} is not finite")

    def to_geojson(self) -> dict:
        coords = [self.lon_deg, self.lat_deg] + ([self.alt_m] if self.alt_m is not None else [])
        return {"type": "Point", "coordinates": coords}


@dataclass(frozen=True, slots=True)
class Capture:
    """One SigMF capture segment: from ``sample_start`` on, the receiver was tuned to ``frequency_hz``."""

    sample_start: int
    frequency_hz: float | None = None
    datetime_utc: datetime | None = None  # tz-aware UTC
    header_bytes: int = 0  # core:header_bytes (non-conforming datasets): bytes to skip before this segment
    extra: dict = field(default_factory=dict)  # other keys of the capture object, verbatim


@dataclass(frozen=True, slots=True)
class Annotation:
    """A SigMF annotation: samples [sample_start, sample_start + sample_count) and optional RF edges in Hz.

    ``extra`` holds further keys verbatim, e.g. ``{"specmon:emission_id": "...", "specmon:power_dbm": -62.1}``.
    """

    sample_start: int
    sample_count: int | None = None
    freq_lower_edge_hz: float | None = None
    freq_upper_edge_hz: float | None = None
    label: str | None = None
    comment: str | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        d: dict = {"core:sample_start": int(self.sample_start)}
        if self.sample_count is not None:
            d["core:sample_count"] = int(self.sample_count)
        if self.freq_lower_edge_hz is not None:
            d["core:freq_lower_edge"] = float(self.freq_lower_edge_hz)
        if self.freq_upper_edge_hz is not None:
            d["core:freq_upper_edge"] = float(self.freq_upper_edge_hz)
        if self.label is not None:
            d["core:label"] = str(self.label)
        if self.comment is not None:
            d["core:comment"] = str(self.comment)
        d.update(self.extra)
        return d


@dataclass(frozen=True, slots=True)
class SigmfRecording:
    """The validated metadata of a SigMF pair (the samples stay in the data file)."""

    meta_path: Path
    data_path: Path
    datatype: str  # SigMF datatype, one of SIGMF_TO_NATIVE
    sample_rate_hz: float
    captures: tuple[Capture, ...]
    annotations: tuple[Annotation, ...] = ()
    version: str = SIGMF_VERSION
    hw: str = ""
    description: str = ""
    author: str = ""
    recorder: str = ""
    geolocation: Geolocation | None = None
    sha512: str | None = None
    n_samples: int = 0  # whole samples in the data file after header bytes
    global_extra: dict = field(default_factory=dict)  # other global keys verbatim

    @property
    def native_format(self) -> str:
        return SIGMF_TO_NATIVE[self.datatype]

    @property
    def bytes_per_sample(self) -> int:
        return 2 * SIGMF_DTYPES[self.datatype].itemsize

    @property
    def center_freq_hz(self) -> float | None:
        """core:frequency of the first capture (None when the recording does not say)."""
        return self.captures[0].frequency_hz if self.captures else None

    @property
    def start_utc(self) -> datetime | None:
        return self.captures[0].datetime_utc if self.captures else None

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate_hz


# ---- paths ------------------------------------------------------------------------------------------------
def pair_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(meta, data) paths of the pair named by ``path``: the .sigmf-meta, the .sigmf-data, or the base name
    (with or without a trailing ``.sigmf``)."""
    p = Path(path)
    name = p.name
    for suffix in (META_SUFFIX, DATA_SUFFIX, ".sigmf"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    base = p.with_name(name)
    return base.with_name(name + META_SUFFIX), base.with_name(name + DATA_SUFFIX)


def is_sigmf_path(path: str | os.PathLike) -> bool:
    return str(path).endswith((META_SUFFIX, DATA_SUFFIX, ".sigmf"))


# ---- reading -----------------------------------------------------------------------------------------------
def _parse_datetime(text, where: str) -> datetime:
    if not isinstance(text, str):
        raise DataError(f"expected an ISO-8601 UTC time string, got {text!r}", where=where)
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # Python < 3.11 fromisoformat cannot read more than 6 fractional digits; SigMF allows them: trim.
    if "." in s:
        head, _, rest = s.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        s = f"{head}.{digits[:6]}{tz}"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise DataError(f"cannot parse {text!r} as an ISO-8601 time", where=where) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def format_datetime(dt: datetime) -> str:
    """SigMF core:datetime text of a tz-aware time: UTC, microseconds, ``Z`` suffix."""
    if dt.tzinfo is None:
        raise ValueError("core:datetime needs a tz-aware datetime")
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _number(obj: dict, key: str, where: str, *, required: bool = False, positive: bool = False):
    if key not in obj:
        if required:
            raise DataError(f"missing required key {key!r}", where=where)
        return None
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise DataError(f"{key} must be a finite number, got {v!r}", where=f"{where}:{key}")
    if positive and v <= 0:
        raise DataError(f"{key} must be positive, got {v!r}", where=f"{where}:{key}")
    return v


def _int(obj: dict, key: str, where: str, *, default: int | None = 0) -> int | None:
    if key not in obj:
        return default
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise DataError(f"{key} must be a non-negative integer, got {v!r}", where=f"{where}:{key}")
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
                        f"got {obj!r}", where=where)
    try:
        return Geolocation(lat_deg=float(coords[1]), lon_deg=float(coords[0]),
                           alt_m=float(coords[2]) if len(coords) == 3 else None)
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
            raise DataError(f"{noun} must be an object, got {obj!r}", where=where)
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
    if datatype not in SIGMF_TO_NATIVE:
        raise DataError(
            f"unsupported SigMF datatype {datatype!r}; supported: {', '.join(SIGMF_TO_NATIVE)}",
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
        raise DataError(f"core:sha512 must be 128 hex digits, got {sha!r}", where=f"{gw}:core:sha512")

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


# ---- sample encoding ---------------------------------------------------------------------------------------
def complex_to_native(samples: np.ndarray, native_format: str) -> np.ndarray:
    """Encode complex samples (full scale 1.0) as interleaved native components, shape (2*n,).

    Inverse of the receivers' normalisation: cu8 b = x*127.5 + 127.5, cs8 x*128, cs16 x*32768 (rounded,
    clipped to the type's range); cf32 is stored as is.
    """
    x = np.asarray(samples)
    if not np.iscomplexobj(x) or x.ndim != 1:
        raise ValueError(f"expected a 1-D complex array, got dtype {x.dtype} shape {x.shape}")
    inter = np.empty(2 * x.shape[0], dtype=np.float32)
    inter[0::2] = x.real
    inter[1::2] = x.imag
    if native_format == "cf32":
        return inter
    if native_format == "cu8":
        return np.clip(np.rint(inter * 127.5 + 127.5), 0, 255).astype(np.uint8)
    if native_format == "cs8":
        return np.clip(np.rint(inter * 128.0), -128, 127).astype(np.int8)
    if native_format == "cs16":
        return np.clip(np.rint(inter * 32768.0), -32768, 32767).astype(np.int16)
    raise ValueError(f"unknown native format {native_format!r}")


# ---- writing -----------------------------------------------------------------------------------------------
class SigmfWriter:
    """Stream samples into a new SigMF pair; the metadata is written by :meth:`close`.

    Use as a context manager. On an exception inside the block the samples already written are kept and the
    metadata is still written (with the sha512 of what is on disk), so an interrupted recording stays usable.

    Args:
        path: base name, or either file name of the pair.
        datatype: SigMF datatype (``cu8``, ``ci8``, ``ci16_le``, ``cf32_le``) or a native format name.
        sample_rate_hz: samples per second.
        center_freq_hz: core:frequency of the first capture.
        start_utc: tz-aware core:datetime of the first sample (default: now).
        overwrite: replace an existing pair; otherwise an existing file is a UsageError.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        datatype: str,
        sample_rate_hz: float,
        center_freq_hz: float,
        start_utc: datetime | None = None,
        hw: str = "",
        description: str = "",
        author: str = "",
        geolocation: Geolocation | None = None,
        global_extra: dict | None = None,
        overwrite: bool = False,
    ):
        datatype = NATIVE_TO_SIGMF.get(datatype, datatype)
        if datatype not in SIGMF_TO_NATIVE:
            raise UsageError(f"unsupported SigMF datatype {datatype!r}; supported: {', '.join(SIGMF_TO_NATIVE)}")
        if not (sample_rate_hz > 0 and math.isfinite(sample_rate_hz)):
            raise UsageError(f"sample rate must be positive, got {sample_rate_hz!r}")
        self.meta_path, self.data_path = pair_paths(path)
        if not overwrite:
            for p in (self.meta_path, self.data_path):
                if p.exists():
                    raise UsageError(f"{p} already exists (use --force / overwrite=True to replace it)")
        if not self.meta_path.parent.is_dir():
            raise UsageError(f"output directory {self.meta_path.parent} does not exist")
        self.datatype = datatype
        self.native_format = SIGMF_TO_NATIVE[datatype]
        self._dtype = SIGMF_DTYPES[datatype]
        self.sample_rate_hz = float(sample_rate_hz)
        self.hw, self.description, self.author = hw, description, author
        self.geolocation = geolocation
        self.global_extra = dict(global_extra or {})
        self._captures: list[Capture] = []
        self._annotations: list[Annotation] = []
        self._n_samples = 0
        self._hash = hashlib.sha512()
        self._closed = False
        self._recording: SigmfRecording | None = None
        try:
            self._f = open(self.data_path, "wb")
        except OSError as exc:
            raise UsageError(f"cannot create {self.data_path}: {exc.strerror}") from None
        self.add_capture(center_freq_hz, start_utc or datetime.now(timezone.utc))

    @property
    def n_samples(self) -> int:
        return self._n_samples

    def add_capture(self, center_freq_hz: float, start_utc: datetime | None = None, **extra) -> None:
        """Start a new capture segment at the next sample (after a retune)."""
        if start_utc is not None and start_utc.tzinfo is None:
            raise ValueError("start_utc must be tz-aware")
        cap = Capture(sample_start=self._n_samples, frequency_hz=float(center_freq_hz), datetime_utc=start_utc,
                      extra=dict(extra))
        if self._captures and self._captures[-1].sample_start == self._n_samples:
            self._captures[-1] = cap
        else:
            self._captures.append(cap)

    def add_annotation(self, annotation: Annotation) -> None:
        self._annotations.append(annotation)

    def write_raw(self, raw: np.ndarray) -> None:
        """Append interleaved native components (dtype of the datatype, even length)."""
        a = np.ascontiguousarray(raw)
        if a.dtype != self._dtype:
            if a.dtype.kind == self._dtype.kind and a.dtype.itemsize == self._dtype.itemsize:
                a = a.astype(self._dtype)
            else:
                raise ValueError(f"write_raw expects {self._dtype} components for {self.datatype}, got {a.dtype}")
        if a.ndim != 1 or a.shape[0] % 2:
            raise ValueError(f"write_raw expects a 1-D interleaved I,Q array of even length, got shape {a.shape}")
        b = a.tobytes()
        self._f.write(b)
        self._hash.update(b)
        self._n_samples += a.shape[0] // 2

    def write_complex(self, samples: np.ndarray) -> None:
        """Append complex samples (full scale 1.0), encoded to the datatype."""
        self.write_raw(complex_to_native(samples, self.native_format))

    def close(self) -> SigmfRecording:
        """Flush the data file and write the metadata (atomically). Returns the recording. Idempotent."""
        if self._closed:
            return self._recording
        self._closed = True
        self._f.close()
        meta = self._meta_doc()
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.meta_path)
        self._recording = SigmfRecording(
            meta_path=self.meta_path, data_path=self.data_path, datatype=self.datatype,
            sample_rate_hz=self.sample_rate_hz, captures=tuple(self._captures),
            annotations=tuple(self._annotations), version=SIGMF_VERSION, hw=self.hw,
            description=self.description, author=self.author, recorder=f"specmon {__version__}",
            geolocation=self.geolocation, sha512=meta["global"]["core:sha512"], n_samples=self._n_samples,
            global_extra=self.global_extra,
        )
        return self._recording

    def _meta_doc(self) -> dict:
        g: dict = {
            "core:datatype": self.datatype,
            "core:sample_rate": self.sample_rate_hz,
            "core:version": SIGMF_VERSION,
            "core:num_channels": 1,
            "core:sha512": self._hash.hexdigest(),
            "core:recorder": f"specmon {__version__}",
        }
        if self.hw:
            g["core:hw"] = self.hw
        if self.description:
            g["core:description"] = self.description
        if self.author:
            g["core:author"] = self.author
        if self.geolocation is not None:
            g["core:geolocation"] = self.geolocation.to_geojson()
        g.update(self.global_extra)
        annotations = sorted(self._annotations, key=lambda a: a.sample_start)
        namespaces = {k.split(":", 1)[0] for d in [g, *(a.extra for a in annotations), *(c.extra for c in
                      self._captures)] for k in d if ":" in k} - {"core"}
        if namespaces:
            g["core:extensions"] = [{"name": ns, "version": __version__ if ns == "specmon" else "1.0.0",
                                     "optional": True} for ns in sorted(namespaces)]
        caps = []
        for c in self._captures:
            d: dict = {"core:sample_start": c.sample_start, "core:frequency": c.frequency_hz}
            if c.datetime_utc is not None:
                d["core:datetime"] = format_datetime(c.datetime_utc)
            d.update(c.extra)
            caps.append(d)
        return {"global": g, "captures": caps, "annotations": [a.to_json() for a in annotations]}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_recording(
    path: str | os.PathLike,
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    center_freq_hz: float,
    datatype: str | None = None,
    start_utc: datetime | None = None,
    hw: str = "",
    description: str = "",
    author: str = "",
    geolocation: Geolocation | None = None,
    annotations: list[Annotation] | tuple[Annotation, ...] = (),
    global_extra: dict | None = None,
    overwrite: bool = False,
) -> SigmfRecording:
    """Write a whole SigMF pair in one call (evidence clips, test fixtures).

    ``samples`` is either complex (full scale 1.0; encoded to ``datatype``, default ``cf32_le``) or an
    interleaved native component array (uint8 -> cu8, int8 -> ci8, int16 -> ci16_le, float32 -> cf32_le, unless
    ``datatype`` says otherwise). ``annotations`` are written as given. Returns the written recording.
    """
    x = np.asarray(samples)
    if datatype is None:
        datatype = "cf32_le" if np.iscomplexobj(x) else {
            "u1": "cu8", "i1": "ci8", "i2": "ci16_le", "f4": "cf32_le"}.get(x.dtype.str[1:])
        if datatype is None:
            raise ValueError(f"cannot infer a SigMF datatype from samples of dtype {x.dtype}")
    with SigmfWriter(path, datatype=datatype, sample_rate_hz=sample_rate_hz, center_freq_hz=center_freq_hz,
                     start_utc=start_utc, hw=hw, description=description, author=author,
                     geolocation=geolocation, global_extra=global_extra, overwrite=overwrite) as w:
        if np.iscomplexobj(x):
            w.write_complex(x)
        else:
            w.write_raw(x)
        for a in annotations:
            w.add_annotation(a)
    return w.close()


__all__ = [
    "Annotation",
    "Capture",
    "DATA_SUFFIX",
    "Geolocation",
    "META_SUFFIX",
    "NATIVE_TO_SIGMF",
    "SIGMF_DTYPES",
    "SIGMF_TO_NATIVE",
    "SIGMF_VERSION",
    "SigmfRecording",
    "SigmfWriter",
    "complex_to_native",
    "format_datetime",
    "is_sigmf_path",
    "pair_paths",
    "read_meta",
    "sha512_of",
    "write_recording",
]
