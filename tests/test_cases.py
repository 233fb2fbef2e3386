"""Violation cases: one case per transmitter across sweeps, restarts and stations; states; notes; evidence
checksums; append-only history."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from station.compliance.checker import ComplianceChecker
from station.compliance.records import ComplianceClass
from station.compliance.cases import CaseStore, open_store, sha256_of
from station.errors import UsageError
from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register
from tests.test_compliance import CITY, HANOI, em

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
VIOLATIONS = {name: klass for name, _, _, klass in CITY if klass not in ("licensed", "exempt")}


@pytest.fixture(scope="module")
def checker():
    reg = load_register(builtin_path("demo_register.csv"))
    return ComplianceChecker(reg.assignments, load_exempt_bands_strict(), HANOI, 30_000.0, 1.0)


def sweep(checker, when, *, jitter_hz=0.0, power=-40.0, tracks=True):
    emissions = []
    for i, (name, f, bw, _) in enumerate(CITY):
        e = replace(em(f * 1e6 + jitter_hz, bw, when=when), power_dbfs=power)
        emissions.append(e)
    results = checker.check(emissions, when)
    if tracks:
        results = [replace(r, track_id=f"trk-{name}") for (name, *_), r in zip(CITY, results)]
    return results



def noted_store(path, checker) -> CaseStore:
    """A case store at ``path`` with three sweeps of the city recorded a minute apart by hn-01 and a note on
    VC-000001 (the starting point of the hash-chain and checkpoint tests)."""
    s = CaseStore(path)
    for k in range(3):
        s.record(sweep(checker, T0 + timedelta(seconds=60 * k)), station="hn-01", when=T0 + timedelta(minutes=k),
                 position=(21.0, 105.8))
    s.add_note("VC-000001", "seen from the roof", author="inspector")
    return s

def test_one_case_per_transmitter_across_sweeps(tmp_path, checker):
    store = CaseStore(tmp_path / "specmon.db")
    powers = [-50.0, -40.0, -45.0, -41.0, -60.0]
    opened = []
    for k, p in enumerate(powers):
        obs = store.record(sweep(checker, T0 + timedelta(seconds=30 * k), jitter_hz=(-1) ** k * 150, power=p),
                           station="hn-01", when=T0 + timedelta(seconds=30 * k), position=HANOI,
                           settings={"rbw_hz": 1000.0})
        assert len(obs) == len(VIOLATIONS)
        opened.append(sum(o.opened for o in obs))
    assert opened == [len(VIOLATIONS), 0, 0, 0, 0]
    cases = store.cases()
    assert len(cases) == len(VIOLATIONS) == 7
    assert sorted(c.klass.value for c in cases) == sorted(VIOLATIONS.values())
    for c in cases:
        assert c.n_obs == 5 and c.state == "new"
        assert c.first_seen == T0 and c.last_seen == T0 + timedelta(seconds=120)
        assert c.max_power_dbfs == pytest.approx(-40.0)
        assert c.mean_power_dbfs == pytest.approx(10 * __import__("math").log10(
            sum(10 ** (p / 10) for p in powers) / len(powers)))
        assert [(s.station, s.latitude, s.longitude) for s in c.stations] == [("hn-01", *HANOI)]
        assert len(c.track_ids) == 1
    off = next(c for c in cases if c.klass is ComplianceClass.OFF_FREQUENCY)
    assert off.licences == ("LM-PORT-453037",)
    assert off.register[0]["licence"] == "LM-PORT-453037" and off.register[0]["frequency_mhz"] == "453.0375"
    assert store.detail(off.case_id).settings == {"rbw_hz": 1000.0}
    assert [c.case_id for c in cases] == [f"VC-{i:06d}" for i in range(1, 8)]


def test_without_track_ids_and_across_restarts(tmp_path, checker):
    db = tmp_path / "specmon.db"
    with CaseStore(db) as store:
        store.record(sweep(checker, T0, tracks=False), station="hn-01", when=T0)
    with CaseStore(db) as store:  # a restart: new process, new tracker identities
        obs = store.record(sweep(checker, T0 + timedelta(minutes=1), jitter_hz=400, tracks=False), station="hn-01",
                           when=T0 + timedelta(minutes=1))
        assert not any(o.opened for o in obs)
        assert [c.n_obs for c in store.cases()] == [2] * 7


def test_track_identity_wins_over_frequency_drift(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    (r,) = checker.check([em(462.8e6, 7.6e3)], T0)
    r = replace(r, track_id="trk-drifty")
    store.record([r], station="hn-01", when=T0)
    drifted = checker.check([em(462.83e6, 7.6e3)], T0)[0]  # 30 kHz away: no frequency match
    a = store.record([replace(drifted, track_id="trk-drifty")], station="hn-01", when=T0 + timedelta(seconds=5))
    other = checker.check([em(462.9e6, 7.6e3)], T0)[0]  # no track, 70 kHz from the case: another transmitter
    b = store.record([other], station="hn-01", when=T0 + timedelta(seconds=10))
    assert not a[0].opened and b[0].opened
    assert len(store.cases()) == 2


def test_two_transmitters_close_together_stay_two_cases(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    results = checker.check([em(147.25e6, 11e3), em(147.2625e6, 11e3)], T0)  # adjacent 12.5 kHz channels
    assert [r.klass.value for r in results] == ["unlicensed", "unlicensed"]
    for k in range(3):
        store.record(results, station="hn-01", when=T0 + timedelta(seconds=k))
    assert [c.n_obs for c in store.cases()] == [3, 3]


def test_two_stations_one_case(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    r = checker.check([em(106.9e6, 180e3)], T0)
    store.record(r, station="hn-01", when=T0, position=HANOI)
    store.record(r, station="hn-02", when=T0 + timedelta(seconds=1), position=(21.05, 105.80))
    (case,) = store.cases()
    assert [(s.station, s.latitude) for s in case.stations] == [("hn-01", 21.0285), ("hn-02", 21.05)]
    assert case.n_obs == 2


def test_recording_the_same_sweep_twice_counts_once(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    results = sweep(checker, T0)
    store.record(results, station="hn-01", when=T0)
    store.record(results, station="hn-01", when=T0)
    assert store.observation_count() == 7 and all(c.n_obs == 1 for c in store.cases())


def test_states_notes_and_reopening(tmp_path, checker):
    db = tmp_path / "s.db"
    store = CaseStore(db)
    store.record(checker.check([em(462.8e6, 7.6e3)], T0), station="hn-01", when=T0)
    cid = store.cases()[0].case_id
    with pytest.raises(UsageError, match=f"case {cid} is new; only a confirmed or exported case can become exported"):
        store.set_state(cid, "exported")
    store.confirm(cid, note="heard on a handheld", author="inspector Lan")
    with pytest.raises(UsageError, match="is confirmed; only a new case can become confirmed"):
        store.confirm(cid)
    assert store.mark_exported([cid]) == [cid]
    assert store.mark_exported([cid]) == []
    store.add_note(cid, "Ghi chú: đã liên hệ chủ sở hữu", author="Lan")
    with pytest.raises(UsageError, match="needs some text"):
        store.add_note(cid, "  ")
    # another process closes the case while the daemon runs
    with CaseStore(db) as cli:
        cli.close_case(cid, note="transmitter seized")
    with pytest.raises(UsageError, match="is closed"):
        store.confirm(cid)
    obs = store.record(checker.check([em(462.8e6, 7.6e3)], T0 + timedelta(hours=1)), station="hn-01",
                       when=T0 + timedelta(hours=1))
    assert obs[0].opened and obs[0].case_id != cid
    new = store.cases(state="new")
    assert [c.previous_case_id for c in new] == [cid]
    detail = store.detail(cid)
    assert [(e.kind, e.state) for e in detail.events] == [
        ("state", "new"), ("state", "confirmed"), ("state", "exported"), ("note", None), ("state", "closed")]
    assert detail.events[3].text == "Ghi chú: đã liên hệ chủ sở hữu"
    assert [c.case_id for c in store.cases(state=["closed"])] == [cid]
    assert store.cases(since=T0 + timedelta(minutes=30))[0].case_id == obs[0].case_id
    assert store.cases(klass="unlicensed")
    with pytest.raises(UsageError, match="no case 'VC-999999'"):
        store.confirm("VC-999999")
    with pytest.raises(UsageError, match="unknown case state 'open'"):
        store.cases(state="open")


def test_history_is_append_only(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    store.record(sweep(checker, T0), station="hn-01", when=T0)
    con = sqlite3.connect(tmp_path / "s.db")
    for sql in ("UPDATE cases SET klass='licensed'", "DELETE FROM case_observations",
                "DELETE FROM case_events"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_evidence_checksums(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    store.record(sweep(checker, T0), station="hn-01", when=T0)
    cid = store.cases()[0].case_id
    f = tmp_path / "evidence" / cid / "spectrum.png"
    f.parent.mkdir(parents=True)
    f.write_bytes(b"\x89PNG fake image bytes")
    ev = store.add_evidence(cid, f, "spectrum_png", description="snapshot")
    assert ev.sha256 == sha256_of(f) and ev.path == f"evidence/{cid}/spectrum.png" and ev.size_bytes == f.stat().st_size
    con = sqlite3.connect(tmp_path / "s.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE case_evidence SET sha256='0'")
    con.close()
    assert store.verify_evidence(cid) == []
    f.write_bytes(b"tampered")
    assert [p for _, p in store.verify_evidence(cid)] == ["sha256 differs: the file was changed"]
    f.unlink()
    assert [p for _, p in store.verify_evidence(cid)] == ["missing"]
    with pytest.raises(ValueError, match="evidence kind 'video'"):
        store.add_evidence(cid, tmp_path / "s.db", "video")


def test_open_store_requires_the_file(tmp_path):
    with pytest.raises(UsageError, match="no case store at"):
        open_store(tmp_path / "missing.db")


def test_failed_record_leaves_the_store_unchanged(tmp_path, checker):
    store = CaseStore(tmp_path / "s.db")
    results = sweep(checker, T0)
    bad = replace(results[4], emission=replace(results[4].emission, power_dbfs="loud"))  # fails mid-transaction
    with pytest.raises(TypeError):
        store.record([*results[:4], bad], station="hn-01", when=T0)
    assert store.cases() == [] and store.observation_count() == 0
    store.record(results, station="hn-01", when=T0)
    assert len(store.cases()) == 7
