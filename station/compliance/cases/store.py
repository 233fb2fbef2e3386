"""The case store: :class:`CaseStore` records violation results as observations of cases (matching each to an
open case or opening one), applies the operator's state changes and notes, records evidence files, and
computes case summaries and details from the append-only rows (tables: :mod:`station.compliance.cases.schema`).

One class, kept whole: every method is a transaction on the same connection under the same lock, and the
open-case cache that recording keeps up to date must see every write the operator actions make.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from station.compliance.cases import chain
from station.compliance.cases.records import (
    Case,
    CaseDetail,
    CaseEvent,
    CaseObservation,
    EvidenceFile,
    StationPosition,
)
from station.compliance.cases.schema import (
    _SCHEMA,
    EVIDENCE_KINDS,
    STATES,
    TRANSITIONS,
    _append_only_triggers,
    _db,
    _dt,
    _ns,
    sha256_of,
)
from station.compliance.records import ComplianceClass, ComplianceResult
from station.errors import SinkError, UsageError
from station.outputs.sqlitefile import open_wal

log = logging.getLogger(__name__)

#: an event note that starts with this records why a case's evidence cannot be completed
EVIDENCE_NOTE = "evidence incomplete:"


@dataclass
class _Open:
    case_id: str
    klass: str
    center_hz: float
    bandwidth_hz: float
    tracks: set


class CaseStore:
    """Violation cases in the SQLite file ``path`` (WAL). Thread-safe; one instance per process.

    Parameters
    ----------
    path : str or PathLike
        The SQLite file; created (with its folder) when missing, its tables created if absent.
    match_tolerance_hz : float, Hz
        The smallest frequency distance at which a violation joins an open case of the same class (the
        effective tolerance is max(this, half the bandwidth)).
    """

    readonly = False  # True for a store from open_readonly(): every write is refused

    def __init__(self, path: str | os.PathLike, *, match_tolerance_hz: float = 2000.0):
        self._setup(path, match_tolerance_hz)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = open_wal(self.path)
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA recursive_triggers=ON")  # REPLACE's implicit delete fires the delete trigger
            self._db.executescript(_SCHEMA + _append_only_triggers() + chain.CHAIN_SCHEMA + chain.tamper_triggers())
            self.migrated = self._migrate_chain()
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"cannot open the case store: {exc}", where=str(self.path)) from None
        except OSError as exc:
            raise SinkError(f"cannot create the case store: {exc.strerror or exc}", where=str(self.path)) from None

    def _setup(self, path, match_tolerance_hz: float) -> None:
        self.path = Path(path)
        self.match_tolerance_hz = float(match_tolerance_hz)
        self._lock = threading.RLock()
        self._cache: dict[str, _Open] | None = None  # open cases, see _open_cases
        self._closed: set[str] = set()
        self._obs_mark = self._event_mark = 0

    @classmethod
    def open_readonly(cls, path: str | os.PathLike, *, match_tolerance_hz: float = 2000.0) -> "CaseStore":
        """An existing store opened for reading only (the web app, inspectors' tools): the SQLite connection is
        opened with ``file:...?mode=ro`` and ``PRAGMA query_only``, so neither this class nor a stray statement
        can change a row; every writing method raises :class:`UsageError`. No schema, trigger or chain
        migration is attempted (the writer's process owns them).

        Raises SinkError when ``path`` is not an existing case store (missing file, not SQLite, no cases table).
        """
        store = cls.__new__(cls)
        store._setup(path, match_tolerance_hz)
        store.readonly = True
        store.migrated = (0, 0)
        if not store.path.is_file():
            raise SinkError("no case store here", where=str(store.path))
        try:
            store._db = sqlite3.connect(f"{store.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0,
                                        isolation_level=None, check_same_thread=False)
            store._db.execute("PRAGMA query_only=ON")
            store._db.execute("SELECT 1 FROM cases LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise SinkError(f"cannot open the case store read-only: {exc}", where=str(store.path)) from None
        return store

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE`` for a writing method; refused on a read-only store."""
        if self.readonly:
            raise UsageError("the case store is open read-only: no change is possible through it", where=str(self.path))
        self._db.execute("BEGIN IMMEDIATE")

    def _migrate_chain(self) -> tuple[int, int]:
        """A store from before the hash chain (cases but no links): chain its rows as found, once."""
        with self._lock:
            self._begin()
            try:
                n = (0, 0)
                if self._db.execute("SELECT 1 FROM case_chain LIMIT 1").fetchone() is None and \
                        self._db.execute("SELECT 1 FROM cases LIMIT 1").fetchone() is not None:
                    n = chain.migrate(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if n[0]:
            log.warning("case store %s is from before the hash chain: chained its %d existing rows of %d cases as "
                        "found; changes from now on are evident", self.path, *n)
        return n

    def _insert(self, case_id: str, table: str, sql: str, params: tuple) -> int:
        """INSERT one history row and chain it (inside the caller's transaction); returns its rowid."""
        cur = self._db.execute(sql, params)
        chain.append(self._db, case_id, table, case_id if table == "cases" else cur.lastrowid)
        return cur.lastrowid

    def _write(self, fn):
        """Run ``fn`` in one IMMEDIATE transaction (a row and its chain link are written together)."""
        with self._lock:
            self._begin()
            try:
                out = fn()
                self._db.execute("COMMIT")
                return out
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- recording -----------------------------------------------------------------------------------------
    def record(
        self,
        results: Sequence[ComplianceResult],
        *,
        station: str,
        when: datetime,
        position: tuple[float, float] | None = None,
        settings: dict | None = None,
    ) -> list[CaseObservation]:
        """Record one sweep's violation results (non-violations are ignored) as observations of cases,
        opening cases for new transmitters. One transaction per call. Returns one entry per violation."""
        if not station:
            raise ValueError("station id is empty")
        t_ns = _ns(when)
        settings_json = json.dumps(settings or {}, sort_keys=True, default=str)
        lat, lon = (position if position is not None else (None, None))
        out: list[CaseObservation] = []
        with self._lock:
            try:
                self._begin()
                open_cases = self._open_cases()
                used: set[str] = set()
                for r in results:
                    if not r.klass.is_violation:
                        continue
                    e = r.emission
                    case = self._match(open_cases, r, used)
                    opened = case is None
                    if opened:
                        case = self._open_case(r, station, t_ns)
                        open_cases[case.case_id] = case
                    used.add(case.case_id)
                    if self._db.execute(  # the same sweep recorded twice counts once
                            "SELECT 1 FROM case_observations WHERE case_id=? AND station=? AND time_ns=?",
                            (case.case_id, station, t_ns)).fetchone() is None:
                        self._insert(
                        case.case_id, "case_observations",
                        "INSERT INTO case_observations (case_id, time_ns, station, latitude, longitude, klass,"
                        " track_id, center_hz, bandwidth_hz, power_dbfs, power_lin, peak_dbfs, snr_db, occupancy,"
                        " offset_hz, indicative, licences, reason, settings_json)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (case.case_id, t_ns, station, lat, lon, r.klass.value, r.track_id, e.center_hz,
                         e.bandwidth_hz, e.power_dbfs, 10.0 ** (e.power_dbfs / 10.0), e.peak_dbfs, e.snr_db,
                         e.occupancy, r.offset_hz, int(r.indicative), ",".join(r.licences), r.reason,
                         settings_json if not r.reason_args else json.dumps(
                             {**(settings or {}), "reason_args": r.reason_args}, sort_keys=True, default=str)),
                        )
                    case.center_hz, case.bandwidth_hz = e.center_hz, e.bandwidth_hz
                    if r.track_id:
                        case.tracks.add(r.track_id)
                    out.append(CaseObservation(case.case_id, opened, "new" if opened else self._state(case.case_id), r))
                self._db.execute("COMMIT")
            except BaseException:
                self._cache = None  # rebuilt from the store at the next call
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        return out

    def _state(self, case_id: str) -> str:
        row = self._db.execute(
            "SELECT state FROM case_events WHERE case_id=? AND kind='state' ORDER BY id DESC LIMIT 1", (case_id,)
        ).fetchone()
        return row[0] if row else "new"

    def _open_cases(self) -> dict[str, _Open]:
        """Cases not closed, with their latest centre/bandwidth and every track id seen. Kept in memory and
        brought up to date from the rows added since the last call (by this or another process: a
        `specmon violations close` is honoured at the next sweep). Called inside the record transaction."""
        if self._cache is None:
            self._load_open_cases()
        cache = self._cache
        for oid, cid, k, c, b, tid in self._db.execute(
            "SELECT o.id, o.case_id, c.klass, o.center_hz, o.bandwidth_hz, o.track_id FROM case_observations o "
            "JOIN cases c ON c.case_id = o.case_id WHERE o.id > ? ORDER BY o.id",
            (self._obs_mark,),
        ):
            entry = cache.get(cid)
            if entry is None:
                entry = cache[cid] = _Open(cid, k, c, b, set())
            entry.center_hz, entry.bandwidth_hz = c, b
            if tid:
                entry.tracks.add(tid)
            self._obs_mark = oid
        for eid, cid, state in self._db.execute(
            "SELECT id, case_id, state FROM case_events WHERE kind = 'state' AND id > ? ORDER BY id",
            (self._event_mark,),
        ):
            if state == "closed":
                self._closed.add(cid)
            self._event_mark = eid
        for cid in self._closed:
            cache.pop(cid, None)
        return cache

    def _load_open_cases(self) -> None:
        """First call: the open cases with their latest centre and track ids, read with the indexes (a store
        with months of observations does not get scanned row by row)."""
        self._closed = {r[0] for r in self._db.execute(
            "SELECT DISTINCT case_id FROM case_events WHERE kind = 'state' AND state = 'closed'")}
        self._event_mark = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM case_events").fetchone()[0]
        self._obs_mark = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM case_observations").fetchone()[0]
        cache: dict[str, _Open] = {}
        for cid, klass in self._db.execute("SELECT case_id, klass FROM cases ORDER BY seq").fetchall():
            if cid in self._closed:
                continue
            row = self._db.execute(
                "SELECT center_hz, bandwidth_hz FROM case_observations WHERE case_id = ? ORDER BY id DESC LIMIT 1",
                (cid,),
            ).fetchone()
            if row is None:
                continue
            tracks = {t for (t,) in self._db.execute(
                "SELECT DISTINCT track_id FROM case_observations WHERE case_id = ? AND track_id IS NOT NULL", (cid,))}
            cache[cid] = _Open(cid, klass, row[0], row[1], tracks)
        self._cache = cache

    def _match(self, open_cases: dict[str, _Open], r: ComplianceResult, used: set[str]) -> _Open | None:
        if r.track_id:
            for c in open_cases.values():
                if r.track_id in c.tracks and c.case_id not in used:
                    return c
        best, best_d = None, math.inf
        e = r.emission
        for c in open_cases.values():
            if c.klass != r.klass.value or c.case_id in used:
                continue
            d = abs(c.center_hz - e.center_hz)
            if d <= max(self.match_tolerance_hz, 0.5 * max(c.bandwidth_hz, e.bandwidth_hz)) and d < best_d:
                best, best_d = c, d
        return best

    def _open_case(self, r: ComplianceResult, station: str, t_ns: int) -> _Open:
        seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases").fetchone()[0]
        case_id = f"VC-{seq:06d}"
        previous = self._closed_match(r)
        from station.compliance.register import assignment_to_fields

        register = [assignment_to_fields(a) for a in r.assignments]
        self._insert(
            case_id, "cases",
            "INSERT INTO cases (case_id, seq, klass, opened_ns, opened_station, center_hz, bandwidth_hz, track_id,"
            " licences, reason, indicative, register_json, previous_case_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (case_id, seq, r.klass.value, t_ns, station, r.emission.center_hz, r.emission.bandwidth_hz, r.track_id,
             json.dumps(list(r.licences)), r.reason, int(r.indicative), json.dumps(register, ensure_ascii=False),
             previous),
        )
        self._insert(
            case_id, "case_events",
            "INSERT INTO case_events (case_id, time_ns, kind, state, text, author) VALUES (?,?,?,?,?,?)",
            (case_id, t_ns, "state", "new", "opened by the station", station),
        )
        return _Open(case_id, r.klass.value, r.emission.center_hz, r.emission.bandwidth_hz, set())

    def _closed_match(self, r: ComplianceResult) -> str | None:
        e = r.emission
        tol = max(self.match_tolerance_hz, 0.5 * e.bandwidth_hz)
        for (cid,) in self._db.execute(
            "SELECT case_id FROM cases WHERE klass=? AND ABS(center_hz-?) <= ? ORDER BY seq DESC",
            (r.klass.value, e.center_hz, tol),
        ).fetchall():
            if cid in self._closed:
                return cid
        return None

    # ---- operator actions ---------------------------------------------------------------------------------
    def _require(self, case_id: str) -> None:
        if self._db.execute("SELECT 1 FROM cases WHERE case_id=?", (case_id,)).fetchone() is None:
            raise UsageError(f"no case {case_id!r} in {self.path}")

    def set_state(self, case_id: str, state: str, *, note: str | None = None, author: str | None = None,
                  now: datetime | None = None) -> None:
        """Move a case to ``state`` (new -> confirmed -> exported -> closed; closed from any open state).
        Raises UsageError for an unknown case or a transition the workflow does not allow."""
        if state not in TRANSITIONS:
            raise UsageError(f"unknown target state {state!r}; one of {', '.join(TRANSITIONS)}")
        t_ns = _ns(now or datetime.now(timezone.utc))
        with self._lock:
            self._begin()
            try:
                self._require(case_id)
                current = self._state(case_id)
                if current not in TRANSITIONS[state]:
                    allowed = " or ".join(TRANSITIONS[state])
                    raise UsageError(f"case {case_id} is {current}; only a {allowed} case can become {state}")
                if not (state == current == "exported"):
                    self._insert(
                        case_id, "case_events",
                        "INSERT INTO case_events (case_id, time_ns, kind, state, text, author) VALUES (?,?,?,?,?,?)",
                        (case_id, t_ns, "state", state, note, author),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def confirm(self, case_id: str, *, note: str | None = None, author: str | None = None) -> None:
        self.set_state(case_id, "confirmed", note=note, author=author)

    def close_case(self, case_id: str, *, note: str | None = None, author: str | None = None) -> None:
        self.set_state(case_id, "closed", note=note, author=author)

    def mark_exported(self, case_ids: Sequence[str], *, note: str | None = None) -> list[str]:
        """Mark the *confirmed* cases among ``case_ids`` as exported; returns those that changed."""
        changed = []
        for cid in case_ids:
            with self._lock:
                if self._state(cid) == "confirmed":
                    self.set_state(cid, "exported", note=note)
                    changed.append(cid)
        return changed

    def add_note(self, case_id: str, text: str, *, author: str | None = None, now: datetime | None = None) -> None:
        if not text.strip():
            raise UsageError("a note needs some text")
        with self._lock:
            self._require(case_id)
            self._write(lambda: self._insert(
                case_id, "case_events",
                "INSERT INTO case_events (case_id, time_ns, kind, state, text, author) VALUES (?,?,?,?,?,?)",
                (case_id, _ns(now or datetime.now(timezone.utc)), "note", None, text, author),
            ))

    # ---- evidence ------------------------------------------------------------------------------------------
    def add_evidence(self, case_id: str, path: str | os.PathLike, kind: str, *, description: str = "",
                     now: datetime | None = None) -> EvidenceFile:
        """Record an evidence file with its sha256 (the file must exist)."""
        if kind not in EVIDENCE_KINDS:
            raise ValueError(f"evidence kind {kind!r} is not one of {', '.join(EVIDENCE_KINDS)}")
        p = Path(path)
        digest, size = sha256_of(p), p.stat().st_size
        stored = self._relative(p)
        t = now or datetime.now(timezone.utc)
        with self._lock:
            self._require(case_id)
            self._write(lambda: self._insert(
                case_id, "case_evidence",
                "INSERT INTO case_evidence (case_id, time_ns, kind, path, sha256, size_bytes, description)"
                " VALUES (?,?,?,?,?,?,?)",
                (case_id, _ns(t), kind, stored, digest, size, description),
            ))
        return EvidenceFile(kind, stored, digest, size, description, _dt(_ns(t)))

    def _relative(self, p: Path) -> str:
        base = self.path.resolve().parent
        try:
            return str(p.resolve().relative_to(base))
        except ValueError:
            return str(p.resolve())

    def evidence_path(self, ev: EvidenceFile) -> Path:
        p = Path(ev.path)
        return p if p.is_absolute() else self.path.resolve().parent / p

    def verify_evidence(self, case_id: str) -> list[tuple[EvidenceFile, str]]:
        """(file, problem) for each evidence file that is missing or whose sha256 no longer matches."""
        bad = []
        for ev in self.detail(case_id).evidence:
            p = self.evidence_path(ev)
            if not p.is_file():
                bad.append((ev, "missing"))
            elif sha256_of(p) != ev.sha256:
                bad.append((ev, "sha256 differs: the file was changed"))
        return bad

    # ---- tamper evidence -----------------------------------------------------------------------------------
    def chain(self, case_id: str) -> list[chain.ChainLink]:
        """The case's hash chain: one link per stored row, in the order written, with the row as stored now."""
        with self._lock:
            self._require(case_id)
            return chain.links(self._db, case_id)

    def chain_head(self, case_id: str) -> str:
        with self._lock:
            return chain.head(self._db, case_id)

    def verify_chain(self, case_id: str) -> list[str]:
        """One line per problem of the case's hash chain (a changed, removed or unchained row); empty: intact."""
        with self._lock:
            self._require(case_id)
            return chain.verify_case_chain(self._db, case_id)

    def checkpoint(self, checkpoint_log, *, now: datetime | None = None, force: bool = False):
        """Let ``checkpoint_log`` (a :class:`~station.compliance.cases.checkpoints.CheckpointLog`) sign the chain
        heads that grew since its last line, when due; reads only. Returns the Checkpoint written or None."""
        with self._lock:
            return checkpoint_log.maybe_write(self._db, now=now, force=force)

    def missing_evidence(self, case_id: str) -> list[str]:
        """One line per expected evidence part the case does not have (spectrum snapshot, IQ, manifest), with
        the reason the capture or the recovery gave when there is one."""
        d = self.detail(case_id)
        kinds = {e.kind for e in d.evidence}
        reasons = [e.text for e in d.events if e.kind == "note" and (e.text or "").startswith(EVIDENCE_NOTE)]
        problems = []
        manifest = next((e for e in reversed(d.evidence) if e.kind == "manifest"), None)
        listed: list[str] = []
        if manifest is not None:
            try:
                listed = json.loads(self.evidence_path(manifest).read_text(encoding="utf-8")).get("problems") or []
            except (OSError, ValueError):
                listed = []
        for kind, what in (("spectrum_png", "spectrum snapshot"), ("iq_sigmf_data", "IQ recording"),
                           ("manifest", "evidence manifest")):
            if kind not in kinds:
                why = [p for p in listed if p.lower().startswith(what.split()[0].lower())] + reasons
                problems.append(f"MISSING {what}: " + ("; ".join(why) if why else
                                                       "never recorded (capture interrupted, not yet recovered)"))
        return problems

    def verify_case(self, case_id: str) -> list[str]:
        """Everything ``violations show --verify`` checks, one line per problem: the hash chain, each evidence
        file (gone or changed) and the evidence that should be there and is not."""
        problems = self.verify_chain(case_id)
        for ev, problem in self.verify_evidence(case_id):
            problems.append(f"evidence {ev.path}: " + ("MISSING (the file is gone)" if problem == "missing"
                                                        else problem))
        return problems + self.missing_evidence(case_id)

    def incomplete_evidence(self) -> list[str]:
        """Open or closed cases without an evidence manifest and without a recorded reason why it cannot be
        completed: captures that were interrupted (the station stopped or was killed before recording it)."""
        with self._lock:
            return [cid for (cid,) in self._db.execute(
                "SELECT c.case_id FROM cases c WHERE NOT EXISTS (SELECT 1 FROM case_evidence v WHERE v.case_id ="
                " c.case_id AND v.kind = 'manifest') AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.case_id ="
                " c.case_id AND e.kind = 'note' AND e.text LIKE ?) ORDER BY c.seq", (EVIDENCE_NOTE + "%",))]

    # ---- queries -------------------------------------------------------------------------------------------
    def cases(self, *, state: str | Sequence[str] | None = None, since: datetime | None = None,
              klass: str | None = None) -> list[Case]:
        """Case summaries, oldest first. ``state``: one state or several; ``since``: cases seen at or after
        that time; ``klass``: one compliance class."""
        states = (state,) if isinstance(state, str) else tuple(state or ())
        for s in states:
            if s not in STATES:
                raise UsageError(f"unknown case state {s!r}; one of {', '.join(STATES)}")
        with self._lock:
            rows = self._db.execute(
                """
                SELECT c.case_id, c.klass, c.opened_ns, c.center_hz, c.licences, c.reason, c.indicative,
                       c.register_json, c.previous_case_id,
                       MIN(o.time_ns), MAX(o.time_ns), COUNT(o.id), MAX(o.power_dbfs), AVG(o.power_lin),
                       COALESCE((SELECT state FROM case_events e WHERE e.case_id = c.case_id AND e.kind = 'state'
                                 ORDER BY e.id DESC LIMIT 1), 'new')
                FROM cases c JOIN case_observations o ON o.case_id = c.case_id
                GROUP BY c.case_id ORDER BY c.seq
                """
            ).fetchall()
            latest = {
                r[0]: r[1:]
                for r in self._db.execute(
                    "SELECT o.case_id, o.center_hz, o.bandwidth_hz, o.reason, o.snr_db FROM case_observations o "
                    "WHERE o.id IN (SELECT MAX(id) FROM case_observations GROUP BY case_id)"
                )
            }
            stations: dict[str, list[StationPosition]] = {}
            for cid, st, la, lo in self._db.execute(
                "SELECT case_id, station, latitude, longitude FROM case_observations "
                "WHERE id IN (SELECT MAX(id) FROM case_observations GROUP BY case_id, station) ORDER BY id"
            ):
                stations.setdefault(cid, []).append(StationPosition(st, la, lo))
            tracks: dict[str, list[str]] = {}
            for cid, tid in self._db.execute(
                "SELECT case_id, track_id FROM case_observations WHERE track_id IS NOT NULL "
                "GROUP BY case_id, track_id ORDER BY MIN(id)"
            ):
                tracks.setdefault(cid, []).append(tid)
        since_ns = _ns(since) if since is not None else None
        out = []
        for (cid, k, _opened, c0, lic, reason, ind, reg, prev, first, last, n, pmax, plin, st) in rows:
            if states and st not in states:
                continue
            if since_ns is not None and last < since_ns:
                continue
            if klass is not None and k != klass:
                continue
            lc, lb, lr, snr = latest[cid]
            out.append(
                Case(
                    case_id=cid, klass=ComplianceClass(k), state=st, first_seen=_dt(first), last_seen=_dt(last),
                    n_obs=n, max_power_dbfs=pmax, mean_power_dbfs=_db(plin), center_hz=lc, bandwidth_hz=lb,
                    opened_center_hz=c0, stations=tuple(stations.get(cid, ())), licences=tuple(json.loads(lic)),
                    reason=reason, latest_reason=lr, indicative=bool(ind), track_ids=tuple(tracks.get(cid, ())),
                    previous_case_id=prev, register=tuple(json.loads(reg)), snr_db=snr,
                )
            )
        return out

    def detail(self, case_id: str, *, case: Case | None = None) -> CaseDetail:
        """One case with its history, evidence and latest settings (``case``: its summary when the caller
        already has it from :meth:`cases`, to avoid recomputing every summary)."""
        with self._lock:
            self._require(case_id)
            if case is None:
                (case,) = [c for c in self.cases() if c.case_id == case_id]
            events = tuple(
                CaseEvent(_dt(t), k, s, x, a)
                for t, k, s, x, a in self._db.execute(
                    "SELECT time_ns, kind, state, text, author FROM case_events WHERE case_id=? ORDER BY id",
                    (case_id,),
                )
            )
            evidence = tuple(
                EvidenceFile(k, p, h, n, d, _dt(t))
                for t, k, p, h, n, d in self._db.execute(
                    "SELECT time_ns, kind, path, sha256, size_bytes, description FROM case_evidence WHERE case_id=?"
                    " ORDER BY id",
                    (case_id,),
                )
            )
            row = self._db.execute(
                "SELECT settings_json FROM case_observations WHERE case_id=? ORDER BY id DESC LIMIT 1", (case_id,)
            ).fetchone()
            first = self._db.execute(
                "SELECT settings_json FROM case_observations WHERE case_id=? ORDER BY id LIMIT 1", (case_id,)
            ).fetchone()
        settings = json.loads(row[0]) if row else {}
        opening = json.loads(first[0]) if first else {}
        settings.pop("reason_args", None)  # the structured reason: CaseDetail.reason_args (as the case opened)
        return CaseDetail(case, events, evidence, settings, self.measurement(case_id), opening.get("reason_args"))

    def measurement(self, case_id: str):
        """The case's canonical measurement (:func:`station.compliance.cases.measurement.case_measurement`
        over its most recent observations); None for a case without observations."""
        from station.compliance.cases.measurement import CASE_WINDOW, ObservationRow, case_measurement

        with self._lock:
            rows = self._db.execute(
                "SELECT center_hz, bandwidth_hz, power_dbfs, snr_db, settings_json FROM case_observations"
                " WHERE case_id=? ORDER BY id DESC LIMIT ?", (case_id, CASE_WINDOW)).fetchall()
        return case_measurement([ObservationRow(*r) for r in reversed(rows)])

    def latest_observation(self, case_id: str) -> dict | None:
        """The case's latest observation row as stored (column -> value), None without one."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM case_observations WHERE case_id = ? ORDER BY id DESC LIMIT 1",
                                   (case_id,))
            row = cur.fetchone()
            return None if row is None else dict(zip([d[0] for d in cur.description], row))

    def observation_count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM case_observations").fetchone()[0]


def open_store(path: str | os.PathLike) -> CaseStore:
    """Open an existing case store for the CLI: a missing file is a UsageError (no empty store is created)."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no case store at {p} (run the station first, or pass --db PATH)")
    return CaseStore(p)
