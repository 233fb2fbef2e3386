"""The canonical register model: the :data:`COLUMNS` of a register row, the field parsers and cross-field rules
that turn one row's text fields into an :class:`~station.compliance.records.Assignment` (and back), and the
:class:`Problem` / :class:`RegisterFile` records every loader and importer returns (docs/REGISTER.md).

A bad field never raises at the first problem: :func:`assignment_from_fields` collects every bad field of the
row and raises :class:`_RowErrors` with all of them, so the loaders can report each one with its position.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from functools import lru_cache, partial

from station.compliance.designator import parse_designator
from station.compliance.records import BANDWIDTH_UNKNOWN, STATUSES, Assignment
from station.errors import DataError
from station.redact import shorten, shown

#: canonical column names, in file order (docs/REGISTER.md describes each)
COLUMNS = (
    "licence",
    "licensee",
    "service",
    "station_name",
    "frequency_mhz",
    "lower_mhz",
    "upper_mhz",
    "designator",
    "channel_khz",
    "tolerance_hz",
    "tolerance_ppm",
    "latitude",
    "longitude",
    "radius_km",
    "max_power_dbw",
    "power_reference",
    "valid_from",
    "valid_to",
    "status",
    "bandwidth_basis",
    "tolerance_basis",
)
_MAX_FREQ_MHZ = 3_000_000.0  # 3000 GHz: the top of the ITU RR frequency allocation table
#: plausible ranges of the other numeric columns (docs/REGISTER.md): a value outside is a typo or an attack, and a
#: huge one would hide violations (a 1e308 Hz tolerance) or break the frequency index (a 1e308 kHz channel)
MAX_CHANNEL_KHZ = 10_000_000.0  # 10 GHz: wider than any real assignment
MIN_CHANNEL_KHZ = 1e-6  # 1 mHz: the writer's resolution (9 decimals of kHz), so every accepted row round-trips
_MIN_FREQ_MHZ = 0.003  # 3 kHz: below the ITU RR table (8.3 kHz) and above the writer's resolution
MAX_TOLERANCE_HZ = 1_000_000.0  # 1 MHz
MAX_TOLERANCE_PPM = 10_000.0  # 1 %


@dataclass(frozen=True, slots=True)
class Problem:
    """One bad (or suspicious) row: where, which field, why."""

    path: str
    line: int
    column: int
    message: str  # "frequency_mhz: 'abc' is not a number"
    severity: str = "error"  # "error" (row rejected) or "warning" (row kept)

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}:{self.column}: {tag}{self.message}"


@dataclass(frozen=True)
class RegisterFile:
    """What a loader read: the good assignments, every problem, and counts."""

    path: str
    format: str
    assignments: tuple[Assignment, ...]
    problems: tuple[Problem, ...]
    rows_read: int  # data rows seen (good + bad + skipped)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows deliberately not imported
    flagged: dict[str, int] = field(default_factory=dict)  # reason -> rows imported in a flagged state (importers)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def bad_rows(self) -> int:
        return len({(p.line, p.path) for p in self.errors})

    def counts(self) -> dict[str, Counter]:
        """Counts by service and by status of the good assignments."""
        return {
            "service": Counter(a.service or "(none)" for a in self.assignments),
            "status": Counter(a.status for a in self.assignments),
        }

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        text = (
            f"{self.path}: {self.rows_read} rows read, {len(self.assignments)} assignments loaded, "
            f"{self.bad_rows} bad rows rejected, {len(self.warnings)} warnings"
        )
        if skipped:
            text += f", {skipped} rows skipped (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.skipped.items())) + ")"
        flagged = sum(self.flagged.values())
        if flagged:
            text += (f", {flagged} assignments flagged (" + ", ".join(f"{k}: {v}" for k, v in sorted(self.flagged.items()))
                     + ")")
        return text

    def raise_for_errors(self) -> None:
        errs = self.errors
        if errs:
            more = f" (and {len(errs) - 1} more problems in {self.bad_rows} bad rows)" if len(errs) > 1 else ""
            raise DataError(f"{errs[0]}{more}")


# ---- field parsers: each returns the value or raises ValueError with the reason ----------------------------
def _num(text: str, *, lo: float | None = None, hi: float | None = None, positive: bool = False) -> float:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        raise ValueError(f"{shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{shown(text)} is not a finite number")
    if positive and value <= 0:
        raise ValueError(f"{shown(text)} must be positive")
    if lo is not None and value < lo:
        raise ValueError(f"{shown(text)} is below {lo:g}")
    if hi is not None and value > hi:
        raise ValueError(f"{shown(text)} is above {hi:g}")
    return value


@lru_cache(maxsize=4096)
def _when(text: str, end_of_day: bool) -> datetime:
    """ISO date (``2026-01-31``) or date-time (``2026-01-31T12:00:00Z``) as UTC; a bare date ending a validity
    period means the end of that day (inclusive)."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            if end_of_day:
                return datetime.combine(d, time.max, tzinfo=timezone.utc)
            return datetime.combine(d, time.min, tzinfo=timezone.utc)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{shown(text)} is not an ISO date (YYYY-MM-DD) or date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


