"""A case opened just before the station is SIGKILLed gets its evidence after the restart (a real daemon on
sim://city), and `violations show --verify` reports missing evidence as MISSING until then."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from station.compliance.cases import CaseStore
from tests.station_helpers import wait_until
from tests.test_daemon_faults import start

pytestmark = [pytest.mark.slow]

CONFIG = """
[station]
id = "hn-01"
latitude = 21.0285
longitude = 105.8542

[receiver]
uri = "sim://city"
seed = 1
gain = 30.0

[[bands]]
name = "uhf"
f_lo = "462.3M"
f_hi = "463.3M"
rbw = "1k"
dwell = "40ms"
revisit = "100ms"

[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"

[store]
data_dir = "{data_dir}"
spectrum_points = 64

[evidence]
enabled = true
iq_duration = "{iq}"

[export]
on_exit = false

[run]
health_interval = "200ms"
tui = "off"
"""


def _cases(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with CaseStore(db) as s:
            return [c.case_id for c in s.cases()]
    except Exception:  # noqa: BLE001 - the station may be creating the store right now
        return []


def test_case_interrupted_by_sigkill_gets_its_evidence_after_restart(tmp_path):
    data = tmp_path / "data"
    cfg = tmp_path / "station.toml"
    # a long IQ recording keeps the capture going for a few seconds: the kill lands inside it
    cfg.write_text(CONFIG.format(data_dir=data, iq="8s"))
    db = data / "specmon.db"
    log = tmp_path / "run1.log"
    proc = start("run", "--config", str(cfg), log=log)
    try:
        wait_until(lambda: "new_cases=1" in (log.read_text() if log.exists() else ""), 180,
                   "the rogue-uhf case opened", poll_s=0.02, proc=proc, log=log)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "evidence for VC-000001 captured" not in log.read_text()
    with CaseStore(db) as s:
        (case_id,) = [c.case_id for c in s.cases()]
        assert s.incomplete_evidence() == [case_id]
        missing = s.verify_case(case_id)
        assert any(p.startswith("MISSING IQ recording") for p in missing), missing
        assert any(p.startswith("MISSING evidence manifest") for p in missing), missing
    assert (data / "evidence" / ".pending" / f"{case_id}.pkl").is_file()

    # restart (a short IQ this time): the interrupted capture is completed after the first sweep
    cfg.write_text(CONFIG.format(data_dir=data, iq="1s"))
    log2 = tmp_path / "run2.log"
    proc2 = start("run", "--config", str(cfg), "--sweeps", "1", log=log2)
    assert proc2.wait(timeout=180) == 0, log2.read_text()[-3000:]
    text = log2.read_text()
    assert f"evidence recovery: 1 case(s) whose evidence capture was interrupted are queued for capture: {case_id}" \
        in text
    assert f"evidence for {case_id} captured" in text
    with CaseStore(db) as s:
        assert s.verify_case(case_id) == []
        assert s.incomplete_evidence() == []
        d = s.detail(case_id)
        kinds = [e.kind for e in d.evidence]
        assert kinds.count("manifest") == 1 and "iq_sigmf_data" in kinds and "spectrum_png" in kinds
        manifest = json.loads(s.evidence_path(next(e for e in d.evidence if e.kind == "manifest")).read_text())
    assert "captured again after the restart" in manifest["measurement"]["recovery"]
    assert manifest["iq"]["duration_s"] == pytest.approx(1.0)
    assert not (data / "evidence" / ".pending" / f"{case_id}.pkl").exists()
    from station.cli import main

    assert main(["violations", "show", case_id, "--db", str(db), "--verify"]) == 0


def test_recovery_without_a_pending_file_rebuilds_or_says_why(tmp_path):
    """A case with no queue entry on disk (killed before it was written, or a store from before recovery) is
    rebuilt from its latest observation; one no configured band covers gets a note, shown by --verify."""
    from dataclasses import replace
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from station.compliance.records import ComplianceClass, ComplianceResult
    from station.config import demo_config
    from station.pipeline.recovery import recover
    from tests.test_compliance import em

    t0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    cfg = demo_config(tmp_path / "data")
    store = CaseStore(cfg.store.db_path)
    results = [ComplianceResult(replace(em(f, 11e3), snr_db=20.0, power_dbfs=-50.0), ComplianceClass.UNLICENSED, (),
                                "unlicensed: test") for f in (147.25e6, 300.0e6)]
    store.record(results, station="hn-01", when=t0, settings={"band": "vhf"})
    pipe = SimpleNamespace(cases=store, config=cfg, _evidence_queue=[], _recovered=set())
    assert recover(pipe) == ["VC-000001"]
    ((band, result, case_id, spec),) = pipe._evidence_queue
    assert (band, case_id, spec) == ("vhf", "VC-000001", None)
    assert result.emission.center_hz == 147.25e6 and result.klass is ComplianceClass.UNLICENSED
    # the noise density under it, from power - SNR over the bandwidth
    assert result.emission.noise_dbfs_hz == pytest.approx(-50.0 - 20.0 - 10 * __import__("math").log10(11e3))
    problems = store.verify_case("VC-000002")
    assert any("no configured band covers 300.000000 MHz any more" in p and p.startswith("MISSING IQ recording")
               for p in problems), problems
    assert store.incomplete_evidence() == ["VC-000001"]  # VC-000002 is noted once, not retried at every start
    store.close()


def test_a_closed_case_is_not_recaptured(tmp_path):
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from station.config import demo_config
    from station.pipeline.recovery import recover
    from tests.test_cases import sweep

    cfg = demo_config(tmp_path / "data")
    store = CaseStore(cfg.store.db_path)
    from station.compliance.checker import ComplianceChecker
    from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register

    chk = ComplianceChecker(load_register(builtin_path("demo_register.csv")).assignments, load_exempt_bands_strict(),
                            (21.0285, 105.8542), 30_000.0, 1.0)
    t0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
    store.record(sweep(chk, t0), station="hn-01", when=t0)
    ids = [c.case_id for c in store.cases()]
    store.close_case(ids[0], note="handled")
    pipe = SimpleNamespace(cases=store, config=cfg, _evidence_queue=[], _recovered=set())
    queued = recover(pipe)
    assert ids[0] not in queued and set(queued) == set(ids[1:])
    assert any("the case is closed" in p for p in store.verify_case(ids[0]))
    store.close()
