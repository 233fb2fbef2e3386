"""Signed checkpoints of the case chain heads (station/compliance/cases/checkpoints.py): the rewrite the hash
chain alone misses (triggers dropped, rows changed, every link recomputed) fails against the checkpoint log and
against the heads the station published to InfluxDB; a tampered log fails; an untouched store verifies; a
restart continues the log."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from station.cli import main
from station.compliance.cases import CaseStore
from station.compliance.cases.checkpoints import (
    CheckpointLog,
    log_path,
    trusted_public_key,
    verify_checkpoints,
)
from station.compliance.signing import StationKey, canonical_json, link_hash
from tests.test_cases import T0, checker, noted_store  # noqa: F401 (fixture)


@pytest.fixture
def store(tmp_path, checker):
    s = noted_store(tmp_path / "specmon.db", checker)
    yield s
    s.close()


def _log(store) -> CheckpointLog:
    return CheckpointLog(log_path(store.path), StationKey.load_or_create(store.path.parent), "hn-01")


def _verify(store, **kw):
    key, _ = trusted_public_key(store.path)
    return verify_checkpoints(store, key, **kw)


def rewrite_consistently(path, case_id: str, sql: str, params=()) -> None:
    """The attack the chain alone misses: drop every trigger, change a row, recompute the case's links."""
    db = sqlite3.connect(path, isolation_level=None)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    db.execute(sql, params)
    prev = "0" * 64
    for lid, tbl, key in db.execute("SELECT id, tbl, row_key FROM case_chain WHERE case_id = ? ORDER BY id",
                                    (case_id,)).fetchall():
        col = "case_id" if tbl == "cases" else "id"
        cur = db.execute(f"SELECT * FROM {tbl} WHERE {col} = ?", (key if col == "case_id" else int(key),))
        row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        h = link_hash(prev, tbl, row)
        db.execute("UPDATE case_chain SET prev = ?, hash = ? WHERE id = ?", (prev, h, lid))
        prev = h
    db.close()


FORGE_CLASS = "UPDATE cases SET klass = 'licensed', reason = 'licensed' WHERE case_id = 'VC-000003'"


def test_untouched_store_verifies_and_unchanged_heads_write_no_line(store, capsys):
    cp = store.checkpoint(_log(store), force=True)
    assert cp.seq == 1 and cp.n_cases == len(store.cases()) == cp.changed
    assert store.checkpoint(_log(store), force=True) is None  # nothing grew: no new line
    report = _verify(store)
    assert report.ok, report.problems
    assert report.n_lines == 1 and report.n_cases == cp.n_cases
    assert main(["verify", "--checkpoints", "--db", str(store.path)]) == 0
    assert "agree with 1 signed checkpoints (last #1" in capsys.readouterr().out
    assert main(["violations", "show", "VC-000001", "--db", str(store.path), "--verify"]) == 4  # IQ missing
    assert "checkpoints" not in capsys.readouterr().err


def test_rewrite_with_triggers_dropped_and_chain_recomputed_fails_against_the_checkpoint(store, capsys):
    store.checkpoint(_log(store), force=True)
    store.add_note("VC-000003", "after the checkpoint")
    cp2 = store.checkpoint(_log(store), force=True)
    assert cp2.seq == 2 and cp2.changed == 1
    rewrite_consistently(store.path, "VC-000003", FORGE_CLASS)
    assert store.verify_chain("VC-000003") == []  # the chain alone is fooled
    report = _verify(store)
    (line,) = report.problems
    assert line.startswith("case VC-000003: history contradicts checkpoint #1 (")
    assert "link 5 recomputes to" in line and "rewritten after that checkpoint" in line
    assert main(["verify", "--checkpoints", "--db", str(store.path)]) == 4
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith(line) and "CHECKPOINT FAILED" in err[0]
    assert main(["violations", "show", "VC-000003", "--db", str(store.path), "--verify"]) == 4
    assert f"VC-000003: VERIFY FAILED: checkpoints: {line}" in capsys.readouterr().err.splitlines()


