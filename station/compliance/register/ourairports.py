"""Importer for the OurAirports ``airport-frequencies.csv``, with ``airports.csv`` for positions. Registered as
``ourairports`` in :data:`station.compliance.register.REGISTRY`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from station.compliance.records import Assignment
from station.compliance.register._readers import _CsvTable, _open_text
from station.compliance.register.model import _MAX_FREQ_MHZ, RegisterFile, _num
from station.compliance.register.options import ImportOptions

#: one frequency list per import
SEVERAL_FILES = False
#: channel width when ``ImportOptions.channel_width_hz`` is None (Hz): an aeronautical VHF channel
DEFAULT_CHANNEL_HZ = 25_000.0


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
    width = options.channel_width_hz or DEFAULT_CHANNEL_HZ
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
            Assignment(
                licence=f"OA-{get('id')}", licensee=get("airport_ident"), service=f"aeronautical {kind}".strip(),
                station_name=get("description") or kind, center_hz=freq * 1e6, channel_width_hz=width,
                tolerance_ppm=options.tolerance_ppm, latitude_deg=pos[0] if pos else None,
                longitude_deg=pos[1] if pos else None, source=f"{table.path}:{line}",
            )
        )
    return RegisterFile(table.path, "ourairports", tuple(out), tuple(table.problems), len(table.rows))


def read(paths: Sequence[str | os.PathLike], options: ImportOptions) -> RegisterFile:
    """The registry's entry point: :func:`import_ourairports` of the one file in ``paths``."""
    return import_ourairports(paths[0], options)
