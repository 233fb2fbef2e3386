"""CSV export: one row per case, the stable column names of ``_common.COLUMNS`` as header, UTF-8 with a BOM
(so spreadsheet programs detect the encoding), free-text cells neutralised against formula injection."""

from __future__ import annotations

import csv
from pathlib import Path

from station.compliance.exports._common import COLUMNS, Report, atomic_write, neutralise

EXTENSION = ".csv"


def _cell(col, detail, lang: str) -> str:
    value = col.get(detail, lang)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if col.text:
        return neutralise(str(value))
    return str(value)


def write(report: Report, out_dir: Path) -> Path:
    """Write ``<out_dir>/violations-<UTC time>.csv``; returns its path."""

    def writer(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow([c.name for c in COLUMNS])
            for d in report.cases:
                w.writerow([_cell(c, d, report.lang) for c in COLUMNS])

    return atomic_write(Path(out_dir) / (report.base_name() + EXTENSION), writer)
