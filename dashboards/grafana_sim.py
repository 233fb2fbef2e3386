"""What Grafana does to a panel's InfluxQL before and after InfluxDB runs it, for tests without a Grafana.

:func:`expand` interpolates a query as Grafana's InfluxDB datasource does: ``$timeFilter`` ->
``time >= <from>ms and time <= <to>ms``; ``$__interval`` / ``$__interval_ms`` from the range, the panel's
max data points and the datasource's minimum interval (Grafana's ``rangeutil.calculateInterval`` rounding);
multi-value / All variables -> regex-escaped ``(a|b)`` alternations, single values regex-escaped when used in
a regex. :func:`series_to_frame` flattens an InfluxDB reply as the datasource's table format does, and
:func:`group_by` / :func:`grouping_to_matrix` reproduce the two Grafana transformations the dashboards rely on.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

#: Grafana's interval rounding table (``rangeutil.roundInterval``): (upper bound ms, result ms)
_ROUND = [
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
    (2700000, 1800000), (5400000, 3600000), (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
    (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000),
]


def round_interval_ms(interval_ms: float) -> int:
    for bound, result in _ROUND:
        if interval_ms < bound:
            return result
    return 31536000000


def interval_text(ms: int) -> str:
    """Grafana's ``secondsToHms``-like text InfluxQL accepts (``10s``, ``5m``, ``1h``, ``500ms``)."""
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def calculate_interval_ms(from_ms: int, to_ms: int, max_data_points: int = 1000, min_interval_ms: int = 10000) -> int:
    raw = (to_ms - from_ms) / max(1, max_data_points)
    return max(round_interval_ms(raw), min_interval_ms)


_REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|{}\[\]/])")


def regex_escape(value: str) -> str:
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def expand(query: str, *, from_ms: int, to_ms: int, variables: dict[str, list[str]],
           max_data_points: int = 1000, min_interval_ms: int = 10000) -> str:
    """Interpolate Grafana macros and template variables into one InfluxQL text.

    ``variables``: name -> selected values (a list of one for a single value; all values for "All").
    Raises ``KeyError`` naming a ``$variable`` that is used but not given.
    """
    interval_ms = calculate_interval_ms(from_ms, to_ms, max_data_points, min_interval_ms)
    text = query.replace("$timeFilter", f"time >= {from_ms}ms and time <= {to_ms}ms")
    text = text.replace("$__interval_ms", str(interval_ms)).replace("$__interval", interval_text(interval_ms))

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        if name not in variables:
            raise KeyError(f"query uses ${name}, which no variable defines: {query}")
        values = [regex_escape(v) for v in variables[name]]
        return values[0] if len(values) == 1 else "(" + "|".join(values) + ")"

    text = re.sub(r"\$\{(\w+)\}|\$(?!__)(\w+)", sub, text)
    if "$" in text.replace("$/", "").replace("^$", ""):
        leftover = re.findall(r"\$\w+", text)
        if leftover:
            raise KeyError(f"unexpanded macros {leftover} in {text}")
    return text


