"""The durable spool: order, acknowledgement, dead letters, the quota policy, one sender, SIGKILL safety;
and the sink framework's split / backoff logic with a scripted sink."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from station.errors import SinkError
from station.outputs.lineprotocol import parse_line
from station.outputs.sinks import Sink, SinkRejected, SinkRunner, SinkTransient
from station.outputs.spool import NEVER_DROPPED, THIN_ORDER, Spool
from station.outputs.vocabulary import MEASUREMENTS, Point
from tests._influx_helpers import sweep_points

ROOT = Path(__file__).resolve().parent.parent


def _emission(i: int) -> Point:
    return Point("emission", {"station": "s", "band": "b", "class": "unknown"}, {"center_hz": 1e8 + i, "nfft": 512}, i)


def _spectrum(i: int) -> Point:
    return Point("band_spectrum", {"station": "s", "band": "b"}, {"freq_hz": float(i), "power_dbfs": -70.5}, i)


def test_put_peek_ack_in_order_and_durable_across_reopen(tmp_path):
    path = tmp_path / "s.sqlite"
    with Spool(path) as sp:
        sp.put([_emission(i) for i in range(10)])
        batch = sp.peek(4)
        assert [parse_line(x).time_ns for x in batch.lines] == [0, 1, 2, 3]
        assert sp.ack(batch) == 4
        assert sp.depth() == 6
    with Spool(path) as sp:  # reopened: nothing lost, nothing resurrected
        assert sp.depth() == 6
        assert [parse_line(x).time_ns for x in sp.peek(100).lines] == [4, 5, 6, 7, 8, 9]
        c = sp.counters()
        assert c["enqueued"] == 10 and c["sent"] == 4
        st = sp.status()
        assert st.depth == 6 and st.by_measurement == {"emission": 6} and st.oldest_age_s >= 0


def test_peek_respects_max_bytes_but_always_returns_one(tmp_path):
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(10)])
        size = len(sp.peek(1).lines[0]) + 1
        assert len(sp.peek(10, max_bytes=3 * size)) == 3
        assert len(sp.peek(10, max_bytes=1)) == 1


def test_put_coerces_types_to_the_vocabulary_and_rejects_unknown_names_atomically(tmp_path):
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([Point("emission", {"station": "s"}, {"power_dbfs": -50, "nfft": 512.0, "artifact": 0}, 1)])
        p = parse_line(sp.peek(1).lines[0])
        assert p.fields == {"power_dbfs": -50.0, "nfft": 512, "artifact": False}
        assert type(p.fields["power_dbfs"]) is float and type(p.fields["nfft"]) is int
        with pytest.raises(ValueError, match="field 'bogus' is not in the vocabulary"):
            sp.put([_emission(5), Point("emission", {}, {"bogus": 1.0}, 2)])
        with pytest.raises(ValueError, match="field 'nfft' must be int"):
            sp.put([Point("emission", {}, {"nfft": 512.5}, 2)])
        assert sp.depth() == 1  # nothing of the refused calls was stored


def test_nan_fields_are_counted_not_stored(tmp_path):
    with Spool(tmp_path / "s.sqlite") as sp:
        r = sp.put([Point("emission", {}, {"snr_db": float("nan"), "power_dbfs": -1.0}, 1),
                    Point("emission", {}, {"snr_db": float("inf")}, 2)])
        assert (r.stored, r.dropped_fields, r.dropped_points) == (1, 2, 1)
        assert sp.counters()["dropped_fields"] == 2


def test_dead_letters_keep_line_and_error_and_can_be_requeued(tmp_path):
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(3)])
        b = sp.peek(3)
        bad, rest = b.split()
        assert sp.dead_letter(bad, "HTTP 400: field type conflict", 400) == 1
        assert sp.depth() == 2
        (d,) = sp.dead_letters()
        assert d.status == 400 and "conflict" in d.error and parse_line(d.line).time_ns == 0
        assert sp.requeue_dead_letters() == 1
        assert sp.depth() == 3 and sp.dead_letters() == []


def test_quota_thins_spectra_first_and_never_drops_detections(tmp_path):
    with Spool(tmp_path / "s.sqlite", quota_bytes=400_000) as sp:
        n_em = 0
        for k in range(40):
            pts, e, v = sweep_points(k, n_points=256)
            n_em += e
            sp.put(pts)
        st = sp.status()
        assert st.used_bytes <= 400_000
        assert st.by_measurement["emission"] == n_em == 200
        assert st.by_measurement["violation"] == 40 and st.by_measurement["occupancy"] == 40
        thinned = {k: v for k, v in st.counters.items() if k.startswith("thinned:")}
        assert thinned.get("thinned:band_spectrum", 0) > 0
        assert set(thinned) <= {f"thinned:{m}" for m in THIN_ORDER}
        # the newest spectra are kept, the oldest dropped
        times = sorted(parse_line(x).time_ns for x, m in zip(sp.peek(10**6).lines, sp.peek(10**6).measurements)
                       if m == "band_spectrum")
        newest = sweep_points(39, n_points=256)[0][0].time_ns
        assert times[-1] == newest + 255 * 1000
    # only detections left and over quota: kept, flagged
    with Spool(tmp_path / "d.sqlite", quota_bytes=50_000) as sp:
        for k in range(30):
            sp.put([p for p in sweep_points(k)[0] if p.measurement in NEVER_DROPPED])
        st = sp.status()
        assert st.over_quota and st.by_measurement["emission"] == 150


def test_thin_order_covers_every_measurement_once():
    assert set(THIN_ORDER) | set(NEVER_DROPPED) == set(MEASUREMENTS)
    assert {"emission", "violation"} <= set(NEVER_DROPPED)


def test_only_one_sender_per_spool(tmp_path):
    a = Spool(tmp_path / "s.sqlite")
    b = Spool(tmp_path / "s.sqlite")
    a.acquire_sender()
    with pytest.raises(SinkError, match=rf"being sent by another process \(pid {os.getpid()}\)"):
        b.acquire_sender()
    a.close()
    b.acquire_sender()  # released on close
    b.close()


def test_corrupt_spool_file_is_a_one_line_error_naming_it(tmp_path):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SinkError, match=r"bad.sqlite: cannot open the spool"):
        Spool(path)


PUTTER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from station.outputs.spool import Spool
    from tests._influx_helpers import sweep_points
    sp = Spool({path!r})
    k = 0
    while True:
        pts, e, v = sweep_points(k)
        sp.put(pts)
        print(k, len(pts), flush=True)
        k += 1
    """
)


