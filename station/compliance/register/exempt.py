"""The licence-exempt band table (``station/data/exempt_bands.csv`` or an operator's own): every bad row is
reported with file:line:column; the strict loader raises for the daemon's start-up.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from station.compliance.records import ExemptBand
from station.compliance.register._readers import _check_width, _CsvTable, _open_text
from station.compliance.register.canonical import builtin_path
from station.compliance.register.model import _MAX_FREQ_MHZ, Problem, _num, _parse_field
from station.errors import DataError

EXEMPT_COLUMNS = ("name", "lower_mhz", "upper_mhz", "max_bandwidth_khz", "max_erp_dbm", "note")


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