@lru_cache(maxsize=4096)
def _designator(text: str):
    return parse_designator(text)


class _RowErrors(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems  # (field, message)


def _parse_field(get: Callable[[str], str | None], errs: list[tuple[str, str]], name: str, fn, *args, **kw):
    """``fn(text, *args, **kw)`` of the field ``name`` (text ``get(name)``): None when the field is empty, or when
    ``fn`` raises ValueError, whose message is then appended to ``errs`` as ``(name, message)``."""
    text = get(name)
    if not text:
        return None
    try:
        return fn(text, *args, **kw)
    except ValueError as exc:
        errs.append((name, str(exc)))
        return None


def assignment_from_fields(fields: Mapping[str, str], source: str) -> Assignment:
    """Build an :class:`Assignment` from canonical fields (name -> stripped text; absent or '' = empty).
    Raises _RowErrors listing every bad field of the row."""
    errs: list[tuple[str, str]] = []
    _get = fields.get

    def get(name: str) -> str:
        return _get(name) or ""

    parse = partial(_parse_field, _get, errs)

    licence = get("licence")
    if not licence:
        errs.append(("licence", "is empty (every assignment needs a licence number)"))
    freq = parse("frequency_mhz", _num, positive=True, lo=_MIN_FREQ_MHZ, hi=_MAX_FREQ_MHZ)
    lower = parse("lower_mhz", _num, positive=True, lo=_MIN_FREQ_MHZ, hi=_MAX_FREQ_MHZ)
    upper = parse("upper_mhz", _num, positive=True, lo=_MIN_FREQ_MHZ, hi=_MAX_FREQ_MHZ)
    des = parse("designator", _designator)
    channel = parse("channel_khz", _num, positive=True, lo=MIN_CHANNEL_KHZ, hi=MAX_CHANNEL_KHZ)
    tol_hz = parse("tolerance_hz", _num, lo=0.0, hi=MAX_TOLERANCE_HZ)
    tol_ppm = parse("tolerance_ppm", _num, lo=0.0, hi=MAX_TOLERANCE_PPM)
    lat = parse("latitude", _num, lo=-90.0, hi=90.0)
    lon = parse("longitude", _num, lo=-180.0, hi=180.0)
    radius = parse("radius_km", _num, lo=0.0, hi=20_100.0)
    power = parse("max_power_dbw", _num, lo=-100.0, hi=100.0)
    ref = (get("power_reference") or "erp").lower()
    if ref not in ("erp", "eirp"):
        errs.append(("power_reference", f"{shown(get('power_reference'))} is not 'erp' or 'eirp'"))
    vfrom = parse("valid_from", _when, False)
    vto = parse("valid_to", _when, True)
    bw_basis = get("bandwidth_basis")
    if bw_basis.lower() == BANDWIDTH_UNKNOWN:
        bw_basis = BANDWIDTH_UNKNOWN
    tol_basis = get("tolerance_basis")
    status = (get("status") or "current").lower()
    if status not in STATUSES:
        errs.append(("status", f"{shown(get('status'))} is not one of {', '.join(STATUSES)}"))

    # cross-field rules (only when the fields themselves parsed)
    block = False
    if (lower is None) != (upper is None) and not any(f in ("lower_mhz", "upper_mhz") for f, _ in errs):
        errs.append(("lower_mhz" if lower is None else "upper_mhz", "lower_mhz and upper_mhz must be given together"))
    if lower is not None and upper is not None:
        if upper <= lower:
            errs.append(("upper_mhz", f"{upper:g} must be above lower_mhz {lower:g}"))
        else:
            block = True
            if freq is not None and not (lower <= freq <= upper):
                errs.append(("frequency_mhz", f"{freq:g} lies outside lower_mhz-upper_mhz {lower:g}-{upper:g}"))
    if freq is None and not block and not any(f in ("frequency_mhz", "lower_mhz", "upper_mhz") for f, _ in errs):
        errs.append(("frequency_mhz", "is empty: give frequency_mhz, or lower_mhz and upper_mhz"))
    has_bw = channel is not None or (des is not None and des.necessary_bandwidth_hz is not None)
    if bw_basis == BANDWIDTH_UNKNOWN:
        if block or has_bw:
            errs.append(("bandwidth_basis", "is 'unknown' but the row gives a bandwidth (designator, channel_khz or "
                         "block edges)"))
        elif tol_hz is None and tol_ppm is None and not any(f.startswith("tolerance") for f, _ in errs):
            errs.append(("bandwidth_basis", "'unknown' needs tolerance_hz or tolerance_ppm: the checker matches the "
                         "licensed frequency within its tolerance"))
    elif (
        not block
        and lower is None
        and upper is None
        and not has_bw
        and not any(f in ("designator", "channel_khz") for f, _ in errs)
    ):
        errs.append(("designator", "no bandwidth: give a designator with bandwidth (e.g. 16K0F3E) or channel_khz "
                     "(or bandwidth_basis 'unknown' with a tolerance: frequency licensed, bandwidth not judged)"))
    if tol_hz is not None and tol_ppm is not None:
        errs.append(("tolerance_ppm", "give tolerance_hz or tolerance_ppm, not both"))
    if (lat is None) != (lon is None) and not any(f in ("latitude", "longitude") for f, _ in errs):
        errs.append(("longitude" if lon is None else "latitude", "latitude and longitude must be given together"))
    if radius is not None and lat is None and not errs:
        errs.append(("radius_km", "a service radius needs the site's latitude and longitude"))
    if vfrom is not None and vto is not None and vto < vfrom:
        errs.append(("valid_to", f"{shorten(get('valid_to'))} is before valid_from {shorten(get('valid_from'))}"))
    if errs:
        raise _RowErrors(errs)

    if block:
        center_hz = (lower + upper) / 2 * 1e6
        width_hz = (upper - lower) * 1e6
    else:
        center_hz = freq * 1e6
        width_hz = channel * 1e3 if channel is not None else None
    return Assignment(
        licence=licence,
        licensee=get("licensee"),
        service=get("service"),
        station_name=get("station_name"),
        center_hz=center_hz,
        designator=des.text if des else None,
        necessary_bandwidth_hz=des.necessary_bandwidth_hz if des else None,
        channel_width_hz=width_hz,
        tolerance_hz=tol_hz,
        tolerance_ppm=tol_ppm,
        latitude_deg=lat,
        longitude_deg=lon,
        radius_m=radius * 1e3 if radius is not None else None,
        max_power_dbw=power,
        power_reference=ref,
        valid_from=vfrom,
        valid_to=vto,
        status=status,
        block=block,
        source=source,
        bandwidth_basis=bw_basis,
        tolerance_basis=tol_basis,
    )


def assignment_to_fields(a: Assignment) -> dict[str, str]:
    """Canonical text fields of an assignment (the inverse of :func:`assignment_from_fields`)."""

    def num(x: float | None, scale: float = 1.0) -> str:
        if x is None:
            return ""
        return f"{x / scale:.9f}".rstrip("0").rstrip(".")

    def when(x: datetime | None, end: bool) -> str:
        if x is None:
            return ""
        if end and x.time() == time.max:
            return x.date().isoformat()
        if not end and x.time() == time.min:
            return x.date().isoformat()
        return x.strftime("%Y-%m-%dT%H:%M:%SZ")

    if a.block:
        freq, lower, upper = "", num(a.f_lo_hz, 1e6), num(a.f_hi_hz, 1e6)
        channel = ""
    else:
        freq, lower, upper = num(a.center_hz, 1e6), "", ""
        channel = num(a.channel_width_hz, 1e3)
    return {
        "licence": a.licence,
        "licensee": a.licensee,
        "service": a.service,
        "station_name": a.station_name,
        "frequency_mhz": freq,
        "lower_mhz": lower,
        "upper_mhz": upper,
        "designator": a.designator or "",
        "channel_khz": channel,
        "tolerance_hz": num(a.tolerance_hz),
        "tolerance_ppm": num(a.tolerance_ppm),
        "latitude": num(a.latitude_deg),
        "longitude": num(a.longitude_deg),
        "radius_km": num(a.radius_m, 1e3),
        "max_power_dbw": num(a.max_power_dbw),
        "power_reference": a.power_reference if a.max_power_dbw is not None else "",
        "valid_from": when(a.valid_from, False),
        "valid_to": when(a.valid_to, True),
        "status": a.status,
        "bandwidth_basis": a.bandwidth_basis,
        "tolerance_basis": a.tolerance_basis,
    }
