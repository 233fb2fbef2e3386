"""station.childproc: a function run in a short-lived child interpreter (results and exceptions come back,
a dead or hung child is ChildFailed); the daemon's evidence snapshot and export run there, so matplotlib and
fpdf2 never load into the station process (issue 8: peak RSS)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from station.childproc import ChildFailed, call_in_child

ROOT = Path(__file__).resolve().parent.parent


def test_result_and_exception_come_back():
    assert call_in_child(os.path.join, "a", "b") == "a/b"
    with pytest.raises(ValueError, match="invalid literal"):
        call_in_child(int, "not a number")


def test_the_child_leaves_stop_signals_to_the_station():
    assert call_in_child(signal.getsignal, signal.SIGINT) == signal.SIG_IGN
    assert call_in_child(signal.getsignal, signal.SIGTERM) == signal.SIG_IGN


def test_a_dead_or_hung_child_is_child_failed():
    with pytest.raises(ChildFailed, match="exited with status 3 and no result"):
        call_in_child(os._exit, 3)
    t0 = time.monotonic()
    with pytest.raises(ChildFailed, match="did not finish within 1 s"):
        call_in_child(time.sleep, 30, timeout_s=1.0)
    assert time.monotonic() - t0 < 10


def test_isolated_evidence_and_export_keep_matplotlib_and_fpdf_out_of_the_caller(tmp_path):
    """What the daemon does (capture_evidence(isolate=True), export_db in a child), in a fresh interpreter so
    that no other test has imported matplotlib before."""
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from station.childproc import call_in_child
        from station.compliance.exports import export_db
        from tests.test_exports import T0, NOW, _spectrum, HANOI
        from tests.test_compliance import em
        from station.compliance.cases import CaseStore
        from station.compliance.evidence import capture_evidence
        from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register
        from station.compliance.checker import ComplianceChecker

        tmp = Path({str(tmp_path)!r})
        reg = load_register(builtin_path("demo_register.csv"))
        checker = ComplianceChecker(reg.assignments, load_exempt_bands_strict(), HANOI, 30_000.0, 1.0)
        store = CaseStore(tmp / "specmon.db")
        (obs,) = store.record(checker.check([em(453.0435e6, 11e3)], T0), station="hn-01", when=T0)
        cap = capture_evidence(store, obs.case_id, obs.result, out_dir=tmp / "evidence", station_id="hn-01",
                               position=HANOI, spectrum=_spectrum(453.0435e6, 11e3),
                               nearby=checker.assignments_near(452.9e6, 453.2e6), when=T0, isolate=True)
        assert [f.kind for f in cap.files] == ["spectrum_png", "spectrum_data", "manifest"], cap
        assert (cap.directory / "spectrum.png").read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        assert store.verify_evidence(obs.case_id) == []
        paths = call_in_child(export_db, store.path, ("csv", "pdf"), tmp / "out", lang="vi", now=NOW)
        assert sorted(p.suffix for p in paths) == [".csv", ".pdf"] and all(p.stat().st_size for p in paths)
        loaded = [m for m in ("matplotlib", "fpdf", "PIL") if m in sys.modules]
        assert not loaded, loaded
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip() == "ok"
