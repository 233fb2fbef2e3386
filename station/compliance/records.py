"""Typed, frozen records of the compliance chain: the class an emission is judged to be, and the judgement.

The checker (``station.compliance.checker``) produces them from detector records; cases, points and exports
consume them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from detectors.records import Emission


class ComplianceClass(str, enum.Enum):
    """The outcome of comparing one emission with the licence register."""

    LICENSED = "licensed"
    EXEMPT = "exempt"
    UNLICENSED = "unlicensed"
    OFF_FREQUENCY = "off_frequency"
    EXCESS_BANDWIDTH = "excess_bandwidth"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"

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
    assignments: tuple = ()  # station.compliance.checker.Assignment rows considered, nearest first
    exempt_band: str | None = None  # name of the licence-exempt band that covers it (class EXEMPT)
