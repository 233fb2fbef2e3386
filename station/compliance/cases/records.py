"""The frozen records the case store returns: what :meth:`~station.compliance.cases.CaseStore.record` did
with a result, and a case's summary, history and evidence as computed from its append-only rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from station.compliance.cases.measurement import CaseMeasurement
from station.compliance.records import ComplianceClass, ComplianceResult


@dataclass(frozen=True, slots=True)
class CaseObservation:
    """What :meth:`CaseStore.record` did with one violation result."""

    case_id: str
    opened: bool  # True when this result opened the case (time to capture evidence)
    state: str
    result: ComplianceResult


@dataclass(frozen=True, slots=True)
class StationPosition:
    station: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Case:
    """A case's summary, computed from its append-only rows."""

    case_id: str
    klass: ComplianceClass
    state: str
    first_seen: datetime
    last_seen: datetime
    n_obs: int
    max_power_dbfs: float
    mean_power_dbfs: float  # mean of linear power, in dB
    center_hz: float  # latest observation
    bandwidth_hz: float  # latest observation
    opened_center_hz: float
    stations: tuple[StationPosition, ...]  # observing stations, latest known position of each
    licences: tuple[str, ...]  # licences considered when the case opened
    reason: str  # the reason when the case opened
    latest_reason: str
    indicative: bool
    track_ids: tuple[str, ...]
    previous_case_id: str | None
    register: tuple[dict, ...]  # the register rows considered when it opened (canonical fields)
    snr_db: float | None  # latest


@dataclass(frozen=True, slots=True)
class CaseEvent:
    time: datetime
    kind: str  # "state" or "note"
    state: str | None
    text: str | None
    author: str | None


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    kind: str  # one of EVIDENCE_KINDS
    path: str  # relative to the store's directory when inside it
    sha256: str
    size_bytes: int
    description: str
    time: datetime


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    events: tuple[CaseEvent, ...]
    evidence: tuple[EvidenceFile, ...]
    settings: dict  # measurement settings of the latest observation
    measurement: "CaseMeasurement | None" = None  # the canonical measurement every output reports
    reason_args: dict | None = None  # the structured reason of the opening observation (ComplianceResult.reason_args)
