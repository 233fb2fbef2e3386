"""Small panel factories on top of grafana-foundation-sdk builders, shared by the four dashboards.

Each returns an SDK builder (so callers can chain more settings) already bound to the $datasource, with
a title, description, size and target(s). Transformation helpers return the Grafana transformation JSON
(``DataTransformerConfig``) used by the table, waterfall and spectrum panels.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import (  # noqa: F401 (cb re-exported)
    bargauge, common as cb, stat, statetimeline, table, timeseries,
)
from grafana_foundation_sdk.models import common as cm, dashboard as model

from dashboards.common import DATASOURCE, grafana_unit, target, thresholds
from dashboards.influxql import ResultFormat
from dashboards.queries import Select, unit_of


def _sized(panel, title: str, description: str, w: int, h: int):
    return panel.title(title).description(description).datasource(DATASOURCE).span(w).height(h)


def time_series(title: str, description: str, select: Select, *, unit: str, alias: str | None = None,
                w: int = 12, h: int = 8, bars: bool = False, stacked: bool = False) -> timeseries.Panel:
    """Lines (or bars) of an aggregated query grouped by time."""
    p = _sized(timeseries.Panel(), title, description, w, h).with_target(target(select, alias=alias)).unit(unit)
    p = p.legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.TABLE).placement(cm.LegendPlacement.BOTTOM)
                 .show_legend(True).calcs(["lastNotNull", "max"]))
    if bars:
        p = p.draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80).line_width(1)
    else:
        p = p.line_width(1).fill_opacity(10).show_points(cm.VisibilityMode.NEVER)
    if stacked:
        p = p.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
    return p


def alarm_when_nonzero(panel: timeseries.Panel) -> timeseries.Panel:
    """Colour a counter panel from thresholds: green at 0, red from 1 (a problem stands out at a glance)."""
    from grafana_foundation_sdk.builders import dashboard as dash

    return (
        panel.thresholds(thresholds((None, "green"), (1, "red")))
        .color_scheme(dash.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
    )


def limit_lines(panel: timeseries.Panel, *steps: tuple[float | None, str]) -> timeseries.Panel:
    """Thresholds drawn as dashed lines on a time series (e.g. CPU 80 % orange, 95 % red)."""
    return panel.thresholds(thresholds(*steps)).thresholds_style(
        cb.GraphThresholdsStyleConfig().mode(cm.GraphThresholdsStyleMode.DASHED))


def _reduced(panel, title: str, description: str, select: Select, *, unit: str, alias: str | None, w: int, h: int,
             steps, calc: str):
    """A panel that reduces each series to one value (``calc``), in ``unit``, coloured by the threshold ``steps``."""
    return (
        _sized(panel, title, description, w, h)
        .with_target(target(select, alias=alias))
        .unit(unit)
        .thresholds(thresholds(*steps))
        .reduce_options(cb.ReduceDataOptions().calcs([calc]).values(False))
    )


def stat_panel(title: str, description: str, select: Select, *, unit: str, alias: str | None = None,
               w: int = 6, h: int = 5, steps=((None, "green"), (1, "red")), calc: str = "lastNotNull") -> stat.Panel:
    """A big number, coloured by thresholds (default: green at 0, red from 1, for counts of problems)."""
    return (
        _reduced(stat.Panel(), title, description, select, unit=unit, alias=alias, w=w, h=h, steps=steps, calc=calc)
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
    )


def bar_gauge(title: str, description: str, select: Select, *, unit: str, alias: str | None = None,
              w: int = 8, h: int = 8, steps=((None, "green"), (1, "red")), calc: str = "lastNotNull",
              max_value: float | None = None) -> bargauge.Panel:
    p = (
        _reduced(bargauge.Panel(), title, description, select, unit=unit, alias=alias, w=w, h=h, steps=steps,
                 calc=calc)
        .display_mode(cm.BarGaugeDisplayMode.GRADIENT)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .min(0)
    )
    if max_value is not None:
        p = p.max(max_value)
    return p


def state_timeline(title: str, description: str, select: Select, *, alias: str, mappings: list, w: int,
                   h: int) -> statetimeline.Panel:
    """States over time, one row per series, coloured by the value ``mappings``; equal neighbours merged."""
    return (
        _sized(statetimeline.Panel(), title, description, w, h)
        .with_target(target(select, alias=alias))
        .mappings(mappings)
        .merge_values(True)
        .show_value(cm.VisibilityMode.AUTO)
    )


def table_panel(title: str, description: str, select: Select, *, w: int = 24, h: int = 10) -> table.Panel:
    return _sized(table.Panel(), title, description, w, h).with_target(target(select, fmt=ResultFormat.TABLE))


#: decimals of Hz fields after Grafana scales them (``hertz``: Hz, kHz, MHz, GHz): a centre frequency to 0.1 kHz
#: at MHz (106.9001 MHz: a 1.2 kHz offset from the channel is visible, Grafana's automatic decimals showed
#: "107 MHz"), widths to 0.1 kHz (11.0 kHz)
FREQUENCY_DECIMALS = {"center_hz": 4, "peak_hz": 4, "channel_hz": 4, "f_lo_hz": 4, "f_hi_hz": 4}
WIDTH_DECIMALS = 1


def unit_props(measurement: str, field: str) -> list[model.DynamicConfigValue]:
    """Override properties giving a table column the Grafana unit of a vocabulary field (and, for frequencies,
    the decimals that keep kHz offsets readable)."""
    props = [model.DynamicConfigValue(id_val="unit", value=grafana_unit(measurement, field))]
    if unit_of(measurement, field) == "Hz":
        decimals = FREQUENCY_DECIMALS.get(field, WIDTH_DECIMALS)
        props.append(model.DynamicConfigValue(id_val="decimals", value=decimals))
    return props


def khz_props(decimals: int = 3) -> list[model.DynamicConfigValue]:
    """A column already in kHz (a scaled query column, e.g. the offset from the assigned channel)."""
    return [model.DynamicConfigValue(id_val="unit", value="suffix: kHz"),
            model.DynamicConfigValue(id_val="decimals", value=decimals)]


def colour_text_override(colours: dict[str, str]) -> list[model.DynamicConfigValue]:
    """Table cell shown with coloured background from value mappings (e.g. class 'unlicensed' red)."""
    from dashboards.common import value_colours

    return [
        model.DynamicConfigValue(id_val="mappings", value=value_colours(colours)),
        model.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"}),
    ]


def colour_by_name(colours: dict[str, str]) -> list:
    """Field overrides giving series named after a class (alias ``$tag_class``) their fixed colour."""
    from grafana_foundation_sdk.builders import dashboard as dash

    return [
        dash.DashboardFieldConfigSourceOverrides()
        .matcher(model.MatcherConfig(id_val="byName", options=name))
        .properties([model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})])
        for name, colour in colours.items()
    ]


def transformation(id_: str, options: dict) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(id_val=id_, options=options)


def group_by(key: str, calcs: dict[str, str | list[str]], keep: tuple[str, ...] = ()) -> model.DataTransformerConfig:
    """Grafana "Group by" transformation: one row per ``key`` value; ``calcs`` field -> reducer id(s).

    Grafana names the outputs ``"<field> (<reducer>)"``."""
    fields: dict[str, dict] = {key: {"operation": "groupby"}}
    for name in keep:
        fields[name] = {"operation": "groupby"}
    for name, calc in calcs.items():
        fields[name] = {"operation": "aggregate", "aggregations": [calc] if isinstance(calc, str) else list(calc)}
    return transformation("groupBy", {"fields": fields})


def rename(names: dict[str, str], order: list[str] | None = None, hide: tuple[str, ...] = ()) -> model.DataTransformerConfig:
    """Grafana "Organize fields" transformation: rename, order and hide columns."""
    opts: dict = {"renameByName": names, "excludeByName": {n: True for n in hide}}
    if order:
        opts["indexByName"] = {n: i for i, n in enumerate(order)}
    return transformation("organize", opts)
