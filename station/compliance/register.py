"""The licence register on disk: the canonical CSV/JSON format (docs/REGISTER.md), the exempt-band table, and
importers for real registers (NZ RSM Register of Radio Frequencies API pages, ACMA RRL extracts, OurAirports
frequencies).

Every loader reads the whole file and reports EVERY bad row as a :class:`Problem` (``file:line:column: field:
reason``); a bad row is never kept and never dropped silently: it is counted and reported. Callers that must
not continue with errors call :meth:`RegisterFile.raise_for_errors` (a :class:`DataError` naming the first bad
row and how many more there are).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from functools import lru_cache, partial
from pathlib import Path

from station.compliance.checker import STATUSES, Assignment, ExemptBand
from station.compliance.designator import parse_designator
from station.errors import DataError

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
)
EXEMPT_COLUMNS = ("name", "lower_mhz", "upper_mhz", "max_bandwidth_khz", "max_erp_dbm", "note")
JSON_FORMAT = "specmon-register"
JSON_VERSION = 1
IMPORT_FORMATS = ("nz-rsm", "acma", "ourairports", "csv", "json")
_MAX_FREQ_MHZ = 3_000_000.0  # 3000 GHz: the top of the ITU RR frequency allocation table


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
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    if positive and value <= 0:
        raise ValueError(f"{text!r} must be positive")
    if lo is not None and value < lo:
        raise ValueError(f"{text!r} is below {lo:g}")
    if hi is not None and value > hi:
        raise ValueError(f"{text!r} is above {hi:g}")
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
        raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD) or date-time") from None
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
    freq = parse("frequency_mhz", _num, positive=True, hi=_MAX_FREQ_MHZ)
    lower = parse("lower_mhz", _num, positive=True, hi=_MAX_FREQ_MHZ)
    upper = parse("upper_mhz", _num, positive=True, hi=_MAX_FREQ_MHZ)
    des = parse("designator", _designator)
    channel = parse("channel_khz", _num, positive=True)
    tol_hz = parse("tolerance_hz", _num, lo=0.0)
    tol_ppm = parse("tolerance_ppm", _num, lo=0.0, hi=1e6)
    lat = parse("latitude", _num, lo=-90.0, hi=90.0)
    lon = parse("longitude", _num, lo=-180.0, hi=180.0)
    radius = parse("radius_km", _num, lo=0.0, hi=20_100.0)
    power = parse("max_power_dbw", _num, lo=-100.0, hi=100.0)
    ref = (get("power_reference") or "erp").lower()
    if ref not in ("erp", "eirp"):
        errs.append(("power_reference", f"{get('power_reference')!r} is not 'erp' or 'eirp'"))
    vfrom = parse("valid_from", _when, False)
    vto = parse("valid_to", _when, True)
    status = (get("status") or "current").lower()
    if status not in STATUSES:
        errs.append(("status", f"{get('status')!r} is not one of {', '.join(STATUSES)}"))

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
    if (
        not block
        and lower is None
        and upper is None
        and channel is None
        and (des is None or des.necessary_bandwidth_hz is None)
        and not any(f in ("designator", "channel_khz") for f, _ in errs)
    ):
        errs.append(("designator", "no bandwidth: give a designator with bandwidth (e.g. 16K0F3E) or channel_khz"))
    if tol_hz is not None and tol_ppm is not None:
        errs.append(("tolerance_ppm", "give tolerance_hz or tolerance_ppm, not both"))
    if (lat is None) != (lon is None) and not any(f in ("latitude", "longitude") for f, _ in errs):
        errs.append(("longitude" if lon is None else "latitude", "latitude and longitude must be given together"))
    if radius is not None and lat is None and not errs:
        errs.append(("radius_km", "a service radius needs the site's latitude and longitude"))
    if vfrom is not None and vto is not None and vto < vfrom:
        errs.append(("valid_to", f"{get('valid_to')} is before valid_from {get('valid_from')}"))
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
    }


# ---- CSV -----------------------------------------------------------------------------------------------
def _field_starts(line: str, delimiter: str = ",") -> list[int]:
    """1-based character columns where each CSV field of ``line`` starts (quotes respected)."""
    starts, quoted, i = [1], False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted = not quoted
        elif c == delimiter and not quoted:
            starts.append(i + 2)
        i += 1
    return starts


def _open_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", where=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", where=f"{path}:{line}") from None


def sniff_delimiter(text: str) -> str:
    """``,`` unless the first non-comment line (the header) has more ``;`` or tabs than commas (spreadsheets
    in many locales export ``;``-separated CSV)."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=counts.get)
            return best if counts[best] > counts[","] else ","
    return ","


