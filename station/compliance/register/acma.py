"""Importer for ACMA Register of Radiocommunications Licences (RRL) extracts, with the RRL ``site.csv`` for
coordinates. Registered as ``acma`` in :data:`station.compliance.register.REGISTRY`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from station.compliance.records import Assignment
from station.compliance.register._readers import _CsvTable, _open_text
from station.compliance.register._settle import Settler
from station.compliance.register.model import (
    _MAX_FREQ_MHZ,
    MAX_CHANNEL_KHZ,
    MIN_CHANNEL_KHZ,
    Problem,
    RegisterFile,
    _num,
)
from station.compliance.register.options import ImportOptions
from station.errors import DataError

#: one extract file per import
SEVERAL_FILES = False


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
    ``options.mobile_radius_m`` around the site. ``options.sites``: the RRL site.csv for coordinates.

    Bandwidth: the row's BANDWIDTH (kHz) when the extract has the column; the frequencies extract has none, so
    its rows are flagged 'bandwidth unknown' (unless ``options.channel_width_hz``). Tolerance: none in the
    extracts; the Appendix 2 rule for a land station (tower transmit) or a land mobile station (tower receive)
    at the frequency, unless ``options.tolerance_ppm``."""
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
    settler = Settler(options)
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
        width = None
        if bw_col and get(bw_col):
            try:
                width = _num(get(bw_col), positive=True, lo=MIN_CHANNEL_KHZ, hi=MAX_CHANNEL_KHZ) * 1e3
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
        common = dict(licensee="", service="land mobile (ACMA RRL)", source=f"{table.path}:{line}")
        bw = dict(bandwidth_hz=width, bandwidth_basis=f"source: {bw_col.upper()} column (kHz)" if bw_col else "",
                  no_bandwidth_why=f"the extract has no bandwidth or emission designator column "
                  f"({','.join(h.upper() for h in table.header if h)})")

        def warn(message: str, col: str) -> None:
            table.problem(line, col, message, "warning")

        settled = settler.settle(tx, warn=lambda m: warn(m, tx_col), category="land", **bw)
        if settled is not None:
            out.append(Assignment(licence=licence, station_name=site_name, center_hz=tx * 1e6, latitude_deg=lat,
                                  longitude_deg=lon, **common, **settled.fields()))
        if rx is not None and abs(rx - tx) > 1e-9:
            settled = settler.settle(rx, warn=lambda m: warn(m, rx_col), category="land mobile", **bw)
            if settled is not None:
                out.append(Assignment(licence=licence, station_name=f"mobiles of {site_name}", center_hz=rx * 1e6,
                                      latitude_deg=lat, longitude_deg=lon,
                                      radius_m=options.mobile_radius_m if lat is not None else None, **common,
                                      **settled.fields()))
        elif rx is not None:
            skipped["receive frequency equals transmit (simplex)"] += 1
    skipped.update(settler.skipped)
    return RegisterFile(table.path, "acma", tuple(out), tuple(table.problems), len(table.rows), dict(skipped),
                        dict(settler.flagged))


def read(paths: Sequence[str | os.PathLike], options: ImportOptions) -> RegisterFile:
    """The registry's entry point: :func:`import_acma` of the one file in ``paths``."""
    return import_acma(paths[0], options)
