"""InfluxDB 1.x sink against Debian's real influxd (fixture ``influxdb``): exact values and tags, outages,
resends, 4xx dead letters, a writer killed with SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from station.outputs.sinks import SinkRunner, SinkTransient, open_output, open_sink
from station.outputs.spool import Spool
from station.outputs.vocabulary import Point
from tests._influx_helpers import T0, sweep_points

pytestmark = pytest.mark.influx


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _runner(influxdb, db, tmp_path, **kw):
    sink = open_sink(f"influx://127.0.0.1:{influxdb.port}/{db}")
    spool = Spool(tmp_path / "spool.sqlite")
    kw.setdefault("rng", random.Random(1))
    return SinkRunner(sink, spool, **kw), spool


def test_write_then_query_returns_exact_values_and_tags(influxdb, influx_db, tmp_path):
    runner, spool = _runner(influxdb, influx_db, tmp_path)
    points, _, _ = sweep_points(0)
    tricky = Point(
        "violation",
        {"station": "hn 01,x=y", "band": "vhf", "class": "unlicensed"},
        {"case_id": "case-\"7\"", "reason": 'no licence within 12.5 kHz\\ of "145.5"', "snr_db": 12.25,
         "indicative": True, "nfft": 4096, "licence": "", "center_hz": 147250000.0},
        1_795_000_000_123_456_789,
    )
    spool.put(points + [tricky])
    assert runner.send_pending() == len(points) + 1
    assert spool.depth() == 0

    rows = influxdb.query('SELECT * FROM "emission" ORDER BY time', db=influx_db)
    emissions = [p for p in points if p.measurement == "emission"]
    assert len(rows) == len(emissions)
    for row, p in zip(rows, emissions):
        assert row["time"] == p.time_ns
        assert {k: row[k] for k in ("station", "band", "class")} == p.tags
        for k, v in p.fields.items():
            assert row[k] == v, k
    row = influxdb.query('SELECT * FROM "violation" WHERE "band"=\'vhf\' AND "station"=\'hn 01,x=y\'', db=influx_db)
    assert len(row) == 1
    row = row[0]
    assert row["time"] == tricky.time_ns
    assert row["case_id"] == 'case-"7"'
    assert row["reason"] == tricky.fields["reason"]
    assert row["indicative"] is True and row["nfft"] == 4096 and row["snr_db"] == 12.25
    assert row["licence"] == ""
    spectrum = influxdb.query('SELECT freq_hz, power_dbfs, rbw_hz, nfft, dwell_s FROM "band_spectrum"', db=influx_db)
    expected = [p for p in points if p.measurement == "band_spectrum"]
    assert [r["time"] for r in spectrum] == [p.time_ns for p in expected]
    assert [r["freq_hz"] for r in spectrum] == [p.fields["freq_hz"] for p in expected]
    assert [r["power_dbfs"] for r in spectrum] == [p.fields["power_dbfs"] for p in expected]
    assert {r["nfft"] for r in spectrum} == {512}
    occ = influxdb.query('SELECT * FROM "occupancy"', db=influx_db)
    assert occ[0]["channel"] == "145.0000" and occ[0]["revisits"] == 10 and occ[0]["occupancy_pct"] == 0.0


def test_resend_after_lost_acknowledgement_overwrites_instead_of_duplicating(influxdb, influx_db, tmp_path):
    runner, spool = _runner(influxdb, influx_db, tmp_path)

    class LosesFirstAck:
        """Delivers, then reports a timeout once, as a link dropping the answer would."""

        def __init__(self, sink):
            self.sink, self.lost, self.name = sink, False, sink.name

        def connect(self):
            self.sink.connect()

        def close(self):
            self.sink.close()

        def write(self, lines):
            self.sink.write(lines)
            if not self.lost:
                self.lost = True
                raise SinkTransient("timeout waiting for the answer")

    runner.sink = LosesFirstAck(runner.sink)
    points, n_em, n_viol = sweep_points(3)
    spool.put(points)
    with pytest.raises(SinkTransient):
        runner.send_pending()
    assert spool.depth() == len(points)  # not acknowledged: still spooled
    runner.send_pending()
    assert spool.depth() == 0
    assert influxdb.count("emission", db=influx_db) == n_em
    assert influxdb.count("violation", db=influx_db) == n_viol
    assert influxdb.count("band_spectrum", db=influx_db, field="freq_hz") == 64


def test_influxdb_killed_mid_run_and_restarted_minutes_later_every_detection_exactly_once(influxdb, influx_db, tmp_path):
    clock = FakeClock()
    runner, spool = _runner(influxdb, influx_db, tmp_path, clock=clock, batch_points=500, backoff_initial_s=1.0,
                            backoff_max_s=60.0)
    n_em = n_viol = 0
    failures = 0
    sweeps = 60  # 10 s of simulated time each: 10 minutes
    for k in range(sweeps):
        clock.t = 10.0 * k
        if k == 15:
            influxdb.kill()  # SIGKILL: the server vanishes mid-run
        if k == 45:
            influxdb.restart()  # five simulated minutes later
        points, e, v = sweep_points(k)
        n_em += e
        n_viol += v
        spool.put(points)
        if clock.t >= runner.next_attempt:
            try:
                runner.send_pending()
            except SinkTransient:
                failures += 1
    clock.t += 3600
    runner.send_pending()
    assert spool.depth() == 0
    assert failures >= 4  # retried with backoff during the outage, not at every sweep
    assert failures < 30
    assert runner.stats.dead_lettered == 0
    assert influxdb.count("emission", db=influx_db) == n_em == 5 * sweeps
    assert influxdb.count("violation", db=influx_db) == n_viol == sweeps
    assert influxdb.count("occupancy", db=influx_db) == sweeps
    rows = influxdb.query('SELECT count("case_id") FROM "violation" GROUP BY time(10s) fill(0)', db=influx_db)
    assert {r["count"] for r in rows if r["time"] >= int(T0.timestamp() * 1e9)} <= {0, 1}


def test_a_batch_with_one_bad_point_sends_the_rest_and_dead_letters_the_bad_one(influxdb, influx_db, tmp_path):
    # the database already holds noise_floor.median_dbfs_hz as a string: our float is a field type conflict
    influxdb.write_lines(
        influx_db, [f'noise_floor,station=hn-01,band=vhf median_dbfs_hz="legacy" {int(T0.timestamp() * 1e9) - 10**9}']
    )
    runner, spool = _runner(influxdb, influx_db, tmp_path)
    points = []
    for k in range(4):
        points += sweep_points(k)[0][:-4] if k else sweep_points(k)[0]  # only sweep 0 has a noise_floor point
    points = [p for p in points if p.measurement != "noise_floor" or p.time_ns == points[0].time_ns]
    assert sum(p.measurement == "noise_floor" for p in points) == 1
    spool.put(points)
    delivered = runner.send_pending()
    assert delivered == len(points) - 1
    assert runner.stats.dead_lettered == 1 and runner.stats.rejected_requests >= 2
    dead = spool.dead_letters()
    assert len(dead) == 1 and dead[0].measurement == "noise_floor" and dead[0].status == 400
    assert "conflict" in dead[0].error
    assert spool.depth() == 0
    n_em = sum(p.measurement == "emission" for p in points)
    assert influxdb.count("emission", db=influx_db) == n_em
    assert influxdb.count("band_spectrum", db=influx_db, field="freq_hz") == sum(
        p.measurement == "band_spectrum" for p in points
    )


def test_unreachable_server_is_transient_and_keeps_everything(tmp_path):
    from tests.services import free_port

    sink = open_sink(f"influx://127.0.0.1:{free_port()}/x?timeout=2")
    spool = Spool(tmp_path / "s.sqlite")
    clock = FakeClock()
    runner = SinkRunner(sink, spool, clock=clock, rng=random.Random(0), backoff_initial_s=2, backoff_max_s=30)
    spool.put(sweep_points(0)[0])
    delays = []
    for _ in range(8):
        with pytest.raises(SinkTransient, match="127.0.0.1"):
            runner.send_pending()
        delays.append(runner.next_attempt - clock.t)
    assert spool.depth() == len(sweep_points(0)[0])
    assert 1.0 <= delays[0] <= 2.0 and 2.0 <= delays[1] <= 4.0 and 4.0 <= delays[2] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[5:])  # capped at backoff_max_s, jittered down to half


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from station.outputs.sinks import open_output
    from tests._influx_helpers import sweep_points
    out = open_output({uri!r}, data_dir={data_dir!r}, batch_points=300, flush_interval_s=0.05,
                      backoff_initial_s=0.05, backoff_max_s=0.2)
    k = 0
    while True:
        points, e, v = sweep_points(k)
        out.write(points)
        print(k, flush=True)  # printed only after the points are durable in the spool
        k += 1
        time.sleep(0.01)
    """
)


