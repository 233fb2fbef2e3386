"""The Grafana alert rules (dashboards/alerts.py): the provisioning file's structure (every key Grafana's file
provisioning needs, stable UIDs, the datasource the rules query is one the datasource file provisions), and each
rule's InfluxQL evaluated as Grafana's alerting does (query over its relative range, reduce, threshold) on a real
InfluxDB 1.x holding station output with known faults: which instances fire, and which do not.

The same rules run on what a real `specmon run` writes in tests/test_dashboards_station_run.py.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest

from dashboards import alerts, grafana_sim
from dashboards.provisioning import DatasourceSettings, alerts_yaml, datasources
from station.outputs.vocabulary import Point, check_point
from tests.dashboard_helpers import grafana_query

DB = "dashboards_alerts"
#: the rule UIDs are stable (silences, notification policies and links name them)
UIDS = ["specmon-new-case", "specmon-station-silent", "specmon-receiver-not-ok", "specmon-spool-backlog",
        "specmon-store-degraded", "specmon-points-lost", "specmon-clock-unsynced"]


def _rules(doc):
    return {r["uid"]: r for g in doc["groups"] for r in g["rules"]}


def read_yaml(text: str):
    """Read back the block YAML of JSON scalars that dashboards.provisioning.to_yaml writes (no YAML library
    here): mappings ``"key": value``, lists ``- item``, nested by two-space indentation."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    pos = 0

    def block(indent):
        nonlocal pos
        first = lines[pos]
        if first[indent:].startswith("- "):
            out = []
            while pos < len(lines) and lines[pos].startswith(" " * indent + "- "):
                rest = lines[pos][indent + 2:]
                if rest.startswith('"') and '": ' in rest or rest.endswith('":'):
                    lines[pos] = " " * (indent + 2) + rest  # a mapping item: read it as a nested block
                    out.append(block(indent + 2))
                else:
                    out.append(json.loads(rest))
                    pos += 1
            return out
        out = {}
        while pos < len(lines) and lines[pos].startswith(" " * indent) and not lines[pos][indent:].startswith(("- ", " ")):
            key, _, value = lines[pos][indent:].partition(": ")
            if not value and key.endswith(":"):
                pos += 1
                out[json.loads(key[:-1])] = block(indent + 2)
            else:
                out[json.loads(key)] = json.loads(value)
                pos += 1
        return out

    return block(0)


def test_rules_file_has_every_key_grafana_provisioning_needs():
    doc = alerts.rules_document(web_url="http://station.lan:8088/")
    again = read_yaml(alerts_yaml(doc))
    assert again == doc, "the written YAML does not read back as the rule document"
    assert doc["apiVersion"] == 1
    provisioned = {ds["uid"] for ds in datasources(DatasourceSettings())}
    assert [r for g in doc["groups"] for r in g["rules"]] and sorted(_rules(doc)) == sorted(UIDS)
    assert list(_rules(doc)) == UIDS
    for group in doc["groups"]:
        assert {"orgId", "name", "folder", "interval", "rules"} <= set(group)
        assert group["folder"] == "specmon" and group["interval"] == "1m"
        for rule in group["rules"]:
            missing = [k for k in alerts.RULE_KEYS if k not in rule]
            assert not missing, f"{rule['uid']}: missing {missing}"
            assert len(rule["uid"]) <= 40
            assert rule["noDataState"] in ("OK", "NoData", "Alerting")
            assert rule["execErrState"] in ("OK", "Error", "Alerting")
            assert rule["for"][-1] in "smh" and rule["for"][:-1].isdigit()
            refs = [d["refId"] for d in rule["data"]]
            assert refs == ["A", "B", "C"] and rule["condition"] == "C"
            for d in rule["data"]:
                assert all(k in d for k in alerts.QUERY_KEYS), f"{rule['uid']} {d['refId']}: {sorted(d)}"
                assert d["model"]["refId"] == d["refId"]
            query = rule["data"][0]
            assert query["datasourceUid"] in provisioned and query["datasourceUid"] == "specmon-influxql"
            assert query["model"]["datasource"] == {"type": "influxdb", "uid": query["datasourceUid"]}
            assert query["model"]["rawQuery"] is True and query["relativeTimeRange"]["from"] > 0
            assert "$station" not in query["model"]["query"] and "$band" not in query["model"]["query"]
            assert rule["data"][1]["model"]["type"] == "reduce" and rule["data"][1]["model"]["expression"] == "A"
            assert rule["data"][2]["model"]["type"] == "threshold" and rule["data"][2]["model"]["expression"] == "B"
            assert {"severity", "specmon"} <= set(rule["labels"])
            ann = rule["annotations"]
            assert {"summary", "description", "web_url"} <= set(ann)
            assert ann["web_url"].startswith("http://station.lan:8088/") and "//" not in ann["web_url"][7:]
    token = alerts.rules_document(datasource_uid="specmon-influxql-token")
    assert {r["data"][0]["datasourceUid"] for r in _rules(token).values()} == {"specmon-influxql-token"}
    assert _rules(doc)["specmon-new-case"]["annotations"]["web_url"] == \
        "http://station.lan:8088/cases?state=new&class={{ $labels.class }}"


