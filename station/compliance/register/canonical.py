"""The canonical register files (docs/REGISTER.md): the CSV and JSON loaders, which report every bad row with
file:line:column and warn about repeated rows, and the writers (written to a temporary file, then renamed).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path

from station.compliance.records import Assignment
from station.compliance.register._readers import _check_width, _CsvTable, _JsonDoc, _open_text
from station.compliance.register.model import (
    COLUMNS,
    Problem,
    RegisterFile,
    _RowErrors,
    assignment_from_fields,
    assignment_to_fields,
)
from station.errors import DataError
from station.redact import shown

JSON_FORMAT = "specmon-register"
JSON_VERSION = 1


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



def _json_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is a boolean, expected a number or text")
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
                problems.append(Problem(doc.path, kl, kc, f"unknown key {shown(k)} ignored", "warning"))
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
        raise doc.error(doc.text.find('"format"'), f"format is {shown(fmt)}, expected {shown(JSON_FORMAT)}")
    if ver is not None and ver != JSON_VERSION:
        raise doc.error(doc.text.find('"version"'), f"version {shown(ver)} is not supported (expected {JSON_VERSION})")
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


def builtin_path(name: str) -> Path:
    """A file shipped in station/data/ (``demo_register.csv``, ``exempt_bands.csv``)."""
    return Path(__file__).resolve().parents[2] / "data" / name
