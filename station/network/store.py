"""The network service's embedded store: one SQLite file (WAL) of network cases, append-only.

Tables (created with ``CREATE TABLE IF NOT EXISTS``; nothing is ever deleted or rewritten):

* ``network_case_revisions(case_id, revision, built_utc, doc)``: every build that changed a network case
  appends a revision; ``doc`` is its JSON (members, frequency, fix, region, flag). The current state of a
  case is its latest revision.
* ``network_links(case_id, station, station_case_id, linked_utc)``: each station case linked to a network
  case, the first time it was linked (a station case linked later to another network case, after a split,
  gets a second row: the history stays).

Ids: ``NC-000001``..., stable across rebuilds: a rebuilt group keeps the id of the stored case it shares
most station cases with; the rest get new ids.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from station.network.grouping import NetworkCase
from station.outputs.sqlitefile import immediate_transaction, open_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS network_case_revisions (
    case_id TEXT NOT NULL, revision INTEGER NOT NULL, built_utc TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (case_id, revision));
CREATE TABLE IF NOT EXISTS network_links (
    case_id TEXT NOT NULL, station TEXT NOT NULL, station_case_id TEXT NOT NULL, linked_utc TEXT NOT NULL,
    PRIMARY KEY (case_id, station, station_case_id));
"""


def case_doc(nc: NetworkCase) -> dict:
    """The JSON document of one network case (what exports and the revisions hold)."""
    fix = nc.fix
    est = nc.estimate()
    return {
        "case_id": nc.case_id,
        "class": nc.klass,
        "center_hz": nc.center_hz,
        "bandwidth_hz": nc.bandwidth_hz,
        "first_ns": nc.first_ns,
        "last_ns": nc.last_ns,
        "flag": nc.flag,
        "stations": list(nc.stations),
        "station_positions": {st: [lat, lon] for st, lat, lon in nc.positions},
        "members": [{"station": m.station, "case_id": m.case_id, "level": round(m.level, 2),
                     "level_unit": "dBm" if m.calibrated else "dBFS", "level_u95_db": m.level_u95_db,
                     "snr_db": m.snr_db, "center_hz": m.center_hz, "bandwidth_hz": m.bandwidth_hz,
                     "n_obs": m.n_obs, "first_ns": m.first_ns, "last_ns": m.last_ns} for m in nc.members],
        "kind": fix.kind if fix is not None else "none",
        "estimate": None if est is None else {"latitude": est[0], "longitude": est[1]},
        "region": nc.region_geo(),
        "region_bounded": None if fix is None else fix.region_bounded,
        "region_area_m2": None if fix is None else fix.area_m2,
        "ring_m": None if fix is None or fix.ring_m is None else list(fix.ring_m),
        "p_value": None if fix is None else fix.p_value,
        "exponent": None if fix is None or fix.kind != "fix" else fix.exponent,
        "crb_m": None if fix is None else fix.crb_m,
        "notes": [] if fix is None else list(fix.notes),
    }


class NetworkStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = open_wal(self.path)
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def current(self) -> list[dict]:
        """Latest revision of every network case, by id."""
        rows = self.conn.execute(
            "SELECT r.doc, r.revision, r.built_utc FROM network_case_revisions r JOIN "
            "(SELECT case_id, max(revision) AS rev FROM network_case_revisions GROUP BY case_id) m "
            "ON r.case_id = m.case_id AND r.revision = m.rev ORDER BY r.case_id").fetchall()
        out = []
        for doc, rev, built in rows:
            d = json.loads(doc)
            d["revision"], d["built_utc"] = rev, built
            out.append(d)
        return out

    def _links(self) -> dict[str, str]:
        """station:case -> the network case it was last linked to."""
        out = {}
        for case_id, station, sc in self.conn.execute(
                "SELECT case_id, station, station_case_id FROM network_links ORDER BY linked_utc, rowid"):
            out[f"{station}:{sc}"] = case_id
        return out

    def _next_id(self) -> int:
        row = self.conn.execute("SELECT max(CAST(substr(case_id, 4) AS INTEGER)) FROM network_case_revisions").fetchone()
        return (row[0] or 0) + 1

    def save(self, cases: list[NetworkCase], *, now: datetime | None = None) -> list[NetworkCase]:
        """Give every case its id (stable), append a revision for each new or changed one; returns the cases
        with ids, in input order."""
        now = now or datetime.now(timezone.utc)
        stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
        links = self._links()
        latest = {d["case_id"]: d for d in self.current()}
        used: set[str] = set()
        next_id = self._next_id()
        out = []
        # the biggest groups choose first, so a split keeps the id on its larger part
        for idx in sorted(range(len(cases)), key=lambda i: -len(cases[i].members)):
            nc = cases[idx]
            votes: dict[str, int] = {}
            for key in nc.keys:
                if key in links and links[key] not in used:
                    votes[links[key]] = votes.get(links[key], 0) + 1
            if votes:
                case_id = max(votes, key=lambda c: (votes[c], c))
            else:
                case_id = f"NC-{next_id:06d}"
                next_id += 1
            used.add(case_id)
            out.append((idx, _with_id(nc, case_id)))
        out.sort()
        result = [nc for _, nc in out]
        with immediate_transaction(self.conn):
            for nc in result:
                doc = case_doc(nc)
                old = latest.get(nc.case_id)
                if old is not None:
                    old = {k: v for k, v in old.items() if k not in ("revision", "built_utc")}
                if old != json.loads(json.dumps(doc)):
                    rev = (latest[nc.case_id]["revision"] + 1) if nc.case_id in latest else 1
                    self.conn.execute("INSERT INTO network_case_revisions VALUES (?, ?, ?, ?)",
                                      (nc.case_id, rev, stamp, json.dumps(doc)))
                for m in nc.members:
                    self.conn.execute("INSERT OR IGNORE INTO network_links VALUES (?, ?, ?, ?)",
                                      (nc.case_id, m.station, m.case_id, stamp))
        return result


def _with_id(nc: NetworkCase, case_id: str) -> NetworkCase:
    from dataclasses import replace

    return replace(nc, case_id=case_id)


__all__ = ["NetworkStore", "case_doc"]