def _csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, fields) of each non-blank, non-comment CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", where=f"line {reader.line_num}") from None
        start, line = line, reader.line_num + 1
        if not row or row[0].lstrip().startswith("#") or not "".join(row).strip():
            continue
        yield start, row


class _CsvTable:
    """Header-mapped CSV rows with exact file:line:column positions for problems."""

    def __init__(self, path: Path, text: str, *, known: Iterable[str] | None, required: Iterable[str]):
        self.path = str(path)
        self.lines = text.splitlines()
        try:
            self.delimiter = sniff_delimiter(text)
            self.rows = list(_csv_rows(text, self.delimiter))
        except DataError as exc:
            raise DataError(str(exc).replace("line ", "", 1), where=self.path) from None
        self.problems: list[Problem] = []
        if not self.rows:
            raise DataError("empty file: no header row", where=f"{self.path}:1")
        self.header_line, header = self.rows.pop(0)
        self.header = [h.strip().lower() for h in header]
        starts = (_field_starts(self.lines[self.header_line - 1], self.delimiter)
                  if self.header_line <= len(self.lines) else [])
        self.col_of = {name: i for i, name in enumerate(self.header) if name}
        for name in required:
            if name not in self.col_of:
                raise DataError(
                    f"header has no {name!r} column (columns: {', '.join(h for h in self.header if h)})",
                    where=f"{self.path}:{self.header_line}:1",
                )
        if known is not None:
            known = set(known)
            for i, name in enumerate(self.header):
                if name and name not in known:
                    col = starts[i] if i < len(starts) else 1
                    self.problems.append(
                        Problem(self.path, self.header_line, col, f"unknown column {name!r} ignored", "warning")
                    )

    def column(self, line: int, index: int) -> int:
        if 1 <= line <= len(self.lines):
            starts = _field_starts(self.lines[line - 1], self.delimiter)
            if index < len(starts):
                return starts[index]
        return 1

    def problem(self, line: int, name: str | None, message: str, severity: str = "error") -> None:
        idx = self.col_of.get(name, 0) if name else 0
        col = self.column(line, idx)
        text = f"{name}: {message}" if name else message
        self.problems.append(Problem(self.path, line, col, text, severity))

    def getter(self, row: list[str]) -> Callable[[str], str]:
        col_of, n = self.col_of, len(row)

        def get(name: str) -> str:
            i = col_of.get(name)
            return row[i].strip() if i is not None and i < n else ""

        return get


def _check_width(table: _CsvTable, line: int, row: list[str]) -> bool:
    if len(row) > len(table.header) and any(c.strip() for c in row[len(table.header) :]):
        table.problems.append(
            Problem(
                table.path, line, table.column(line, len(table.header)),
                f"row has {len(row)} fields but the header has {len(table.header)}",
            )
        )
        return False
    return True


