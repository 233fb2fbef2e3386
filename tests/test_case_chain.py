"""Tamper evidence of the case store: the hash chain of every case's history, the refusal of INSERT OR REPLACE
and of any rewrite, the migration of stores from before the chain, and `violations show --verify`."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from station.cli import main
from station.compliance.cases import CaseStore
from station.compliance.cases.schema import _SCHEMA, _append_only_triggers
from tests.test_cases import checker, noted_store  # noqa: F401 (fixture)


@pytest.fixture
def store(tmp_path, checker):
    s = noted_store(tmp_path / "specmon.db", checker)
    s.confirm("VC-000001", note="checked")
    png = tmp_path / "spectrum.png"
    png.write_bytes(b"\x89PNG fake")
    s.add_evidence("VC-000001", png, "spectrum_png", description="snapshot")
    yield s
    s.close()


def _raw(store):
    return sqlite3.connect(store.path, isolation_level=None)


def test_every_row_is_chained_and_verifies(store):
    links = store.chain("VC-000001")
    tables = [ln.table for ln in links]
    assert tables[0] == "cases" and tables.count("case_observations") == 3
    assert tables.count("case_events") == 3 and tables.count("case_evidence") == 1
    assert links[-1].hash == store.chain_head("VC-000001")
    assert all(not ln.migrated for ln in links)
    for c in store.cases():
        assert store.verify_chain(c.case_id) == []


@pytest.mark.parametrize("sql", [
    "INSERT OR REPLACE INTO cases SELECT case_id, seq, 'licensed', opened_ns, opened_station, center_hz, bandwidth_hz,"
    " track_id, licences, reason, indicative, register_json, previous_case_id FROM cases WHERE case_id = 'VC-000001'",
    "INSERT OR REPLACE INTO case_events (id, case_id, time_ns, kind, state, text, author)"
    " SELECT id, case_id, time_ns, kind, 'closed', 'forged', author FROM case_events WHERE id = 1",
    "INSERT OR REPLACE INTO case_observations SELECT * FROM case_observations WHERE id = 1",
    "REPLACE INTO case_evidence SELECT * FROM case_evidence WHERE id = 1",
    "INSERT OR REPLACE INTO case_chain SELECT * FROM case_chain WHERE id = 1",
    "UPDATE cases SET klass = 'licensed'",
    "DELETE FROM case_events",
    "UPDATE case_chain SET hash = 'x'",
])
def test_rewrites_are_refused_by_the_store(store, sql):
    db = _raw(store)  # a plain sqlite3 connection (recursive_triggers off): the triggers still hold
    with pytest.raises(sqlite3.DatabaseError, match="history is never"):
        db.execute(sql)
    db.close()
    assert store.verify_chain("VC-000001") == []
    assert store.detail("VC-000001").case.klass.value != "licensed"


def test_forged_event_fails_verification(store):
    db = _raw(store)
    db.execute("INSERT INTO case_events (case_id, time_ns, kind, state, text, author) "
               "VALUES ('VC-000002', 0, 'state', 'closed', 'closed by nobody', 'forger')")
    db.close()
    (problem,) = store.verify_chain("VC-000002")
    assert "case_events row" in problem and "not in the hash chain" in problem
    assert store.verify_chain("VC-000001") == []


def test_replaced_row_fails_verification_even_with_triggers_dropped(store):
    db = _raw(store)
    for t in ("cases_no_replace", "cases_no_delete", "case_observations_no_update"):
        db.execute(f"DROP TRIGGER {t}")
    db.execute("INSERT OR REPLACE INTO cases SELECT case_id, seq, 'licensed', opened_ns, opened_station, center_hz,"
               " bandwidth_hz, track_id, licences, reason, indicative, register_json, previous_case_id FROM cases"
               " WHERE case_id = 'VC-000003'")
    db.execute("UPDATE case_observations SET power_dbfs = -90 WHERE id = (SELECT MIN(id) FROM case_observations"
               " WHERE case_id = 'VC-000004')")
    db.close()
    assert store.verify_chain("VC-000003") == ["cases row VC-000003 differs from what was recorded (chain link 1)"]
    (p,) = store.verify_chain("VC-000004")
    assert p.startswith("case_observations row") and "differs" in p


def test_removed_row_fails_verification(store):
    db = _raw(store)
    db.execute("DROP TRIGGER case_events_no_delete")
    db.execute("DELETE FROM case_events WHERE case_id = 'VC-000001' AND kind = 'note'")
    db.close()
    (p,) = store.verify_chain("VC-000001")
    assert "case_events row" in p and "is gone" in p


def test_store_from_before_the_chain_is_migrated_once(tmp_path, caplog):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(_SCHEMA + _append_only_triggers())
    db.execute("INSERT INTO cases VALUES ('VC-000001', 1, 'unlicensed', 5, 'hn-01', 1.5e8, 1.1e4, NULL, '[]', 'r', 0,"
               " '[]', NULL)")
    db.execute("INSERT INTO case_observations (case_id, time_ns, station, klass, center_hz, bandwidth_hz, power_dbfs,"
               " power_lin, indicative, licences, reason, settings_json) VALUES ('VC-000001', 5, 'hn-01',"
               " 'unlicensed', 1.5e8, 1.1e4, -40, 1e-4, 0, '', 'r', '{}')")
    db.execute("INSERT INTO case_events (case_id, time_ns, kind, state, text, author) VALUES ('VC-000001', 5,"
               " 'state', 'new', 'opened', 'hn-01')")
    db.commit()
    db.close()
    with caplog.at_level(logging.WARNING):
        s = CaseStore(path)
    assert s.migrated == (3, 1)
    assert "from before the hash chain: chained its 3 existing rows of 1 cases" in caplog.text
    assert all(ln.migrated for ln in s.chain("VC-000001"))
    assert s.verify_chain("VC-000001") == []
    s.add_note("VC-000001", "after the migration")
    s.close()
    again = CaseStore(path)
    assert again.migrated == (0, 0) and again.verify_chain("VC-000001") == []
    assert not again.chain("VC-000001")[-1].migrated
    again.close()


def test_violations_show_verify_fails_loudly(store, capsys):
    db = str(store.path)
    # VC-000001 has a snapshot only: the IQ and the manifest are reported MISSING, not "intact"
    assert main(["violations", "show", "VC-000001", "--db", db, "--verify"]) == 4
    err = capsys.readouterr().err.splitlines()
    assert err == ["VC-000001: VERIFY FAILED: MISSING IQ recording: never recorded (capture interrupted, not yet "
                   "recovered)",
                   "VC-000001: VERIFY FAILED: MISSING evidence manifest: never recorded (capture interrupted, not yet "
                   "recovered)"]
    (store.path.parent / "spectrum.png").write_bytes(b"changed")
    raw = _raw(store)
    raw.execute("INSERT INTO case_events (case_id, time_ns, kind, state, text, author) "
                "VALUES ('VC-000001', 0, 'note', NULL, 'forged', 'x')")
    raw.close()
    assert main(["violations", "show", "VC-000001", "--db", db, "--verify"]) == 4
    err = capsys.readouterr().err
    assert "not in the hash chain" in err and "spectrum.png: sha256 differs" in err