def test_removed_rows_and_a_removed_case_fail(store):
    store.checkpoint(_log(store), force=True)
    db = sqlite3.connect(store.path, isolation_level=None)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    for t in ("case_chain", "case_events", "case_observations", "cases"):
        db.execute(f"DELETE FROM {t} WHERE case_id = 'VC-000002'")
    last = db.execute("SELECT MAX(id) FROM case_chain WHERE case_id = 'VC-000001'").fetchone()[0]
    db.execute("DELETE FROM case_events WHERE case_id = 'VC-000001' AND kind = 'note'")
    db.execute("DELETE FROM case_chain WHERE id = ?", (last,))
    db.close()
    assert store.verify_chain("VC-000001") == []  # the note and its link are both gone: the chain is fooled
    problems = _verify(store).problems
    assert [p.split(":")[0] for p in problems] == ["case VC-000001", "case VC-000002"]
    assert "rows were removed after it" in problems[0] and "gone from the store" in problems[1]


@pytest.mark.parametrize("tamper", ["edit", "remove", "reorder", "garbage"])
def test_tampered_checkpoint_log_fails(store, tamper):
    log = _log(store)
    store.checkpoint(log, force=True)
    store.add_note("VC-000001", "second")
    store.checkpoint(log, force=True)
    store.add_note("VC-000002", "third")
    store.checkpoint(log, force=True)
    path = log_path(store.path)
    lines = path.read_bytes().splitlines()
    if tamper == "edit":  # a head moved to hide a rewrite, the line's signature kept
        d = json.loads(lines[1])
        d["body"]["time"] = "2020-01-01T00:00:00Z"
        lines[1] = canonical_json(d)
    elif tamper == "remove":
        del lines[1]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines[1] = b"{not json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    problems = _verify(store).problems
    assert problems and all(p.startswith("case-checkpoints.jsonl:") for p in problems), problems
    want = {"edit": "signature does not verify", "remove": "does not follow the line before it",
            "reorder": "does not follow the line before it", "garbage": "not a checkpoint line"}[tamper]
    assert any(want in p for p in problems), problems


def test_a_log_signed_by_another_key_fails_with_the_pinned_key(store, tmp_path):
    store.checkpoint(_log(store), force=True)
    pinned = tmp_path / "pinned.pub.pem"
    pinned.write_bytes(StationKey.load_or_create(store.path.parent).public_pem)
    # root on the station: replaces the key pair and re-signs a log of the rewritten history
    rewrite_consistently(store.path, "VC-000003", FORGE_CLASS)
    log_path(store.path).unlink()
    for f in (store.path.parent / "keys").iterdir():
        f.unlink()
    store.checkpoint(_log(store), force=True)
    assert _verify(store).ok  # with the station's own (replaced) key the forgery is consistent
    key, _ = trusted_public_key(store.path, pinned)
    problems = verify_checkpoints(store, key).problems
    assert problems and "signature does not verify with the station key" in problems[0]


def test_a_restart_continues_the_log(store, tmp_path):
    first = _log(store)
    store.checkpoint(first, force=True)
    again = _log(store)  # a new process: reads the log and continues after its last line
    assert (again.seq, again.prev, again.state) == (first.seq, first.prev, first.state)
    store.add_note("VC-000002", "after the restart")
    cp = store.checkpoint(again, force=True)
    assert cp.seq == 2 and cp.changed == 1
    # a line cut by a crash mid-write is dropped with a warning and the log goes on
    with open(log_path(store.path), "ab") as f:
        f.write(b'{"body": {"seq": 3')
    third = _log(store)
    assert third.seq == 2
    store.add_note("VC-000002", "once more")
    assert store.checkpoint(third, force=True).seq == 3
    report = _verify(store)
    assert report.ok, report.problems
    assert report.last_seq == 3


