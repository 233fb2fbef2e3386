"""Typed, frozen records of the compliance chain: a register row (:class:`Assignment`), a licence-exempt band
(:class:`ExemptBand`), the class an emission is judged to be, and the judgement.

The register loaders (``station.compliance.register``) produce the assignments and exempt bands; the checker
(``station.compliance.checker``) produces the judgements from detector records; cases, points and exports
consume them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from detectors.records import Emission

#: assignment status values (lower case); others are rejected by the register loader
STATUSES = ("current", "expired", "cancelled", "suspended", "pending")
#: ``Assignment.bandwidth_basis`` of a row whose register gives no bandwidth (docs/REGISTER.md)
BANDWIDTH_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One frequency assignment of the licence register (one row of docs/REGISTER.md).

    A channel assignment has ``center_hz`` and a bandwidth (``necessary_bandwidth_hz`` from the designator,
    else ``channel_width_hz``); a block assignment (``block=True``) spans ``center_hz +/- channel_width_hz/2``.

    Parameters
    ----------
    licence : str
        Licence number; several assignments may share it (one per frequency or site).
    licensee : str
        Holder of the licence.
    service : str
        Radio service (broadcasting FM, land mobile, ...).
    station_name : str
        Transmitter site or station name.
    center_hz : float, Hz
        Assigned (centre) frequency; the middle of the block for a block assignment.
    designator : str or None
        ITU emission designator as written (``16K0F3E``), or None.
    necessary_bandwidth_hz : float or None, Hz
        Necessary bandwidth from the designator; None when it gives none.
    channel_width_hz : float or None, Hz
        Channel width (channel assignment), or the block's width (block assignment).
    tolerance_hz : float or None, Hz
        Frequency tolerance, absolute; at most one of ``tolerance_hz`` and ``tolerance_ppm`` is given.
    tolerance_ppm : float or None, ppm of ``center_hz``
        Frequency tolerance, relative.
    latitude_deg, longitude_deg : float or None, degrees (WGS84)
        Transmitter site; None = an area or nationwide licence.
    radius_m : float or None, m
        Service-area radius around the site.
    max_power_dbw : float or None, dBW
        Maximum power, referred to ``power_reference``.
    power_reference : str
        ``"erp"`` or ``"eirp"``.
    valid_from, valid_to : datetime or None, UTC
        Validity period, both ends inclusive; None = open-ended.
    status : str
        One of :data:`STATUSES`.
    block : bool
        True for a block assignment (lower/upper edges given in the register).
    source : str
        ``file:line`` the assignment came from.
    bandwidth_basis : str
        Where the bandwidth came from (``source: BANDWIDTH column (kHz)``, ``ICAO Annex 10 8.33 kHz channel``,
        ...), or ``"unknown"``: the register licenses the frequency but gives no bandwidth, so the checker
        matches the frequency within the tolerance and judges no bandwidth (no excess_bandwidth finding).
        Empty: given in the canonical file (designator or channel_khz).
    tolerance_basis : str
        Where the tolerance came from, e.g. ``ITU-R RR Appendix 2: land stations 470-2450 MHz, 20 ppm``;
        empty: given in the canonical file.
    """

    licence: str
    licensee: str
    service: str
    station_name: str
    center_hz: float
    designator: str | None = None
    necessary_bandwidth_hz: float | None = None
    channel_width_hz: float | None = None
    tolerance_hz: float | None = None
    tolerance_ppm: float | None = None
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    radius_m: float | None = None
    max_power_dbw: float | None = None
    power_reference: str = "erp"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    status: str = "current"
    block: bool = False
    source: str = ""
    bandwidth_basis: str = ""
    tolerance_basis: str = ""

    @property
    def bandwidth_unknown(self) -> bool:
        """True when the register licenses the frequency without a bandwidth (``bandwidth_basis`` unknown)."""
        return self.bandwidth_basis == BANDWIDTH_UNKNOWN

    @property
    def bandwidth_hz(self) -> float:
        """Bandwidth the channel spans: the necessary bandwidth, else the channel width, else 0 (Hz; 0 also when
        the bandwidth is unknown: the channel is then the frequency +/- the tolerance, no bandwidth judged)."""
        if self.block:
            return float(self.channel_width_hz or 0.0)
        return float(self.necessary_bandwidth_hz or self.channel_width_hz or 0.0)

    @property
    def frequency_tolerance_hz(self) -> float:
        """Frequency tolerance in Hz (``tolerance_hz``, else ``tolerance_ppm`` of the centre, else 0)."""
        if self.tolerance_hz is not None:
            return float(self.tolerance_hz)
        if self.tolerance_ppm is not None:
            return float(self.tolerance_ppm) * self.center_hz * 1e-6
        return 0.0

    @property
    def f_lo_hz(self) -> float:
        return self.center_hz - self.bandwidth_hz / 2

    @property
    def f_hi_hz(self) -> float:
        return self.center_hz + self.bandwidth_hz / 2

    @property
    def has_site(self) -> bool:
        return self.latitude_deg is not None and self.longitude_deg is not None

    def label(self) -> str:
        """Short description for reasons: ``LIC-1 (Licensee, 150.125000 MHz 11K0F3E)``."""
        what = self.designator or (f"{self.bandwidth_hz / 1e3:g} kHz" if self.bandwidth_hz else
                                   "bandwidth unknown, not judged" if self.bandwidth_unknown else "no bandwidth")
        return f"{self.licence} ({self.licensee}, {self.center_hz / 1e6:.6f} MHz {what})"


