"""Dashboards as code: SDK model validation, vocabulary drift, stable UIDs, export folder, CLI errors."""

from __future__ import annotations

import copy
import json

import pytest

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (the dashboard builder) is not installed")

import dashboards  # noqa: E402
from dashboards import lint, queries
from dashboards.common import UIDS, UNIT_MAP
from station.outputs.vocabulary import MEASUREMENTS


@pytest.fixture(scope="module")
def boards():
    return dashboards.render()


def test_registry_lists_every_dashboard_module_and_uids_are_stable(boards):
    assert set(dashboards.REGISTRY) == set(UIDS)
    assert list(boards) == ["specmon-network", "specmon-band", "specmon-violations", "specmon-health"]
    assert dashboards.render() == boards  # deterministic: a second export is identical


def test_every_dashboard_validates_against_the_sdk_model(boards):
    for board in boards.values():
        dashboards.validate(board)
        assert board["schemaVersion"] >= 39
        assert board["tags"] == ["specmon"]


def test_validate_rejects_json_the_model_does_not_know(boards):
    bad = copy.deepcopy(boards["specmon-band"])
    bad["panels"][0]["targets"][0]["querry"] = "typo"
    with pytest.raises(ValueError, match="specmon-band.*unknown keys.*querry"):
        dashboards.validate(bad)
    bad = copy.deepcopy(boards["specmon-band"])
    bad["panels"][0]["targets"][0]["query"] = ""
    with pytest.raises(ValueError, match="non-empty"):
        dashboards.validate(bad)


def test_no_dashboard_names_anything_the_vocabulary_lacks(boards):
    for board in boards.values():
        assert lint.check_names(board) == []
        assert len(list(lint.queries(board))) >= 4


@pytest.mark.parametrize(
    "old,new,expect",
    [
        ('"power_dbfs"', '"power_dbm"', "'power_dbm' is neither a field nor a tag"),
        ('FROM "band_spectrum"', 'FROM "band_spectra"', "measurement 'band_spectra' is not in the vocabulary"),
        ('"station" =~', '"site" =~', "'site' is neither"),
        ('FROM "band_spectrum"', "FROM band_spectrum", "must be double-quoted"),
    ],
)
def test_lint_fails_when_a_panel_drifts_from_the_vocabulary(boards, old, new, expect):
    bad = copy.deepcopy(boards["specmon-band"])
    target = next(p for p in bad["panels"] if p["title"] == "Waterfall")["targets"][0]
    assert old in target["query"]
    target["query"] = target["query"].replace(old, new)
    problems = lint.check_names(bad)
    assert problems and expect in problems[0] and "specmon-band: panel 'Waterfall'" in problems[0]


def test_lint_checks_template_variable_tag_keys(boards):
    bad = copy.deepcopy(boards["specmon-network"])
    var = next(v for v in bad["templating"]["list"] if v["name"] == "station")
    var["query"] = var["query"].replace('KEY = "station"', 'KEY = "stationid"')
    assert any("tag 'stationid'" in p for p in lint.check_names(bad))


def test_query_builder_refuses_names_the_vocabulary_lacks():
    with pytest.raises(ValueError, match="field 'power_dbm'"):
        queries.raw("band_spectrum", "power_dbm")
    with pytest.raises(ValueError, match="measurement 'spectrum'"):
        queries.raw("spectrum", "freq_hz")
    with pytest.raises(ValueError, match="tag 'licence'"):
        queries.agg("violation", "count", "case_id", group_tags=("licence",))
    with pytest.raises(ValueError, match="mixing aggregated and raw"):
        queries.Select("emission", (queries.Column("center_hz"), queries.Column("snr_db", "max")))
    with pytest.raises(ValueError, match="aggregate 'percentile'"):
        queries.agg("emission", "percentile", "snr_db")


def test_query_text_is_portable_influxql():
    sel = queries.Select("occupancy", (queries.Column("occupancy_pct", "mean", "occupancy_pct"),),
                         interval="$__interval", group_tags=("channel",), fill="none",
                         conditions=(queries.Condition("channel", "=", "145.5000"),))
    assert sel.text() == (
        'SELECT mean("occupancy_pct") AS "occupancy_pct" FROM "occupancy" WHERE $timeFilter AND '
        '"station" =~ /^$station$/ AND "band" =~ /^$band$/ AND "channel" = \'145.5000\' '
        'GROUP BY time($__interval), "channel" fill(none)'
    )
    assert sel.output_columns == ("time", "occupancy_pct")
    assert queries.Condition("reason", "=", "it's").text() == "\"reason\" = 'it\\'s'"


def test_units_come_from_the_vocabulary(boards):
    units = {u for m in MEASUREMENTS.values() for u in (f.unit for f in m.fields.values())}
    assert units <= set(UNIT_MAP), f"vocabulary units without a Grafana unit: {units - set(UNIT_MAP)}"
    text = json.dumps(boards)
    for unit in ("hertz", "suffix: dBFS", "percent", '"s"', "celsius"):
        assert unit in text