def load_register_csv(path: str | os.PathLike) -> RegisterFile:
    """Load a canonical register CSV (header row with the :data:`COLUMNS` names, any order; ``#`` comments)."""
    path = Path(path)
    text = _open_text(path)
    first = text.lstrip("\ufeff").split("\n", 1)[0].lower()
    if "licence" not in first and ("airport_ident" in first or "tower_tx" in first or "site_id" in first):
        fmt, what = ("ourairports", "an OurAirports frequency list") if "airport_ident" in first else (
            "acma", "an ACMA RRL extract")
        raise DataError(f"not a specmon register but {what}; convert it: specmon register import FILE "
                        f"--format {fmt} --out OUT.csv", where=f"{path}:1:1")
    table = _CsvTable(path, text, known=COLUMNS, required=("licence",))
    out: list[Assignment] = []
    header = table.header
    for line, row in table.rows:
        if len(row) > len(header) and not _check_width(table, line, row):
            continue
        try:
            fields = dict(zip(header, [c.strip() for c in row]))
            out.append(assignment_from_fields(fields, f"{table.path}:{line}"))
        except _RowErrors as exc:
            for name, message in exc.problems:
                table.problem(line, name, message)
    _warn_duplicates(out, table.problems, table.path)
    return RegisterFile(table.path, "csv", tuple(out), tuple(table.problems), len(table.rows))


def _warn_duplicates(items: list[Assignment], problems: list[Problem], path: str) -> None:
    seen: dict[tuple, str] = {}
    for a in items:
        key = (a.licence, round(a.center_hz), a.latitude_deg, a.longitude_deg)
        first = seen.setdefault(key, a.source)
        if first != a.source:
            line = int(a.source.rsplit(":", 1)[1]) if ":" in a.source else 0
            problems.append(
                Problem(path, line, 1, f"licence {a.licence} at {a.center_hz / 1e6:.6f} MHz repeats {first}", "warning")
            )


# ---- JSON ----------------------------------------------------------------------------------------------
_WS = " \t\r\n"


