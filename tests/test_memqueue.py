"""The in-memory fallback of an output (issue 14): when the spool's disk refuses writes or is below its
reserve, points go to a bounded priority queue that the sender sends straight to the sink; the lowest priority
is dropped first and every drop is counted; the backlog goes into the spool once the disk takes writes again.
Each point is in exactly one place (memory or spool): nothing is lost or duplicated while the sink answers."""

from __future__ import annotations

import sqlite3

from station.outputs.lineprotocol import parse_line
from station.outputs.memqueue import MemoryQueue
from station.outputs.sinks import SinkRunner
from station.outputs.sinks._runner import Output
from station.outputs.spool import Spool
from station.outputs.vocabulary import Point

from .test_spool import ScriptedSink, _emission, _spectrum


def _violation(i: int) -> Point:
    return Point("violation", {"station": "s", "band": "b", "class": "unlicensed"},
                 {"case_id": f"C{i}", "center_hz": 1e8 + i}, 10_000 + i)


def _item(m: str, i: int):
    return (m, i, f"{m} x={i}i {i}".encode())


def test_full_queue_drops_the_lowest_priority_first_and_counts_every_drop():
    q = MemoryQueue(max_points=4)
    q.push([_item("band_spectrum", 1), _item("station_health", 2), _item("emission", 3), _item("violation", 4)])
    assert q.push([_item("violation", 5)]) == 1  # the spectrum makes room
    assert q.push([_item("emission", 6)]) == 1  # then the health point
    assert q.push([_item("band_spectrum", 7)]) == 1  # a newcomer of lower priority than everything: itself
    assert q.dropped == {"band_spectrum": 2, "station_health": 1}
    assert [t for _m, t, _l in q.take(10)] == [4, 5, 3, 6]  # violations first, then emissions, oldest first
    assert len(q) == 0


def test_put_back_keeps_the_points_and_the_priority_order():
    q = MemoryQueue(max_points=10)
    q.push([_item("emission", 1), _item("violation", 2)])
    taken = q.take(1)
    q.put_back(taken)
    assert [t for _m, t, _l in q.take(10)] == [2, 1]


class RefusingSpool(Spool):
    """A spool whose disk refuses every insert while ``full`` (as SQLite reports ENOSPC)."""

    full = False

    def put_encoded(self, items, **kw):
        if self.full:
            from station.errors import SinkError

            raise SinkError("cannot store points in the spool: disk full") from sqlite3.OperationalError(
                "database or disk is full")
        return super().put_encoded(items, **kw)


def _output(tmp_path, sink, *, memory_points=1000, reserve_bytes=0):
    sp = RefusingSpool(tmp_path / "s.sqlite")
    r = SinkRunner(sink, sp, batch_points=50)
    return Output(sink, sp, r, memory_points=memory_points, reserve_bytes=reserve_bytes), sp, r


def test_a_refusing_disk_sends_points_directly_and_spools_the_backlog_when_space_returns(tmp_path):
    sink = ScriptedSink(down=True)
    out, sp, r = _output(tmp_path, sink)
    out.write([_emission(i) for i in range(10)])  # spooled
    sp.full = True
    out.write([_emission(i) for i in range(10, 30)] + [_violation(1)])
    h = out.health()
    assert h["store_state"].startswith("degraded: spool refuses writes (disk full")
    assert h["memory_depth"] == 21 and h["spool_depth"] == 10 and h["points_lost"] == 0
    sp.full = False  # space returns: the next write moves the backlog into the spool
    out.write([_emission(30)])
    assert out.health()["store_state"] == "ok" and len(out.memory) == 0 and sp.depth() == 32
    sink.down = False
    r.send_pending()
    assert sorted(sink.stored) == sorted([*range(31), 10_001])  # each point once
    out.close(flush_timeout_s=0)


def test_while_the_disk_refuses_the_sender_delivers_from_memory(tmp_path):
    sink = ScriptedSink()
    out, sp, r = _output(tmp_path, sink)
    sp.full = True
    out.write([_emission(i) for i in range(20)] + [_violation(2)])
    assert sp.depth() == 0 and len(out.memory) == 21
    r.send_pending()
    assert sorted(sink.stored) == sorted([*range(20), 10_002]) and len(out.memory) == 0
    assert sink.stored[0] == 10_002  # violations go first
    sink.down = True  # the server goes away too: the batch goes back to memory, nothing lost
    out.write([_emission(i) for i in range(100, 105)])
    try:
        r.send_pending()
    except Exception:
        pass
    assert len(out.memory) == 5 and out.health()["points_lost"] == 0
    out.close(flush_timeout_s=0)


def test_a_full_memory_queue_counts_lost_points_by_measurement(tmp_path):
    sink = ScriptedSink(down=True)
    out, sp, r = _output(tmp_path, sink, memory_points=100)
    sp.full = True
    out.write([_spectrum(i) for i in range(80)])
    out.write([_emission(i) for i in range(50)] + [_violation(i) for i in range(5)])
    h = out.health()
    assert h["memory_depth"] == 100 and h["points_lost"] == 35 and h["emissions_lost"] == 0
    assert out.memory.by_measurement() == {"band_spectrum": 45, "emission": 50, "violation": 5}
    out.write([_emission(i) for i in range(100, 150)])
    h = out.health()
    assert h["emissions_lost"] == 5 and h["points_lost"] == 85  # all spectra went first
    out.close(flush_timeout_s=0)


def test_below_the_reserve_spectra_and_health_stay_out_of_the_spool(tmp_path, monkeypatch):
    sink = ScriptedSink(down=True)
    out, sp, r = _output(tmp_path, sink, reserve_bytes=100_000_000)
    free = {"b": 50_000_000}
    monkeypatch.setattr(out, "free_bytes", lambda: free["b"])
    out.write([_spectrum(i) for i in range(10)] + [_emission(i) for i in range(10)])
    assert sp.status().by_measurement == {"emission": 10} and out.memory.by_measurement() == {"band_spectrum": 10}
    assert "below the reserve" in out.health()["store_state"]
    free["b"] = 10_000_000  # below a quarter of the reserve: nothing is spooled
    out.write([_emission(i) for i in range(10, 15)])
    assert sp.depth() == 10 and len(out.memory) == 15
    free["b"] = 500_000_000  # room again: the backlog goes into the spool
    out.write([_emission(99)])
    assert len(out.memory) == 0 and sp.depth() == 26 and out.health()["store_state"] == "ok"
    out.close(flush_timeout_s=0)


def test_parse_of_memory_lines_is_the_spool_encoding(tmp_path):
    out, sp, r = _output(tmp_path, ScriptedSink(down=True))
    sp.full = True
    out.write([_violation(7)])
    (m, t, line), = out.memory.take(1)
    assert m == "violation" and parse_line(line).time_ns == t == 10_007
    out.close(flush_timeout_s=0)