@dataclass(frozen=True, slots=True)
class ExemptBand:
    """A licence-exempt (class-licensed) band: any emission inside it within its limits is lawful.

    Parameters
    ----------
    name : str
        Name of the band (``PMR446``).
    f_lo_hz, f_hi_hz : float, Hz
        Band edges; ``f_hi_hz`` must be above ``f_lo_hz`` (ValueError otherwise).
    max_bandwidth_hz : float or None, Hz
        Largest occupied bandwidth allowed; None = no limit.
    max_erp_dbm : float or None, dBm ERP
        Power limit, informative only: the station measures dBFS at its receiver, not ERP.
    note : str
        Free text (where the exemption comes from).
    source : str
        ``file:line`` the band came from.
    """

    name: str
    f_lo_hz: float
    f_hi_hz: float
    max_bandwidth_hz: float | None = None
    max_erp_dbm: float | None = None
    note: str = ""
    source: str = ""

    def __post_init__(self):
        if not self.f_hi_hz > self.f_lo_hz:
            raise ValueError(f"exempt band {self.name!r}: upper edge must be above the lower edge")


class ComplianceClass(str, enum.Enum):
    """The outcome of comparing one emission with the licence register."""

    LICENSED = "licensed"
    EXEMPT = "exempt"
    UNLICENSED = "unlicensed"
    OFF_FREQUENCY = "off_frequency"
    EXCESS_BANDWIDTH = "excess_bandwidth"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    EXEMPT_NONCONFORMING = "exempt_nonconforming"  # in a licence-exempt band but over its limits

    @property
    def is_violation(self) -> bool:
        return self not in (ComplianceClass.LICENSED, ComplianceClass.EXEMPT)


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """One emission judged against the register."""

    emission: Emission
    klass: ComplianceClass
    licences: tuple[str, ...]  # licence numbers considered (nearest first); empty when none near
    reason: str  # in words, for the inspector: what was compared and why this class
    indicative: bool = False  # True when the receiver's own frequency uncertainty exceeds the tolerance
    track_id: str | None = None
    # added by the compliance checker (station/compliance/checker.py); defaults keep older callers valid
    offset_hz: float | None = None  # emission centre minus the primary assignment's centre (Hz)
    tolerance_hz: float | None = None  # the primary assignment's frequency tolerance (Hz)
    necessary_bandwidth_hz: float | None = None  # the primary assignment's necessary bandwidth (Hz)
    assignments: tuple = ()  # Assignment rows considered, nearest first
    exempt_band: str | None = None  # name of the licence-exempt band that covers it (class EXEMPT)
    # the reason in structured form (class code + the reference values it compared with), rendered per language
    # with the case's canonical measurement by the exports (station/compliance/exports/_reasons.py)
    reason_args: dict | None = None
