"""The Network dashboard's panels run, as Grafana expands them, on a real influxd holding real network output:
four stations' violation and health points (the vocabulary's names, levels from the stated log-distance model
of two emitters) are written to influxd, `specmon network build` (the real command) reads them and writes
network_case / network_link / network_region points back, and every panel query of specmon-network returns
the columns its panel, layers and transformations name, with the located case where the emitter is."""

from __future__ import annotations

import math
import urllib.request
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (the dashboard builder) is not installed")

import dashboards  # noqa: E402
from dashboards import grafana_sim  # noqa: E402
from dashboards.lint import _ALIAS  # noqa: E402
from station.network import geo  # noqa: E402
from station.outputs.vocabulary import Point, check_point  # noqa: E402
from tests.dashboard_helpers import grafana_query, resolve_variables  # noqa: E402

pytestmark = pytest.mark.influx

SITES = {"hn-n": (21.0555, 105.8542), "hn-e": (21.0285, 105.8831), "hn-s": (21.0015, 105.8542),
         "hn-w": (21.0285, 105.8253)}
#: (case id, MHz, lat, lon, level at 1 m dBm, occupancy)
EMITTERS = [("VC-rogue", 147.25, 21.040, 105.862, 20.0, 1.0), ("VC-burst", 151.1, 21.020, 105.840, 18.0, 0.3)]
NOW = datetime.now(timezone.utc).replace(microsecond=0)
T0 = NOW - timedelta(minutes=30)
DB = "dashboards_network"


def station_points() -> list[Point]:
    out = []
    for st, (lat, lon) in SITES.items():
        for k in range(20):
            t = T0 + timedelta(seconds=60 * k)
            ns = int(t.timestamp()) * 1_000_000_000
            out.append(Point("station_health", {"station": st, "band": "all"}, {
                "latitude": lat, "longitude": lon, "receiver_state": "ok", "clock_state": "synced",
                "clock_offset_s": 0.002, "position_source": "config", "uptime_s": 60.0 * k, "spool_depth": 0}, ns))
            for i, (case, mhz, elat, elon, a_dbm, occ) in enumerate(EMITTERS):
                x, y = geo.to_local(lat, lon, elat, elon)
                level = a_dbm - 30.0 * math.log10(max(float(math.hypot(x, y)), 30.0))
                out.append(Point("violation", {"station": st, "band": "vhf", "class": "unlicensed"}, {
                    "case_id": f"{case}-{st}", "track_id": f"T{i}", "state": "confirmed", "center_hz": mhz * 1e6,
                    "bandwidth_hz": 11e3, "power_dbfs": level - 30, "power_dbm": level, "power_dbm_u95": 2.0,
                    "snr_db": 25.0, "occupancy": occ, "latitude": lat, "longitude": lon, "rbw_hz": 2e3,
                    "nfft": 1024, "dwell_s": 0.05, "licence": "", "reason": "unlicensed", "indicative": False,
                }, ns + 1 + i))
    for p in out:
        check_point(p)
    return out


