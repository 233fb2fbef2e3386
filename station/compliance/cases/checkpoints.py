"""Signed checkpoints of the case chain heads, kept OUTSIDE the case store, and their verification.

The hash chain (:mod:`station.compliance.cases.chain`) shows a changed row only while the link hashes are left
alone: whoever holds the SQLite file can drop the triggers, rewrite rows *and* recompute every link. So the
station commits to its chain heads elsewhere, as the chain grows:

- the **checkpoint log** ``<store folder>/case-checkpoints.jsonl``: one JSON line per checkpoint (at most
  every ``[store] checkpoint_interval_s``, only when some chain grew, and once more at shutdown). A line is
  ``{"body": {...}, "key": <fingerprint>, "sig": <Ed25519 of canonical_json(body)>}`` with the body
  ``format, seq, time, station, prev`` (SHA-256 of the previous line's bytes, :data:`GENESIS` for the first),
  ``link_mark`` (the highest ``case_chain`` id included), ``heads`` (the cases whose chain grew since the
  previous line: ``case_id -> [n_links, head]``), ``n_cases`` and ``root`` (SHA-256 of the canonical JSON of
  every case's ``[n_links, head]`` committed so far). A restart continues the log after its last line.
- **the central store**: each ``violation`` point carries the case's ``chain_head`` after that sweep, and each
  checkpoint is sent as a ``case_checkpoint`` point (seq, root, the line's SHA-256, the signature), so
  InfluxDB (and the network reading it) keeps an independent copy of what the station committed to.

:func:`verify_checkpoints` recomputes every case's chain from its rows as they are now and checks that link
``n_links`` of each case hashes to the head each checkpoint committed to, that the log's lines are signed by
the station key and linked, and (with an :class:`InfluxReader`) that every head and checkpoint the station
published is still what the store and the log say. One line per problem.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from station.compliance.cases import chain
from station.compliance.signing import (
    GENESIS,
    canonical_json,
    link_hash,
    public_fingerprint,
    sha256_hex,
    verify_signature,
)

log = logging.getLogger(__name__)

LOG_NAME = "case-checkpoints.jsonl"
FORMAT = "specmon-case-checkpoint/1"
DEFAULT_INTERVAL_S = 60.0
#: a case opened this long before a checkpoint must be in it (else it was written past the station)
OPENED_SLACK_S = 600.0


def log_path(store_path: str | os.PathLike) -> Path:
    """The checkpoint log of the case store at ``store_path`` (beside it, in the store folder)."""
    return Path(store_path).resolve().parent / LOG_NAME


def heads_root(state: dict[str, list]) -> str:
    """SHA-256 over every case's committed ``[n_links, head]`` (canonical JSON, keys sorted)."""
    return sha256_hex(canonical_json({cid: list(v) for cid, v in state.items()}))


def heads_since(db: sqlite3.Connection, mark: int) -> tuple[int, dict[str, list]]:
    """The cases whose chain has links with id > ``mark``: ``(new mark, {case_id: [n_links, head]})``."""
    new_mark = db.execute("SELECT COALESCE(MAX(id), 0) FROM case_chain").fetchone()[0]
    out: dict[str, list] = {}
    if new_mark <= mark:
        return mark, out
    for (cid,) in db.execute("SELECT DISTINCT case_id FROM case_chain WHERE id > ? AND id <= ?", (mark, new_mark)):
        n, h = db.execute("SELECT COUNT(*), (SELECT hash FROM case_chain WHERE case_id = ?1 AND id <= ?2 "
                          "ORDER BY id DESC LIMIT 1) FROM case_chain WHERE case_id = ?1 AND id <= ?2",
                          (cid, new_mark)).fetchone()
        out[cid] = [int(n), h]
    return new_mark, out


def recomputed_chain(db: sqlite3.Connection, case_id: str) -> list[str | None]:
    """The case's link hashes recomputed from its rows as they are NOW (the stored hashes ignored), in chain
    order; None from the first link whose row is gone."""
    out: list[str | None] = []
    prev: str | None = GENESIS
    for ln in chain.links(db, case_id):
        prev = None if prev is None or ln.row is None else link_hash(prev, ln.table, ln.row)
        out.append(prev)
    return out


