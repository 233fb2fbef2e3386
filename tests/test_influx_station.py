"""The whole station (``specmon run`` on the simulated city) writing to the real influxd and to the embedded
store: InfluxDB killed mid-run, then the station itself SIGKILLed during the outage; the next start sends
both spools and InfluxDB ends up holding exactly the emissions and violations of the embedded store."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from station.outputs.sinks.sqlite import read_series
from station.outputs.spool import Spool
from tests.station_helpers import specmon_argv, unbuffered_env, wait_until

pytestmark = [pytest.mark.influx, pytest.mark.slow]

CONFIG = """
[station]
id = "e2e-01"
latitude = 21.0285
longitude = 105.8542

[receiver]
uri = "sim://city"
gain = 30.0
sample_rate = "2.4M"
seed = 1

[[bands]]
name = "fm"
f_lo = "87.5M"
f_hi = "108M"
rbw = "5k"
dwell = "20ms"
revisit = "1s"
channels = {{ start = "87.6M", spacing = "100k", width = "200k" }}

[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"

[store]
data_dir = "{data_dir}"
sinks = ["sqlite:specmon.db", "influx://127.0.0.1:{port}/{db}?timeout=2"]
spectrum_points = 64

[evidence]
enabled = false

[export]
on_exit = false

[run]
sweeps = {sweeps}
health_interval = "1s"
tui = "off"
"""


def test_station_killed_during_an_influxdb_outage_delivers_everything_on_the_next_start(influxdb, influx_db, tmp_path):
    data_dir = tmp_path / "data"
    cfg = tmp_path / "station.toml"
    cfg.write_text(CONFIG.format(data_dir=data_dir, port=influxdb.port, db=influx_db, sweeps=0))
    env = unbuffered_env()
    proc = subprocess.Popen(specmon_argv("run", "--config", str(cfg)), stdout=subprocess.DEVNULL,
                            stderr=open(tmp_path / "run.log", "wb"), env=env)
    spool_path = data_dir / "spool" / f"influx-127.0.0.1-{influxdb.port}-{influx_db}.sqlite"
    try:
        wait_until(lambda: influxdb.count("emission", db=influx_db) > 0, 120, "the first emissions in InfluxDB",
                   poll_s=0.2)
        influxdb.kill()
        def spooled():
            if not spool_path.exists():
                return False
            with Spool(spool_path) as sp:
                return sp.status().by_measurement.get("emission", 0) >= 10  # a few sweeps of the outage
        wait_until(spooled, 120, "emissions waiting in the spool during the outage", poll_s=0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    influxdb.restart()
    with Spool(spool_path) as sp:
        waiting = sp.status().by_measurement.get("emission", 0)
    assert waiting >= 10
    # the next start: one bounded run sends the old spools first, then its own sweep
    cfg.write_text(CONFIG.format(data_dir=data_dir, port=influxdb.port, db=influx_db, sweeps=1))
    done = subprocess.run(specmon_argv("run", "--config", str(cfg)), capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with Spool(spool_path) as sp:
        assert sp.depth() == 0 and sp.dead_letters() == []
    store = data_dir / "specmon.db"
    for m in ("emission", "violation", "occupancy"):
        local = read_series(store, m, station="e2e-01")
        rows = influxdb.query(f'SELECT * FROM "{m}" WHERE "station"=\'e2e-01\'', db=influx_db)
        assert len(rows) == len(local), m
        assert len(local) > 0 or m == "occupancy", m  # fm-pirate (106.9 MHz) is an unlicensed case
        assert sorted(r["time"] for r in rows) == sorted(p.time_ns for p in local), m
        if m == "violation":
            assert sorted(r["case_id"] for r in rows) == sorted(p.fields["case_id"] for p in local)