class _JsonDoc:
    """Walks a JSON document with the C decoder, recording where each array item starts, so that problems
    carry line:column."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = str(path), text
        self._dec = json.JSONDecoder()
        self._line_starts: list[int] | None = None
        self.members: dict = {}  # the top-level object's other members (format, version), filled by items()

    def pos(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts, i = [0], self.text.find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = self.text.find("\n", i + 1)
            self._line_starts = starts
        import bisect

        k = bisect.bisect_right(self._line_starts, offset) - 1
        return k + 1, offset - self._line_starts[k] + 1

    def error(self, offset: int, message: str) -> DataError:
        line, col = self.pos(offset)
        return DataError(message, where=f"{self.path}:{line}:{col}")

    def _skip(self, i: int) -> int:
        t = self.text
        while i < len(t) and t[i] in _WS:
            i += 1
        return i

    def _value(self, i: int):
        try:
            return self._dec.raw_decode(self.text, i)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"malformed JSON: {exc.msg}") from None

    def items(self, key: str | None) -> Iterator[tuple[int, int, object]]:
        """(start, end, value) of each item of the top-level array, or of the array under ``key`` in a top-level
        object (``key=None``: the top level must be an array)."""
        i = self._skip(0)
        if i < len(self.text) and self.text[i] == "{" and key is not None:
            i = self._skip(i + 1)
            found = False
            while i < len(self.text) and self.text[i] != "}":
                k, i = self._value(i)
                i = self._skip(i)
                if i >= len(self.text) or self.text[i] != ":":
                    raise self.error(i, "malformed JSON: expected ':' after a key")
                i = self._skip(i + 1)
                if k == key:
                    found = True
                    i = yield from self._array(i)
                else:
                    value, i = self._value(i)
                    self.members[k] = value
                i = self._skip(i)
                if i < len(self.text) and self.text[i] == ",":
                    i = self._skip(i + 1)
            if not found:
                hint = ""
                if key == "assignments" and "items" in self.members:
                    hint = " (an NZ RSM API page? convert it: specmon register import FILE --format nz-rsm --out OUT)"
                raise self.error(0, f"top-level object has no {key!r} array{hint}")
            return
        yield from self._array(i)

    def _array(self, i: int):
        """Yield (start, end, value) per item of the array at ``i``; returns the index after its ``]``."""
        if i >= len(self.text) or self.text[i] != "[":
            raise self.error(i, "expected a JSON array of assignments")
        i = self._skip(i + 1)
        if i < len(self.text) and self.text[i] == "]":
            return i + 1
        while True:
            start = i
            value, end = self._value(i)
            yield start, end, value
            i = self._skip(end)
            if i < len(self.text) and self.text[i] == ",":
                i = self._skip(i + 1)
                continue
            if i < len(self.text) and self.text[i] == "]":
                return i + 1
            raise self.error(i, "malformed JSON: expected ',' or ']' in the array")

    def key_pos(self, start: int, end: int, name: str) -> tuple[int, int]:
        k = self.text.find(f'"{name}"', start, end)
        return self.pos(k if k >= 0 else start)


def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, expected a number or text")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"expected a number or text, got a JSON {type(value).__name__}")


def load_register_json(path: str | os.PathLike) -> RegisterFile:
    """Load a canonical register JSON: ``{"format": "specmon-register", "version": 1, "assignments": [{...}]}``
    (or a bare array of assignment objects), with the :data:`COLUMNS` names as keys."""
    path = Path(path)
    doc = _JsonDoc(path, _open_text(path))
    problems: list[Problem] = []
    out: list[Assignment] = []
    n = 0
    known = set(COLUMNS)
    for start, end, item in doc.items("assignments"):
        n += 1
        line, col = doc.pos(start)
        if not isinstance(item, dict):
            problems.append(Problem(doc.path, line, col, f"assignment is a JSON {type(item).__name__}, not an object"))
            continue
        bad: list[tuple[str, str]] = []
        for k in item:
            if k not in known:
                kl, kc = doc.key_pos(start, end, k)
                problems.append(Problem(doc.path, kl, kc, f"unknown key {k!r} ignored", "warning"))
        fields: dict[str, str] = {}
        for k in COLUMNS:
            try:
                fields[k] = _json_text(item.get(k))
            except ValueError as exc:
                bad.append((k, str(exc)))
                fields[k] = ""
        try:
            a = assignment_from_fields(fields, f"{doc.path}:{line}")
        except _RowErrors as exc:
            bad.extend(exc.problems)
            a = None
        if bad:
            for k, message in bad:
                kl, kc = doc.key_pos(start, end, k)
                problems.append(Problem(doc.path, kl, kc, f"{k}: {message}"))
            continue
        out.append(a)
    fmt, ver = doc.members.get("format"), doc.members.get("version")
    if fmt is not None and fmt != JSON_FORMAT:
        raise doc.error(doc.text.find('"format"'), f"format is {fmt!r}, expected {JSON_FORMAT!r}")
    if ver is not None and ver != JSON_VERSION:
        raise doc.error(doc.text.find('"version"'), f"version {ver!r} is not supported (expected {JSON_VERSION})")
    _warn_duplicates(out, problems, doc.path)
    return RegisterFile(doc.path, "json", tuple(out), tuple(problems), n)


def load_register(path: str | os.PathLike) -> RegisterFile:
    """Load a canonical register, CSV or JSON by extension (``.json`` -> JSON, else CSV)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return load_register_json(p)
    return load_register_csv(p)


# ---- writers -------------------------------------------------------------------------------------------
def write_register_csv(assignments: Iterable[Assignment], path: str | os.PathLike) -> int:
    """Write the canonical CSV; returns rows written. Written to a temporary file then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for a in assignments:
            w.writerow(assignment_to_fields(a))
            n += 1
    os.replace(tmp, path)
    return n


def write_register_json(assignments: Iterable[Assignment], path: str | os.PathLike) -> int:
    """Write the canonical JSON (one assignment object per line); returns rows written."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f'{{"format": "{JSON_FORMAT}", "version": {JSON_VERSION}, "assignments": [\n')
        for a in assignments:
            fields = {k: v for k, v in assignment_to_fields(a).items() if v != ""}
            for k in ("frequency_mhz", "lower_mhz", "upper_mhz", "channel_khz", "tolerance_hz", "tolerance_ppm",
                      "latitude", "longitude", "radius_km", "max_power_dbw"):
                if k in fields:
                    fields[k] = float(fields[k])
            f.write(("  " if n == 0 else ", ") + json.dumps(fields, ensure_ascii=False) + "\n")
            n += 1
        f.write("]}\n")
    os.replace(tmp, path)
    return n