@dataclass(frozen=True)
class Checkpoint:
    """One line of the log as written (``line``: its bytes without the newline)."""

    seq: int
    time: datetime
    station: str
    root: str
    n_cases: int
    changed: int
    fingerprint: str
    signature: str
    line: bytes

    @property
    def line_hash(self) -> str:
        return sha256_hex(self.line)


class CheckpointLog:
    """The station's append-only checkpoint log (the writer; one per process, not thread-safe by itself).

    Parameters
    ----------
    path : Path
        The JSON lines file (created with its folder); an existing log is continued after its last line.
    key : StationKey
        The station key that signs each line.
    station : str
        Station id written into each line.
    interval_s : float, s
        At most one checkpoint per interval (``force`` overrides it).
    """

    def __init__(self, path: str | os.PathLike, key, station: str, *, interval_s: float = DEFAULT_INTERVAL_S):
        self.path = Path(path)
        self.key = key
        self.station = station
        self.interval_s = float(interval_s)
        self.seq = 0
        self.prev = GENESIS
        self.mark = 0
        self.state: dict[str, list] = {}
        self._last_mono: float | None = None
        self._load()

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        if data and not data.endswith(b"\n"):  # a line cut by a crash mid-write: never signed as a whole
            cut = data.rfind(b"\n") + 1
            log.warning("%s: dropped an incomplete last line (%d bytes) left by an interrupted write",
                        self.path, len(data) - cut)
            with open(self.path, "r+b") as f:
                f.truncate(cut)
            data = data[:cut]
        for i, line in enumerate(data.splitlines(), 1):
            try:
                body = json.loads(line)["body"]
                self.seq, self.mark = int(body["seq"]), int(body["link_mark"])
                for cid, v in body["heads"].items():
                    self.state[cid] = list(v)
            except (ValueError, KeyError, TypeError, AttributeError):
                log.error("%s:%d: not a checkpoint line; the log continues after it (`specmon verify "
                          "--checkpoints` reports it)", self.path, i)
            self.prev = sha256_hex(line)

    def maybe_write(self, db: sqlite3.Connection, *, now: datetime | None = None,
                    force: bool = False) -> Checkpoint | None:
        """Write a checkpoint when some case's chain grew and the interval has passed (or ``force``); returns
        it, or None. ``db``: the case store's connection (read inside the caller's lock)."""
        mono = time.monotonic()
        if not force and self._last_mono is not None and mono - self._last_mono < self.interval_s:
            return None
        mark, heads = heads_since(db, self.mark)
        heads = {cid: v for cid, v in heads.items() if self.state.get(cid) != v}
        if not heads:
            return None
        state = {**self.state, **heads}
        when = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        body = {"format": FORMAT, "seq": self.seq + 1, "time": when.isoformat().replace("+00:00", "Z"),
                "station": self.station, "prev": self.prev, "link_mark": mark, "heads": heads,
                "n_cases": len(state), "root": heads_root(state)}
        sig = self.key.sign(canonical_json(body))
        line = canonical_json({"body": body, "key": self.key.fingerprint, "sig": sig})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        self.seq, self.prev, self.mark, self.state = body["seq"], sha256_hex(line), mark, state
        self._last_mono = mono
        return Checkpoint(self.seq, when, self.station, body["root"], len(state), len(heads), self.key.fingerprint,
                          sig, line)


# ---- verification ------------------------------------------------------------------------------------------


@dataclass
class CheckpointReport:
    problems: list[str] = field(default_factory=list)
    n_lines: int = 0
    n_cases: int = 0
    last_seq: int = 0
    last_time: str | None = None
    fingerprint: str | None = None
    influx_heads: int = 0
    influx_checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Commit:
    seq: int
    time: str
    n: int
    head: str