def series_to_frame(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """InfluxDB /query reply -> rows (Grafana table format: tags of GROUP BY become columns, time -> Time)."""
    rows: list[dict[str, Any]] = []
    for result in reply.get("results", []):
        if "error" in result:
            raise ValueError(result["error"])
        for series in result.get("series", []):
            for values in series.get("values", []):
                row = {("Time" if c == "time" else c): v for c, v in zip(series["columns"], values)}
                row.update(series.get("tags", {}))
                rows.append(row)
    return rows


_REDUCERS = {
    "lastNotNull": lambda vs: next((v for v in reversed(vs) if v is not None), None),
    "last": lambda vs: vs[-1],
    "max": lambda vs: max(v for v in vs if v is not None),
    "min": lambda vs: min(v for v in vs if v is not None),
    "mean": lambda vs: sum(v for v in vs if v is not None) / max(1, sum(v is not None for v in vs)),
    "uniqueValues": lambda vs: sorted({v for v in vs if v is not None}),
    "count": len,
}


def group_by(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "groupBy" transformation. Raises ``KeyError`` for a configured field the rows lack."""
    fields = options["fields"]
    keys = [k for k, f in fields.items() if f.get("operation") == "groupby"]
    for name in fields:
        if rows and name not in rows[0]:
            raise KeyError(f"groupBy names field {name!r}; the data has {sorted(rows[0])}")
    groups: OrderedDict[tuple, list[dict[str, Any]]] = OrderedDict()
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for key, members in groups.items():
        row = dict(zip(keys, key))
        for name, f in fields.items():
            if f.get("operation") != "aggregate":
                continue
            for calc in f["aggregations"]:
                row[f"{name} ({calc})"] = _REDUCERS[calc]([m.get(name) for m in members])
        out.append(row)
    return out


def grouping_to_matrix(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "groupingToMatrix" transformation (first column named ``<row>\\<column>``)."""
    col, row_f, val = options["columnField"], options["rowField"], options["valueField"]
    for name in (col, row_f, val):
        if rows and name not in rows[0]:
            raise KeyError(f"groupingToMatrix names field {name!r}; the data has {sorted(rows[0])}")
    columns = list(OrderedDict.fromkeys(r[col] for r in rows))
    matrix: OrderedDict[Any, dict[str, Any]] = OrderedDict()
    for r in rows:
        matrix.setdefault(r[row_f], {f"{row_f}\\{col}": r[row_f]})[str(r[col])] = r[val]
    return [{**{str(c): None for c in columns}, **m} for m in matrix.values()]


def sort_by(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "sortBy" transformation (first sort entry; nulls last)."""
    spec = options["sort"][0]
    name, desc = spec["field"], bool(spec.get("desc", False))
    if rows and name not in rows[0]:
        raise KeyError(f"sortBy names field {name!r}; the data has {sorted(rows[0])}")
    present = [r for r in rows if r.get(name) is not None]
    missing = [r for r in rows if r.get(name) is None]
    return sorted(present, key=lambda r: r[name], reverse=desc) + missing


def apply(rows: list[dict[str, Any]], transformations: list[dict[str, Any]], *,
          until: str | None = None) -> list[dict[str, Any]]:
    """Apply the emulated transformations in order (stopping after the first ``until`` id when given);
    ``convertFieldType`` and ``filterByValue`` only change presentation and
    are passed through."""
    handlers = {"groupBy": group_by, "groupingToMatrix": grouping_to_matrix, "sortBy": sort_by,
                "formatTime": format_time, "organize": organize, "filterByValue": filter_by_value}
    for tr in transformations:
        fn = handlers.get(tr["id"])
        if fn is not None:
            rows = fn(rows, tr["options"])
        if until is not None and tr["id"] == until:
            break
    return rows


_MOMENT = {"YYYY": "%Y", "MM": "%m", "DD": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


def format_time(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "formatTime" transformation for the moment.js tokens YYYY MM DD HH mm ss (UTC); the time
    field holds epoch milliseconds."""
    from datetime import datetime, timezone

    name = options["timeField"]
    fmt = options["outputFormat"]
    for token, code in _MOMENT.items():
        fmt = fmt.replace(token, code)
    if rows and name not in rows[0]:
        raise KeyError(f"formatTime names field {name!r}; the data has {sorted(rows[0])}")
    return [{**r, name: datetime.fromtimestamp(r[name] / 1000, timezone.utc).strftime(fmt)} for r in rows]


def organize(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "organize" transformation: drop ``excludeByName`` fields, apply ``renameByName``."""
    names = options.get("renameByName", {})
    drop = {k for k, v in options.get("excludeByName", {}).items() if v}
    if rows:
        missing = (set(names) | drop) - set(rows[0])
        if missing:
            raise KeyError(f"organize names fields {sorted(missing)} the data lacks; it has {sorted(rows[0])}")
    out = [{names.get(k, k): v for k, v in r.items() if k not in drop} for r in rows]
    order = options.get("indexByName", {})
    if out and set(order) - set(out[0]):
        raise KeyError(f"organize orders fields {sorted(set(order) - set(out[0]))} the data lacks")
    return out


def filter_by_value(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[dict[str, Any]]:
    """Grafana's "filterByValue" transformation for the ``equal`` matcher (include/exclude, any/all)."""
    def hit(r: dict[str, Any], f: dict[str, Any]) -> bool:
        if f["config"]["id"] != "equal":
            raise NotImplementedError(f"filterByValue matcher {f['config']['id']!r} is not emulated")
        if rows and f["fieldName"] not in rows[0]:
            raise KeyError(f"filterByValue names field {f['fieldName']!r}; the data has {sorted(rows[0])}")
        return r.get(f["fieldName"]) == f["config"]["options"]["value"]

    combine = any if options.get("match", "any") == "any" else all
    include = options.get("type", "include") == "include"
    return [r for r in rows if combine(hit(r, f) for f in options["filters"]) == include]


# ---- alert rules ---------------------------------------------------------------------------------------------

_ALERT_REDUCERS = {
    "last": lambda xs: xs[-1],
    "max": max,
    "min": min,
    "sum": sum,
    "count": len,
    "mean": lambda xs: sum(xs) / len(xs),
}


def evaluate_rule(rule: dict[str, Any], run_query, now_ms: int) -> dict[tuple[tuple[str, str], ...], tuple[float, bool]]:
    """Evaluate one provisioned alert rule (:mod:`dashboards.alerts` shape) as Grafana's alerting does, once.

    ``run_query(text) -> reply`` runs InfluxQL (``epoch=ms``). The query (refId A) runs over its relative time
    range ending at ``now_ms`` (``$timeFilter`` expanded); each returned series is one alert instance labelled
    by its tags; the reduce expression (B, mode dropNN: nulls dropped) turns its values into one number and the
    threshold (C) decides. Returns ``{labels: (value, firing)}``; an empty dict is Grafana's "no data".
    """
    data = {d["refId"]: d for d in rule["data"]}
    query, reduce, threshold = data["A"], data["B"]["model"], data["C"]["model"]
    rng = query["relativeTimeRange"]
    text = expand(query["model"]["query"], from_ms=now_ms - 1000 * rng["from"], to_ms=now_ms - 1000 * rng["to"],
                  variables={})
    reply = run_query(text)
    result = reply["results"][0]
    if "error" in result:
        raise ValueError(f"alert rule {rule['uid']}: {result['error']}\n{text}")
    out = {}
    evaluator = threshold["conditions"][0]["evaluator"]
    for s in result.get("series", []):
        labels = tuple(sorted((s.get("tags") or {}).items()))
        values = [row[1] for row in s["values"] if row[1] is not None]
        if not values:
            continue
        value = float(_ALERT_REDUCERS[reduce["reducer"]](values))
        limit = evaluator["params"][0]
        firing = value > limit if evaluator["type"] == "gt" else value < limit
        out[labels] = (value, firing)
    return out
