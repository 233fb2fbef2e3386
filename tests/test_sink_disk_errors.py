"""A disk that refuses the spool's writes (full: ENOSPC; a file-size limit: EFBIG) while the sender runs is an
error state on one log line and in health (``last_error`` -> ``sink_state``), retried with the backoff; not an
"unexpected error in the sender" traceback."""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from station.errors import SinkError
from station.outputs.sinks import SinkRunner
from station.outputs.spool import Spool, write_error_reason

from .test_spool import ScriptedSink, _emission

ROOT = Path(__file__).resolve().parent.parent


def test_write_error_reason_names_the_cause(tmp_path):
    p = tmp_path / "s.sqlite"
    assert write_error_reason(OSError(errno.ENOSPC, "No space left on device"), p).startswith("disk full (")
    assert "file-size limit reached" in write_error_reason(OSError(errno.EFBIG, "File too large"), p)
    assert write_error_reason(sqlite3.OperationalError("database or disk is full"), p).startswith("disk full")
    io = sqlite3.OperationalError("disk I/O error")
    io.sqlite_errorname = "SQLITE_IOERR_WRITE"  # set by the sqlite3 module on real errors
    assert write_error_reason(io, p) == "disk I/O error"  # no limit, space left: the error as it is
    assert write_error_reason(sqlite3.OperationalError("database is locked"), p) == "database is locked"


class AckRefusingSpool(Spool):
    """A spool whose disk refuses the deletes of ``ack`` (as SQLite reports ENOSPC)."""

    def _ack(self, batch):
        raise sqlite3.OperationalError("database or disk is full")


def test_sender_thread_reports_a_refusing_spool_disk_as_a_one_line_state(tmp_path, caplog):
    with AckRefusingSpool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(50)])
        sink = ScriptedSink()
        r = SinkRunner(sink, sp, batch_points=20, backoff_initial_s=5.0, flush_interval_s=0.05)
        with caplog.at_level(logging.DEBUG, logger="station.outputs.sinks"):
            r.start()
            deadline = time.monotonic() + 10
            while r.stats.consecutive_failures == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            r.stop(flush_timeout_s=0)
        assert r.stats.consecutive_failures >= 1
        assert "cannot remove 20 sent points from the spool: disk full" in r.stats.last_error
        assert sp.depth() == 50  # nothing lost: the batch is sent again once the disk has room
        lines = [rec for rec in caplog.records if rec.name == "station.outputs.sinks"]
        assert lines and all(rec.exc_info is None for rec in lines)
        assert not any("unexpected" in rec.getMessage() for rec in lines)
        assert any(rec.levelno == logging.WARNING and "disk full" in rec.getMessage() for rec in lines)


def test_spool_errors_are_sink_errors(tmp_path):
    class Broken(Spool):
        def _dead_letter(self, batch, error, status):
            raise sqlite3.OperationalError("database or disk is full")

    with Broken(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(3)])
        batch = sp.peek(3)
        with pytest.raises(SinkError, match=r"s.sqlite: cannot move 3 refused points to the dead letters: disk full"):
            sp.dead_letter(batch, "HTTP 400", 400)
        assert sp.depth() == 3


SCRIPT = textwrap.dedent("""
    import json, logging, resource, signal, sys, time
    from pathlib import Path
    from station.outputs.sinks import SinkRunner
    from station.outputs.spool import Spool
    from tests.test_spool import ScriptedSink, _emission

    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    path = Path(sys.argv[1])
    sp = Spool(path)
    sp.put([_emission(i) for i in range(3000)])
    depth = sp.depth()
    # from here on no file of this process may grow past 64 KiB: SQLite's writes fail with EFBIG
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    r = SinkRunner(ScriptedSink(), sp, batch_points=500, backoff_initial_s=5.0)
    r.start()
    deadline = time.monotonic() + 10
    while r.stats.consecutive_failures == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    r.stop(flush_timeout_s=0)
    print(json.dumps({"failures": r.stats.consecutive_failures, "last_error": r.stats.last_error,
                      "depth_before": depth, "depth_after": sp.depth()}))
""")


def test_a_real_file_size_limit_under_the_spool_is_a_clear_error_state(tmp_path):
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.sqlite")], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["failures"] >= 1
    assert "cannot remove 500 sent points from the spool: file-size limit (65536 bytes) reached" in out["last_error"]
    assert out["depth_after"] == out["depth_before"] == 3000
    assert "Traceback" not in p.stderr and "unexpected" not in p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("WARNING station.outputs.sinks")]
    assert warnings and "file-size limit" in warnings[0], p.stderr[-2000:]