def _read_log(path: Path, public_key, report: CheckpointReport) -> tuple[dict[str, list[_Commit]], dict[int, str],
                                                                          str | None]:
    """Check the log's lines (signature, link, sequence, root); the commitments per case, line hash per seq and
    the station id."""
    commits: dict[str, list[_Commit]] = {}
    line_hash: dict[int, str] = {}
    station = None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report.problems.append(f"{path}: no checkpoint log (the station never wrote one, or it was removed)")
        return commits, line_hash, station
    except OSError as exc:
        report.problems.append(f"{path}: cannot read the checkpoint log: {exc.strerror or exc}")
        return commits, line_hash, station
    want_fp = public_fingerprint(public_key)
    report.fingerprint = want_fp
    prev, seq, state = GENESIS, 0, {}
    for i, line in enumerate(data.splitlines(), 1):
        where = f"{path.name}:{i}"
        report.n_lines += 1
        try:
            d = json.loads(line)
            body, sig = d["body"], d["sig"]
            heads = body["heads"]
            body_seq, t = int(body["seq"]), str(body["time"])
            if body.get("format") != FORMAT or not isinstance(heads, dict):
                raise ValueError("format")
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"{where}: not a checkpoint line (the log was edited or damaged)")
            prev = sha256_hex(line)
            continue
        label = f"{where} (checkpoint #{body_seq}, {t})"
        if not verify_signature(public_key, canonical_json(body), sig):
            report.problems.append(f"{label}: signature does not verify with the station key sha256:{want_fp[:16]} "
                                   "(the line was changed or signed by another key)")
        if body.get("prev") != prev:
            report.problems.append(f"{label}: does not follow the line before it (a line was removed, inserted, "
                                   "changed or reordered)")
        if body_seq != seq + 1:
            report.problems.append(f"{label}: sequence number {body_seq} after {seq}")
        for cid, v in heads.items():
            state[cid] = list(v)
        if body.get("root") != heads_root(state):
            report.problems.append(f"{label}: root does not match the heads the log commits to")
        try:
            for cid, (n, h) in heads.items():
                commits.setdefault(cid, []).append(_Commit(body_seq, t, int(n), str(h)))
        except (ValueError, TypeError):
            report.problems.append(f"{label}: a head is not [links, hash]")
        station = station or body.get("station")
        line_hash[body_seq] = sha256_hex(line)
        prev, seq = sha256_hex(line), body_seq
        report.last_seq, report.last_time = body_seq, t
    return commits, line_hash, station


def _check_case(db, cid: str, commits: list[_Commit], recomputed: list[str | None] | None) -> str | None:
    """The first checkpoint this case's history contradicts, as one line (None: consistent with all)."""
    for c in commits:
        where = f"checkpoint #{c.seq} ({c.time})"
        if recomputed is None or not recomputed:
            return f"case {cid}: gone from the store, but {where} committed to its {c.n} links"
        if len(recomputed) < c.n:
            return (f"case {cid}: history has {len(recomputed)} links, {where} committed to {c.n}: rows were "
                    f"removed after it")
        now = recomputed[c.n - 1]
        if now != c.head:
            return (f"case {cid}: history contradicts {where}: link {c.n} recomputes to "
                    f"{(now or 'a removed row')[:16]}, the station signed {c.head[:16]} (rewritten after that "
                    f"checkpoint)")
    return None


def verify_checkpoints(store, public_key, *, path: Path | None = None, reader=None,
                       case_id: str | None = None) -> CheckpointReport:
    """Check the case store ``store`` (a CaseStore) against its checkpoint log (``path``, default beside the
    store) signed by ``public_key`` (cryptography Ed25519PublicKey), and, with ``reader`` (an InfluxReader of
    the central database), against the heads and checkpoints the station published there. ``case_id``: check
    that one case only (the log itself is always checked whole)."""
    report = CheckpointReport()
    path = Path(path) if path is not None else log_path(store.path)
    commits, line_hash, station = _read_log(path, public_key, report)
    if case_id is not None:
        commits = {case_id: commits[case_id]} if case_id in commits else {}
    with store._lock:
        db = store._db
        cases = {cid: opened for cid, opened in db.execute("SELECT case_id, opened_ns FROM cases ORDER BY seq")
                 if case_id is None or cid == case_id}
        recomputed = {cid: recomputed_chain(db, cid) for cid in cases}
        chain_problems = {cid: chain.verify_case_chain(db, cid) for cid in cases}
    report.n_cases = len(cases)
    for cid in sorted(set(commits) | set(cases)):
        if cid in commits:
            line = _check_case(db, cid, commits[cid], recomputed.get(cid))
            if line:
                report.problems.append(line)
        elif report.last_time is not None:
            last = datetime.fromisoformat(report.last_time.replace("Z", "+00:00"))
            opened = datetime.fromtimestamp(cases[cid] / 1e9, timezone.utc)
            if (last - opened).total_seconds() > OPENED_SLACK_S:
                report.problems.append(f"case {cid}: opened {opened:%Y-%m-%d %H:%M:%S}Z but in no checkpoint up to "
                                       f"#{report.last_seq} ({report.last_time}): written past the station?")
        for p in chain_problems.get(cid, []):
            report.problems.append(f"case {cid}: {p}")
    if reader is not None:
        _check_influx(reader, station, recomputed, line_hash, report)
    return report