def test_violations_stand_out_in_red(boards):
    cases = next(p for p in boards["specmon-violations"]["panels"] if p["type"] == "table")
    props = {o["matcher"]["options"]: o["properties"] for o in cases["fieldConfig"]["overrides"]}
    mapping = props["class"][0]["value"][0]["options"]
    assert mapping["unlicensed"]["color"] == "red" and mapping["licensed"]["color"] == "green"
    stat = boards["specmon-violations"]["panels"][0]
    steps = stat["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1] == {"value": 1, "color": "red"}
    link = props["case_id"][0]["value"][0]
    assert link["url"] == "${web_url}/cases/${__value.raw}"


def test_every_panel_queries_through_the_datasource_variable(boards):
    for board in boards.values():
        names = [v["name"] for v in board["templating"]["list"]]
        assert names[0] == "datasource" and "station" in names
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
            for t in panel["targets"]:
                assert t["rawQuery"] is True and t["datasource"]["uid"] == "${datasource}"


def test_export_writes_a_provisioning_folder(tmp_path, boards, capsys):
    from station.cli import main

    out = tmp_path / "grafana"
    assert main(["dashboards", "export", str(out), "--influx-url", "http://influx:8086", "--database", "mon"]) == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "alerting/specmon-alerts.yaml",
        "dashboards/specmon.yaml",
        "dashboards/specmon/specmon-band.json",
        "dashboards/specmon/specmon-health.json",
        "dashboards/specmon/specmon-network.json",
        "dashboards/specmon/specmon-violations.json",
        "datasources/specmon-influxdb.yaml",
    ]
    assert json.loads((out / "dashboards/specmon/specmon-band.json").read_text()) == boards["specmon-band"]
    ds = (out / "datasources/specmon-influxdb.yaml").read_text()
    assert '"url": "http://influx:8086"' in ds and '"dbName": "mon"' in ds
    assert '"uid": "specmon-influxql"' in ds and '"uid": "specmon-influxql-token"' in ds
    assert '"version": "InfluxQL"' in ds and '"httpHeaderValue1": "Token $__env{SPECMON_INFLUX_TOKEN}"' in ds
    provider = (out / "dashboards/specmon.yaml").read_text()
    assert '"path": "/etc/grafana/provisioning/dashboards/specmon"' in provider
    # a second export into the same folder gives the same bytes (stable UIDs, sorted keys)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["dashboards", "export", str(out)]) == 0
    assert (out / "dashboards/specmon/specmon-health.json").read_bytes() == before[out / "dashboards/specmon/specmon-health.json"]


def test_yaml_is_valid_block_yaml_of_json_scalars():
    from dashboards.provisioning import to_yaml

    text = to_yaml({"a": 1, "b": [{"c": "x: y", "d": {}}, 2], "e": {"f": True}})
    assert text == '"a": 1\n"b":\n  - "c": "x: y"\n    "d": {}\n  - 2\n"e":\n  "f": true\n'


def test_export_errors_are_one_line(tmp_path, capsys):
    from station.cli import main

    f = tmp_path / "file"
    f.write_text("x")
    assert main(["dashboards", "export", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "exists and is not a folder" in err
    assert main(["dashboards", "export", str(tmp_path / "o"), "--influx-url", "influx:8086"]) == 2
    assert "expected http://host:port" in capsys.readouterr().err


def test_committed_provisioning_folder_is_up_to_date(tmp_path):
    """dashboards/provisioning/ is `specmon dashboards export dashboards/provisioning` with the defaults;
    regenerate it with that command after changing a dashboard."""
    from pathlib import Path

    from station.cli import main

    committed = Path(dashboards.__file__).parent / "provisioning"
    assert main(["dashboards", "export", str(tmp_path)]) == 0
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    stored = {p.relative_to(committed): p.read_text() for p in committed.rglob("*") if p.is_file()}
    assert sorted(stored) == sorted(fresh)
    stale = [str(k) for k in fresh if fresh[k] != stored[k]]
    assert not stale, f"stale: {stale}; run `specmon dashboards export dashboards/provisioning`"


def test_waterfall_shows_negative_dbfs_levels(boards):
    """Grafana's heatmap hides cells at or below filterValues.le; levels are negative dBFS, so the bound must
    sit far below any real level (the SDK default of 1e-9 would blank the waterfall)."""
    heat = next(p for p in boards["specmon-band"]["panels"] if p["type"] == "heatmap")
    assert heat["options"]["calculate"] is False
    assert heat["options"]["filterValues"]["le"] <= -300
    assert heat["options"]["yAxis"]["unit"] == "hertz" and heat["options"]["cellValues"]["unit"] == "suffix: dBFS"


def test_every_dashboard_module_is_registered():
    """A module of dashboards/ with a build() function is a dashboard and must be in REGISTRY."""
    import importlib
    import pkgutil

    found = set()
    for info in pkgutil.iter_modules(dashboards.__path__):
        module = importlib.import_module(f"dashboards.{info.name}")
        if callable(getattr(module, "build", None)):
            found.add(module.__name__)
    assert found == set(dashboards.REGISTRY.values())


def test_lint_ignores_quotes_inside_string_and_regex_literals():
    ok = 'SELECT "center_hz" AS "f" FROM "violation" WHERE "reason" = \'a "quoted" word\' AND "station" =~ /^"x"$/'
    assert lint.check_query(ok) == []
    bad = ok.replace('"reason"', '"why"')
    assert lint.check_query(bad) == ["violation: 'why' is neither a field nor a tag in the vocabulary"]


def test_docs_list_every_dashboard_with_its_panel_count(boards):
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "DASHBOARDS.md").read_text()
    rows = dict(re.findall(r"^\| `(specmon-[a-z]+)` \| [^|]+ \| (\d+) \|$", doc, re.MULTILINE))
    assert rows == {uid: str(len(b["panels"])) for uid, b in boards.items()}
