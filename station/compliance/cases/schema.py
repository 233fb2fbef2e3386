"""The case store's schema: the four append-only tables (SQL), the triggers that abort any UPDATE or DELETE,
the workflow states and transitions, the evidence kinds, and how values are stored (UTC times as integer
nanoseconds, rounded to the microsecond; mean power from linear power; files by their SHA-256).
"""

from __future__ import annotations

import hashlib
import math
import os
from datetime import datetime, timezone

#: case states in order; transitions allowed by :data:`TRANSITIONS`
STATES = ("new", "confirmed", "exported", "closed")
TRANSITIONS = {
    "confirmed": ("new",),
    "exported": ("confirmed", "exported"),
    "closed": ("new", "confirmed", "exported"),
}
EVIDENCE_KINDS = ("spectrum_png", "spectrum_data", "iq_sigmf_meta", "iq_sigmf_data", "manifest", "other")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    klass TEXT NOT NULL,
    opened_ns INTEGER NOT NULL,
    opened_station TEXT NOT NULL,
    center_hz REAL NOT NULL,
    bandwidth_hz REAL NOT NULL,
    track_id TEXT,
    licences TEXT NOT NULL,
    reason TEXT NOT NULL,
    indicative INTEGER NOT NULL,
    register_json TEXT NOT NULL,
    previous_case_id TEXT
);
CREATE TABLE IF NOT EXISTS case_observations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    time_ns INTEGER NOT NULL,
    station TEXT NOT NULL,
    latitude REAL,
    longitude REAL,
    klass TEXT NOT NULL,
    track_id TEXT,
    center_hz REAL NOT NULL,
    bandwidth_hz REAL NOT NULL,
    power_dbfs REAL NOT NULL,
    power_lin REAL NOT NULL,
    peak_dbfs REAL,
    snr_db REAL,
    occupancy REAL,
    offset_hz REAL,
    indicative INTEGER NOT NULL,
    licences TEXT NOT NULL,
    reason TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    UNIQUE (case_id, station, time_ns)
);
CREATE INDEX IF NOT EXISTS case_observations_case ON case_observations(case_id, id);
CREATE INDEX IF NOT EXISTS case_observations_track ON case_observations(case_id, track_id);
CREATE TABLE IF NOT EXISTS case_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('state', 'note')),
    state TEXT,
    text TEXT,
    author TEXT
);
CREATE INDEX IF NOT EXISTS case_events_case ON case_events(case_id, id);
CREATE TABLE IF NOT EXISTS case_evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    time_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_evidence_case ON case_evidence(case_id, id);
"""
_TABLES = ("cases", "case_observations", "case_events", "case_evidence")


def _append_only_triggers() -> str:
    out = []
    for t in _TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: history is never rewritten'); END;"
            )
    return "\n".join(out)


def _ns(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"time {when.isoformat()} must be timezone-aware (UTC)")
    return int(round(when.timestamp() * 1e6)) * 1000


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc)


def _db(power_lin: float) -> float:
    return 10.0 * math.log10(power_lin) if power_lin > 0 else float("-inf")


def sha256_of(path: str | os.PathLike, *, chunk_bytes: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk_bytes):
            h.update(block)
    return h.hexdigest()