# ---- exempt bands --------------------------------------------------------------------------------------
def builtin_path(name: str) -> Path:
    """A file shipped in station/data/ (``demo_register.csv``, ``exempt_bands.csv``)."""
    return Path(__file__).resolve().parent.parent / "data" / name


def load_exempt_bands(path: str | os.PathLike | None = None) -> tuple[list[ExemptBand], list[Problem]]:
    """Load the exempt-band table (default: the built-in ``station/data/exempt_bands.csv``)."""
    path = Path(path) if path is not None else builtin_path("exempt_bands.csv")
    table = _CsvTable(path, _open_text(path), known=EXEMPT_COLUMNS, required=("name", "lower_mhz", "upper_mhz"))
    out: list[ExemptBand] = []
    for line, row in table.rows:
        if not _check_width(table, line, row):
            continue
        get = table.getter(row)
        errs: list[tuple[str, str]] = []

        parse = partial(_parse_field, get, errs)

        name = get("name")
        if not name:
            errs.append(("name", "is empty"))
        lo = parse("lower_mhz", _num, positive=True, hi=_MAX_FREQ_MHZ)
        hi = parse("upper_mhz", _num, positive=True, hi=_MAX_FREQ_MHZ)
        bw = parse("max_bandwidth_khz", _num, positive=True)
        erp = parse("max_erp_dbm", _num, lo=-100.0, hi=100.0)
        for req, val in (("lower_mhz", lo), ("upper_mhz", hi)):
            if val is None and not any(f == req for f, _ in errs):
                errs.append((req, "is empty"))
        if lo is not None and hi is not None and hi <= lo:
            errs.append(("upper_mhz", f"{hi:g} must be above lower_mhz {lo:g}"))
        if errs:
            for f, message in errs:
                table.problem(line, f, message)
            continue
        out.append(
            ExemptBand(
                name=name, f_lo_hz=lo * 1e6, f_hi_hz=hi * 1e6,
                max_bandwidth_hz=bw * 1e3 if bw is not None else None, max_erp_dbm=erp,
                note=get("note"), source=f"{table.path}:{line}",
            )
        )
    return out, table.problems


def load_exempt_bands_strict(path: str | os.PathLike | None = None) -> list[ExemptBand]:
    """:func:`load_exempt_bands` raising DataError on the first bad row (for the daemon's start-up)."""
    bands, problems = load_exempt_bands(path)
    errs = [p for p in problems if p.severity == "error"]
    if errs:
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        raise DataError(f"{errs[0]}{more}")
    return bands


# ---- importers for real registers ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Defaults an importer applies where the source register has no value."""

    channel_width_hz: float | None = None  # None: the format's default (see DEFAULT_CHANNEL_HZ)
    tolerance_ppm: float = 5.0
    mobile_radius_m: float = 30_000.0  # ACMA: service radius of mobiles transmitting on a site's receive freq
    sites: Path | None = None  # ACMA site.csv / OurAirports airports.csv for coordinates


#: default channel width per import format when the source gives none (Hz)
DEFAULT_CHANNEL_HZ = {"nz-rsm": 12_500.0, "acma": 12_500.0, "ourairports": 25_000.0}
_NZ_STATUS = {"current": "current", "expired": "expired", "cancelled": "cancelled", "suspended": "suspended",
              "declined": "cancelled", "incomplete": "pending", "planned": "pending", "registered": "current"}


def _assign(**kw) -> Assignment:
    return Assignment(**kw)


