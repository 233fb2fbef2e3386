"""Violations: the open cases an inspector has to act on.

Questions it answers: How many violation cases are open, of which class? For each: which transmitter
(frequency, bandwidth, level), which licence(s) were considered and why it fails, when it was first and last
seen, from which stations, and where its evidence package is? When did violations happen (timeline)?

"Open" means: latest state not 'closed', whatever the time range (the counts); the table lists the open cases
observed in the range. A case's rows are grouped by
``case_id`` in Grafana (case_id is a field, not a tag, to keep cardinality bounded).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards import panels
from dashboards.common import (
    CLASS_COLOURS, STATE_COLOURS, new_dashboard, station_variable,
)
from dashboards.queries import Column, Condition, Select

TITLE = "specmon · Violations"

#: textbox variable: the station's web app (docs/WEB.md); a case's page with its evidence is <this>/cases/<case id>
#: (``specmon dashboards export --web-url`` sets the default)
WEB_VARIABLE = "web_url"
WEB_DEFAULT = "http://localhost:8088"


#: case id, state and class of every observation in the range (newest first, capped); Grafana reduces them to
#: one row per case with its latest state and keeps the open ones (see :func:`open_case_steps`)
CASE_STATES = Select(
    "violation",
    (Column("case_id"), Column("state")),
    by_band=False,
    group_tags=("class",),
    order_desc=True,
    limit=50_000,
    all_time=True,  # a case opened last month and still open is open today, whatever range is shown
)
#: every observation of every case in the range; grouped per case_id in Grafana
CASES = Select(
    "violation",
    tuple(Column(f) for f in ("case_id", "track_id", "state", "center_hz", "bandwidth_hz", "power_dbfs", "snr_db",
                              "licence", "reason", "indicative"))
    + (Column("offset_hz", alias="offset_khz", scale=1000.0),),  # from the assigned channel, in kHz
    by_band=False,
    group_tags=("class", "station"),
    order_desc=True,
    limit=50_000,
)
#: observations per class and interval (timeline)
TIMELINE = Select(
    "violation",
    (Column("case_id", "count_distinct", "cases"),),
    by_band=False,
    interval="$__interval",
    group_tags=("class",),
    fill="none",
)


OLDEST_FIRST = {"sort": [{"field": "Time", "desc": False}]}
CLOSED = {"type": "exclude", "match": "any",
          "filters": [{"fieldName": "state", "config": {"id": "equal", "options": {"value": "closed"}}}]}


def open_case_steps() -> list[model.DataTransformerConfig]:
    """Transformations turning CASE_STATES rows into one row per open case: class, state (latest)."""
    return [
        panels.transformation("sortBy", OLDEST_FIRST),
        panels.group_by("case_id", {"class": "lastNotNull", "state": "lastNotNull"}),
        panels.rename({"class (lastNotNull)": "class", "state (lastNotNull)": "state"}),
        panels.transformation("filterByValue", CLOSED),
    ]


def open_cases_stat():
    p = panels.stat_panel("Open cases", "Violation cases whose latest state is not 'closed', whatever the time "
                          "range (a case seen last month and never closed is still open).", CASE_STATES, unit="short", w=6, h=6,
                          calc="count")
    p = p.reduce_options(panels.cb.ReduceDataOptions().calcs(["count"]).values(False).fields("/^case_id$/"))
    for step in open_case_steps():
        p = p.with_transformation(step)
    return p.no_value("0")


def open_by_class_bars(w: int = 18, h: int = 6):
    p = panels.bar_gauge("Open cases by class", "Open cases per violation class (latest state not 'closed'), "
                         "whatever the time range.",
                         CASE_STATES, unit="short", w=w, h=h, calc="lastNotNull")
    p = p.reduce_options(panels.cb.ReduceDataOptions().values(True).calcs([]).fields("/^case_id \\(count\\)$/"))
    for step in open_case_steps():
        p = p.with_transformation(step)
    return (p.with_transformation(panels.group_by("class", {"case_id": "count"}))
            .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "class"}]}))
            .no_value("0"))


def cases_table():
    last = "lastNotNull"
    calcs: dict[str, str | list[str]] = {
        "Time": ["min", "max"], "class": last, "state": last, "center_hz": last, "bandwidth_hz": last,
        "power_dbfs": "max", "snr_db": last, "licence": last, "reason": last, "indicative": last,
        "station": "uniqueValues", "track_id": last, "offset_khz": last,
    }
    names = {f"{k} ({v})": k for k, v in calcs.items() if isinstance(v, str)}
    names["Time (min)"] = "first seen"
    names["Time (max)"] = "last seen"
    names["power_dbfs (max)"] = "max power_dbfs"
    names["station (uniqueValues)"] = "stations"
    order = ["case_id", "class", "state", "center_hz", "offset_khz", "bandwidth_hz", "max power_dbfs", "snr_db", "licence",
             "reason", "first seen", "last seen", "stations", "indicative", "track_id"]
    link = model.DashboardLink(title="Case page and evidence (station web app)",
                               url=f"${{{WEB_VARIABLE}}}/cases/${{__value.raw}}", target_blank=True)
    return (
        panels.table_panel(
            "Open cases",
            "One row per violation case observed in the range whose latest state is not 'closed': class, "
            "transmitter (centre, offset from the assigned channel in kHz where an assignment applies), licence(s) considered and the reason, first/last seen, observing stations. Click the "
            "case id for its page in the station's web app: evidence, audio, bundle.", CASES, h=12)
        # the query reads newest first (so LIMIT keeps the newest); reducers need oldest first
        .with_transformation(panels.transformation("sortBy", OLDEST_FIRST))
        .with_transformation(panels.group_by("case_id", calcs))
        .with_transformation(panels.rename(names, order=order))
        .with_transformation(panels.transformation("filterByValue", CLOSED))
        .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "last seen", "desc": True}]}))
        .override_by_name("class", panels.colour_text_override(CLASS_COLOURS))
        .override_by_name("state", panels.colour_text_override(STATE_COLOURS))
        .override_by_name("center_hz", panels.unit_props("violation", "center_hz"))
        .override_by_name("bandwidth_hz", panels.unit_props("violation", "bandwidth_hz"))
        .override_by_name("offset_khz", panels.khz_props(3)
                          + [model.DynamicConfigValue(id_val="displayName", value="offset from assignment")])
        .override_by_name("max power_dbfs", panels.unit_props("violation", "power_dbfs"))
        .override_by_name("snr_db", panels.unit_props("violation", "snr_db"))
        .override_by_name("case_id", [model.DynamicConfigValue(id_val="links", value=[link])])
    )


def build() -> model.Dashboard:
    """The Violations dashboard model (UID ``specmon-violations``)."""
    evidence = (
        dash.TextBoxVariable(WEB_VARIABLE)
        .label("Station web app URL")
        .description("The station's web app (docs/WEB.md); a case's page with its evidence is <this>/cases/<case_id>")
        .default_value(WEB_DEFAULT)
    )
    board = (
        new_dashboard("violations", TITLE, "Open violation cases with class, licence, first/last seen, observing "
                      "stations and evidence links; timeline of violations per class.")
        .with_variable(station_variable())
        .with_variable(evidence)
        .with_panel(open_cases_stat())
        .with_panel(open_by_class_bars())
        .with_panel(cases_table())
        .with_panel(
            panels.time_series("Timeline", "Distinct violation cases observed per class and interval.", TIMELINE,
                               unit="short", alias="$tag_class", w=24, h=9, bars=True, stacked=True)
            .overrides(panels.colour_by_name(CLASS_COLOURS))
        )
    )
    return board.build()
