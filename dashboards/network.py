"""Network: stations and network cases on one map, the network case list linked to the station cases, and the
station overview (state, open cases by class, detections per band).

Questions it answers: Which stations report, where are they and are they healthy? Which emitters does the
network see, where is each one (estimate and its 95 % region), which stations' cases make it up, and where is
each station case's evidence? How many violation cases are open, of which class? How busy is each band?

The network cases come from ``specmon network run`` (station/network/, docs/NETWORK.md): each build writes a
``network_case`` point per case, a ``network_link`` point per linked station case and the region's outline as
``network_region`` points (48 vertices, tag ``vertex``), all with the tag ``network_case``. Panels take the
latest build's values per case (``last()`` grouped by the tag) within the dashboard's range.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb, dashboard as dash, geomap
from grafana_foundation_sdk.models import dashboard as model, geomap as gm

from dashboards import panels, violations
from dashboards.common import (
    CLASS_COLOURS, RECEIVER_COLOURS, grafana_unit, new_dashboard, station_variable, value_colours,
)
from dashboards.queries import Column, Condition, Select

TITLE = "specmon · Network"

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
#: clock and position health of every station (station-wide points)
STATION_CLOCKS = Select(
    "station_health",
    (
        Column("latitude", "last", "latitude"),
        Column("longitude", "last", "longitude"),
        Column("receiver_state", "last", "receiver_state"),
        Column("clock_state", "last", "clock_state"),
        Column("clock_offset_s", "last", "clock_offset_s"),
        Column("position_source", "last", "position_source"),
    ),
    by_band=False,
    conditions=(Condition("band", "=", "all"),),
    group_tags=("station",),
)
#: the latest build's state of every network case in the range (one row per case)
NETWORK_CASES = Select(
    "network_case",
    tuple(Column(f, "last", f) for f in (
        "network_case_id", "kind", "center_hz", "bandwidth_hz", "n_stations", "stations", "latitude", "longitude",
        "region_radius_m", "region_bounded", "p_value", "flag", "first_seen_s", "last_seen_s")),
    by_station=False,
    by_band=False,
    group_tags=("network_case", "class"),
)
#: estimate points of located network cases, for the map
CASE_ESTIMATES = Select(
    "network_case",
    tuple(Column(f, "last", f) for f in ("latitude", "longitude", "center_hz", "n_stations", "region_radius_m")),
    by_station=False,
    by_band=False,
    conditions=(Condition("kind", "=", "fix"),),
    group_tags=("network_case", "class"),
)
#: the latest build's outline of every case's region (48 vertices per case)
CASE_REGIONS = Select(
    "network_region",
    (Column("latitude", "last", "latitude"), Column("longitude", "last", "longitude")),
    by_station=False,
    by_band=False,
    group_tags=("network_case", "vertex"),
)
#: the station cases linked to each network case (one row per network case and station)
CASE_LINKS = Select(
    "network_link",
    tuple(Column(f, "last", f) for f in (
        "network_case_id", "station_case_id", "class", "level", "level_unit", "level_u95_db", "occupancy", "n_obs",
        "first_seen_s", "last_seen_s")),
    by_station=False,
    by_band=False,
    group_tags=("network_case", "station"),
)

#: textbox variable: the station web app's base URL; a station case's page is <this>/cases/<station case id>
WEB_VARIABLE = violations.WEB_VARIABLE


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


def _markers(name: str, ref: str, colour_field: str | None, size: int, text_field: str | None,
             fixed: str = "green", symbol: str = "circle") -> cb.MapLayerOptions:
    style = {
        "color": {"field": colour_field, "fixed": fixed} if colour_field else {"fixed": fixed},
        "size": {"fixed": size},
        "symbol": {"fixed": f"img/icons/marker/{symbol}.svg", "mode": "fixed"},
        "opacity": 0.9,
    }
    if text_field:
        style["text"] = {"field": text_field, "mode": "field"}
        style["textConfig"] = {"fontSize": 12, "offsetY": -14, "textAlign": "center", "textBaseline": "bottom"}
    return (
        cb.MapLayerOptions()
        .type("markers")
        .name(name)
        .location(cb.FrameGeometrySource().mode("coords").latitude("latitude").longitude("longitude"))
        .filter_data({"id": "byRefId", "options": ref})
        .config({"showLegend": True, "style": style})
        .tooltip(True)
    )


def network_map() -> geomap.Panel:
    """Stations (health-coloured), located network cases (class-coloured) and their 95 % regions' outlines."""
    return (
        geomap.Panel()
        .title("Stations and network cases")
        .description(
            "Stations at their last reported position, coloured by receiver state (green ok, orange reopening, "
            "red failed); the tooltip gives the clock state (a station with an unsynced clock is never merged) and "
            "the position source. Network cases located by power difference (3 or more stations): a cross at the "
            "maximum-likelihood estimate coloured by class, and dots outlining the 95 % region (48 points along "
            "the boundary; the exact polygon is in `specmon network export --format geojson`). Two-station arcs "
            "and one-station rings are drawn as outlines only.")
        .datasource(panels.DATASOURCE)
        .with_target(panels.target(STATION_CLOCKS, ref_id="A", fmt=panels.ResultFormat.TABLE))
        .with_target(panels.target(CASE_ESTIMATES, ref_id="B", fmt=panels.ResultFormat.TABLE))
        .with_target(panels.target(CASE_REGIONS, ref_id="C", fmt=panels.ResultFormat.TABLE))
        .span(24).height(14)
        .view(geomap.MapViewConfig().id("fit").zoom(11).lat(21).lon(105))
        .basemap(cb.MapLayerOptions().type("osm-standard").name("Basemap"))
        .layers([
            _markers("Stations", "A", "receiver_state", 9, "station"),
            _markers("Network cases", "B", "class", 12, "network_case", fixed="red", symbol="cross"),
            _markers("95 % regions", "C", None, 3, None, fixed="orange"),
        ])
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
        .tooltip(geomap.TooltipOptions().mode(gm.TooltipMode.DETAILS))
        .mappings(value_colours({**RECEIVER_COLOURS, **CLASS_COLOURS}))
        .override_by_name("latitude", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("station_health", "latitude"))])
        .override_by_name("longitude", [model.DynamicConfigValue(id_val="unit", value=grafana_unit("station_health", "longitude"))])
    )