def import_nz_rsm(paths: Iterable[str | os.PathLike], options: ImportOptions = ImportOptions()) -> RegisterFile:
    """NZ RSM Register of Radio Frequencies API pages (``{"items": [...]}``; frequency MHz, gridReference
    'lat lon' NZGD2000). RX-only rows are skipped and counted; the API gives no bandwidth or tolerance, so
    ``options`` supply them."""
    width = options.channel_width_hz or DEFAULT_CHANNEL_HZ["nz-rsm"]
    out: list[Assignment] = []
    problems: list[Problem] = []
    skipped: Counter = Counter()
    n = 0
    names = []
    for p in paths:
        path = Path(p)
        names.append(str(path))
        doc = _JsonDoc(path, _open_text(path))
        for start, end, item in doc.items("items"):
            n += 1
            line, col = doc.pos(start)
            if not isinstance(item, dict):
                problems.append(Problem(doc.path, line, col, f"item is a JSON {type(item).__name__}, not an object"))
                continue

            def bad(key: str, message: str) -> None:
                kl, kc = doc.key_pos(start, end, key)
                problems.append(Problem(doc.path, kl, kc, f"{key}: {message}"))

            if str(item.get("txrx", "TX")).upper() == "RX":
                skipped["receive-only (txrx RX)"] += 1
                continue
            ok = True
            lic = item.get("licenceNumber") or item.get("licenceID")
            if lic in (None, ""):
                bad("licenceNumber", "is missing")
                ok = False
            freq = item.get("frequency")
            if not isinstance(freq, (int, float)) or isinstance(freq, bool) or not (0 < freq <= _MAX_FREQ_MHZ):
                bad("frequency", f"{freq!r} is not a frequency in MHz")
                ok = False
            lat = lon = None
            grid = item.get("gridReference")
            if grid:
                ref = str(item.get("gridRefDefault", ""))
                parts = str(grid).split()
                try:
                    if not ref.startswith("LAT_LONG"):
                        raise ValueError(f"grid reference system {ref!r} is not latitude/longitude")
                    if len(parts) != 2:
                        raise ValueError(f"{grid!r} is not 'latitude longitude'")
                    lat, lon = _num(parts[0], lo=-90, hi=90), _num(parts[1], lo=-180, hi=180)
                except ValueError as exc:
                    bad("gridReference", str(exc))
                    ok = False
                if lat == 0.0 and lon == 0.0:  # a placeholder (satellite services): no site
                    kl, kc = doc.key_pos(start, end, "gridReference")
                    problems.append(Problem(doc.path, kl, kc, "gridReference: 0 0 is a placeholder; imported without "
                                            "coordinates", "warning"))
                    lat = lon = None
            raw_status = str(item.get("status") or "Current").strip().lower()
            status = _NZ_STATUS.get(raw_status)
            if status is None:
                bad("status", f"{item.get('status')!r} is not a known RSM status")
                ok = False
            if not ok:
                continue
            location = str(item.get("location") or "")
            channel = str(item.get("channel") or "")
            out.append(
                _assign(
                    licence=f"NZ-{lic}", licensee=str(item.get("licensee") or ""),
                    service=str(item.get("licenceType") or ""),
                    station_name=f"{location} [{channel}]" if channel else location,
                    center_hz=float(freq) * 1e6, channel_width_hz=width, tolerance_ppm=options.tolerance_ppm,
                    latitude_deg=lat, longitude_deg=lon, status=status, source=f"{doc.path}:{line}",
                )
            )
    return RegisterFile(", ".join(names), "nz-rsm", tuple(out), tuple(problems), n, dict(skipped))


def _load_acma_sites(path: Path) -> tuple[dict[str, tuple[float, float, str]], list[Problem]]:
    table = _CsvTable(path, _open_text(path), known=None, required=("site_id", "latitude", "longitude"))
    sites: dict[str, tuple[float, float, str]] = {}
    for line, row in table.rows:
        get = table.getter(row)
        try:
            lat = _num(get("latitude"), lo=-90, hi=90)
        except ValueError as exc:
            table.problem(line, "latitude", str(exc))
            continue
        try:
            lon = _num(get("longitude"), lo=-180, hi=180)
        except ValueError as exc:
            table.problem(line, "longitude", str(exc))
            continue
        sites[get("site_id")] = (lat, lon, get("name"))
    return sites, table.problems


