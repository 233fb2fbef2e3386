"""The licence register on disk: the canonical CSV/JSON format (docs/REGISTER.md), the exempt-band table, and
importers for real registers, one module each, listed in :data:`REGISTRY` (a test checks every importer
module is registered).

    model        the canonical columns, field parsers and cross-field rules, Problem and RegisterFile
    canonical    the canonical CSV and JSON loaders and writers, ``builtin_path`` (station/data/)
    exempt       the licence-exempt band table
    options      ImportOptions: what an importer fills in where the source register has no value
    nz           importer: NZ RSM Register of Radio Frequencies API pages   (format ``nz-rsm``)
    acma         importer: ACMA RRL extracts                              (format ``acma``)
    ourairports  importer: OurAirports airport-frequencies.csv            (format ``ourairports``)
    _readers     position-keeping text, CSV and JSON readers shared by the loaders and importers

An importer module defines ``read(paths, options) -> RegisterFile``, ``SEVERAL_FILES`` (True when one
register comes as several files, read together) and ``DEFAULT_CHANNEL_HZ``.

Every loader reads the whole file and reports EVERY bad row as a :class:`Problem` (``file:line:column: field:
reason``); a bad row is never kept and never dropped silently: it is counted and reported. Callers that must
not continue with errors call :meth:`RegisterFile.raise_for_errors` (a :class:`DataError` naming the first bad
row and how many more there are).
"""

from __future__ import annotations

import importlib
import os

from station.compliance.register.canonical import (
    JSON_FORMAT,
    JSON_VERSION,
    builtin_path,
    load_register,
    load_register_csv,
    load_register_json,
    write_register_csv,
    write_register_json,
)
from station.compliance.register.exempt import EXEMPT_COLUMNS, load_exempt_bands, load_exempt_bands_strict
from station.compliance.register.model import (
    COLUMNS,
    Problem,
    RegisterFile,
    assignment_from_fields,
    assignment_to_fields,
)
from station.compliance.register.options import ImportOptions
from station.errors import DataError

#: import format name -> importer module (``station.compliance.register.NAME``)
REGISTRY: dict[str, str] = {
    "nz-rsm": "station.compliance.register.nz",
    "acma": "station.compliance.register.acma",
    "ourairports": "station.compliance.register.ourairports",
}
#: the canonical formats, which ``import_register`` also reads (a copy or a check of a canonical register)
CANONICAL_FORMATS = ("csv", "json")
IMPORT_FORMATS = (*REGISTRY, *CANONICAL_FORMATS)


def import_register(paths: list[str | os.PathLike], fmt: str, options: ImportOptions = ImportOptions()) -> RegisterFile:
    """Read ``paths`` in import format ``fmt`` (one of :data:`IMPORT_FORMATS`)."""
    target = REGISTRY.get(fmt)
    importer = importlib.import_module(target) if target is not None else None
    if importer is not None and importer.SEVERAL_FILES:
        return importer.read(paths, options)
    if len(paths) != 1:
        raise DataError(f"format {fmt} reads one file, got {len(paths)}")
    if importer is not None:
        return importer.read(paths, options)
    if fmt == "csv":
        return load_register_csv(paths[0])
    if fmt == "json":
        return load_register_json(paths[0])
    raise DataError(f"unknown register format {fmt!r}; known: {', '.join(IMPORT_FORMATS)}")


__all__ = [
    "CANONICAL_FORMATS", "COLUMNS", "EXEMPT_COLUMNS", "IMPORT_FORMATS", "JSON_FORMAT", "JSON_VERSION",
    "REGISTRY", "ImportOptions", "Problem", "RegisterFile", "assignment_from_fields", "assignment_to_fields",
    "builtin_path", "import_register", "load_exempt_bands", "load_exempt_bands_strict", "load_register",
    "load_register_csv", "load_register_json", "write_register_csv", "write_register_json",
]