def network_cases_table():
    hide = ("Time",)
    order = ["network_case_id", "class", "kind", "center_hz", "bandwidth_hz", "n_stations", "stations", "latitude",
             "longitude", "region_radius_m", "region_bounded", "p_value", "flag", "first_seen_s", "last_seen_s"]
    return (
        panels.table_panel(
            "Network cases",
            "One row per network case (one emitter as the network sees it) in its latest build: centre and "
            "bandwidth, the stations whose cases it links, the location estimate and the radius of a circle with "
            "the 95 % region's area (kind fix: 3 or more stations; arc: 2; ring: 1), the one-source fit p-value "
            "(4 or more stations) and flags (split, clock_suspect, uncalibrated_levels). The station cases are "
            "listed below with links to their evidence.", NETWORK_CASES, h=10)
        .with_transformation(panels.rename({}, order=order, hide=hide + ("network_case",)))
        .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "last_seen_s", "desc": True}]}))
        .override_by_name("class", panels.colour_text_override(CLASS_COLOURS))
        .override_by_name("center_hz", panels.unit_props("network_case", "center_hz"))
        .override_by_name("bandwidth_hz", panels.unit_props("network_case", "bandwidth_hz"))
        .override_by_name("region_radius_m", panels.unit_props("network_case", "region_radius_m"))
        .override_by_name("latitude", panels.unit_props("network_case", "latitude"))
        .override_by_name("longitude", panels.unit_props("network_case", "longitude"))
        .override_by_name("first_seen_s", [model.DynamicConfigValue(id_val="unit", value="dateTimeAsIso")])
        .override_by_name("last_seen_s", [model.DynamicConfigValue(id_val="unit", value="dateTimeAsIso")])
    )


def station_cases_table():
    link = model.DashboardLink(title="Station case page and evidence (station web app)",
                               url=f"${{{WEB_VARIABLE}}}/cases/${{__value.raw}}", target_blank=True)
    order = ["network_case_id", "station", "station_case_id", "class", "level", "level_unit", "level_u95_db",
             "occupancy", "n_obs", "first_seen_s", "last_seen_s"]
    return (
        panels.table_panel(
            "Station cases of the network cases",
            "Each station case linked to a network case (latest build): the observing station, its case id "
            "(click for the case page with evidence, audio and bundle in that station's web app at "
            "$web_url/cases/<id>), its median level (dBm at the antenna port, or dBFS when uncalibrated) with U95, "
            "its keying (occupancy) and observations.", CASE_LINKS, h=10)
        .with_transformation(panels.rename({}, order=order, hide=("Time", "network_case")))
        .with_transformation(panels.transformation("sortBy", {"sort": [{"field": "network_case_id"}]}))
        .override_by_name("class", panels.colour_text_override(CLASS_COLOURS))
        .override_by_name("station_case_id", [model.DynamicConfigValue(id_val="links", value=[link])])
        .override_by_name("first_seen_s", [model.DynamicConfigValue(id_val="unit", value="dateTimeAsIso")])
        .override_by_name("last_seen_s", [model.DynamicConfigValue(id_val="unit", value="dateTimeAsIso")])
    )


def build() -> model.Dashboard:
    """The Network dashboard model (UID ``specmon-network``)."""
    web = (
        dash.TextBoxVariable(WEB_VARIABLE)
        .label("Station web app URL")
        .description("The station web app (docs/WEB.md); a station case's page with its evidence is "
                     "<this>/cases/<case id>. Behind one reverse proxy for the whole network, or one station's.")
        .default_value(violations.WEB_DEFAULT)
    )
    board = (
        new_dashboard("network", TITLE, "Stations and network cases on a map (estimate and 95 % region), the "
                      "network case list linked to the station cases, station states, open cases by class and "
                      "detections per band.")
        .with_variable(station_variable())
        .with_variable(web)
        .with_panel(network_map())
        .with_panel(network_cases_table())
        .with_panel(station_cases_table())
        .with_panel(violations.open_by_class_bars(w=6, h=9).title("Open violation cases by class"))
        .with_panel(
            panels.stat_panel(
                "Unlicensed emissions",
                "Emission observations classed 'unlicensed' in the time range (artifacts excluded).",
                UNLICENSED, unit="short", w=6, h=9, calc="sum",
            ).mappings([])
        )
        .with_panel(
            panels.time_series(
                "Detections per band",
                "Emissions detected per band and interval (DC spikes, images and listed spurs excluded).",
                DETECTIONS_PER_BAND, unit="short", alias="$tag_band", w=12, h=9, bars=True, stacked=True,
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