def import_acma(path: str | os.PathLike, options: ImportOptions = ImportOptions()) -> RegisterFile:
    """ACMA RRL extracts: ``LICENSE_NO,TOWER_TX_FREQ,TOWER_RX_FREQ,SITE_NO`` or ``SITE_ID,TOWER_TX,TOWER_RX,
    BANDWIDTH`` (MHz; bandwidth kHz). Each row gives the tower's transmit frequency at the site and, when
    present, the mobiles' transmit frequency (the tower's receive frequency) as an area assignment of
    ``options.mobile_radius_m`` around the site. ``options.sites``: the RRL site.csv for coordinates."""
    path = Path(path)
    table = _CsvTable(path, _open_text(path), known=None, required=())
    cols = set(table.col_of)
    if {"license_no", "tower_tx_freq", "site_no"} <= cols:
        tx_col, rx_col, site_col, lic_col, bw_col = "tower_tx_freq", "tower_rx_freq", "site_no", "license_no", None
    elif {"site_id", "tower_tx", "bandwidth"} <= cols:
        tx_col, rx_col, site_col, lic_col, bw_col = "tower_tx", "tower_rx", "site_id", None, "bandwidth"
    else:
        raise DataError(
            "not an ACMA RRL extract this importer maps: expected columns LICENSE_NO,TOWER_TX_FREQ,TOWER_RX_FREQ,"
            f"SITE_NO or SITE_ID,TOWER_TX,TOWER_RX,BANDWIDTH; found {','.join(table.header)}",
            where=f"{path}:{table.header_line}:1",
        )
    sites: dict[str, tuple[float, float, str]] = {}
    if options.sites is not None:
        sites, site_problems = _load_acma_sites(Path(options.sites))
        table.problems.extend(site_problems)
    default_width = options.channel_width_hz or DEFAULT_CHANNEL_HZ["acma"]
    out: list[Assignment] = []
    skipped: Counter = Counter()
    for line, row in table.rows:
        get = table.getter(row)
        ok = True

        def freq_of(col: str, required: bool) -> float | None:
            nonlocal ok
            text = get(col)
            if not text:
                if required:
                    table.problem(line, col, "is empty")
                    ok = False
                return None
            try:
                return _num(text, positive=True, hi=_MAX_FREQ_MHZ)
            except ValueError as exc:
                table.problem(line, col, str(exc))
                ok = False
                return None

        tx = freq_of(tx_col, True)
        rx = freq_of(rx_col, False)
        width = default_width
        if bw_col and get(bw_col):
            try:
                width = _num(get(bw_col), positive=True) * 1e3
            except ValueError as exc:
                table.problem(line, bw_col, str(exc))
                ok = False
        site_id = get(site_col)
        if not ok:
            continue
        lat = lon = None
        site_name = f"site {site_id}" if site_id else "no site"
        if not site_id:
            table.problem(line, site_col, "is empty: imported without coordinates", "warning")
        elif sites:
            if site_id in sites:
                lat, lon, name = sites[site_id]
                site_name = f"{name} (site {site_id})"
            else:
                table.problem(line, site_col, f"site {site_id} is not in {options.sites}; imported without coordinates",
                              "warning")
        licence = f"ACMA-{get(lic_col)}" if lic_col else f"ACMA-site{site_id or '-none'}-{get(tx_col)}"
        common = dict(licensee="", service="land mobile (ACMA RRL)", channel_width_hz=width,
                      tolerance_ppm=options.tolerance_ppm, source=f"{table.path}:{line}")
        out.append(_assign(licence=licence, station_name=site_name, center_hz=tx * 1e6, latitude_deg=lat,
                           longitude_deg=lon, **common))
        if rx is not None and abs(rx - tx) > 1e-9:
            out.append(_assign(licence=licence, station_name=f"mobiles of {site_name}", center_hz=rx * 1e6,
                               latitude_deg=lat, longitude_deg=lon,
                               radius_m=options.mobile_radius_m if lat is not None else None, **common))
        elif rx is not None:
            skipped["receive frequency equals transmit (simplex)"] += 1
    return RegisterFile(table.path, "acma", tuple(out), tuple(table.problems), len(table.rows), dict(skipped))


