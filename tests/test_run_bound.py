"""Issue 14: after a SIGKILL and a restart, ``--sweeps N`` finishes the original run's N sweeps per band (the
bound belongs to the run, as ``specmon run --help`` says), while a run that ended in order starts afresh."""

from __future__ import annotations

import json
import re
import signal
import sqlite3

import pytest

from tests.station_helpers import wait_until
from tests.test_daemon_faults import start, write_config

pytestmark = [pytest.mark.slow]


def progress(db) -> dict | None:
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT value FROM station_state WHERE key='run_progress'").fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def swept(log) -> int:
    m = re.search(r"stopped \((\w+)\) after (\d+) band sweeps", log.read_text())
    assert m, log.read_text()[-2000:]
    return int(m.group(2))


def test_sigkill_then_restart_finishes_the_original_sweeps_bound(tmp_path):
    cfg = write_config(tmp_path, f_lo="451M", f_hi="453M")
    db = tmp_path / "data" / "specmon.db"
    log1 = tmp_path / "run1.log"
    proc = start("run", "--config", str(cfg), "--sweeps", "8", log=log1)
    try:
        wait_until(lambda: (progress(db) or {}).get("completed", {}).get("lmr", 0) >= 3, 120, "three sweeps",
                   proc=proc, log=log1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = progress(db)["completed"]["lmr"]
    assert 3 <= done < 8
    log2 = tmp_path / "run2.log"
    assert start("run", "--config", str(cfg), "--sweeps", "8", log=log2).wait(timeout=120) == 0
    assert swept(log2) == 8 - done  # the original 8, not 8 more
    assert "resuming an interrupted run" in log2.read_text()
    assert progress(db) is None  # finished in order: nothing left to resume
    log3 = tmp_path / "run3.log"
    assert start("run", "--config", str(cfg), "--sweeps", "2", log=log3).wait(timeout=120) == 0
    assert swept(log3) == 2  # a new run gets its own bound
