"""Tamper evidence inside the case store: the hash chain of every case's history and the triggers that refuse
any rewrite.

``case_chain`` holds one link per stored row of a case (the ``cases`` row as opened, then each observation,
event and evidence row in the order they were written): ``hash = sha256(canonical_json({"prev", "table",
"row"}))`` with ``row`` every column of the stored row as SQLite returns it (see
:func:`station.compliance.signing.link_hash`); a case's first link follows :data:`~signing.GENESIS`. The
store writes a row and its link in one transaction. :func:`verify_case_chain` recomputes the links from the
rows as they are now: a changed row, a removed row, a removed or reordered link, or a row with no link (one
written past the store, e.g. a forged event typed into ``sqlite3``) is a problem.

Triggers (:func:`tamper_triggers`): besides the UPDATE/DELETE triggers of :mod:`schema`, a BEFORE INSERT
trigger on every table aborts an insert whose key already exists, so ``INSERT OR REPLACE`` (which would
delete the old row and insert a new one under the same key) is refused whatever the connection's
``recursive_triggers`` setting; the store's own connection also turns ``recursive_triggers`` on, so the delete
half of a REPLACE fires the delete trigger too. ``case_chain`` itself is append-only the same way.

Stores from before the chain (the first landing) are migrated when opened: their existing rows are chained
as found (the links are marked ``migrated``), which says from when on a change would show; it is logged.
A trigger can be dropped by whoever holds the file: the chain makes that visible, and the case's head hash in
a signed bundle (``specmon violations export --format bundle``) pins its history as it was when exported.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from dataclasses import dataclass

from station.compliance.signing import GENESIS, link_hash

log = logging.getLogger(__name__)

CHAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS case_chain (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    tbl TEXT NOT NULL CHECK (tbl IN ('cases', 'case_observations', 'case_events', 'case_evidence')),
    row_key TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL,
    migrated INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tbl, row_key)
);
CREATE INDEX IF NOT EXISTS case_chain_case ON case_chain(case_id, id);
"""

#: table -> (its key column, the key conditions of the BEFORE INSERT trigger)
_KEYS = {
    "cases": ("case_id", "case_id = NEW.case_id OR seq = NEW.seq"),
    "case_observations": ("id", "id = NEW.id OR (case_id = NEW.case_id AND station = NEW.station "
                                "AND time_ns = NEW.time_ns)"),
    "case_events": ("id", "id = NEW.id"),
    "case_evidence": ("id", "id = NEW.id"),
    "case_chain": ("id", "id = NEW.id OR (tbl = NEW.tbl AND row_key = NEW.row_key)"),
}
HISTORY_TABLES = ("cases", "case_observations", "case_events", "case_evidence")


def tamper_triggers() -> str:
    out = []
    for t, (_, cond) in _KEYS.items():
        out.append(f"CREATE TRIGGER IF NOT EXISTS {t}_no_replace BEFORE INSERT ON {t} "
                   f"WHEN EXISTS (SELECT 1 FROM {t} WHERE {cond}) "
                   f"BEGIN SELECT RAISE(ABORT, '{t}: a row with this key exists; history is never replaced'); END;")
    for op in ("UPDATE", "DELETE"):
        out.append(f"CREATE TRIGGER IF NOT EXISTS case_chain_no_{op.lower()} BEFORE {op} ON case_chain "
                   f"BEGIN SELECT RAISE(ABORT, 'case_chain is append-only: history is never rewritten'); END;")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class ChainLink:
    table: str
    row_key: str
    row: dict | None  # the stored row now (None: gone)
    prev: str
    hash: str
    migrated: bool


def _value(v):
    """A stored value as JSON: non-finite REALs (an infinite SNR) as strings, BLOBs as hex."""
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, (bytes, memoryview)):
        return bytes(v).hex()
    return v


def _row(db: sqlite3.Connection, table: str, key: str) -> dict | None:
    col = _KEYS[table][0]
    cur = db.execute(f"SELECT * FROM {table} WHERE {col} = ?", (key if col == "case_id" else int(key),))
    r = cur.fetchone()
    return None if r is None else {d[0]: _value(v) for d, v in zip(cur.description, r)}