def test_export_writes_the_alert_rules(tmp_path):
    from station.cli import main

    assert main(["dashboards", "export", str(tmp_path), "--web-url", "http://st:8088"]) == 0
    doc = read_yaml((tmp_path / "alerting" / "specmon-alerts.yaml").read_text())
    assert _rules(doc)["specmon-station-silent"]["annotations"]["web_url"] == "http://st:8088/health"
    assert main(["dashboards", "export", str(tmp_path / "n"), "--no-alerts"]) == 0
    assert not (tmp_path / "n" / "alerting").exists()


def test_a_rule_that_uses_a_dashboard_variable_or_unknown_name_is_refused():
    from dashboards.queries import Column, Select

    with pytest.raises(ValueError, match="dashboard variables"):
        alerts.AlertRule("x", "x", Select("violation", (Column("case_id", "count"),)), 60, "last", "gt", 0, "0s",
                         "OK", "s", "d")
    with pytest.raises(ValueError, match="not in station/outputs/vocabulary.py"):
        Select("station_health", (Column("disk_state", "count"),), by_station=False, by_band=False)


# ---- evaluation on a real InfluxDB --------------------------------------------------------------------------


def faulty_station_points() -> list[Point]:
    """tests/test_dashboards_queries.py's two stations (12 sweeps 30 s apart from T0; hn-01's receiver reopening
    at sweep 5), plus: hn-02's store degraded, points lost, spool 20 minutes old and clock unsynced in its last
    sweeps; one new (unconfirmed) unlicensed case at hn-01."""
    from station.outputs.points import health_point
    from tests.test_dashboards_queries import T0, station_points

    out = station_points()
    for k in range(8, 12):
        at = T0 + timedelta(seconds=30 * k + 5)  # the station-wide health points' times: fields merge
        out.append(health_point({"store_state": "degraded: spool: /var/lib/specmon below reserve_mb" if k >= 10
                                 else "ok", "points_lost": 0 if k < 9 else 7 * (k - 8),
                                 "spool_age_s": 1200.0 if k >= 10 else 60.0,
                                 "clock_state": "unsynced" if k >= 10 else "synced"}, station="hn-02", at=at))
    new = Point("violation", {"station": "hn-01", "band": "fm", "class": "unlicensed"}, {
        "case_id": "VC-new", "track_id": "hn-01-new", "state": "new", "center_hz": 101.3e6, "bandwidth_hz": 150e3,
        "power_dbfs": -40.0, "snr_db": 30.0, "licence": "", "reason": "unlicensed", "indicative": False,
    }, int((T0 + timedelta(seconds=300)).timestamp()) * 1_000_000_000)
    out.append(new)
    for p in out:
        check_point(p)
    return out


@pytest.fixture(scope="module")
def influx(influxdb):
    from station.outputs.lineprotocol import encode_points

    influxdb.drop_database(DB)
    influxdb.create_database(DB)
    enc = encode_points(faulty_station_points())
    req = urllib.request.Request(f"{influxdb.url}/write?db={DB}&precision=ns", data=b"\n".join(enc.lines),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 204
    yield influxdb
    influxdb.drop_database(DB)


def _fired(influx, uid: str, at) -> dict[str, float]:
    rule = _rules(alerts.rules_document())[uid]
    got = grafana_sim.evaluate_rule(rule, lambda text: grafana_query(influx, DB, text), int(at.timestamp() * 1000))
    return {",".join(v for _, v in labels): value for labels, (value, firing) in got.items() if firing}


@pytest.mark.influx
def test_rules_fire_on_the_faults_and_only_there(influx):
    from tests.test_dashboards_queries import T0

    during = T0 + timedelta(minutes=6)  # just after the last sweep (5:30)
    assert _fired(influx, "specmon-new-case", during) == {"unlicensed,hn-01": 1.0}
    assert _fired(influx, "specmon-store-degraded", during) == {"hn-02": 2.0}
    assert _fired(influx, "specmon-points-lost", during) == {"hn-02": 14.0}  # 7 -> 21 between the two 1-minute buckets (the first bucket has no predecessor)
    assert _fired(influx, "specmon-spool-backlog", during) == {"hn-02": 1200.0}
    assert _fired(influx, "specmon-clock-unsynced", during) == {"hn-02": 2.0}
    assert _fired(influx, "specmon-station-silent", during) == {}
    assert _fired(influx, "specmon-receiver-not-ok", during) == {}  # the reopening was at 2:34, > 3 min ago
    # hn-01's receiver reopened at sweep 5 (2:34): the rule sees it for 3 minutes after, on both bands
    reopened = _fired(influx, "specmon-receiver-not-ok", T0 + timedelta(minutes=4))
    assert set(reopened) == {"fm,hn-01", "vhf,hn-01", "fm,hn-02", "vhf,hn-02"}
    # nothing written since 5:35: 25 minutes later both stations are silent
    later = T0 + timedelta(minutes=30)
    assert _fired(influx, "specmon-station-silent", later) == {"hn-01": 0.0, "hn-02": 0.0}
    assert _fired(influx, "specmon-new-case", later) == {}
