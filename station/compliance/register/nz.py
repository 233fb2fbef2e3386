"""Importer for the NZ RSM Register of Radio Frequencies: its API pages (``{"items": [...]}``; frequency in MHz,
``gridReference`` "lat lon" in NZGD2000). Registered as ``nz-rsm`` in :data:`station.compliance.register.REGISTRY`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from station.compliance.records import Assignment
from station.compliance.register._readers import _JsonDoc, _open_text
from station.compliance.register._settle import Settler
from station.compliance.register.model import _MAX_FREQ_MHZ, Problem, RegisterFile, _num
from station.compliance.register.options import ImportOptions
from station.redact import shown

#: the API pages of one register come as several files, read together
SEVERAL_FILES = True
#: NZ RSM ``licenceType`` -> the ITU-R RR Appendix 2 category of station it names (docs/REGISTER.md); a type not
#: listed names none (spectrum licences, satellite, general user, amateur, ...): its row gets no rule tolerance
LICENCE_CATEGORY = {
    "Land Simplex": "base", "Land Simplex Govt. use only": "base", "Land Simplex - General Channels": "base",
    "Land Repeater": "base", "Paging": "base", "PRS Repeater": "base",
    "Land Mobile - Mobile Transmit": "land mobile", "PRS - Mobile Transmit": "land mobile",
    "Fixed >=1 GHz (Bi-directional)": "fixed", "Fixed Bi-directional Point-to-Multipoint": "fixed",
    "Fixed <1 GHz; BW <=50 kHz (Bi-directional)": "fixed", "Fixed <1 GHz; BW <=50 kHz (Uni-directional)": "fixed",
    "Fixed < 1GHz; BW >50kHz (Uni-directional)": "fixed", "Fixed Television Outside Broadcast 7G Band": "fixed",
    "Maritime Coast Station": "coast", "Maritime Repeater": "coast", "Maritime Mobile - Mobile Transmit": "ship",
    "Aero Base (Route)": "aeronautical", "Aero Base (Off Route)": "aeronautical",
    "Radiodet - Radio Beacons (VOR, NDB, ILS)": "radiodetermination", "Radar (Other)": "radiodetermination",
    "Two Frequency (SSR, DME)": "radiodetermination",
}
#: ``licenceType`` of a spectrum licence (management-right) record: one frequency per site, no block edges
SPECTRUM_LICENCE_TYPE = "Other (Spectrum)"
_NZ_STATUS = {"current": "current", "expired": "expired", "cancelled": "cancelled", "suspended": "suspended",
              "declined": "cancelled", "incomplete": "pending", "planned": "pending", "registered": "current"}


def import_nz_rsm(paths: Iterable[str | os.PathLike], options: ImportOptions = ImportOptions()) -> RegisterFile:
    """NZ RSM Register of Radio Frequencies API pages (``{"items": [...]}``; frequency MHz, gridReference
    'lat lon' NZGD2000). RX-only rows are skipped and counted. The API items have no emission designator,
    bandwidth or tolerance field (``channel`` is a channel NAME): every row is flagged 'bandwidth unknown' unless
    ``options.channel_width_hz``; its tolerance is the Appendix 2 rule of its licence type's category
    (:data:`LICENCE_CATEGORY`) or ``options.tolerance_ppm``, else the row is flagged and left out."""
    settler = Settler(options)
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
                bad("frequency", f"{shown(freq)} is not a frequency in MHz")
                ok = False
            lat = lon = None
            grid = item.get("gridReference")
            if grid:
                ref = str(item.get("gridRefDefault", ""))
                parts = str(grid).split()
                try:
                    if not ref.startswith("LAT_LONG"):
                        raise ValueError(f"grid reference system {shown(ref)} is not latitude/longitude")
                    if len(parts) != 2:
                        raise ValueError(f"{shown(grid)} is not 'latitude longitude'")
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
                bad("status", f"{shown(item.get('status'))} is not a known RSM status")
                ok = False
            if not ok:
                continue
            location = str(item.get("location") or "")
            channel = str(item.get("channel") or "")
            kind = str(item.get("licenceType") or "")
            why_cat = (f"licence type {kind!r} names no category of station"
                       if kind != SPECTRUM_LICENCE_TYPE else
                       "a spectrum licence record: the API page gives one frequency per site, not the block's edges "
                       "or the station class; add the block as lower_mhz/upper_mhz from the Register of Spectrum "
                       "Licences")

            def warn(message: str, _line=line, _col=col) -> None:
                problems.append(Problem(doc.path, _line, _col, message, "warning"))

            settled = settler.settle(
                float(freq), warn=warn, category=LICENCE_CATEGORY.get(kind), no_category_why=why_cat,
                no_bandwidth_why="the NZ RSM API item has no emission designator or bandwidth field"
                + (f"; channel {shown(channel)} is a channel name" if channel else ""))
            if settled is None:
                continue
            out.append(
                Assignment(
                    licence=f"NZ-{lic}", licensee=str(item.get("licensee") or ""),
                    service=kind, station_name=f"{location} [{channel}]" if channel else location,
                    center_hz=float(freq) * 1e6, latitude_deg=lat, longitude_deg=lon, status=status,
                    source=f"{doc.path}:{line}", **settled.fields(),
                )
            )
    skipped.update(settler.skipped)
    return RegisterFile(", ".join(names), "nz-rsm", tuple(out), tuple(problems), n, dict(skipped),
                        dict(settler.flagged))


def read(paths: Iterable[str | os.PathLike], options: ImportOptions) -> RegisterFile:
    """The registry's entry point: :func:`import_nz_rsm`."""
    return import_nz_rsm(paths, options)