def head(db: sqlite3.Connection, case_id: str) -> str:
    r = db.execute("SELECT hash FROM case_chain WHERE case_id = ? ORDER BY id DESC LIMIT 1", (case_id,)).fetchone()
    return r[0] if r else GENESIS


def append(db: sqlite3.Connection, case_id: str, table: str, key, *, migrated: bool = False) -> str:
    """Chain the stored row ``key`` of ``table`` after the case's head; returns the new head. Call inside the
    transaction that wrote the row."""
    key = str(key)
    row = _row(db, table, key)
    if row is None:
        raise ValueError(f"{table} has no row {key} to chain")
    prev = head(db, case_id)
    h = link_hash(prev, table, row)
    db.execute("INSERT INTO case_chain (case_id, tbl, row_key, prev, hash, migrated) VALUES (?,?,?,?,?,?)",
               (case_id, table, key, prev, h, int(migrated)))
    return h


def links(db: sqlite3.Connection, case_id: str) -> list[ChainLink]:
    """The case's links in order, each with its row as stored now."""
    return [ChainLink(t, k, _row(db, t, k), p, h, bool(m)) for t, k, p, h, m in db.execute(
        "SELECT tbl, row_key, prev, hash, migrated FROM case_chain WHERE case_id = ? ORDER BY id", (case_id,))]


def verify_links(chain: list[ChainLink] | list[dict]) -> list[str]:
    """Problems of a chain given as links (or as dicts with table/row_key/row/prev/hash, a bundle's
    chain.json): each link must follow the previous one and hash its row."""
    problems = []
    prev = GENESIS
    for i, ln in enumerate(chain, 1):
        d = ln if isinstance(ln, dict) else {"table": ln.table, "row_key": ln.row_key, "row": ln.row,
                                             "prev": ln.prev, "hash": ln.hash}
        what = f"{d['table']} row {d['row_key']}"
        if d["prev"] != prev:
            problems.append(f"chain link {i} ({what}) does not follow link {i - 1}: a link was removed, "
                            f"inserted or reordered")
        if d["row"] is None:
            problems.append(f"{what} is gone (chain link {i})")
        elif link_hash(d["prev"], d["table"], d["row"]) != d["hash"]:
            problems.append(f"{what} differs from what was recorded (chain link {i})")
        prev = d["hash"]
    return problems


def verify_case_chain(db: sqlite3.Connection, case_id: str) -> list[str]:
    """Problems of the case's chain in the store (empty: intact), one line each."""
    chain = links(db, case_id)
    problems = verify_links(chain)
    if not chain:
        return [f"case {case_id} has no hash chain"]
    linked = {(ln.table, ln.row_key) for ln in chain}
    for table in HISTORY_TABLES:
        col = _KEYS[table][0]
        for (key,) in db.execute(f"SELECT {col} FROM {table} WHERE case_id = ? ORDER BY {col}", (case_id,)):
            if (table, str(key)) not in linked:
                problems.append(f"{table} row {key} is not in the hash chain: written past the store (forged?)")
    return problems


def migrate(db: sqlite3.Connection) -> tuple[int, int]:
    """Chain every row of a store that had no chain yet (call once, when ``case_chain`` was just created, inside
    a transaction). Returns (rows, cases) chained."""
    n_rows = 0
    cases = [c for (c,) in db.execute("SELECT case_id FROM cases ORDER BY seq")]
    for cid in cases:
        append(db, cid, "cases", cid, migrated=True)
        n_rows += 1
        rows = []
        for table in HISTORY_TABLES[1:]:
            rows += [(t, table, k) for k, t in db.execute(f"SELECT id, time_ns FROM {table} WHERE case_id = ?", (cid,))]
        for _, table, key in sorted(rows, key=lambda r: (r[0], HISTORY_TABLES.index(r[1]), r[2])):
            append(db, cid, table, key, migrated=True)
            n_rows += 1
    return n_rows, len(cases)


__all__ = ["CHAIN_SCHEMA", "ChainLink", "HISTORY_TABLES", "append", "head", "links", "migrate", "tamper_triggers",
           "verify_case_chain", "verify_links"]