@pytest.fixture(scope="module")
def influx(influxdb, tmp_path_factory):
    from station.cli import main
    from station.outputs.lineprotocol import encode_points

    influxdb.drop_database(DB)
    influxdb.create_database(DB)
    enc = encode_points(station_points())
    req = urllib.request.Request(f"{influxdb.url}/write?db={DB}&precision=ns", data=b"\n".join(enc.lines),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 204
    store = tmp_path_factory.mktemp("network") / "network.db"
    assert main(["network", "build", "--influx", f"influx://127.0.0.1:{influxdb.port}/{DB}", "--store",
                 str(store), "--shadowing-db", "2"]) == 0
    yield influxdb
    influxdb.drop_database(DB)


FROM_MS = int((T0 - timedelta(minutes=10)).timestamp() * 1000)


def _to_ms() -> int:
    """The dashboard's "now" when the query runs, as in Grafana: the network build writes its points at build
    time, which in a long suite run is many minutes after this module was collected."""
    return int((datetime.now(timezone.utc) + timedelta(minutes=5)).timestamp() * 1000)


def _network_targets():
    board = dashboards.render()["specmon-network"]
    for panel in board["panels"]:  # the station-overview panels run in tests/test_dashboards_queries.py
        if not any('FROM "network_' in t["query"] for t in panel["targets"]):
            continue
        for t in panel["targets"]:
            yield pytest.param(panel["title"], t["refId"], id=f"{panel['title']}:{t['refId']}")


def _run(influx, panel, target):
    board = dashboards.render()["specmon-network"]
    to_ms = _to_ms()
    variables = resolve_variables(influx, DB, board, FROM_MS, to_ms)
    text = grafana_sim.expand(target["query"], from_ms=FROM_MS, to_ms=to_ms, variables=variables,
                              max_data_points=int(panel.get("maxDataPoints") or 1000))
    reply = grafana_query(influx, DB, text)
    assert "error" not in reply["results"][0], f"{panel['title']}: {reply['results'][0].get('error')}\n{text}"
    return text, reply


@pytest.mark.parametrize("title,ref", list(_network_targets()))
def test_every_network_panel_query_returns_its_columns(influx, title, ref):
    board = dashboards.render()["specmon-network"]
    panel = next(p for p in board["panels"] if p["title"] == title)
    target = next(t for t in panel["targets"] if t["refId"] == ref)
    text, reply = _run(influx, panel, target)
    series = reply["results"][0].get("series", [])
    assert series, f"{title}: no rows for\n{text}"
    for s in series:
        assert s["columns"] == ["time", *_ALIAS.findall(target["query"])]
    rows = grafana_sim.series_to_frame(reply)
    if panel["type"] == "geomap":
        layer = next(la for la in panel["options"]["layers"] if la.get("filterData", {}).get("options") == ref)
        loc = layer["location"]
        assert all(r[loc["latitude"]] is not None and r[loc["longitude"]] is not None for r in rows)
        colour = layer["config"]["style"]["color"].get("field")
        text_field = layer["config"]["style"].get("text", {}).get("field")
        assert {f for f in (colour, text_field) if f} <= set(rows[0])
    frame = grafana_sim.apply(rows, panel.get("transformations", []))
    assert frame


def _rows(influx, title, ref="A"):
    board = dashboards.render()["specmon-network"]
    panel = next(p for p in board["panels"] if p["title"] == title)
    target = next(t for t in panel["targets"] if t["refId"] == ref)
    return panel, grafana_sim.series_to_frame(_run(influx, panel, target)[1])


def test_the_map_shows_the_stations_the_located_cases_and_their_region_outlines(influx):
    _, stations = _rows(influx, "Stations and network cases", "A")
    assert {(r["station"], r["latitude"], r["longitude"]) for r in stations} == {
        (s, *ll) for s, ll in SITES.items()}
    assert {r["clock_state"] for r in stations} == {"synced"}
    _, estimates = _rows(influx, "Stations and network cases", "B")
    assert len(estimates) == 2 and {r["class"] for r in estimates} == {"unlicensed"}
    for case, mhz, lat, lon, *_ in EMITTERS:  # noiseless levels: the estimate is on the emitter
        est = min(estimates, key=lambda r: abs(r["center_hz"] - mhz * 1e6))
        assert geo.distance_m(est["latitude"], est["longitude"], lat, lon) < 100.0
    _, outline = _rows(influx, "Stations and network cases", "C")
    by_case: dict[str, list] = {}
    for r in outline:
        by_case.setdefault(r["network_case"], []).append(r)
    assert set(by_case) == {r["network_case"] for r in estimates}
    for case, pts in by_case.items():
        assert len(pts) == 48
        est = next(r for r in estimates if r["network_case"] == case)
        lat = np.array([p["latitude"] for p in pts])
        lon = np.array([p["longitude"] for p in pts])
        # the outline surrounds its estimate
        assert lat.min() < est["latitude"] < lat.max() and lon.min() < est["longitude"] < lon.max()


def test_the_case_tables_list_each_network_case_and_link_its_station_cases(influx):
    panel, rows = _rows(influx, "Network cases")
    table = grafana_sim.apply(rows, panel["transformations"])
    assert len(table) == 2
    assert all(r["n_stations"] == 4 and r["kind"] == "fix" and r["stations"] == "hn-e,hn-n,hn-s,hn-w"
               for r in table)
    panel, rows = _rows(influx, "Station cases of the network cases")
    links = grafana_sim.apply(rows, panel["transformations"])
    assert len(links) == 8
    assert {(r["station"], r["station_case_id"]) for r in links} == {
        (st, f"{case}-{st}") for st in SITES for case, *_ in EMITTERS}
    burst = [r for r in links if r["station_case_id"].startswith("VC-burst")]
    assert all(abs(r["occupancy"] - 0.3) < 1e-9 and r["level_unit"] == "dBm" for r in burst)
    link = next(o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "station_case_id")
    url = link["properties"][0]["value"][0]["url"]
    assert url == "${web_url}/cases/${__value.raw}"