def test_writer_killed_with_sigkill_mid_run_next_start_sends_the_spool(influxdb, influx_db, tmp_path):
    data_dir = tmp_path / "data"
    uri = f"influx://127.0.0.1:{influxdb.port}/{influx_db}?timeout=1"
    script = WRITER.format(root=str(Path(__file__).resolve().parent.parent), uri=uri, data_dir=str(data_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        seen = []
        for line in proc.stdout:
            seen.append(int(line))
            if len(seen) == 10:
                influxdb.kill()  # the link goes down: the writer spools from here on
            if len(seen) == 25:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        seen += [int(x) for x in proc.stdout.read().split()]
    finally:
        if proc.poll() is None:
            proc.kill()
    committed = max(seen) + 1
    influxdb.restart()
    sent_before = influxdb.count("emission", db=influx_db)
    assert 0 < sent_before < 5 * committed  # some went out before the outage, the rest waited in the spool
    out = open_output(uri, data_dir=data_dir, flush_interval_s=0.05)
    try:
        assert out.spool.depth() > 0
        assert out.flush(timeout_s=60)
    finally:
        out.close()
    n_em = influxdb.count("emission", db=influx_db)
    # every sweep whose put returned is there exactly once; a put in flight at the kill may have committed too
    assert n_em in (5 * committed, 5 * (committed + 1))
    assert influxdb.count("violation", db=influx_db) == n_em // 5
    times = influxdb.query('SELECT "case_id" FROM "violation"', db=influx_db)
    assert len({r["time"] for r in times}) == len(times) == n_em // 5


def test_idle_keepalive_connection_closed_by_the_server_is_reopened_without_a_retry(influxdb, influx_db, tmp_path):
    runner, spool = _runner(influxdb, influx_db, tmp_path)
    spool.put(sweep_points(0)[0])
    runner.send_pending()
    influxdb.restart()  # drops every open connection, as an idle timeout or a proxy would
    spool.put(sweep_points(1)[0])
    assert runner.send_pending() == len(sweep_points(1)[0])
    assert runner.stats.retries == 0
    assert influxdb.count("emission", db=influx_db) == 10
