"""Grafana alert rules as code (unified alerting, file provisioning), built from the stored-name vocabulary.

:func:`rules_document` returns the provisioning document (``apiVersion: 1``, ``groups`` -> ``rules``) that
``specmon dashboards export`` writes to ``alerting/specmon-alerts.yaml`` next to the datasources and dashboards.
Each rule is one InfluxQL query (``refId`` A, a :class:`dashboards.queries.Select`, so every measurement, field and
tag is checked against the vocabulary when the rule is built), a *reduce* expression (B) and a *threshold*
expression (C, the rule's condition). Alerts have no template variables: queries group by the ``station`` tag
(and ``class`` / ``band``), so each station (class, band) is its own alert instance with those labels.

Groups (folder ``specmon``, evaluated every minute):

``specmon-violations``
    ``specmon-new-case``: a violation case in state ``new`` (opened by the station, not yet confirmed by an
    operator) was observed in the last 10 minutes; one instance per station and class, the value is the number
    of such cases; links to the web app's case list filtered on state and class.
``specmon-health``
    ``specmon-station-silent``: the station wrote no station-wide health point in the current 5-minute bucket,
    for 5 minutes (a healthy station writes one every ``[run] health_interval``, 10 s by default);
    ``specmon-receiver-not-ok``: health points with ``receiver_state`` other than ok/closed (reopening, failed)
    within the last 3 minutes, for 5 minutes; ``specmon-spool-backlog``: the oldest spooled point is older than
    15 minutes (a sink has been refusing points that long; nothing is lost yet); ``specmon-store-degraded``:
    ``store_state`` is not ok (the station's disk refuses writes or is below its reserve: points go to memory
    and may be lost), or the station counted lost points; ``specmon-clock-unsynced``: ``clock_state`` unsynced
    for 15 minutes (timestamps of evidence at stake).

The rule UIDs are stable (silences, notification policies and links name them): never change them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboards.common import DATASOURCE_UID_V1, UIDS
from dashboards.influxql import PLUGIN_TYPE
from dashboards.queries import Column, Condition, Select

FOLDER_TITLE = "specmon"
#: Grafana's server-side expressions datasource
EXPR_UID = "__expr__"
INTERVAL = "1m"
WEB_DEFAULT = "http://localhost:8088"
DOCS_URL = "https://github.com/specmon/specmon/blob/main/docs/DASHBOARDS.md#alert-rules"

#: the provisioning keys every rule carries (the test checks them; Grafana refuses a rule missing one of the
#: first six)
RULE_KEYS = ("uid", "title", "condition", "data", "noDataState", "execErrState", "for", "labels", "annotations",
             "isPaused")
QUERY_KEYS = ("refId", "datasourceUid", "relativeTimeRange", "model")


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One alert rule: a vocabulary-checked query, how its series reduce to one number, the threshold.

    Parameters
    ----------
    uid : str
        Stable Grafana rule UID (<= 40 characters).
    title : str
        Rule title (unique within its folder).
    query : Select
        The InfluxQL query (``refId`` A). Its ``$timeFilter`` covers the last ``window_s`` seconds.
    window_s : int
        Relative time range of the query, seconds before the evaluation.
    reducer : str
        Grafana reduce function over each series (``last``, ``max``, ``sum``, ``count``, ``mean``, ``min``).
    op : str
        Threshold evaluator: ``gt`` or ``lt``.
    threshold : float
        Threshold value the reduced number is compared with.
    for_ : str
        How long the condition must hold before the alert fires (``0s`` fires at once).
    no_data : str
        ``noDataState``: ``OK`` when an empty reply means nothing is wrong, ``NoData``/``Alerting`` otherwise.
    summary, description : str
        Annotations; Grafana templates (``{{ $labels.station }}``, ``{{ $values.B }}``) allowed.
    labels : dict
        Extra labels (``severity``, ``specmon``).
    link : str
        Path on the web app (appended to the web URL) shown as the ``web_url`` annotation.
    """

    uid: str
    title: str
    query: Select
    window_s: int
    reducer: str
    op: str
    threshold: float
    for_: str
    no_data: str
    summary: str
    description: str
    labels: dict[str, str] = field(default_factory=dict)
    link: str = "/health"

    def __post_init__(self) -> None:
        if len(self.uid) > 40:
            raise ValueError(f"alert rule {self.uid!r}: Grafana rule UIDs are at most 40 characters")
        if self.op not in ("gt", "lt"):
            raise ValueError(f"alert rule {self.uid}: threshold op {self.op!r} is not gt or lt")
        if self.reducer not in ("last", "max", "min", "sum", "count", "mean"):
            raise ValueError(f"alert rule {self.uid}: reducer {self.reducer!r} is not a Grafana reduce function")
        if self.query.by_station or self.query.by_band:
            raise ValueError(f"alert rule {self.uid}: alert queries cannot use dashboard variables ($station/$band)")


