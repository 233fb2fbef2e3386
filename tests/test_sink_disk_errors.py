"""A disk that refuses the spool's writes (full: ENOSPC; a file-size limit: EFBIG) while the sender runs is an
error state on one log line and in health (``store_state``), probed again with a backoff; not an "unexpected
error in the sender" traceback. A batch delivered whose removal the disk refused is held by id (removed later,
never sent again) and the sender goes on with the rest of the spool."""

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
            while r.unacked_points < 50 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.2)  # a few more loops: nothing is sent twice while the disk refuses
            r.stop(flush_timeout_s=0)
        assert "cannot remove 20 sent points from the spool: disk full" in r.spool_disk_error
        # the whole spool reached the server once, although no batch could be removed; nothing lost: the
        # points stay spooled (a restart sends them again, InfluxDB keeps one copy)
        assert sorted(sink.stored) == list(range(50))
        assert sp.depth() == 50 and r.unacked_points == 50 and r.undelivered() == 0
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
    while r.unacked_points < depth and time.monotonic() < deadline:
        time.sleep(0.01)
    r.stop(flush_timeout_s=0)
    print(json.dumps({"unacked": r.unacked_points, "last_error": r.spool_disk_error,
                      "depth_before": depth, "depth_after": sp.depth()}))
""")


def test_a_real_file_size_limit_under_the_spool_is_a_clear_error_state(tmp_path):
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "s.sqlite")], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["unacked"] == 3000  # all delivered, none removable
    assert "cannot remove 500 sent points from the spool: file-size limit (65536 bytes) reached" in out["last_error"]
    assert out["depth_after"] == out["depth_before"] == 3000
    assert "Traceback" not in p.stderr and "unexpected" not in p.stderr
    warnings = [line for line in p.stderr.splitlines() if line.startswith("WARNING station.outputs.sinks")]
    assert warnings and "file-size limit" in warnings[0], p.stderr[-2000:]


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class TogglingAckSpool(Spool):
    """A spool whose disk refuses the deletes of ``ack`` while ``full``."""

    full = False

    def _ack(self, batch):
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        return super()._ack(batch)


def test_held_batches_are_removed_promptly_when_the_disk_recovers_and_never_sent_twice(tmp_path):
    """Was: after a refused removal the sender left the spool alone for 30 s, and the batch it had delivered
    was sent again once the disk had room (~3,200 points still spooled at the end of the acceptance run)."""
    from station.outputs.sinks import _runner

    clock = FakeClock()
    with TogglingAckSpool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(100)])
        sink = ScriptedSink()
        r = SinkRunner(sink, sp, batch_points=20, clock=clock)
        sp.full = True
        assert r.send_pending() == 100  # the whole backlog reaches the server although nothing can be removed
        assert sp.depth() == 100 and r.unacked_points == 100 and r.undelivered() == 0
        assert r.spool_retry_at == pytest.approx(clock.t + _runner.SPOOL_PROBE_S)
        sp.put([_emission(i) for i in range(100, 110)])  # new points (the disk took them) are sent after them
        clock.t += 0.5
        assert r.send_pending() == 10
        delays = []
        for _ in range(7):  # the disk stays full: probes back off 1, 2, 4, 8, 16, 16 s
            clock.t = r.spool_retry_at
            before = r.spool_retry_at
            r.send_pending()
            delays.append(r.spool_retry_at - before)
        assert delays == pytest.approx([2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0])
        sp.full = False  # space returns: the next probe removes the held points
        clock.t = r.spool_retry_at
        assert r.send_pending() == 0
        assert sp.depth() == 0 and r.unacked_points == 0 and r.spool_disk_error is None
        assert sorted(sink.stored) == list(range(110))  # each point once


def test_the_output_probes_at_once_when_statvfs_shows_room_and_reports_held_points(tmp_path, monkeypatch):
    from station.outputs.sinks._runner import Output

    clock = FakeClock()
    sp = TogglingAckSpool(tmp_path / "s.sqlite")
    sink = ScriptedSink()
    r = SinkRunner(sink, sp, batch_points=20, clock=clock)
    out = Output(sink, sp, r, reserve_bytes=2_000_000)
    free = {"b": 10_000_000}
    monkeypatch.setattr(out, "free_bytes", lambda: free["b"])
    out.write([_emission(i) for i in range(30)])
    sp.full = True
    r.send_pending()
    assert "spool refuses removals" in out.state() and "30 delivered points held" in out.state()
    assert out.flush(0.5)  # nothing undelivered: no wait for points the server already has
    sp.full = False
    free["b"] = 1_000_000  # below the reserve: no early probe, the backoff holds
    r.send_pending()
    assert r.unacked_points == 30
    free["b"] = 10_000_000  # room: probed at once, before the backoff is over
    r.send_pending()
    assert r.unacked_points == 0 and sp.depth() == 0 and out.state() == "ok"
    assert sorted(sink.stored) == list(range(30))
    out.close(flush_timeout_s=0)
