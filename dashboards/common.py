"""Pieces every specmon dashboard shares: datasource and template variables, units, colours, targets.

Units come from the vocabulary's field units (:func:`grafana_unit`), so a panel shows Hz, dBFS, %, s exactly as
the writer stores them. Colours: violations and unlicensed emissions are red everywhere; licensed green;
exempt blue; other compliance problems orange (see :data:`CLASS_COLOURS`).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards.influxql import PLUGIN_TYPE, InfluxQLQuery, ResultFormat, register
from dashboards.queries import STATION_FILTER, Select, tag_values, unit_of

#: stable UIDs of the dashboards (URLs /d/<uid> and pushes depend on them: never change)
UIDS = {
    "network": "specmon-network",
    "band": "specmon-band",
    "violations": "specmon-violations",
    "health": "specmon-health",
}

#: stable UIDs of the provisioned datasources
DATASOURCE_UID_V1 = "specmon-influxql"  # InfluxDB 1.x, InfluxQL, optional user/password
DATASOURCE_UID_TOKEN = "specmon-influxql-token"  # InfluxDB 2.x (v1 compatibility API) / 3.x, InfluxQL + token

#: every panel and variable queries the datasource picked in the $datasource variable
DATASOURCE = model.DataSourceRef(type_val=PLUGIN_TYPE, uid="${datasource}")

#: tag shared by all specmon dashboards (the dashboard links dropdown lists them)
TAG = "specmon"

#: vocabulary unit -> Grafana unit id ("suffix:" units are Grafana custom units)
UNIT_MAP = {
    "Hz": "hertz",
    "dBFS": "suffix: dBFS",
    "dBFS/Hz": "suffix: dBFS/Hz",
    "dBm": "dBm",
    "dBuV/m": "suffix: dB\u00b5V/m",
    "dB": "dB",
    "s": "s",
    "%": "percent",
    "ratio": "percentunit",
    "count": "short",
    "deg": "degree",
    "degC": "celsius",
    "m": "lengthm",
    "": "none",
}

RED, ORANGE, YELLOW, GREEN, BLUE, GREY = "red", "orange", "yellow", "green", "blue", "text"

#: compliance / violation class -> colour; anything not licensed/exempt is a problem and stands out
CLASS_COLOURS = {
    "licensed": GREEN,
    "exempt": BLUE,
    "unknown": GREY,
    "unlicensed": RED,
    "off_frequency": ORANGE,
    "excess_bandwidth": ORANGE,
    "expired": RED,
    "not_yet_valid": ORANGE,
    "exempt_nonconforming": ORANGE,
}

#: violation case state -> colour
STATE_COLOURS = {"new": RED, "confirmed": RED, "exported": ORANGE, "closed": GREEN}

#: receiver state -> colour
RECEIVER_COLOURS = {"ok": GREEN, "reopening": ORANGE, "failed": RED, "closed": GREY}  # closed: daemon stopped


def grafana_unit(measurement: str, field: str) -> str:
    """Grafana unit id for a vocabulary field (``KeyError`` for a unit with no mapping)."""
    return UNIT_MAP[unit_of(measurement, field)]


def target(select: Select, ref_id: str = "A", fmt: ResultFormat = ResultFormat.TIME_SERIES,
           alias: str | None = None) -> InfluxQLQuery:
    """An InfluxQL panel target from a vocabulary-checked :class:`Select`."""
    q = InfluxQLQuery(select.text()).ref_id(ref_id).format(fmt).datasource(DATASOURCE)
    if alias:
        q = q.alias(alias)
    return q


def value_colours(colours: dict[str, str]) -> list[model.ValueMapping]:
    """Value mappings that colour text cells/states (e.g. class 'unlicensed' red)."""
    options = {
        value: model.ValueMappingResult(text=value, color=colour, index=i)
        for i, (value, colour) in enumerate(colours.items())
    }
    return [model.ValueMap(options=options)]


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: ``(None, 'green'), (1, 'red')`` = green below 1, red from 1."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def datasource_variable() -> dash.DatasourceVariable:
    return (
        dash.DatasourceVariable("datasource")
        .label("InfluxDB")
        .type(PLUGIN_TYPE)
        .regex("/^specmon/")
        .current(model.VariableOption(text="specmon InfluxDB (InfluxQL)", value=DATASOURCE_UID_V1, selected=True))
        .description("specmon InfluxDB datasource: 1.x (user/password) or 2.x/3.x (token, InfluxQL)")
    )


def _all() -> model.VariableOption:
    return model.VariableOption(text="All", value="$__all", selected=True)


def station_variable() -> dash.QueryVariable:
    """$station: stations that reported health in the time range (multi-value, All)."""
    return (
        dash.QueryVariable("station")
        .label("Station")
        .datasource(DATASOURCE)
        .query(tag_values("station_health", "station"))
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .current(_all())
    )


def band_variable(measurement: str = "band_spectrum", *, multi: bool = True) -> dash.QueryVariable:
    """$band: bands of the selected stations (station-wide 'all' excluded)."""
    var = (
        dash.QueryVariable("band")
        .label("Band")
        .datasource(DATASOURCE)
        .query(tag_values(measurement, "band", STATION_FILTER))
        .regex("/^(?!all$).*/")
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(multi)
    )
    if multi:
        var = var.current(_all())
    return var


def new_dashboard(key: str, title: str, description: str) -> dash.Dashboard:
    """A dashboard with the stable UID for ``key``, the shared links, time settings and $datasource."""
    register()
    return (
        dash.Dashboard(title)
        .uid(UIDS[key])
        .description(description)
        .tags([TAG])
        .editable()
        .timezone("utc")
        .time("now-6h", "now")
        .refresh("1m")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(
            dash.DashboardLink("specmon")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .with_variable(datasource_variable())
    )
