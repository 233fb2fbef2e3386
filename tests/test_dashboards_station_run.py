"""The dashboards against what a real simulated station writes: `specmon run` on sim://city with an influx://
sink to the test influxd, then every panel query (expanded as Grafana does) runs on that data."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import time

import pytest

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (the dashboard builder) is not installed")

import dashboards  # noqa: E402
from dashboards import grafana_sim  # noqa: E402
from dashboards.common import UIDS  # noqa: E402
from dashboards.lint import _ALIAS, _FROM  # noqa: E402
from tests.dashboard_helpers import grafana_query, resolve_variables  # noqa: E402
from tests.station_helpers import specmon_argv  # noqa: E402

pytestmark = [pytest.mark.influx, pytest.mark.slow]

DB = "dashboards_run"
#: fields the vocabulary marks "where available" / "absent when not measurable"
OPTIONAL = {"temperature_c", "xdb_bandwidth_hz", "clock_offset_s"}  # clock offset: only with chrony/timedatectl
#: measurements one sweep of each band always produces (occupancy needs a full integration period)
ALWAYS = ("band_spectrum", "noise_floor", "emission", "station_health")

CONFIG = """
[station]
id = "hn-01"
latitude = 21.0285
longitude = 105.8542

[receiver]
uri = "sim://city"
sample_rate = "2.4M"

[defaults]
rbw = "10k"
dwell = "20ms"
revisit = "10s"

[[bands]]
name = "vhf"
f_lo = "144M"
f_hi = "160M"
channels = {{ centers = ["145.5M", "147.25M", "150.125M", "155.5M", "158.2M"], width = "12.5k", period = "10s" }}

[[bands]]
name = "fm"
f_lo = "87.5M"
f_hi = "108M"
rbw = "20k"
channels = {{ centers = ["90M", "94M", "96M", "104.5M", "106.9M"], width = "200k", period = "10s" }}

[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"

[store]
data_dir = "{data}"
sinks = ["sqlite:specmon.db", "influx://127.0.0.1:{port}/{db}"]
spectrum_points = 256

[evidence]
enabled = false

[export]
on_exit = false

[run]
tui = "off"
health_interval = "1s"
"""


@pytest.fixture(scope="module")
def station_run(influxdb, tmp_path_factory):
    if importlib.util.find_spec("station.daemon") is None:
        pytest.skip("`specmon run` (station/daemon/) is not in this tree yet")
    from tests.services import env_without_proxies

    tmp = tmp_path_factory.mktemp("station-run")
    influxdb.drop_database(DB)
    influxdb.create_database(DB)
    cfg = tmp / "station.toml"
    cfg.write_text(CONFIG.format(data=tmp / "data", port=influxdb.port, db=DB))
    start_ms = int(time.time() * 1000) - 60_000
    proc = subprocess.run(
        specmon_argv("run", "--config", str(cfg), "--sweeps", "2", "--tui", "off"),
        env=env_without_proxies(), capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    end_ms = int(time.time() * 1000) + 60_000
    counts = {m: influxdb.count(m, db=DB) for m in ("band_spectrum", "noise_floor", "emission", "violation",
                                                    "occupancy", "station_health")}
    yield influxdb, start_ms, end_ms, counts
    influxdb.drop_database(DB)


def test_the_station_wrote_what_the_dashboards_read(station_run):
    _, _, _, counts = station_run
    for m in ALWAYS:
        assert counts[m] > 0, f"specmon run wrote no {m} points: {counts}"


def _stored(influx, measurement: str, field: str) -> bool:
    """Whether the station stored any value of this field (some are 'where available', e.g. temperature)."""
    reply = grafana_query(influx, DB, f'SELECT count("{field}") FROM "{measurement}"')
    return bool(reply["results"][0].get("series"))


@pytest.mark.parametrize("uid", [UIDS[k] for k in dashboards.REGISTRY])
def test_every_panel_query_runs_on_the_station_output(station_run, uid):
    influx, start_ms, end_ms, counts = station_run
    board = dashboards.render()[uid]
    variables = resolve_variables(influx, DB, board, start_ms, end_ms)
    checked = 0
    assert counts["violation"] > 0, "the simulated city has unlicensed transmitters: violations expected"
    for panel in board["panels"]:
        for target in panel["targets"]:
            measurement = _FROM.findall(target["query"])[0]
            if measurement.startswith("network_"):
                continue  # the network service's output, not a station's: tests/test_dashboards_network.py
            text = grafana_sim.expand(target["query"], from_ms=start_ms, to_ms=end_ms, variables=variables)
            result = grafana_query(influx, DB, text)["results"][0]
            assert "error" not in result, f"{uid} {panel['title']}: {result.get('error')}\n{text}"
            series = result.get("series", [])
            fields = re.findall(r'"([^"]+)"\)* AS "', target["query"])
            assert fields
            missing = [f for f in fields if not _stored(influx, measurement, f)]
            assert set(missing) <= OPTIONAL, f"{uid} {panel['title']}: reads {missing}, which the station never stored"
            if len(missing) < len(fields):  # an optional field missing among others leaves it empty in the rows
                assert series, f"{uid} {panel['title']}: no rows although the station stored {fields}\n{text}"
            else:  # temperature_c on a machine without a SoC sensor: the panel stays empty, no error
                assert not series
            for s in series:
                assert s["columns"] == ["time", *_ALIAS.findall(target["query"])]
            if series:
                frame = grafana_sim.apply(grafana_sim.series_to_frame({"results": [result]}),
                                          panel.get("transformations", []))
                assert frame, f"{uid} {panel['title']}: transformations left nothing"
                checked += 1
    assert checked >= 2


def test_alert_rules_on_the_station_output(station_run):
    """Each provisioned alert rule's query runs on what `specmon run` wrote and gives the expected instances: the
    city's unlicensed transmitters are new cases at hn-01; a healthy station is neither silent, nor its receiver,
    store or spool in trouble; 20 minutes after it stopped it is silent."""
    from dashboards import alerts

    influx, start_ms, end_ms, counts = station_run
    rules = {r["uid"]: r for g in alerts.rules_document()["groups"] for r in g["rules"]}
    run = lambda text: grafana_query(influx, DB, text)  # noqa: E731
    last = grafana_query(influx, DB, 'SELECT last("uptime_s") FROM "station_health" WHERE "band" = \'all\'')
    last_ms = last["results"][0]["series"][0]["values"][0][0]
    got = {uid: grafana_sim.evaluate_rule(rule, run, last_ms + 1000) for uid, rule in rules.items()}
    new = {dict(labels)["class"]: value for labels, (value, firing) in got["specmon-new-case"].items() if firing}
    assert "unlicensed" in new and all(dict(k)["station"] == "hn-01" for k in got["specmon-new-case"])
    assert got["specmon-station-silent"] and not any(f for _, f in got["specmon-station-silent"].values())
    for uid in ("specmon-receiver-not-ok", "specmon-store-degraded", "specmon-spool-backlog", "specmon-points-lost"):
        assert not any(f for _, f in got[uid].values()), f"{uid} fires on a healthy station: {got[uid]}"
    silent = grafana_sim.evaluate_rule(rules["specmon-station-silent"], run, last_ms + 20 * 60_000)
    assert {dict(k)["station"]: f for k, (_, f) in silent.items()} == {"hn-01": True}