def trusted_public_key(store_path: str | os.PathLike, key_pem: str | os.PathLike | None = None):
    """``(public key, where it came from)``: the PEM at ``key_pem`` (the key pinned when the station was handed
    over: a rewrite that also replaced the station's key pair still fails), else the station's own
    ``keys/station-ed25519.pub.pem`` beside the store. UsageError naming the file when it cannot be read."""
    from station.compliance.signing import KEY_DIR, PUBLIC_NAME, load_public
    from station.errors import UsageError

    p = Path(key_pem).expanduser() if key_pem else Path(store_path).resolve().parent / KEY_DIR / PUBLIC_NAME
    try:
        pem = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the station public key: {exc.strerror or exc}", where=str(p)) from None
    return load_public(pem, where=str(p)), str(p)


def case_problems(report: CheckpointReport, case_id: str) -> list[str]:
    """The report's lines about ``case_id`` and about the log itself (what `violations show --verify` shows)."""
    return [p for p in report.problems if p.startswith(f"case {case_id}:") or not p.startswith("case ")]


def _q(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _check_influx(reader, station: str | None, recomputed: dict, line_hash: dict[int, str],
                  report: CheckpointReport) -> None:
    if station is None:
        report.problems.append("InfluxDB: no station id (the checkpoint log is empty): nothing to compare")
        return
    rows = reader.query(f'SELECT "case_id", "chain_head" FROM "violation" WHERE "station" = {_q(station)}')
    seen: dict[str, dict[str, int]] = {}
    for r in rows:
        cid, h = r.get("case_id"), r.get("chain_head")
        if cid and h:
            seen.setdefault(cid, {}).setdefault(h, r.get("time"))
            report.influx_heads += 1
    for cid in sorted(seen):
        links = recomputed.get(cid)
        if not links:
            report.problems.append(f"case {cid}: gone from the store, but InfluxDB holds {len(seen[cid])} chain "
                                   f"heads the station published for it")
            continue
        have = set(links)
        for h, t_ns in sorted(seen[cid].items(), key=lambda kv: kv[1] or 0):
            if h not in have:
                at = datetime.fromtimestamp((t_ns or 0) / 1e9, timezone.utc)
                report.problems.append(f"case {cid}: history contradicts the chain head {h[:16]} the station "
                                       f"published to InfluxDB at {at:%Y-%m-%d %H:%M:%S}Z (rewritten after it)")
                break
    for r in reader.query(f'SELECT "seq", "line_hash" FROM "case_checkpoint" WHERE "station" = {_q(station)}'):
        report.influx_checkpoints += 1
        seq = r.get("seq")
        if seq is None:
            continue
        mine = line_hash.get(int(seq))
        if mine is None:
            report.problems.append(f"checkpoint #{int(seq)}: in InfluxDB but not in the log (the log was cut or "
                                   f"rewritten)")
        elif mine != r.get("line_hash"):
            report.problems.append(f"checkpoint #{int(seq)}: the log's line differs from the one the station "
                                   f"published to InfluxDB (the log was rewritten and re-signed)")


__all__ = ["Checkpoint", "CheckpointLog", "CheckpointReport", "case_problems", "trusted_public_key", "DEFAULT_INTERVAL_S", "FORMAT", "LOG_NAME",
           "heads_root", "heads_since", "log_path", "recomputed_chain", "verify_checkpoints"]