def test_sigkill_during_puts_loses_no_committed_point_and_leaves_no_partial_put(tmp_path):
    path = tmp_path / "s.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", PUTTER.format(root=str(ROOT), path=str(path))],
                            stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line.split())
        if len(lines) == 30:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(10)
    lines += [x.split() for x in proc.stdout.read().splitlines()]
    per_put = int(lines[0][1])
    committed = len(lines)
    with Spool(path) as sp:
        depth = sp.depth()
        assert depth % per_put == 0  # each put is all or nothing
        assert depth // per_put in (committed, committed + 1)
        assert depth == sp.counters()["enqueued"]
        assert all(parse_line(x) for x in sp.peek(10**6).lines)


# ---- the framework with a scripted sink -----------------------------------------------------------------------


class ScriptedSink(Sink):
    """Refuses (400) any batch holding a point whose time is in ``bad``; fails transiently while ``down``."""

    def __init__(self, bad=(), down=False):
        from station.outputs.sinks import parse_uri

        super().__init__(parse_uri("sqlite:/dev/null"))
        self.bad, self.down, self.requests, self.stored = set(bad), down, 0, []

    def connect(self):
        if self.down:
            raise SinkTransient("connection refused")

    def write(self, lines):
        self.requests += 1
        if self.down:
            raise SinkTransient("connection reset")
        times = [parse_line(x).time_ns for x in lines]
        if self.bad & set(times):
            raise SinkRejected("HTTP 400: partial write: field type conflict", status=400)
        self.stored += times


def test_runner_isolates_bad_points_and_delivers_the_rest(tmp_path):
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(100)])
        sink = ScriptedSink(bad={17, 64})
        r = SinkRunner(sink, sp, batch_points=100)
        assert r.send_pending() == 98
        assert sorted(sink.stored) == [i for i in range(100) if i not in (17, 64)]
        assert sorted(parse_line(d.line).time_ns for d in sp.dead_letters()) == [17, 64]
        assert r.stats.dead_lettered == 2 and sp.depth() == 0
        assert sink.requests < 30  # halving, not one request per point


def test_runner_backoff_grows_with_jitter_caps_and_resets(tmp_path):
    clock = [0.0]
    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([_emission(i) for i in range(5)])
        sink = ScriptedSink(down=True)
        r = SinkRunner(sink, sp, clock=lambda: clock[0], rng=random.Random(3), backoff_initial_s=1.0,
                       backoff_max_s=20.0, jitter=0.5)
        delays = []
        for _ in range(10):
            with pytest.raises(SinkTransient):
                r.send_pending()
            delays.append(r.next_attempt - clock[0])
            clock[0] = r.next_attempt
        bases = [min(20.0, 2.0**k) for k in range(10)]
        assert all(b * 0.5 <= d <= b for d, b in zip(delays, bases))
        assert len(set(delays)) == len(delays)  # jittered
        assert sp.depth() == 5
        sink.down = False
        assert r.send_pending() == 5
        assert r.stats.consecutive_failures == 0 and r.backoff_s(1) <= 1.0
        assert r.backoff_s(3, retry_after_s=15.0) == 15.0