def test_interval_limits_the_checkpoints(store):
    log = CheckpointLog(log_path(store.path), StationKey.load_or_create(store.path.parent), "hn-01",
                        interval_s=3600.0)
    assert store.checkpoint(log) is not None
    store.add_note("VC-000001", "grown")
    assert store.checkpoint(log) is None  # within the interval
    assert store.checkpoint(log, force=True).seq == 2


def test_a_case_written_past_the_station_fails(store):
    store.checkpoint(_log(store), now=T0 + timedelta(days=1), force=True)
    db = sqlite3.connect(store.path, isolation_level=None)
    db.execute("INSERT INTO cases SELECT 'VC-000099', 99, klass, opened_ns, opened_station, center_hz, bandwidth_hz,"
               " track_id, licences, reason, indicative, register_json, NULL FROM cases WHERE case_id = 'VC-000001'")
    db.close()
    problems = _verify(store).problems
    assert any(p.startswith("case VC-000099: opened") and "in no checkpoint" in p for p in problems), problems


@pytest.mark.influx
def test_station_publishes_heads_to_influxdb_and_a_rewrite_contradicts_them(tmp_path, influxdb, influx_db, capsys):
    """A real station run into a real influxd: its violation points carry chain heads and its checkpoints are
    in InfluxDB; root on the station rewrites a case, recomputes the chain AND re-signs a fresh checkpoint log
    with the station key: the local check passes, the central copy does not."""
    from tests.test_daemon_e2e import run_station

    url = f"influx://127.0.0.1:{influxdb.port}/{influx_db}?timeout=5"
    cfg, _, summary = run_station(tmp_path, f'"sqlite:specmon.db", "{url}"')
    db = cfg.store.db_path
    heads = influxdb.query('SELECT "case_id", "chain_head" FROM "violation"', db=influx_db)
    assert heads and all(len(r["chain_head"]) == 64 for r in heads)
    cps = influxdb.query('SELECT "seq", "line_hash", "root", "signature" FROM "case_checkpoint"', db=influx_db)
    assert cps and cps[-1]["seq"] == len(log_path(db).read_bytes().splitlines())
    assert main(["verify", "--checkpoints", "--db", str(db), "--influx", url]) == 0
    assert "all consistent" in capsys.readouterr().out

    case_id = heads[0]["case_id"]
    rewrite_consistently(db, case_id, "UPDATE case_observations SET power_dbfs = power_dbfs - 30 WHERE id = "
                         "(SELECT MIN(id) FROM case_observations WHERE case_id = ?)", (case_id,))
    log_path(db).unlink()
    with CaseStore(db) as s:  # re-opening recreates the dropped triggers; the forger then re-signs a log
        assert s.verify_chain(case_id) == []
        s.checkpoint(CheckpointLog(log_path(db), StationKey.load_or_create(db.parent), cfg.station.id), force=True)
    assert main(["verify", "--checkpoints", "--db", str(db)]) == 0  # the station alone cannot tell
    capsys.readouterr()
    assert main(["verify", "--checkpoints", "--db", str(db), "--influx", url]) == 4
    err = capsys.readouterr().err
    assert f"case {case_id}: history contradicts the chain head" in err and "published to InfluxDB at" in err
    assert "checkpoint #1: the log's line differs from the one the station published to InfluxDB" in err


def test_checkpoint_point_names_only_the_vocabulary(store):
    from station.outputs.points import checkpoint_point
    from station.outputs.vocabulary import check_point

    cp = store.checkpoint(_log(store), force=True)
    p = checkpoint_point(cp, station="hn-01")
    check_point(p)
    assert p.measurement == "case_checkpoint" and p.tags == {"station": "hn-01", "band": "all"}
    assert p.fields["seq"] == 1 and p.fields["line_hash"] == cp.line_hash and len(p.fields["root"]) == 64
