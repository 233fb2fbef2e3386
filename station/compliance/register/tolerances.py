"""Frequency tolerances by band and category of station after the table of ITU-R Radio Regulations Appendix 2
("Table of transmitter frequency tolerances"), for importers whose source register gives no tolerance.

Only the bands and categories the importers map are transcribed (29.7 MHz to 10.5 GHz: fixed, land, mobile,
aeronautical, maritime, radiodetermination and sound broadcasting stations). A row gets a tolerance from here
only when its source names the category of station (NZ licence type, ACMA tower/mobile, OurAirports ground
station); the rule used is written into the row's ``tolerance_basis``. Outside these bands, or for a category
not listed, :func:`appendix2_tolerance` returns None and the importer flags the row.

Appendix 2 bands are "lower limit exclusive, upper limit inclusive". Values are ppm unless ``unit`` is Hz.
docs/REGISTER.md lists the table; check it against the edition of the Radio Regulations in force.
"""

from __future__ import annotations

from dataclasses import dataclass

#: categories of station an importer may name (Appendix 2 wording)
CATEGORIES = ("fixed", "land", "base", "coast", "aeronautical", "mobile", "land mobile", "ship", "aircraft",
              "radiodetermination", "broadcasting")


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the table: ``category`` stations in ``lo_mhz`` < f <= ``hi_mhz`` keep ``value`` ``unit``."""

    lo_mhz: float
    hi_mhz: float
    category: str
    value: float
    unit: str  # "ppm" or "Hz"
    wording: str  # Appendix 2's words for the category, written into the row's tolerance_basis


_MS = "land mobile"  # shorthands for the table below
#: (lo_mhz exclusive, hi_mhz inclusive, category, value, unit, wording)
_TABLE = (
    # band 29.7-100 MHz
    (29.7, 100.0, "fixed", 30, "ppm", "fixed stations"),
    (29.7, 100.0, "land", 20, "ppm", "land stations"),
    (29.7, 100.0, "base", 20, "ppm", "land stations"),
    (29.7, 100.0, "coast", 20, "ppm", "land stations"),
    (29.7, 100.0, "aeronautical", 20, "ppm", "land stations"),
    (29.7, 100.0, "mobile", 20, "ppm", "mobile stations"),
    (29.7, 100.0, _MS, 20, "ppm", "mobile stations"),
    (29.7, 100.0, "radiodetermination", 50, "ppm", "radiodetermination stations"),
    (29.7, 100.0, "broadcasting", 2000, "Hz", "broadcasting stations (other than television)"),
    # band 100-470 MHz
    (100.0, 470.0, "fixed", 20, "ppm", "fixed stations"),
    (100.0, 470.0, "coast", 10, "ppm", "land stations: coast stations"),
    (100.0, 470.0, "aeronautical", 20, "ppm", "land stations: aeronautical stations"),
    (100.0, 235.0, "base", 15, "ppm", "land stations: base stations"),
    (235.0, 401.0, "base", 7, "ppm", "land stations: base stations"),
    (401.0, 470.0, "base", 5, "ppm", "land stations: base stations"),
    (156.0, 174.0, "ship", 10, "ppm", "mobile stations: ship stations"),
    (100.0, 470.0, "aircraft", 30, "ppm", "mobile stations: aircraft stations"),
    (100.0, 235.0, _MS, 15, "ppm", "mobile stations: land mobile stations"),
    (235.0, 401.0, _MS, 7, "ppm", "mobile stations: land mobile stations"),
    (401.0, 470.0, _MS, 5, "ppm", "mobile stations: land mobile stations"),
    (100.0, 470.0, "radiodetermination", 50, "ppm", "radiodetermination stations"),
    (100.0, 470.0, "broadcasting", 2000, "Hz", "broadcasting stations (other than television)"),
    # band 470-2450 MHz
    (470.0, 2450.0, "fixed", 20, "ppm", "fixed stations"),
    (470.0, 2450.0, "land", 20, "ppm", "land stations"),
    (470.0, 2450.0, "base", 20, "ppm", "land stations"),
    (470.0, 2450.0, "coast", 20, "ppm", "land stations"),
    (470.0, 2450.0, "aeronautical", 20, "ppm", "land stations"),
    (470.0, 2450.0, "mobile", 20, "ppm", "mobile stations"),
    (470.0, 2450.0, _MS, 20, "ppm", "mobile stations"),
    (470.0, 2450.0, "ship", 20, "ppm", "mobile stations"),
    (470.0, 2450.0, "aircraft", 20, "ppm", "mobile stations"),
    (470.0, 2450.0, "radiodetermination", 500, "ppm", "radiodetermination stations"),
    (470.0, 2450.0, "broadcasting", 100, "ppm", "broadcasting stations (other than television)"),
    # band 2450-10500 MHz
    (2450.0, 10500.0, "fixed", 200, "ppm", "fixed stations"),
    (2450.0, 10500.0, "land", 100, "ppm", "land stations"),
    (2450.0, 10500.0, "base", 100, "ppm", "land stations"),
    (2450.0, 10500.0, "mobile", 100, "ppm", "mobile stations"),
    (2450.0, 10500.0, _MS, 100, "ppm", "mobile stations"),
    (2450.0, 10500.0, "radiodetermination", 1250, "ppm", "radiodetermination stations"),
)
RULES = tuple(Rule(*row) for row in _TABLE)
# 100-470 MHz ship stations outside 156-174 MHz: 50 ppm
RULES += (Rule(100.0, 156.0, "ship", 50, "ppm", "mobile stations: ship stations"),
          Rule(174.0, 470.0, "ship", 50, "ppm", "mobile stations: ship stations"))


@dataclass(frozen=True, slots=True)
class RuleTolerance:
    """A tolerance taken from the table: ``tolerance_hz`` or ``tolerance_ppm`` (one is None) and the basis text."""

    tolerance_hz: float | None
    tolerance_ppm: float | None
    basis: str


def appendix2_tolerance(freq_mhz: float, category: str) -> RuleTolerance | None:
    """The Appendix 2 tolerance of a ``category`` station (one of :data:`CATEGORIES`) transmitting on
    ``freq_mhz``, or None when the table here has no line for it (the importer then flags the row)."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown station category {category!r}; known: {', '.join(CATEGORIES)}")
    best = None
    for r in RULES:
        if r.category == category and r.lo_mhz < freq_mhz <= r.hi_mhz:
            if best is None or (r.hi_mhz - r.lo_mhz) < (best.hi_mhz - best.lo_mhz):  # the narrowest sub-band wins
                best = r
    if best is None:
        return None
    value = f"{best.value:g} {best.unit}"
    basis = f"ITU-R RR Appendix 2 rule: {best.wording}, {best.lo_mhz:g}-{best.hi_mhz:g} MHz, {value}"
    if best.unit == "Hz":
        return RuleTolerance(float(best.value), None, basis)
    return RuleTolerance(None, float(best.value), basis)