def test_output_thread_delivers_and_reports_health(tmp_path):
    from station.outputs.sinks import Output

    sp = Spool(tmp_path / "s.sqlite")
    sink = ScriptedSink()
    out = Output(sink, sp, SinkRunner(sink, sp, flush_interval_s=0.01))
    out.runner.start()
    try:
        out.write([_spectrum(i) for i in range(50)])
        assert out.flush(timeout_s=10)
        h = out.health()
        assert h["spool_depth"] == 0 and h["spool_age_s"] is None
        assert set(h) <= set(MEASUREMENTS["station_health"].fields)
        assert sorted(sink.stored) == list(range(50))
    finally:
        assert out.close(flush_timeout_s=1)


def test_concurrent_writers_and_a_sender_keep_the_depth_exact(tmp_path):
    import threading

    path = tmp_path / "s.sqlite"
    Spool(path).close()
    errors = []

    def writer(offset):
        try:
            with Spool(path, synchronous="NORMAL") as sp:
                for k in range(50):
                    sp.put([_emission(offset + 20 * k + i) for i in range(20)])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    sender = Spool(path, synchronous="NORMAL")
    threads = [threading.Thread(target=writer, args=(o,)) for o in (0, 10_000)]
    for t in threads:
        t.start()
    sent = 0
    while any(t.is_alive() for t in threads) or sender.depth():
        sent += sender.ack(sender.peek(37))
    for t in threads:
        t.join()
    assert not errors
    c = sender.counters()
    assert sent == c["sent"] == c["enqueued"] == 2000
    assert sender.depth() == 0 == sender.status().depth
    sender.close()


def test_numpy_times_and_values_are_stored_as_plain_numbers(tmp_path):
    import numpy as np

    with Spool(tmp_path / "s.sqlite") as sp:
        sp.put([Point("emission", {}, {"snr_db": np.float32(2.5), "nfft": np.int64(512)}, np.int64(10**18 + 7))])
        p = parse_line(sp.peek(1).lines[0])
        assert p.time_ns == 10**18 + 7 and p.fields == {"snr_db": 2.5, "nfft": 512}
        with pytest.raises(ValueError, match="time_ns must be a whole number of ns"):
            sp.put([Point("emission", {}, {"snr_db": 1.0}, 1.5)])


class FlakySink(ScriptedSink):
    """Fails at random: before storing (link down) or after storing (the acknowledgement is lost)."""

    def __init__(self, rng, bad):
        super().__init__(bad=bad)
        self.rng = rng
        self.flaky = True

    def write(self, lines):
        if self.flaky and self.rng.random() < 0.3:
            raise SinkTransient("connection reset")
        super().write(lines)
        if self.flaky and self.rng.random() < 0.2:
            raise SinkTransient("timeout waiting for the answer")


@pytest.mark.parametrize("seed", range(8))
def test_random_failures_lose_nothing_every_point_delivered_or_dead_lettered(tmp_path, seed):
    rng = random.Random(seed)
    bad = set(rng.sample(range(600), 5))
    clock = [0.0]
    with Spool(tmp_path / "s.sqlite") as sp:
        sink = FlakySink(rng, bad)
        r = SinkRunner(sink, sp, batch_points=rng.choice([7, 50, 128]), clock=lambda: clock[0], rng=rng)
        t = 0
        while t < 600:
            n = rng.randint(1, 40)
            sp.put([_emission(i) for i in range(t, min(600, t + n))])
            t += n
            clock[0] += 5.0
            if clock[0] >= r.next_attempt:
                try:
                    r.send_pending(max_batches=rng.randint(1, 4))
                except SinkTransient:
                    pass
        sink.flaky = False
        clock[0] += 10_000
        r.send_pending()
        assert sp.depth() == 0
        dead = {parse_line(d.line).time_ns for d in sp.dead_letters()}
        assert dead == bad
        assert set(sink.stored) == set(range(600)) - bad  # duplicates only from lost acks: same times


def test_disk_full_is_a_sink_error_naming_the_file_and_keeps_what_was_stored(tmp_path):
    with Spool(tmp_path / "full.sqlite") as sp:
        sp.put([_emission(i) for i in range(10)])
        pages = sp._db.execute("PRAGMA page_count").fetchone()[0]
        sp._db.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk fills up
        with pytest.raises(SinkError, match=r"full.sqlite: cannot store 5000 points in the spool: .*full"):
            sp.put([_spectrum(i) for i in range(5000)])
        assert sp.depth() == 10
        assert sp.status().by_measurement == {"emission": 10}