def _health(columns, *, conditions=(), interval=None, fill=None, group=("station",), station_wide=True) -> Select:
    conds = (Condition("band", "=", "all"),) if station_wide else ()
    return Select("station_health", tuple(columns), by_station=False, by_band=False,
                  conditions=conds + tuple(conditions), interval=interval, fill=fill, group_tags=tuple(group))


#: the rules, per group
GROUPS: dict[str, tuple[AlertRule, ...]] = {
    "specmon-violations": (
        AlertRule(
            uid="specmon-new-case",
            title="New violation case",
            query=Select("violation", (Column("case_id", "count_distinct", "cases"),), by_station=False, by_band=False,
                         conditions=(Condition("state", "=", "new"),), group_tags=("station", "class")),
            window_s=600, reducer="last", op="gt", threshold=0, for_="0s", no_data="OK",
            summary="{{ $labels.station }}: {{ $values.B }} new {{ $labels.class }} case(s) on the air",
            description="Violation case(s) of class {{ $labels.class }} opened by station {{ $labels.station }} and "
                        "not yet confirmed by an operator were observed in the last 10 minutes. Open the case list "
                        "(web_url) to see the measurements and evidence; confirming or closing the case ends the alert.",
            labels={"severity": "critical", "specmon": "violation"},
            link="/cases?state=new&class={{ $labels.class }}",
        ),
    ),
    "specmon-health": (
        AlertRule(
            uid="specmon-station-silent",
            title="Station silent",
            query=_health((Column("uptime_s", "count", "health_points"),), interval="5m", fill="0"),
            window_s=86400, reducer="last", op="lt", threshold=1, for_="5m", no_data="Alerting",
            summary="{{ $labels.station }}: no health report for 5 minutes",
            description="Station {{ $labels.station }} wrote no station-wide health point in the current 5-minute "
                        "bucket for 5 minutes (it writes one every health_interval, 10 s by default): the daemon is "
                        "stopped, the station is offline or its sink cannot reach InfluxDB. A station silent for "
                        "more than 24 h leaves the query's range and its alert instance resolves as stale.",
            labels={"severity": "critical", "specmon": "health"},
        ),
        AlertRule(
            uid="specmon-receiver-not-ok",
            title="Receiver not ok",
            query=_health((Column("receiver_state", "count", "not_ok"),), station_wide=False,
                          conditions=(Condition("receiver_state", "!=", "ok"), Condition("receiver_state", "!=", "closed")),
                          group=("station", "band")),
            window_s=180, reducer="last", op="gt", threshold=0, for_="5m", no_data="OK",
            summary="{{ $labels.station }}: receiver not ok (band {{ $labels.band }})",
            description="Station {{ $labels.station }} reported its receiver reopening or failed "
                        "({{ $values.B }} health points in the last 3 minutes) for 5 minutes: sweeps are being lost.",
            labels={"severity": "critical", "specmon": "health"},
        ),
        AlertRule(
            uid="specmon-spool-backlog",
            title="Spool backlog",
            query=_health((Column("spool_age_s", "max", "spool_age_s"),)),
            window_s=300, reducer="last", op="gt", threshold=900, for_="5m", no_data="OK",
            summary="{{ $labels.station }}: points waiting in the spool for {{ $values.B }} s",
            description="The oldest point in station {{ $labels.station }}'s spool is older than 15 minutes: a sink "
                        "refuses or cannot be reached (see sink_state on the health page). Nothing is lost while the "
                        "spool has room.",
            labels={"severity": "warning", "specmon": "health"},
        ),
        AlertRule(
            uid="specmon-store-degraded",
            title="Store degraded",
            query=_health((Column("store_state", "count", "degraded"),),
                          conditions=(Condition("store_state", "!=", "ok"),)),
            window_s=300, reducer="last", op="gt", threshold=0, for_="2m", no_data="OK",
            summary="{{ $labels.station }}: store degraded",
            description="Station {{ $labels.station }} reports store_state not ok for 2 minutes: its disk refuses "
                        "writes or is below [store] reserve_mb; points wait in memory and are lost when it is full "
                        "(points_lost on the health page).",
            labels={"severity": "critical", "specmon": "health"},
        ),
        AlertRule(
            uid="specmon-points-lost",
            title="Points lost",
            query=_health((Column("points_lost", "increase", "points_lost"),), interval="1m"),
            window_s=600, reducer="sum", op="gt", threshold=0, for_="0s", no_data="OK",
            summary="{{ $labels.station }}: {{ $values.B }} points lost in 10 minutes",
            description="Station {{ $labels.station }} could not keep {{ $values.B }} points in the last 10 minutes "
                        "(memory queue full or refused with no spool): data is missing from InfluxDB.",
            labels={"severity": "critical", "specmon": "health"},
        ),
        AlertRule(
            uid="specmon-clock-unsynced",
            title="Clock unsynced",
            query=_health((Column("clock_state", "count", "unsynced"),),
                          conditions=(Condition("clock_state", "=", "unsynced"),)),
            window_s=300, reducer="last", op="gt", threshold=0, for_="15m", no_data="OK",
            summary="{{ $labels.station }}: clock not synchronised",
            description="Station {{ $labels.station }}'s clock has not been synchronised (chrony/timedatectl) for 15 "
                        "minutes: the times of its observations and evidence cannot be trusted to the second.",
            labels={"severity": "warning", "specmon": "health"},
        ),
    ),
}


