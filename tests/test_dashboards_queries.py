"""Every panel query, expanded as Grafana expands it, runs on a real InfluxDB 1.x holding station output
and returns the columns the panel (and its transformations) expect.

The data: two stations of the simulated city (hn-01 Hanoi, hn-02) sweeping the demo bands 'fm' and 'vhf'
for 12 sweeps 30 s apart, written through the real point builders (station/outputs/points.py: band_spectrum,
noise_floor, station_health) and vocabulary-checked hand-built points where a builder needs full detector
records (emission, violation, occupancy), encoded with station/outputs/lineprotocol.py and posted to influxd /write.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (the dashboard builder) is not installed")

import dashboards  # noqa: E402
from dashboards import grafana_sim
from dashboards.lint import _ALIAS
from station.outputs.vocabulary import Point, check_point
from tests.dashboard_helpers import grafana_query, resolve_variables

pytestmark = pytest.mark.influx

T0 = datetime(2026, 11, 29, 6, 0, 0, tzinfo=timezone.utc)
SWEEPS = 12
REVISIT_S = 30
STATIONS = {"hn-01": (21.0285, 105.8542), "hn-02": (21.0811, 105.7700)}
#: band -> (lo Hz, hi Hz, transmitters (id, MHz, dBm, bw kHz, class))
BANDS = {
    "fm": (87.5e6, 108e6, [("fm-vov1", 90.0, -45, 200, "licensed"), ("fm-hanoi", 96.0, -48, 200, "licensed"),
                           ("fm-pirate", 106.9, -62, 180, "unlicensed")]),
    "vhf": (144e6, 160e6, [("ham-2m", 145.5, -85, 11, "exempt"), ("rogue-vhf", 147.25, -78, 11, "unlicensed"),
                           ("lmr-wide", 155.5, -70, 40, "excess_bandwidth"),
                           ("lmr-expired", 158.2, -74, 11, "expired")]),
}
CHANNELS = {"fm": [90.0, 96.0, 106.9], "vhf": [145.5, 147.25, 155.5, 158.2]}
DB = "dashboards_sim"


def _spectrum(band: str, start: datetime, rng: np.random.Generator):
    from dsp.spectrum import Spectrum

    lo, hi, txs = BANDS[band]
    n = 4096
    bin_hz = (hi - lo) / n
    freqs = lo + bin_hz * (np.arange(n) + 0.5)
    noise = -150.0 + rng.normal(0, 1.0, n)
    psd = noise.copy()
    for _, mhz, dbm, bw_khz, _ in txs:
        half = max(bin_hz, bw_khz * 500.0)
        on = np.abs(freqs - mhz * 1e6) <= half
        psd[on] = np.maximum(psd[on], dbm + 30.0 - 10 * np.log10(2 * half))  # dBFS ~ dBm + 30 here
    return Spectrum(
        freqs_hz=freqs, psd_dbfs_hz=psd, bin_hz=bin_hz, enbw_hz=1.5 * bin_hz, nfft=1024, window="hann",
        overlap=0.5, average="mean", n_frames=8, sample_rate_hz=2.4e6, start_utc=start,
        end_utc=start + timedelta(seconds=4), hop_centers_hz=np.array([(lo + hi) / 2]),
        hop_edges_hz=np.array([[lo, hi]]), dwell_s=0.05, maxhold_dbfs_hz=psd + 3.0,
    ), noise


def station_points() -> list[Point]:
    from station.outputs.points import PointContext, health_point, noise_floor_point, spectrum_points

    rng = np.random.default_rng(7)
    out: list[Point] = []
    for station, (lat, lon) in STATIONS.items():
        for k in range(SWEEPS):
            start = T0 + timedelta(seconds=REVISIT_S * k)
            for band in BANDS:
                spec, noise = _spectrum(band, start, rng)
                ctx = PointContext.from_spectrum(spec, station=station, band=band)
                out += spectrum_points(spec, ctx, n_points=128, noise_dbfs_hz=noise)
                out.append(noise_floor_point(spec, ctx, noise))
                out += _emissions(station, band, start, ctx)
                out.append(health_point({
                    "sweep_duration_s": 4.0 + rng.random(), "hop_rate_hz": 9.5, "revisit_s": REVISIT_S,
                    "dropped_reads": k // 4, "short_reads": k // 6, "receiver_state": "ok" if k != 5 else "reopening",
                    "receiver_errors": k // 5, "hops": 9, "receive_s": 2.5, "dsp_s": 0.8, "detect_s": 0.4,
                    "compliance_s": 0.05, "sinks_s": 0.1,
                }, station=station, at=start + timedelta(seconds=4), ctx=ctx))
            out.append(health_point({
                "cpu_pct": 35 + 10 * rng.random(), "temperature_c": 55 + rng.random(), "spool_depth": 10 * k,
                "spool_age_s": 2.0 * k, "latitude": lat, "longitude": lon, "uptime_s": REVISIT_S * k,
                "receiver_state": "ok", "spool_dead_letters": 0, "spool_thinned": 3 * k, "store_state": "ok",
                "sink_state": "ok" if k < 8 else "influx://127.0.0.1:8086/specmon: connection refused",
            }, station=station, at=start + timedelta(seconds=5)))
        for band in BANDS:
            for period in range(2):  # two 3-minute integration periods
                for i, mhz in enumerate(CHANNELS[band]):
                    p = Point("occupancy", {"station": station, "band": band, "channel": f"{mhz:.4f}"}, {
                        "channel_hz": mhz * 1e6, "channel_width_hz": 12500.0, "revisits": 6,
                        "revisits_above": 6 - i, "occupancy_pct": 100.0 * (6 - i) / 6, "period_s": 180.0,
                        "threshold_dbfs": -95.0, "rbw_hz": 7500.0, "nfft": 1024, "dwell_s": 0.05,
                    }, _ns(T0 + timedelta(seconds=180 * period)))
                    out.append(p)
    for p in out:
        check_point(p)
    return out


def _ns(t: datetime) -> int:
    return int((t - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 1_000_000_000


def _emissions(station: str, band: str, start: datetime, ctx) -> list[Point]:
    out = []
    settings = ctx.settings()
    for i, (tx, mhz, dbm, bw_khz, klass) in enumerate(BANDS[band][2]):
        fields = {"track_id": f"{station}-{tx}", "center_hz": mhz * 1e6 + 120.0, "peak_hz": mhz * 1e6,
                  "bandwidth_hz": bw_khz * 1e3 * 0.99, "power_dbfs": dbm + 20.0, "peak_dbfs": dbm + 25.0,
                  "snr_db": dbm + 110.0, "noise_dbfs_hz": -150.0, "occupancy": 1.0, "artifact": False, **settings}
        out.append(Point("emission", {"station": station, "band": band, "class": klass}, fields, _ns(start) + i))
        if klass not in ("licensed", "exempt"):
            out.append(Point("violation", {"station": station, "band": band, "class": klass}, {
                "case_id": f"VC-{tx}", "track_id": f"{station}-{tx}",
                "state": "closed" if tx == "lmr-expired" and start > T0 + timedelta(minutes=3) else "confirmed",
                "center_hz": mhz * 1e6 + 120.0, "bandwidth_hz": bw_khz * 990.0, "power_dbfs": dbm + 20.0,
                "snr_db": dbm + 110.0, "licence": "" if klass == "unlicensed" else "VN-LMR-0042",
                "reason": f"{klass} at {mhz} MHz", "indicative": False, **settings,
                **({} if klass == "unlicensed" else {"offset_hz": 1250.0}),  # 1.25 kHz off the assigned channel
            }, _ns(start) + i))
    return out


@pytest.fixture(scope="module")
def influx(influxdb):
    from station.outputs.lineprotocol import encode_points

    influxdb.drop_database(DB)
    influxdb.create_database(DB)
    enc = encode_points(station_points())
    assert enc.dropped_points == 0
    body = b"\n".join(enc.lines)
    req = urllib.request.Request(f"{influxdb.url}/write?db={DB}&precision=ns", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 204
    yield influxdb
    influxdb.drop_database(DB)


FROM_MS = int(T0.timestamp() * 1000) - 60_000
TO_MS = FROM_MS + 20 * 60_000


def _panels():
    for uid, board in dashboards.render().items():
        for panel in board["panels"]:
            for t in panel["targets"]:
                if re.search(r'FROM "network_', t["query"]):
                    continue  # network service output: tests/test_dashboards_network.py, on a real network build
                yield pytest.param(uid, panel["title"], t["refId"], id=f"{uid}:{panel['title']}:{t['refId']}")


def test_simulated_station_data_is_in_influx(influx):
    assert influx.count("band_spectrum", db=DB) == 2 * SWEEPS * 2 * 128
    assert influx.count("violation", db=DB) > 0


def test_variables_resolve_to_the_written_stations_and_bands(influx):
    board = dashboards.render()["specmon-health"]
    values = resolve_variables(influx, DB, board, FROM_MS, TO_MS)
    assert values["station"] == ["hn-01", "hn-02"]
    assert values["band"] == ["fm", "vhf"]


@pytest.mark.parametrize("uid,title,ref", list(_panels()))
def test_panel_query_returns_the_columns_the_panel_expects(influx, uid, title, ref):
    board = dashboards.render()[uid]
    panel = next(p for p in board["panels"] if p["title"] == title)
    target = next(t for t in panel["targets"] if t["refId"] == ref)
    variables = resolve_variables(influx, DB, board, FROM_MS, TO_MS)
    text = grafana_sim.expand(target["query"], from_ms=FROM_MS, to_ms=TO_MS, variables=variables,
                              max_data_points=int(panel.get("maxDataPoints") or 1000))
    if panel.get("timeFrom"):  # relative time override: Grafana replaces the range with the last N
        minutes = int(panel["timeFrom"].rstrip("m"))
        text = grafana_sim.expand(target["query"], from_ms=TO_MS - minutes * 60_000, to_ms=TO_MS,
                                  variables=variables)
        text = text.replace(f"time >= {TO_MS - minutes * 60_000}ms", f"time >= {FROM_MS}ms")
    reply = grafana_query(influx, DB, text)
    result = reply["results"][0]
    assert "error" not in result, f"{uid} {title}: {result.get('error')}\n{text}"
    series = result.get("series", [])
    assert series, f"{uid} {title}: no rows for\n{text}"
    expected = ["time", *_ALIAS.findall(target["query"])]
    for s in series:
        assert s["columns"] == expected
        assert s["values"]
    # the fields that transformations and the geomap name are in the table Grafana builds
    frame = grafana_sim.apply(grafana_sim.series_to_frame(reply), panel.get("transformations", []))
    assert frame
    if any(tr["id"] == "groupingToMatrix" for tr in panel.get("transformations", [])):
        assert len(frame) == SWEEPS * len(variables["station"]), "waterfall rows must be one per sweep"
        assert len(frame[0]) == 1 + 128, "waterfall columns must be one per decimated frequency"
    if panel["type"] == "geomap":
        loc = panel["options"]["layers"][0]["location"]
        rows = grafana_sim.series_to_frame(reply)
        assert {loc["latitude"], loc["longitude"], "station"} <= set(rows[0])
        assert {(r["station"], r["latitude"]) for r in rows} == {(s, ll[0]) for s, ll in STATIONS.items()}


def test_spectrum_panel_keeps_latest_maxhold_and_noise_per_frequency(influx):
    board = dashboards.render()["specmon-band"]
    panel = next(p for p in board["panels"] if p["type"] == "xychart")
    variables = {"station": ["hn-01"], "band": ["vhf"]}
    text = grafana_sim.expand(panel["targets"][0]["query"], from_ms=FROM_MS, to_ms=TO_MS, variables=variables)
    rows = grafana_sim.series_to_frame(grafana_query(influx, DB, text))
    grouped = grafana_sim.apply(rows, panel["transformations"], until="groupBy")
    assert len(grouped) == 128
    floor = float(np.median([r["maxhold_dbfs (max)"] for r in grouped]))
    for _, mhz, *_ in BANDS["vhf"][2]:  # every vhf transmitter stands 20 dB over the median
        nearest = min(grouped, key=lambda r: abs(r["freq_hz"] - mhz * 1e6))
        assert nearest["maxhold_dbfs (max)"] > floor + 20, mhz
    assert all(r["maxhold_dbfs (max)"] >= r["power_dbfs (lastNotNull)"] for r in grouped)
    newest = {}
    for r in rows:  # the query reads newest first; "latest" must be the newest sweep's level per frequency
        if r["freq_hz"] not in newest or r["Time"] > newest[r["freq_hz"]]["Time"]:
            newest[r["freq_hz"]] = r
    assert all(g["power_dbfs (lastNotNull)"] == newest[g["freq_hz"]]["power_dbfs"] for g in grouped)
    assert all(r["noise_dbfs (lastNotNull)"] < r["maxhold_dbfs (max)"] for r in grouped)


def test_open_cases_table_groups_per_case_and_drops_closed(influx):
    board = dashboards.render()["specmon-violations"]
    panel = next(p for p in board["panels"] if p["type"] == "table")
    variables = {"station": ["hn-01", "hn-02"], "web_url": ["x"]}
    text = grafana_sim.expand(panel["targets"][0]["query"], from_ms=FROM_MS, to_ms=TO_MS, variables=variables)
    rows = grafana_sim.series_to_frame(grafana_query(influx, DB, text))
    cases = grafana_sim.apply(rows, panel["transformations"], until="groupBy")
    by_id = {c["case_id"]: c for c in cases}
    assert set(by_id) == {"VC-fm-pirate", "VC-rogue-vhf", "VC-lmr-wide", "VC-lmr-expired"}
    assert by_id["VC-fm-pirate"]["station (uniqueValues)"] == ["hn-01", "hn-02"]
    assert by_id["VC-fm-pirate"]["Time (min)"] < by_id["VC-fm-pirate"]["Time (max)"]
    # filterByValue drops the closed case (its latest state)
    assert by_id["VC-lmr-expired"]["state (lastNotNull)"] == "closed"
    table = grafana_sim.apply(rows, panel["transformations"])
    assert [r["case_id"] for r in table] and "VC-lmr-expired" not in {r["case_id"] for r in table}
    assert set(table[0]) == {"case_id", "class", "state", "center_hz", "bandwidth_hz", "max power_dbfs", "snr_db",
                             "licence", "reason", "first seen", "last seen", "stations", "indicative", "track_id",
                             "offset_khz"}
    assert table[0]["class"] in ("unlicensed", "excess_bandwidth") and table[0]["stations"] == ["hn-01", "hn-02"]


def test_open_case_counts_use_the_latest_state_of_each_case(influx):
    board = dashboards.render()["specmon-violations"]
    variables = {"station": ["hn-01", "hn-02"], "web_url": ["x"]}
    stat, bars = board["panels"][0], board["panels"][1]
    assert stat["type"] == "stat" and bars["type"] == "bargauge"
    for panel in (stat, bars):
        text = grafana_sim.expand(panel["targets"][0]["query"], from_ms=FROM_MS, to_ms=TO_MS, variables=variables)
        frame = grafana_sim.apply(grafana_sim.series_to_frame(grafana_query(influx, DB, text)),
                                  panel["transformations"])
        if panel is stat:
            # lmr-expired was confirmed, then closed within the range: not open
            assert sorted(r["case_id"] for r in frame) == ["VC-fm-pirate", "VC-lmr-wide", "VC-rogue-vhf"]
            assert stat["options"]["reduceOptions"] == {"calcs": ["count"], "values": False, "fields": "/^case_id$/"}
        else:
            assert {r["class"]: r["case_id (count)"] for r in frame} == {"excess_bandwidth": 1, "unlicensed": 2}
            assert re.fullmatch(bars["options"]["reduceOptions"]["fields"].strip("/"), "case_id (count)")


def test_expand_follows_grafana_rules():
    q = 'SELECT mean("x") FROM "m" WHERE $timeFilter AND "station" =~ /^$station$/ GROUP BY time($__interval)'
    text = grafana_sim.expand(q, from_ms=0, to_ms=6 * 3600_000, variables={"station": ["hn-01", "a.b"]})
    assert text == ('SELECT mean("x") FROM "m" WHERE time >= 0ms and time <= 21600000ms AND '
                    '"station" =~ /^(hn-01|a\\.b)$/ GROUP BY time(20s)')
    assert grafana_sim.calculate_interval_ms(0, 3600_000, 1000, 10_000) == 10_000
    assert grafana_sim.calculate_interval_ms(0, 7 * 86400_000, 1000, 10_000) == 600_000
    with pytest.raises(KeyError, match=r"\$band"):
        grafana_sim.expand('WHERE "band" =~ /^$band$/', from_ms=0, to_ms=1, variables={})


def test_offsets_from_the_assignment_are_shown_in_khz(influx):
    """The case table reads the offset from the assigned channel already in kHz (unit 'suffix: kHz', 3 decimals);
    centre frequencies keep 4 decimals after Grafana scales them to MHz (a kHz offset stays visible)."""
    board = dashboards.render()["specmon-violations"]
    panel = next(p for p in board["panels"] if p["title"] == "Open cases" and p["type"] == "table")
    variables = resolve_variables(influx, DB, board, FROM_MS, TO_MS)
    text = grafana_sim.expand(panel["targets"][0]["query"], from_ms=FROM_MS, to_ms=TO_MS, variables=variables)
    assert '"offset_hz" * 0.001 AS "offset_khz"' in text
    frame = grafana_sim.apply(grafana_sim.series_to_frame(grafana_query(influx, DB, text)), panel["transformations"])
    offsets = {r["case_id"]: r["offset_khz"] for r in frame}
    assert offsets["VC-lmr-wide"] == pytest.approx(1.25) and offsets["VC-rogue-vhf"] is None
    props = {o["matcher"]["options"]: {p["id"]: p["value"] for p in o["properties"]}
             for o in panel["fieldConfig"]["overrides"]}
    assert props["offset_khz"]["unit"] == "suffix: kHz" and props["offset_khz"]["decimals"] == 3
    assert props["center_hz"] == {"unit": "hertz", "decimals": 4} and props["bandwidth_hz"]["decimals"] == 1
