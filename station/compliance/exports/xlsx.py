"""XLSX export (openpyxl): sheet "cases" with a localised header row, an autofilter, typed cells (numbers, UTC
date-times, booleans) and every text cell stored as a string (never a formula); sheet "register" with the
register rows (canonical columns, docs/REGISTER.md) each case was judged against; sheet "about" with the
report's time, filters and store, and the machine column names."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from station.compliance.exports._common import COLUMNS, LABELS, Report, atomic_write, label, neutralise
from station.compliance.register import COLUMNS as REGISTER_COLUMNS

EXTENSION = ".xlsx"


def _text(cell, value: str) -> None:
    cell.value = neutralise(value)
    cell.data_type = "s"  # openpyxl would store a leading '=' as a formula; a string stays a string


#: register fields that are numbers (canonical columns, docs/REGISTER.md): stored as numbers in the sheet
_REGISTER_NUMBERS = ("frequency_mhz", "lower_mhz", "upper_mhz", "channel_khz", "tolerance_hz", "tolerance_ppm",
                     "latitude", "longitude", "radius_km", "max_power_dbw")


def _number(v) -> float | int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return v
    try:
        x = float(str(v).strip())
    except ValueError:
        return None
    if x != x or x in (float("inf"), float("-inf")):
        return None
    return int(x) if x.is_integer() and abs(x) < 2 ** 53 and "." not in str(v) else x


def register_label(name: str, lang: str) -> str:
    k = f"reg_{name}"
    return label(k, lang) if k in LABELS else (label(name, lang) if name in LABELS else name)


def write(report: Report, out_dir: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang = report.lang

    def writer(tmp: Path) -> None:
        wb = Workbook()
        ws = wb.active
        ws.title = label("sheet_cases", lang)
        for j, col in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=1, column=j)
            _text(cell, label(col.name, lang) if col.name in LABELS else col.name)
            cell.font = Font(bold=True)
        for i, d in enumerate(report.cases, start=2):
            for j, col in enumerate(COLUMNS, start=1):
                value = col.get(d, lang)
                cell = ws.cell(row=i, column=j)
                if value is None or value == "":
                    continue
                if col.name in ("first_seen", "last_seen"):
                    cell.value = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")  # UTC, naive in the sheet
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif col.name in ("class", "state"):
                    _text(cell, label(str(value), lang))
                elif isinstance(value, (bool, int, float)):
                    cell.value = value
                else:
                    _text(cell, str(value))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(report.cases) + 1)}"
        for j, col in enumerate(COLUMNS, start=1):
            ws.column_dimensions[get_column_letter(j)].width = 48 if col.name in ("reason", "evidence") else 18
        reg = wb.create_sheet(label("sheet_register", lang))  # the register rows each case was judged against
        head = ["case_id", *REGISTER_COLUMNS]
        for j, name in enumerate(head, start=1):
            _text(reg.cell(row=1, column=j), register_label(name, lang))
            reg.cell(row=1, column=j).font = Font(bold=True)
        r = 2
        for d in report.cases:
            for row in d.case.register:
                _text(reg.cell(row=r, column=1), d.case.case_id)
                for j, name in enumerate(REGISTER_COLUMNS, start=2):
                    v = row.get(name)
                    if v is None or v == "":
                        continue
                    cell = reg.cell(row=r, column=j)
                    num = _number(v) if name in _REGISTER_NUMBERS else None
                    if num is not None:
                        cell.value = num
                    elif name == "status":
                        _text(cell, label(str(v), lang) if str(v) in LABELS else str(v))
                    else:
                        _text(cell, str(v))
                r += 1
        reg.freeze_panes = "B2"
        about = wb.create_sheet(label("sheet_about", lang))
        rows = [
            (label("title", lang), ""),
            (label("generated", lang), report.generated.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
            (label("filters", lang), report.filters_text()),
            (label("store", lang), report.store_path),
            (label("n_cases", lang), len(report.cases)),
            ("", ""),
            (label("about_column", lang), label("about_unit", lang)),
            *[(f"{c.name} = {label(c.name, lang)}" if c.name in LABELS else c.name, c.unit) for c in COLUMNS],
        ]
        for i, (k, v) in enumerate(rows, start=1):
            _text(about.cell(row=i, column=1), str(k))
            if isinstance(v, int):
                about.cell(row=i, column=2).value = v
            else:
                _text(about.cell(row=i, column=2), str(v))
        wb.save(tmp)

    return atomic_write(Path(out_dir) / (report.base_name() + EXTENSION), writer)
