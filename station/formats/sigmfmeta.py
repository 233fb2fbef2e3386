"""SigMF (core v1.2) metadata model: the constants and datatypes, the frozen records of a recording
(:class:`SigmfRecording`, :class:`Capture`, :class:`Annotation`, :class:`Geolocation`), the pair's file names
and core:datetime text. Reading is :mod:`station.formats.sigmfread`, writing :mod:`station.formats.sigmfwrite`;
:mod:`station.formats.sigmf` gathers all three."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from station.redact import shown
from station.errors import DataError, UsageError

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
        raise DataError(f"expected an ISO-8601 UTC time string, got {shown(text)}", where=where)
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
        raise DataError(f"cannot parse {shown(text)} as an ISO-8601 time", where=where) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def format_datetime(dt: datetime) -> str:
    """SigMF core:datetime text of a tz-aware time: UTC, microseconds, ``Z`` suffix."""
    if dt.tzinfo is None:
        raise ValueError("core:datetime needs a tz-aware datetime")
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
