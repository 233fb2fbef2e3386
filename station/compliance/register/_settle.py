"""How every importer settles a row's bandwidth and tolerance (docs/REGISTER.md, "Bandwidth and tolerance"):

bandwidth: the source's designator / bandwidth / channel field, else the operator's ``--channel-width``, else
*unknown* (the row is flagged and imported with ``bandwidth_basis`` ``unknown``: frequency licensed within its
tolerance, bandwidth not judged). Never a silent default.

tolerance: the source's, else the operator's ``--tolerance-ppm``, else the ITU-R RR Appendix 2 rule for the
category of station the source names (:mod:`.tolerances`, written into ``tolerance_basis``), else none: the row
is flagged and LEFT OUT (a tolerance of 0 would make every receiver offset an off-frequency case, and a row of
unknown bandwidth needs the tolerance to be matched at all).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from station.compliance.records import BANDWIDTH_UNKNOWN
from station.compliance.register.options import ImportOptions
from station.compliance.register.tolerances import appendix2_tolerance

#: the reasons counted in RegisterFile.flagged / .skipped
FLAG_BANDWIDTH_UNKNOWN = "bandwidth unknown"
SKIP_NO_TOLERANCE = "no tolerance (source gives none, no Appendix 2 rule for it)"


@dataclass
class Settled:
    """The bandwidth/tolerance fields of an :class:`~station.compliance.records.Assignment`."""

    channel_width_hz: float | None
    bandwidth_basis: str
    tolerance_hz: float | None
    tolerance_ppm: float | None
    tolerance_basis: str

    def fields(self) -> dict:
        return {"channel_width_hz": self.channel_width_hz, "bandwidth_basis": self.bandwidth_basis,
                "tolerance_hz": self.tolerance_hz, "tolerance_ppm": self.tolerance_ppm,
                "tolerance_basis": self.tolerance_basis}


@dataclass
class Settler:
    """Settles rows for one import and counts what it flagged and left out."""

    options: ImportOptions
    flagged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    def settle(self, freq_mhz: float, *, warn: Callable[[str], None], bandwidth_hz: float | None = None,
               bandwidth_basis: str = "", no_bandwidth_why: str = "", category: str | None = None,
               no_category_why: str = "") -> Settled | None:
        """``bandwidth_hz`` (with ``bandwidth_basis``) when the source gives one, else ``no_bandwidth_why``
        says why not; ``category`` the Appendix 2 category of station the source names (None: it names none,
        ``no_category_why`` says why). ``warn(message)`` records a warning at the row. Returns None when the row
        is left out (counted in :attr:`skipped`)."""
        opts = self.options
        if bandwidth_hz is None and opts.channel_width_hz is not None:
            bandwidth_hz, bandwidth_basis = opts.channel_width_hz, "operator: --channel-width"
        tol_hz = tol_ppm = None
        tol_basis = ""
        if opts.tolerance_ppm is not None:
            tol_ppm, tol_basis = opts.tolerance_ppm, "operator: --tolerance-ppm"
        elif category is not None:
            rule = appendix2_tolerance(freq_mhz, category)
            if rule is not None:
                tol_hz, tol_ppm, tol_basis = rule.tolerance_hz, rule.tolerance_ppm, rule.basis
            else:
                no_category_why = f"no ITU-R RR Appendix 2 rule here for {category} stations at {freq_mhz:g} MHz"
        if not tol_basis:
            why = no_category_why or "the source names no category of station"
            bw = "" if bandwidth_hz is not None else f"; no bandwidth either ({no_bandwidth_why})"
            warn(f"left out: no frequency tolerance (the source gives none; {why}){bw}; "
                 "give --tolerance-ppm or add the row by hand")
            self.skipped[SKIP_NO_TOLERANCE] += 1
            return None
        if bandwidth_hz is None:
            warn(f"bandwidth unknown ({no_bandwidth_why}): imported as licensed frequency, bandwidth not judged")
            self.flagged[FLAG_BANDWIDTH_UNKNOWN] += 1
            return Settled(None, BANDWIDTH_UNKNOWN, tol_hz, tol_ppm, tol_basis)
        return Settled(bandwidth_hz, bandwidth_basis, tol_hz, tol_ppm, tol_basis)
