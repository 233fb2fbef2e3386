"""Network overview: where are the stations, are they healthy, what is open, how busy is each band.

Questions it answers: Which stations report, where are they and is their receiver OK? How many violation
cases are open, of which class? How many emissions does each band detect over time?
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb, geomap
from grafana_foundation_sdk.models import dashboard as model, geomap as gm

from dashboards import panels, violations
from dashboards.common import (
    RECEIVER_COLOURS, grafana_unit, new_dashboard, station_variable, value_colours,
)
from dashboards.queries import Column, Condition, Select

TITLE = "specmon · Network overview"

#: last known position and state of every station (station-wide points, band 'all', carry the position)
STATIONS = Select(
    "station_health",
    (
        Column("latitude", "last", "latitude"),
        Column("longitude", "last", "longitude"),
        Column("receiver_state", "last", "receiver_state"),
        Column("spool_depth", "last", "spool_depth"),
        Column("uptime_s", "last", "uptime_s"),
    ),
    by_band=False,
    group_tags=("station",),
)


#: emissions detected per band and interval, artifacts excluded
DETECTIONS_PER_BAND = Select(
    "emission",
    (Column("center_hz", "count", "detections"),),
    by_band=False,
    conditions=(Condition("artifact", "=", False),),
    interval="$__interval",
    group_tags=("band",),
    fill="0",
)

#: unlicensed emissions in the range (any station)
UNLICENSED = Select("emission", (Column("center_hz", "count", "unlicensed"),), by_band=False,
                    conditions=(Condition("class", "=", "unlicensed"), Condition("artifact", "=", False)))


def station_map() -> geomap.Panel:
    markers = (
        cb.MapLayerOptions()
        .type("markers")
        .name("Stations")
        .location(cb.FrameGeometrySource().mode("coords").latitude("latitude").longitude("longitude"))
        .config({
            "showLegend": True,
            "style": {
                "color": {"field": "receiver_state", "fixed": "green"},
                "size": {"fixed": 8},
                "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                "text": {"field": "station", "mode": "field"},
                "textConfig": {"fontSize": 12, "offsetY": -14, "textAlign": "center", "textBaseline": "bottom"},
            },
        })
        .tooltip(True)
    )
    return (
        geomap.Panel()
        .title("Stations")
        .description("Last reported position of each station (station_health latitude/longitude); marker colour "
                     "is the receiver state: green ok, orange reopening, red failed.")
        .datasource(panels.DATASOURCE)
        .with_target(panels.target(STATIONS, fmt=panels.ResultFormat.TABLE))
        .span(12).height(12)
        .view(geomap.MapViewConfig().id("fit").zoom(8).lat(21).lon(105))
        .basemap(cb.MapLayerOptions().type("osm-standard").name("Basemap"))
        .layers([markers])
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
        .tooltip(geomap.TooltipOptions().mode(gm.TooltipMode.DETAILS))
        .mappings(value_colours(RECEIVER_COLOURS))
        .override_by_name("latitude", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("station_health", "latitude"))])
        .override_by_name("longitude", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("station_health", "longitude"))])
    )


def build() -> model.Dashboard:
    """The Network overview dashboard model (UID ``specmon-network``)."""
    board = (
        new_dashboard("network", TITLE, "Stations on a map with their state, open violation cases by class and "
                      "detections per band.")
        .with_variable(station_variable())
        .with_panel(station_map())
        .with_panel(violations.open_by_class_bars(w=6, h=12).title("Open violation cases by class"))
        .with_panel(
            panels.stat_panel(
                "Unlicensed emissions",
                "Emission observations classed 'unlicensed' in the time range (artifacts excluded).",
                UNLICENSED, unit="short", w=6, h=12, calc="sum",
            ).mappings([])
        )
        .with_panel(
            panels.time_series(
                "Detections per band",
                "Emissions detected per band and interval (DC spikes, images and listed spurs excluded).",
                DETECTIONS_PER_BAND, unit="short", alias="$tag_band", w=24, h=9, bars=True, stacked=True,
            )
        )
        .with_panel(
            panels.table_panel(
                "Stations",
                "Last reported state of each station. Receiver state colours: green ok, orange reopening, red failed.",
                STATIONS, h=8,
            )
            .override_by_name("receiver_state", panels.colour_text_override(RECEIVER_COLOURS))
            .override_by_name("uptime_s", panels.unit_props("station_health", "uptime_s"))
            .override_by_name("latitude", panels.unit_props("station_health", "latitude"))
            .override_by_name("longitude", panels.unit_props("station_health", "longitude"))
            .with_transformation(panels.rename({}, hide=("Time",)))
        )
    )
    return board.build()
