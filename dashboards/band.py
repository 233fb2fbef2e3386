"""Band view: what is on the air in one band of one station.

Questions it answers: How did the band look over time (waterfall)? What does it look like now, against the
max-hold and the noise floor? Which emissions were found, of which compliance class? How busy is each
channel per integration period (ITU-R SM.1880 occupancy)? Is the noise floor stable?

The band spectrum is stored as one point per decimated bin with ``freq_hz`` as a field (never a tag), so the
frequency axis is rebuilt in Grafana by transformations: the waterfall truncates each sweep's timestamps to the
second (a sweep's points are ``sweep_start + i us`` apart), pivots frequency into columns ("Grouping to
matrix") and shows the matrix as a pre-bucketed heatmap; the spectrum panel groups by ``freq_hz`` keeping the
latest level, the maximum max-hold and the latest noise estimate.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb, heatmap, xychart
from grafana_foundation_sdk.models import common as cm, dashboard as model, heatmap as hm, xychart as xm

from dashboards import panels
from dashboards.common import (
    CLASS_COLOURS, band_variable, grafana_unit, new_dashboard, station_variable, target,
)
from dashboards.influxql import ResultFormat
from dashboards.queries import Column, Select, agg, raw

TITLE = "specmon · Band view"

#: raw decimated spectrum points (waterfall), newest first so the cap keeps the newest sweeps
WATERFALL = raw("band_spectrum", "freq_hz", "power_dbfs", order_desc=True, limit=200_000)
#: raw points for the latest spectrum with max-hold and noise floor (panel time range: last 15 minutes)
SPECTRUM = raw("band_spectrum", "freq_hz", "power_dbfs", "maxhold_dbfs", "noise_dbfs", order_desc=True,
               limit=100_000)
#: Grafana "Sort by" time ascending: queries read newest first (LIMIT keeps the newest), reducers and the
#: waterfall rows want oldest first
OLDEST_FIRST = {"sort": [{"field": "Time", "desc": False}]}
#: emissions detected, newest first; grouped per transmitter (track_id) in Grafana
EMISSIONS = Select(
    "emission",
    tuple(Column(f) for f in ("track_id", "center_hz", "bandwidth_hz", "power_dbfs", "snr_db", "occupancy",
                              "artifact")),
    group_tags=("class",),
    order_desc=True,
    limit=20_000,
)
#: channel occupancy per integration period and channel
OCCUPANCY = Select(
    "occupancy",
    (Column("occupancy_pct", "mean", "occupancy_pct"),),
    interval="$__interval",
    group_tags=("channel",),
    fill="none",
)
#: mean occupancy per channel over the whole range
OCCUPANCY_RANGE = agg("occupancy", "mean", "occupancy_pct", group_tags=("channel",))
#: noise floor per sweep
NOISE = Select(
    "noise_floor",
    (Column("median_dbfs_hz", "mean", "median_dbfs_hz"), Column("min_dbfs_hz", "min", "min_dbfs_hz"),
     Column("max_dbfs_hz", "max", "max_dbfs_hz")),
    interval="$__interval",
    fill="none",
)

#: levels at or below this are "no data" in the waterfall (real levels are far above)
NO_LEVEL_DBFS = -400.0

#: the DSP settings that produced the stored spectrum (an inspector quotes them with any measurement)
SETTINGS = Select("band_spectrum", (Column("rbw_hz", "last", "rbw_hz"), Column("dwell_s", "last", "dwell_s"),
                                    Column("nfft", "last", "nfft")))

#: seconds-resolution time text; a sweep's points (sweep_start + i us) collapse onto one waterfall row
SWEEP_TIME_FORMAT = "YYYY-MM-DD HH:mm:ss"


def waterfall() -> heatmap.Panel:
    matrix_time = "Time\\freq_hz"  # name Grafana's groupingToMatrix gives the row-key column
    return (
        heatmap.Panel()
        .title("Waterfall")
        .description("Band spectrum over time: one row per sweep, colour = level per RBW (dBFS). Built from the "
                     "stored decimated points; keep the time range to a few hours (at most 200 000 points are read).")
        .datasource(panels.DATASOURCE)
        .with_target(target(WATERFALL, fmt=ResultFormat.TABLE))
        .span(24).height(12)
        .with_transformation(panels.transformation("sortBy", OLDEST_FIRST))
        .with_transformation(panels.transformation(
            "formatTime", {"timeField": "Time", "outputFormat": SWEEP_TIME_FORMAT, "useTimezone": False}))
        .with_transformation(panels.transformation(
            "groupingToMatrix", {"columnField": "freq_hz", "rowField": "Time", "valueField": "power_dbfs",
                                 "emptyValue": "null"}))
        .with_transformation(panels.transformation(
            "convertFieldType", {"conversions": [{"targetField": matrix_time, "destinationType": "time",
                                                  "dateFormat": SWEEP_TIME_FORMAT}], "fields": {}}))
        .calculate(False)
        .rows_frame(heatmap.RowsHeatmapOptions().layout(cm.HeatmapCellLayout.UNKNOWN).value("Level"))
        .color(heatmap.HeatmapColorOptions().mode(hm.HeatmapColorMode.SCHEME).scheme("Turbo")
               .scale(hm.HeatmapColorScale.LINEAR).steps(128).fill("dark-orange").exponent(0.5))
        .y_axis(heatmap.YAxisConfig().unit(grafana_unit("band_spectrum", "freq_hz")).axis_label("frequency"))
        .cell_values(heatmap.CellValues().unit(grafana_unit("band_spectrum", "power_dbfs")).decimals(1))
        .cell_gap(0)
        # the SDK default (hide cells <= 1e-9, meant for counts) would hide every dBFS level: hide none
        .filter_values(heatmap.FilterValueRange().le(NO_LEVEL_DBFS))
        .unit(grafana_unit("band_spectrum", "power_dbfs"))
    )


def settings_panel():
    """RBW, dwell and FFT size of the latest stored sweep, one value each."""
    from grafana_foundation_sdk.builders import stat

    return (
        stat.Panel()
        .title("Measurement settings")
        .description("Resolution bandwidth (window ENBW), dwell per hop and FFT size of the latest stored sweep.")
        .datasource(panels.DATASOURCE)
        .with_target(target(SETTINGS, fmt=ResultFormat.TABLE))
        .span(24).height(3)
        .color_mode(cm.BigValueColorMode.NONE)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .text_mode(cm.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False).fields("/^(rbw_hz|dwell_s|nfft)$/"))
        .override_by_name("rbw_hz", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("band_spectrum", "rbw_hz")),
                                     model.DynamicConfigValue(id_val="displayName", value="RBW")])
        .override_by_name("dwell_s", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("band_spectrum", "dwell_s")),
                                      model.DynamicConfigValue(id_val="displayName", value="dwell")])
        .override_by_name("nfft", [model.DynamicConfigValue(id_val="unit", value="none"),
                                   model.DynamicConfigValue(id_val="displayName", value="FFT size")])
    )


def spectrum() -> xychart.Panel:
    latest, maxhold, noise = "power_dbfs (lastNotNull)", "maxhold_dbfs (max)", "noise_dbfs (lastNotNull)"
    dbfs = grafana_unit("band_spectrum", "power_dbfs")
    return (
        xychart.Panel()
        .title("Latest spectrum, max-hold and noise floor")
        .description("Level per RBW against frequency for the last 15 minutes: latest sweep (yellow), max-hold "
                     "over the window (red) and the estimated noise floor (blue).")
        .datasource(panels.DATASOURCE)
        .with_target(target(SPECTRUM, fmt=ResultFormat.TABLE))
        .time_from("15m")
        .span(24).height(10)
        .with_transformation(panels.transformation("sortBy", OLDEST_FIRST))
        .with_transformation(panels.group_by("freq_hz", {"power_dbfs": "lastNotNull", "maxhold_dbfs": "max",
                                                        "noise_dbfs": "lastNotNull"}))
        .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "freq_hz"}]}))
        .with_transformation(panels.rename({latest: "latest", maxhold: "max-hold", noise: "noise floor"}))
        .mapping(xychart_auto_mapping())
        .series([xychart.XYSeriesConfig().x(xychart.XychartXYSeriesConfigX().matcher(
            xychart.MatcherConfig().id("byName").options("freq_hz")))])
        .unit(dbfs)
        .show(xychart_show_lines())
        .legend(cb.VizLegendOptions().show_legend(True).display_mode(cm.LegendDisplayMode.LIST)
                .placement(cm.LegendPlacement.BOTTOM))
        .override_by_name("freq_hz", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("band_spectrum", "freq_hz"))])
        .override_by_name("latest", [model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "yellow"})])
        .override_by_name("max-hold", [model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "red"})])
        .override_by_name("noise floor", [model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "blue"})])
    )


def xychart_show_lines():
    return xm.XYShowMode.LINES


def xychart_auto_mapping():
    return xm.SeriesMapping.AUTO


def emissions_table():
    last = "lastNotNull"
    calcs = {"Time": "max", "class": last, "center_hz": last, "bandwidth_hz": last, "power_dbfs": "max",
             "snr_db": last, "occupancy": "mean", "artifact": last}
    names = {f"{k} ({v})": k for k, v in calcs.items()}
    names["Time (max)"] = "last seen"
    names["power_dbfs (max)"] = "max power_dbfs"
    names["occupancy (mean)"] = "occupancy"
    p = (
        panels.table_panel("Emissions", "One row per transmitter (track) seen in the range: last centre frequency, "
                           "occupied bandwidth (99 %), strongest channel power, SNR, mean occupancy and compliance "
                           "class. Unlicensed red, other compliance problems orange.", EMISSIONS, w=14, h=12)
        .with_transformation(panels.transformation("sortBy", OLDEST_FIRST))
        .with_transformation(panels.group_by("track_id", calcs))
        .with_transformation(panels.rename(names))
        .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "center_hz"}]}))
        .override_by_name("class", panels.colour_text_override(CLASS_COLOURS))
        .override_by_name("center_hz", panels.unit_props("emission", "center_hz"))
        .override_by_name("bandwidth_hz", panels.unit_props("emission", "bandwidth_hz"))
        .override_by_name("max power_dbfs", panels.unit_props("emission", "power_dbfs"))
        .override_by_name("snr_db", panels.unit_props("emission", "snr_db"))
        .override_by_name("occupancy", panels.unit_props("emission", "occupancy"))
    )
    return p


def build() -> model.Dashboard:
    """The Band view dashboard model (UID ``specmon-band``); one station and one band at a time."""
    station = station_variable().multi(False).include_all(False).current(model.VariableOption())
    band = band_variable(multi=False)
    board = (
        new_dashboard("band", TITLE, "Waterfall, latest spectrum with max-hold and noise floor, emissions and "
                      "channel occupancy of one band of one station.")
        .with_variable(station)
        .with_variable(band)
        .with_panel(settings_panel())
        .with_panel(waterfall())
        .with_panel(spectrum())
        .with_panel(emissions_table())
        .with_panel(
            panels.bar_gauge("Channel occupancy (range)", "Mean occupancy per channel over the time range "
                             "(ITU-R SM.1880: share of revisits above the channel threshold).", OCCUPANCY_RANGE,
                             unit=grafana_unit("occupancy", "occupancy_pct"), alias="$tag_channel MHz", w=10, h=12,
                             steps=((None, "green"), (50, "orange"), (90, "red")), calc="mean", max_value=100)
        )
        .with_panel(
            panels.time_series("Channel occupancy per integration period", "Occupancy per channel and "
                               "integration period (%).", OCCUPANCY, unit=grafana_unit("occupancy", "occupancy_pct"),
                               alias="$tag_channel MHz", w=12, h=9, bars=True).max(100).min(0)
        )
        .with_panel(
            panels.time_series("Noise floor", "Median, lowest and highest noise density over the band per sweep.",
                               NOISE, unit=grafana_unit("noise_floor", "median_dbfs_hz"), w=12, h=9)
        )
    )
    return board.build()
