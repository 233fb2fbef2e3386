"""Importer for the OurAirports ``airport-frequencies.csv``, with ``airports.csv`` for positions. Registered as
``ourairports`` in :data:`station.compliance.register.REGISTRY`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from station.compliance.records import Assignment
from station.compliance.register._readers import _CsvTable, _open_text
from station.compliance.register._settle import Settler
from station.compliance.register.model import _MAX_FREQ_MHZ, RegisterFile, _num
from station.compliance.register.options import ImportOptions

#: one frequency list per import
SEVERAL_FILES = False
#: the aeronautical mobile (R) VHF band of the ICAO channel plans (MHz): 117.975-137 MHz
AIRBAND_MHZ = (117.975, 137.0)
#: ICAO Annex 10 Vol. V channel plan: a frequency on the 25 kHz raster is a 25 kHz channel; a channel NAME 5, 10
#: or 15 kHz above it is an 8.33 kHz channel whose carrier is 0, 8.333 or 16.667 kHz above the raster
CHANNEL_25K_HZ = 25_000.0
CHANNEL_833_HZ = 25_000.0 / 3


def airband_channel(freq_mhz: float) -> tuple[float, float, str] | None:
    """(carrier MHz, channel width Hz, basis) of an airband frequency as written in the list, by the ICAO channel
    plan; None when it is on neither plan (e.g. 123.07: a 25 kHz channel written with two decimals, or not)."""
    hz = round(freq_mhz * 1e6)
    if hz % 1000:  # below 1 kHz resolution: no channel name of either plan
        return None
    base, rest = divmod(hz, 25_000)
    if rest == 0:
        return hz / 1e6, CHANNEL_25K_HZ, "ICAO Annex 10 Vol. V: 25 kHz channel"
    if rest in (5_000, 10_000, 15_000):
        k = rest // 5_000 - 1
        carrier = base * 25_000 + k * CHANNEL_833_HZ
        return carrier / 1e6, CHANNEL_833_HZ, f"ICAO Annex 10 Vol. V: 8.33 kHz channel {freq_mhz:.3f}"
    return None


def import_ourairports(path: str | os.PathLike, options: ImportOptions = ImportOptions()) -> RegisterFile:
    """OurAirports ``airport-frequencies.csv`` (``id,airport_ref,airport_ident,type,description,frequency_mhz``).
    ``options.sites``: OurAirports ``airports.csv`` (``id,...,latitude_deg,longitude_deg``) for positions.

    The list has no bandwidth: in the airband (117.975-137 MHz) the ICAO channel plan gives it (:func:`
    airband_channel`: 25 kHz, or 8.33 kHz with the carrier of the channel name); elsewhere, or off both plans,
    the row is flagged 'bandwidth unknown'. Tolerance: the Appendix 2 rule for an aeronautical (ground) station,
    radiodetermination in 108-117.975 MHz (VOR/ILS); outside 29.7-470 MHz no rule: flagged and left out."""
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
    settler = Settler(options)
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
        carrier, bw, basis, why = freq, None, "", ""
        if AIRBAND_MHZ[0] <= freq <= AIRBAND_MHZ[1]:
            plan = airband_channel(freq)
            if plan is None:
                why = f"{freq:g} MHz is on neither the 25 kHz nor the 8.33 kHz channel plan"
            else:
                carrier, bw, basis = plan
        else:
            why = f"outside the airband {AIRBAND_MHZ[0]:g}-{AIRBAND_MHZ[1]:g} MHz the list gives no channel plan"
        category = "radiodetermination" if 108.0 < freq < AIRBAND_MHZ[0] else "aeronautical"
        settled = settler.settle(
            carrier, warn=lambda m, _line=line: table.problem(_line, "frequency_mhz", m, "warning"),
            bandwidth_hz=bw, bandwidth_basis=basis, no_bandwidth_why=why, category=category)
        if settled is None:
            continue
        out.append(
            Assignment(
                licence=f"OA-{get('id')}", licensee=get("airport_ident"), service=f"aeronautical {kind}".strip(),
                station_name=get("description") or kind, center_hz=carrier * 1e6,
                latitude_deg=pos[0] if pos else None, longitude_deg=pos[1] if pos else None,
                source=f"{table.path}:{line}", **settled.fields(),
            )
        )
    return RegisterFile(table.path, "ourairports", tuple(out), tuple(table.problems), len(table.rows),
                        dict(settler.skipped), dict(settler.flagged))


def read(paths: Sequence[str | os.PathLike], options: ImportOptions) -> RegisterFile:
    """The registry's entry point: :func:`import_ourairports` of the one file in ``paths``."""
    return import_ourairports(paths[0], options)
