"""Helpers for the tests that run the dashboards' queries on a real InfluxDB 1.x as Grafana does."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


def grafana_query(influx, db: str, text: str) -> dict:
    """Run one InfluxQL query on database ``db`` as Grafana's datasource does (GET /query, ``epoch=ms``);
    the decoded JSON reply."""
    qs = urllib.parse.urlencode({"q": text, "db": db, "epoch": "ms"})
    with urllib.request.urlopen(f"{influx.url}/query?{qs}", timeout=30) as resp:
        return json.loads(resp.read())


def resolve_variables(influx, db: str, board: dict, from_ms: int, to_ms: int) -> dict[str, list[str]]:
    """Resolve the board's template variables like Grafana: query variables run their (expanded) query over
    [from_ms, to_ms]; all values of a multi-value variable, the first (sorted) of a single-value one."""
    from dashboards import grafana_sim

    values: dict[str, list[str]] = {}
    for var in board["templating"]["list"]:
        if var["type"] == "datasource":
            continue
        if var["type"] == "textbox":
            values[var["name"]] = [var["query"]]
            continue
        text = grafana_sim.expand(var["query"], from_ms=from_ms, to_ms=to_ms, variables=values)
        reply = grafana_query(influx, db, text)
        found = sorted({row[1] for s in reply["results"][0].get("series", []) for row in s["values"]})
        if var.get("regex") == "/^(?!all$).*/":
            found = [v for v in found if v != "all"]
        assert found, f"{board['uid']}: variable ${var['name']} ({text}) found no values"
        values[var["name"]] = found if var.get("multi") else found[:1]
    return values
