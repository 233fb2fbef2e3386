"""The monitoring network end to end against a real influxd: four simulated stations (deploy/network/, the
sim://netcity scenario) run as separate `specmon run` processes into one InfluxDB; `specmon network build`
links the unlicensed VHF transmitter's four station cases into one network case located inside the network,
keeps the two co-channel UHF transmitters of the west and east districts apart, and keeps working (same ids)
after a station went silent."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from station.network.geo import distance_m
from station.sim.scenario import builtin_scenario_path, load_scenario
from tests.station_helpers import specmon_argv, unbuffered_env

ROOT = Path(__file__).resolve().parent.parent
STATIONS = ("hn-n", "hn-e", "hn-s", "hn-w")


def station_config(tmp: Path, station: str, influx_url: str, db: str) -> Path:
    text = (ROOT / "deploy" / "network" / f"{station}.toml").read_text()
    text = text.replace(f'data_dir = "/var/lib/specmon/{station}"', f'data_dir = "{tmp / station}"')
    text = re.sub(r'"influx://127\.0\.0\.1:8086/specmon"', f'"influx://{influx_url.split("//")[1]}/{db}"', text)
    path = tmp / f"{station}.toml"
    path.write_text(text)
    return path


def run_stations(tmp: Path, stations, url: str, db: str, sweeps: int = 2) -> None:
    procs = []
    for st in stations:
        cfg = station_config(tmp, st, url, db)
        log = open(tmp / f"{st}.log", "ab")
        procs.append((st, subprocess.Popen(specmon_argv("run", "--config", str(cfg), "--sweeps", str(sweeps)),
                                           stdout=log, stderr=subprocess.STDOUT, env=unbuffered_env(), cwd=tmp)))
        log.close()
    for st, p in procs:
        assert p.wait(120) == 0, (tmp / f"{st}.log").read_text()[-2000:]


def build(tmp: Path, url: str, db: str) -> list[dict]:
    out = subprocess.run(specmon_argv("network", "build", "--influx", f"influx://{url.split('//')[1]}/{db}",
                                      "--store", str(tmp / "network.db"), "--json"),
                         capture_output=True, text=True, timeout=120, env=unbuffered_env())
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def by_freq(cases, mhz):
    return [c for c in cases if abs(c["center_hz"] / 1e6 - mhz) < 0.01]


@pytest.mark.timeout(300)
def test_four_stations_one_emitter_co_channel_apart_and_a_silent_station(influxdb, influx_db, tmp_path):
    run_stations(tmp_path, STATIONS, influxdb.url, influx_db)
    cases = build(tmp_path, influxdb.url, influx_db)

    truth = {tx.id: tx for tx in load_scenario(builtin_scenario_path("netcity")).transmitters}
    vhf = by_freq(cases, 147.25)
    assert len(vhf) == 1, vhf
    rogue = vhf[0]
    assert sorted(rogue["stations"]) == sorted(STATIONS)
    assert len(rogue["members"]) == 4 and rogue["kind"] == "fix"
    assert rogue["flag"] in ("", "uncalibrated_levels")  # dBm once the stations write power_dbm
    tx = truth["rogue-vhf"]
    err = distance_m(rogue["estimate"]["latitude"], rogue["estimate"]["longitude"], tx.latitude_deg, tx.longitude_deg)
    assert err < 3000.0, err  # 6 dB shadowing, 4 stations: km-class accuracy (benchmarks/locate.txt)

    uhf = by_freq(cases, 462.8)
    assert len(uhf) == 2, uhf
    groups = [set(c["stations"]) for c in uhf]
    assert not groups[0] & groups[1]
    assert any("hn-w" in g for g in groups) and any("hn-e" in g for g in groups)
    assert not any({"hn-w", "hn-e"} <= g for g in groups)
    assert all("split" in c["flag"] for c in uhf)

    # written back for Grafana
    rows = influxdb.query("SELECT network_case_id, n_stations FROM network_case", db=influx_db)
    assert {r["network_case_id"] for r in rows} == {c["case_id"] for c in cases}
    assert influxdb.count("network_region", db=influx_db) > 0

    # hn-s goes silent; the other three go on; the network keeps the rogue's id and its four links
    run_stations(tmp_path, ("hn-n", "hn-e", "hn-w"), influxdb.url, influx_db)
    again = build(tmp_path, influxdb.url, influx_db)
    rogue2 = by_freq(again, 147.25)
    assert len(rogue2) == 1 and rogue2[0]["case_id"] == rogue["case_id"]
    assert sorted(rogue2[0]["stations"]) == sorted(STATIONS)
    assert rogue2[0]["last_ns"] > rogue["last_ns"]

    # exports: the GeoJSON carries the estimate, the region and the observing stations; the bundle all three
    out = subprocess.run(specmon_argv("network", "export", "--store", str(tmp_path / "network.db"), "--format",
                                      "bundle", "--out", str(tmp_path / "exp")), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    gj = json.loads((tmp_path / "exp" / "network_cases.geojson").read_text())
    roles = {(f["properties"]["network_case_id"], f["properties"]["role"]) for f in gj["features"]}
    assert {(rogue["case_id"], "estimate"), (rogue["case_id"], "region_fix"), (rogue["case_id"], "station")} <= roles
    import zipfile

    names = set(zipfile.ZipFile(tmp_path / "exp" / "network_cases.zip").namelist())
    assert names == {"network_cases.csv", "network_cases.geojson", "network_cases.pdf", "MANIFEST.json"}
    assert (tmp_path / "exp" / "network_cases.pdf").read_bytes().startswith(b"%PDF")