def rules() -> list[AlertRule]:
    return [r for group in GROUPS.values() for r in group]


def rule_json(rule: AlertRule, *, datasource_uid: str = DATASOURCE_UID_V1, web_url: str = WEB_DEFAULT) -> dict[str, Any]:
    """One rule in Grafana's file-provisioning shape."""
    web = web_url.rstrip("/")
    query = {
        "refId": "A",
        "datasourceUid": datasource_uid,
        "relativeTimeRange": {"from": int(rule.window_s), "to": 0},
        "model": {
            "refId": "A",
            "datasource": {"type": PLUGIN_TYPE, "uid": datasource_uid},
            "query": rule.query.text(),
            "rawQuery": True,
            "resultFormat": "time_series",
            "intervalMs": 1000,
            "maxDataPoints": 43200,
        },
    }
    expr = {"type": "__expr__", "uid": EXPR_UID}
    reduce = {
        "refId": "B",
        "datasourceUid": EXPR_UID,
        "relativeTimeRange": {"from": 0, "to": 0},
        "model": {"refId": "B", "datasource": expr, "type": "reduce", "expression": "A", "reducer": rule.reducer,
                  "settings": {"mode": "dropNN"}},
    }
    threshold = {
        "refId": "C",
        "datasourceUid": EXPR_UID,
        "relativeTimeRange": {"from": 0, "to": 0},
        "model": {"refId": "C", "datasource": expr, "type": "threshold", "expression": "B",
                  "conditions": [{"type": "query", "evaluator": {"type": rule.op, "params": [rule.threshold]},
                                  "operator": {"type": "and"}, "query": {"params": ["C"]},
                                  "reducer": {"type": "last", "params": []}}]},
    }
    dashboard = UIDS["violations"] if rule.labels.get("specmon") == "violation" else UIDS["health"]
    return {
        "uid": rule.uid,
        "title": rule.title,
        "condition": "C",
        "data": [query, reduce, threshold],
        "noDataState": rule.no_data,
        "execErrState": "Error",
        "for": rule.for_,
        "labels": dict(rule.labels),
        "annotations": {
            "summary": rule.summary,
            "description": rule.description,
            "web_url": web + rule.link,
            "dashboard": f"/d/{dashboard}?var-station={{{{ $labels.station }}}}",
            "runbook_url": DOCS_URL,
        },
        "isPaused": False,
    }


def rules_document(*, datasource_uid: str = DATASOURCE_UID_V1, web_url: str = WEB_DEFAULT) -> dict[str, Any]:
    """The alert-rule provisioning document (``alerting/specmon-alerts.yaml``)."""
    return {
        "apiVersion": 1,
        "groups": [
            {"orgId": 1, "name": name, "folder": FOLDER_TITLE, "interval": INTERVAL,
             "rules": [rule_json(r, datasource_uid=datasource_uid, web_url=web_url) for r in group]}
            for name, group in GROUPS.items()
        ],
    }
