"""Grafana as its users expect (issue 16): case links open the station's web app (configurable), the
provisioned datasources never become the default, open cases are counted whatever the time range."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("grafana_foundation_sdk")


def _violations(boards):
    return boards["specmon-violations"]


def test_case_links_point_at_the_web_app_and_export_sets_its_url(tmp_path):
    import dashboards
    from station.cli import main

    board = _violations(dashboards.render())
    var = next(v for v in board["templating"]["list"] if v["name"] == "web_url")
    assert var["query"] == "http://localhost:8088"
    assert main(["dashboards", "export", str(tmp_path), "--web-url", "https://station-7.example:8443/"]) == 0
    saved = json.loads((tmp_path / "dashboards" / "specmon" / "specmon-violations.json").read_text())
    var = next(v for v in saved["templating"]["list"] if v["name"] == "web_url")
    assert var["query"] == var["current"]["value"] == "https://station-7.example:8443"
    assert main(["dashboards", "export", str(tmp_path), "--web-url", "station-7:8088"]) == 2


def test_datasources_are_never_made_the_default():
    from dashboards.provisioning import DatasourceSettings, datasources, datasources_yaml

    assert [d["isDefault"] for d in datasources(DatasourceSettings())] == [False, False]
    assert '"isDefault": true' not in datasources_yaml(DatasourceSettings())


def test_open_case_counts_ignore_the_time_range():
    import dashboards

    board = _violations(dashboards.render())
    for title in ("Open cases", "Open cases by class"):
        panel = next(p for p in board["panels"] if p["title"] == title and p["type"] != "table")
        q = panel["targets"][0]["query"]
        assert "$timeFilter" not in q and "time <= now()" in q, q
    table = next(p for p in board["panels"] if p["type"] == "table")
    assert "$timeFilter" in table["targets"][0]["query"]  # the table lists the cases seen in the range
