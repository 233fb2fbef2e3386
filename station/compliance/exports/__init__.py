"""Export formats for violation cases, one module each, listed in :data:`REGISTRY` (a test checks every
module is registered). A format module defines ``EXTENSION`` and ``write(report, out_dir) -> Path``; the
report is built once by :func:`export_cases` from the case store. Helper modules start with ``_``.

    csv       RFC 4180, UTF-8 with BOM, formula-injection safe, stable column names
    xlsx      one sheet of cases (localised header) + an "about" sheet; text cells stay text
    geojson   RFC 7946 FeatureCollection, one feature per case at its observing station position(s)
    pdf       report for inspectors: summary page, then one page per case (English or Vietnamese labels)
    bundle    one signed, self-contained zip per case: PDF pages, SigMF archive, spectrum and spectrogram PNGs,
              demodulated audio, register rows, settings, hash-chained history, manifest with SHA-256s
              (``write`` returns the list of zips)
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from station.errors import UsageError

#: format name -> module (``station.compliance.exports.NAME``)
REGISTRY: dict[str, str] = {
    "csv": "station.compliance.exports.csv",
    "xlsx": "station.compliance.exports.xlsx",
    "geojson": "station.compliance.exports.geojson",
    "pdf": "station.compliance.exports.pdf",
    "bundle": "station.compliance.exports.bundle",
}


def exporter(fmt: str):
    """The module of export format ``fmt``; UsageError naming the known formats otherwise."""
    target = REGISTRY.get(fmt)
    if target is None:
        raise UsageError(f"unknown export format {fmt!r}; known: {', '.join(REGISTRY)}")
    return importlib.import_module(target)


def export_cases(store, formats: Sequence[str], out_dir: str | Path, *, since: datetime | None = None,
                 states: Sequence[str] = (), lang: str = "en", now: datetime | None = None,
                 mark_exported: bool = True) -> list[Path]:
    """Write the selected cases of ``store`` (a :class:`station.compliance.cases.CaseStore`) in each format into
    ``out_dir`` (created if missing). Confirmed cases among them become ``exported`` when
    ``mark_exported``. Returns the files written. Zero cases give valid empty reports."""
    from station.compliance.exports._common import build_report

    modules = [exporter(f) for f in formats]  # validate every name before writing anything
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the export folder: {exc.strerror or exc}", where=str(out)) from None
    report = build_report(store, since=since, states=tuple(states), lang=lang, now=now)
    paths: list[Path] = []
    for m in modules:
        written = m.write(report, out)
        paths.extend(written if isinstance(written, list) else [written])
    if mark_exported:
        # the state column already says "exported": the note names the files only (no "exported: exported:")
        store.mark_exported([d.case.case_id for d in report.cases], note=", ".join(p.name for p in paths))
    return paths


def export_db(db_path: str | Path, formats: Sequence[str], out_dir: str | Path, **kwargs) -> list[Path]:
    """:func:`export_cases` of the case store in the SQLite file ``db_path`` (opened and closed here): what the
    daemon runs in a short-lived child process (station.childproc) at the end of a bounded run."""
    from station.compliance.cases import CaseStore

    with CaseStore(db_path) as store:
        return export_cases(store, formats, out_dir, **kwargs)


__all__ = ["REGISTRY", "export_cases", "export_db", "exporter"]
