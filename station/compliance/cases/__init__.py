"""Violation cases in the embedded SQLite store: one persistent transmitter = one case.

Tables (created with ``CREATE TABLE IF NOT EXISTS``; all four are append-only, enforced by triggers that
abort any UPDATE or DELETE, so neither the daemon nor a confused operator can rewrite history):

    cases               one row per case, as opened: class, frequency, licences, reason, register lookup
    case_observations   one row per sweep (and station) in which the case's transmitter was seen
    case_events         state changes (new -> confirmed -> exported -> closed) and operator notes
    case_evidence       evidence files (snapshot PNG, SigMF pair, manifest) with their sha256

A case's summary (first/last seen, observation count, max and mean power, observing stations, current
state) is computed from those rows. Matching a violation to an open case: the same ``track_id`` (the tracker's
identity) as any earlier observation of the case, else the same class within max(2 kHz, half the
bandwidth) of the case's latest centre frequency (this also joins observations across restarts and across
stations). A closed case stays closed: the transmitter seen again opens a new case that names the old one.

The package: ``schema`` (the tables, append-only triggers, workflow states and how values are stored),
``records`` (the frozen records a query returns: Case, CaseDetail, CaseEvent, EvidenceFile, ...) and
``store`` (:class:`CaseStore`: recording, matching, operator actions, evidence, queries).
"""

from __future__ import annotations

from station.compliance.cases.records import (
    Case,
    CaseDetail,
    CaseEvent,
    CaseObservation,
    EvidenceFile,
    StationPosition,
)
from station.compliance.cases.schema import EVIDENCE_KINDS, STATES, TRANSITIONS, sha256_of
from station.compliance.cases.store import CaseStore, open_store

__all__ = [
    "EVIDENCE_KINDS", "STATES", "TRANSITIONS", "Case", "CaseDetail", "CaseEvent", "CaseObservation", "CaseStore",
    "EvidenceFile", "StationPosition", "open_store", "sha256_of",
]
