"""`specmon network demo`: its own influxd, four station processes, the network cases printed with locations."""

from __future__ import annotations

import json
import subprocess

import pytest

from station.network.geo import distance_m
from station.sim.scenario import builtin_scenario_path, load_scenario
from tests.services import INFLUXD, binary
from tests.station_helpers import specmon_argv, unbuffered_env


@pytest.mark.timeout(400)
def test_demo_runs_four_stations_into_its_own_influxd_and_prints_located_cases(tmp_path):
    if binary(INFLUXD) is None:
        pytest.skip("influxd not installed (Debian package influxdb)")
    out = subprocess.run(specmon_argv("network", "demo", "--dir", str(tmp_path), "--json"),
                         capture_output=True, text=True, timeout=380, env=unbuffered_env())
    assert out.returncode == 0, out.stderr[-2000:] + out.stdout[-2000:]
    head, _, body = out.stdout.partition("\n")
    assert head.startswith("demo: 4 simulated stations") and str(tmp_path) in head
    cases = json.loads(body)
    rogue = [c for c in cases if abs(c["center_hz"] / 1e6 - 147.25) < 0.01]
    assert len(rogue) == 1 and len(rogue[0]["stations"]) == 4 and rogue[0]["kind"] == "fix"
    tx = next(t for t in load_scenario(builtin_scenario_path("netcity")).transmitters if t.id == "rogue-vhf")
    est = rogue[0]["estimate"]
    assert distance_m(est["latitude"], est["longitude"], tx.latitude_deg, tx.longitude_deg) < 3000.0
    assert sorted(p.name for p in tmp_path.glob("hn-*.toml")) == ["hn-e.toml", "hn-n.toml", "hn-s.toml", "hn-w.toml"]
    assert (tmp_path / "network.db").exists()
    # the local influxd was stopped: nothing listens on its port any more
    conf = (tmp_path / "influxd" / "influxd.conf").read_text()
    port = int(conf.split('bind-address = "127.0.0.1:')[2].split('"')[0])
    import socket

    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_demo_refuses_zero_sweeps(capsys):
    from station.cli import main

    assert main(["network", "demo", "--sweeps", "0"]) != 0
    assert "--sweeps must be >= 1" in capsys.readouterr().err
