"""Sweep files, one module per family, and the choice between them:

- :mod:`station.formats.sweepcsv`: rtl_power-compatible CSV writer; importer for rtl_power, soapy_power and
  hackrf_sweep CSV logs (plain or gzip);
- :mod:`station.formats.sweepjson`: specmon's own JSON Lines and npz (every Spectrum field kept);
- :mod:`station.formats.sweeprfs`: RTLSDR-Scanner ``.rfs`` scans.

All of them read into and write from :class:`~dsp.spectrum.Spectrum` records. This module picks the reader by
content (:func:`read_sweeps`) and the writer by name (:func:`write_spectra`, :func:`format_for_path`), and
re-exports the families' public names so ``from station.formats.sweepio import ...`` keeps working.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

from dsp.spectrum import Spectrum
from station.errors import DataError, UsageError
from station.formats._text import open_text
from station.formats.sweepcsv import (
    CsvRow,
    format_rtl_power,
    iter_csv_sweeps,
    parse_csv_row,
    parse_tz,
    write_rtl_power,
)
from station.formats.sweepjson import (
    JSON_KIND,
    JSON_VERSION,
    read_json_lines,
    read_npz,
    spectrum_from_dict,
    spectrum_to_dict,
    write_json_lines,
    write_npz,
)
from station.formats.sweeprfs import read_rfs
from station.redact import shown

__all__ = [
    "FORMATS", "JSON_KIND", "JSON_VERSION", "CsvRow", "format_for_path", "format_rtl_power", "iter_csv_sweeps",
    "parse_csv_row", "parse_tz", "read_json_lines", "read_npz", "read_rfs", "read_sweeps", "spectrum_from_dict",
    "spectrum_to_dict", "write_json_lines", "write_npz", "write_rtl_power", "write_spectra",
]

FORMATS = ("rtl_power", "json", "npz")
#: the gzip-aware text opener, under the name ``specmon import`` uses
_open_text = open_text


def write_spectra(spectra: Iterable[Spectrum], path: str | Path | None, fmt: str, *, append: bool = False) -> None:
    """Write spectra in ``fmt`` (rtl_power, json, npz) to ``path`` (None = stdout for the text formats)."""
    import sys

    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {shown(fmt)}; expected one of {', '.join(FORMATS)}")
    if fmt == "npz":
        if path is None:
            raise UsageError("--format npz needs --output FILE")
        write_npz(list(spectra), path)
        return
    writer = write_rtl_power if fmt == "rtl_power" else write_json_lines
    if path is None:
        writer(spectra, sys.stdout)
        sys.stdout.flush()
        return
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, ("at" if append else "wt"), encoding="utf-8", newline="\n") as fh:
        writer(spectra, fh)


def format_for_path(path: str | Path | None, default: str = "rtl_power") -> str:
    """Output format implied by a file name: .npz -> npz, .json/.jsonl -> json, else ``default``."""
    if path is None:
        return default
    name = str(path).lower().removesuffix(".gz")
    if name.endswith(".npz"):
        return "npz"
    if name.endswith((".json", ".jsonl")):
        return "json"
    return default



def read_sweeps(path: str | Path, *, tz: str = "UTC", skip_bad: bool = False) -> list[Spectrum]:
    """Every sweep in a sweep file: CSV (rtl_power/soapy_power/hackrf_sweep, plain or gzip), specmon JSON Lines,
    specmon npz or RTLSDR-Scanner .rfs, chosen by content. DataError for unreadable or malformed files."""
    p = Path(path)
    if not p.is_file():
        raise DataError("no such file", where=str(path))
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        return read_npz(p)
    with open_text(p) as fh:
        first = fh.readline()
    if first.lstrip().startswith("{"):
        return read_json_lines(p)
    if first.lstrip().startswith("["):
        return read_rfs(p)
    return list(iter_csv_sweeps(p, tz=tz, skip_bad=skip_bad))