def import_ourairports(path: str | os.PathLike, options: ImportOptions = ImportOptions()) -> RegisterFile:
    """OurAirports ``airport-frequencies.csv`` (``id,airport_ref,airport_ident,type,description,frequency_mhz``).
    ``options.sites``: OurAirports ``airports.csv`` (``id,...,latitude_deg,longitude_deg``) for positions."""
    path = Path(path)
    table = _CsvTable(path, _open_text(path), known=None,
                      required=("id", "airport_ident", "type", "frequency_mhz"))
    positions: dict[str, tuple[float, float]] = {}
    if options.sites is not None:
        st = _CsvTable(Path(options.sites), _open_text(Path(options.sites)), known=None,
                       required=("id", "latitude_deg", "longitude_deg"))
        for line, row in st.rows:
            g = st.getter(row)
            try:
                positions[g("id")] = (_num(g("latitude_deg"), lo=-90, hi=90), _num(g("longitude_deg"), lo=-180, hi=180))
            except ValueError as exc:
                st.problem(line, "latitude_deg", str(exc))
        table.problems.extend(st.problems)
    width = options.channel_width_hz or DEFAULT_CHANNEL_HZ["ourairports"]
    out: list[Assignment] = []
    for line, row in table.rows:
        get = table.getter(row)
        try:
            freq = _num(get("frequency_mhz"), positive=True, hi=_MAX_FREQ_MHZ)
        except ValueError as exc:
            table.problem(line, "frequency_mhz", str(exc))
            continue
        if not get("id"):
            table.problem(line, "id", "is empty")
            continue
        pos = positions.get(get("airport_ref"))
        kind = get("type")
        out.append(
            _assign(
                licence=f"OA-{get('id')}", licensee=get("airport_ident"), service=f"aeronautical {kind}".strip(),
                station_name=get("description") or kind, center_hz=freq * 1e6, channel_width_hz=width,
                tolerance_ppm=options.tolerance_ppm, latitude_deg=pos[0] if pos else None,
                longitude_deg=pos[1] if pos else None, source=f"{table.path}:{line}",
            )
        )
    return RegisterFile(table.path, "ourairports", tuple(out), tuple(table.problems), len(table.rows))


def import_register(paths: list[str | os.PathLike], fmt: str, options: ImportOptions = ImportOptions()) -> RegisterFile:
    """Read ``paths`` in import format ``fmt`` (one of :data:`IMPORT_FORMATS`)."""
    if fmt == "nz-rsm":
        return import_nz_rsm(paths, options)
    if len(paths) != 1:
        raise DataError(f"format {fmt} reads one file, got {len(paths)}")
    if fmt == "acma":
        return import_acma(paths[0], options)
    if fmt == "ourairports":
        return import_ourairports(paths[0], options)
    if fmt == "csv":
        return load_register_csv(paths[0])
    if fmt == "json":
        return load_register_json(paths[0])
    raise DataError(f"unknown register format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}")


__all__ = [
    "COLUMNS", "EXEMPT_COLUMNS", "IMPORT_FORMATS", "ImportOptions", "Problem", "RegisterFile",
    "assignment_from_fields", "assignment_to_fields", "builtin_path", "import_register", "load_exempt_bands",
    "load_exempt_bands_strict", "load_register", "load_register_csv", "load_register_json", "write_register_csv",
    "write_register_json",
]
