"""The simulated network: scenario transmitters with EIRP, per-station received levels (station/sim/scenario.py
seen_from) and the sim receiver's station site options."""

from __future__ import annotations

import math

import pytest

from station.errors import DataError, UsageError
from station.network.geo import distance_m
from station.network.propagation import hata_urban_db, shadowing_db
from station.receivers.sim import SimReceiver
from station.sim.scenario import builtin_scenario_path, load_scenario, parse_scenario, seen_from

SITES = {"hn-n": (21.0555, 105.8542), "hn-e": (21.0285, 105.8831), "hn-s": (21.0015, 105.8542),
         "hn-w": (21.0285, 105.8253)}


def test_levels_follow_the_stated_model_and_are_the_same_in_every_process():
    scen = load_scenario(builtin_scenario_path("netcity"))
    prop = scen.propagation
    assert prop.model == "hata-urban" and prop.shadowing_db == 6.0
    lat, lon = SITES["hn-e"]
    seen = seen_from(scen, "hn-e", lat, lon)
    for tx, got in zip(scen.transmitters, seen.transmitters):
        d = distance_m(lat, lon, tx.latitude_deg, tx.longitude_deg)
        want = (tx.eirp_dbm - float(hata_urban_db(d, tx.frequency_hz, tx.height_m, prop.station_height_m))
                + shadowing_db(prop.seed, "hn-e", tx.id, prop.shadowing_db))
        assert got.power_dbm == pytest.approx(want, abs=1e-9)
    again = SimReceiver.from_uri(f"sim://netcity?station=hn-e&lat={lat}&lon={lon}")
    assert [t.power_dbm for t in again.scenario.transmitters] == [t.power_dbm for t in seen.transmitters]


def test_co_channel_transmitters_are_strong_only_in_their_own_district():
    scen = load_scenario(builtin_scenario_path("netcity"))
    lv = {st: {t.id: t.power_dbm for t in seen_from(scen, st, *SITES[st]).transmitters} for st in SITES}
    assert lv["hn-w"]["cochan-west"] - lv["hn-w"]["cochan-east"] > 20
    assert lv["hn-e"]["cochan-east"] - lv["hn-e"]["cochan-west"] > 20


def test_city_demo_scenario_is_untouched():
    city = load_scenario(builtin_scenario_path("city"))
    assert city.propagation is None and all(t.eirp_dbm is None for t in city.transmitters)
    assert seen_from(city, "x", 0.0, 0.0) is city
    with pytest.raises(UsageError, match="only apply"):
        SimReceiver.from_uri("sim://city?lat=21&lon=105")


BASE = """
[propagation]
model = "log-distance"
exponent = 3.0
[[transmitters]]
id = "a"
frequency_hz = 147_000_000
modulation = "nbfm"
latitude_deg = 21.0
longitude_deg = 105.0
"""


@pytest.mark.parametrize("extra, where, message", [
    ("eirp_dbm = 30\npower_dbm = -60", "transmitters[0].power_dbm", "not both"),
    ("", "transmitters[0].power_dbm", "missing key"),
])
def test_bad_transmitter_levels_are_named(extra, where, message):
    with pytest.raises(DataError, match=message) as exc:
        parse_scenario(BASE + extra, where="net.toml")
    assert exc.value.where == f"net.toml:{where}"


def test_bad_propagation_tables_are_named():
    with pytest.raises(DataError, match="unknown propagation model") as exc:
        parse_scenario(BASE.replace("log-distance", "okumura") + "eirp_dbm = 30", where="net.toml")
    assert exc.value.where == "net.toml:propagation.model"
    no_prop = BASE.replace('[propagation]\nmodel = "log-distance"\nexponent = 3.0\n', "") + "eirp_dbm = 30"
    with pytest.raises(DataError, match=r"needs a \[propagation\]"):
        parse_scenario(no_prop, where="net.toml")


def test_a_network_scenario_needs_a_station_site(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(BASE + "eirp_dbm = 30")
    with pytest.raises(UsageError, match="give the station site"):
        SimReceiver.from_uri(f"sim:{path}")
    with pytest.raises(UsageError, match="lat must be in"):
        SimReceiver.from_uri(f"sim:{path}?lat=95&lon=105")
    rx = SimReceiver.from_uri(f"sim:{path}?station=s1&lat=21.01&lon=105.0")
    tx = rx.scenario.transmitters[0]
    assert math.isfinite(tx.power_dbm) and rx.scenario.station_id == "s1"


def test_chronyc_tracking_is_read_into_a_clock_state():
    from station.clock import parse_chronyc_tracking

    good = "Reference ID    : C0A80001 (gw)\nSystem time     : 0.000012345 seconds fast of NTP time\nLeap status     : Normal\n"
    assert parse_chronyc_tracking(good) == ("synced", pytest.approx(1.2345e-5))
    off = good.replace("0.000012345 seconds fast", "2.5 seconds slow")
    assert parse_chronyc_tracking(off) == ("unsynced", -2.5)
    assert parse_chronyc_tracking(good.replace("Normal", "Not synchronised"))[0] == "unsynced"
    assert parse_chronyc_tracking("506 Cannot talk to daemon") == ("unknown", None)


def test_a_station_with_a_bad_clock_is_flagged_not_merged():
    from station.network.grouping import build_network_cases
    from station.network.observations import StationCase, StationInfo

    def sc(st, level):
        return StationCase(st, "VC-000001", "unlicensed", "vhf", 147.25e6, 11e3, level, 3.0, True, 30.0, 2e3,
                           0, 60_000_000_000, 5)

    infos = {st: StationInfo(st, *SITES[st], 0, "synced", 0.001) for st in SITES}
    infos["hn-s"] = StationInfo("hn-s", *SITES["hn-s"], 0, "unsynced", 3.0)
    cases = build_network_cases([sc("hn-n", -70), sc("hn-e", -62), sc("hn-s", -80), sc("hn-w", -78)], infos)
    merged = [c for c in cases if len(c.stations) > 1]
    alone = [c for c in cases if c.stations == ("hn-s",)]
    assert len(merged) == 1 and merged[0].stations == ("hn-e", "hn-n", "hn-w")
    assert len(alone) == 1 and alone[0].flag == "clock_suspect"
