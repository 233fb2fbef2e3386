"""Station health: is each station sweeping as configured and keeping its data?

Questions it answers: How long does a sweep of each band take and at what hop rate? Is the achieved revisit
time what the plan promised? Are reads dropped or short, does the receiver fail or reopen? Is the spool
(points waiting for the network) growing or ageing? Is the station's CPU or temperature in trouble?

Per-band figures carry the band tag; station-wide figures (CPU, temperature, spool, uptime) are written with
band 'all' and are not filtered by $band.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb, statetimeline
from grafana_foundation_sdk.models import common as cm, dashboard as model

from dashboards import panels
from dashboards.common import (
    RECEIVER_COLOURS, band_variable, grafana_unit, new_dashboard, station_variable, value_colours,
)
from dashboards.queries import Column, Condition, Select

TITLE = "specmon · Station health"

_PER_BAND = dict(interval="$__interval", group_tags=("station", "band"), fill="none")
_STATION_WIDE = dict(by_band=False, conditions=(Condition("band", "=", "all"),), interval="$__interval",
                     group_tags=("station",), fill="none")


def _mean(field: str, **kwargs) -> Select:
    return Select("station_health", (Column(field, "mean", field),), **kwargs)


SWEEP_DURATION = _mean("sweep_duration_s", **_PER_BAND)
HOP_RATE = _mean("hop_rate_hz", **_PER_BAND)
REVISIT = Select("station_health", (Column("revisit_s", "mean", "revisit_s"), Column("revisit_s", "max", "revisit_max_s")),
                 **_PER_BAND)
READ_FAILURES = Select("station_health", (Column("dropped_reads", "increase", "dropped_reads"),
                                          Column("short_reads", "increase", "short_reads")), **_PER_BAND)
RECEIVER_ERRORS = Select("station_health", (Column("receiver_errors", "increase", "receiver_errors"),), **_PER_BAND)
RECEIVER_STATE = Select("station_health", (Column("receiver_state", "last", "receiver_state"),),
                        interval="$__interval", group_tags=("station", "band"), fill="none")
SPOOL = Select("station_health", (Column("spool_depth", "max", "spool_depth"),), **_STATION_WIDE)
SPOOL_AGE = _mean("spool_age_s", **_STATION_WIDE)
CPU = _mean("cpu_pct", **_STATION_WIDE)
TEMPERATURE = Select("station_health", (Column("temperature_c", "max", "temperature_c"),), **_STATION_WIDE)
#: where the time of one sweep goes (receive, DSP, detection, compliance, sinks)
STAGES = ("receive_s", "dsp_s", "detect_s", "compliance_s", "sinks_s")
SWEEP_SPLIT = Select("station_health", tuple(Column(f, "mean", f) for f in STAGES), **_PER_BAND)
HOPS = _mean("hops", **_PER_BAND)
#: points the store could not keep: rejected by the server (dead letters) or thinned by the spool quota
SPOOL_LOSSES = Select("station_health", (Column("spool_dead_letters", "max", "spool_dead_letters"),
                                         Column("spool_thinned", "increase", "spool_thinned")), **_STATION_WIDE)
STORE_STATE = Select("station_health", (Column("store_state", "last", "store_state"),
                                        Column("sink_state", "last", "sink_state")), **_STATION_WIDE)
UPTIME = Select("station_health", (Column("uptime_s", "last", "uptime_s"),), by_band=False,
                conditions=(Condition("band", "=", "all"),), group_tags=("station",))


def receiver_state() -> statetimeline.Panel:
    return (
        panels.state_timeline(
            "Receiver state",
            "Receiver state per station and band: green ok, orange reopening (USB reset, reconnect), red failed.",
            RECEIVER_STATE, alias="$tag_station $tag_band", mappings=value_colours(RECEIVER_COLOURS), w=24, h=6,
        )
        .legend(cb.VizLegendOptions().show_legend(True).display_mode(cm.LegendDisplayMode.LIST)
                .placement(cm.LegendPlacement.BOTTOM))
    )


def store_state() -> statetimeline.Panel:
    ok_green_else_red = [
        *value_colours({"ok": "green", "disk_full": "red", "error": "red"}),
        model.RegexMap(options=model.DashboardRegexMapOptions(
            pattern="^(?!ok$)(.+)$", result=model.ValueMappingResult(text="$1", color="red", index=3))),
    ]
    return panels.state_timeline(
        "Store and sink state",
        "The station's disk (ok, or degraded: which store or spool refuses writes or is below its reserve, "
        "points then go to the sinks from memory) and network sinks (ok, or the first failing sink and why; "
        "its points wait in the spool). Anything but ok is red.",
        STORE_STATE, alias="$tag_station $col", mappings=ok_green_else_red, w=12, h=8,
    )


def build() -> model.Dashboard:
    """The Station health dashboard model (UID ``specmon-health``)."""
    per_band = "$tag_station $tag_band"
    s = grafana_unit("station_health", "sweep_duration_s")
    board = (
        new_dashboard("health", TITLE, "Sweep duration, hop rate, revisit time, read failures, receiver errors "
                      "and state, spool depth and age, CPU and temperature per station.")
        .with_variable(station_variable())
        .with_variable(band_variable("station_health"))
        .with_panel(panels.time_series("Sweep duration", "Wall time of one sweep of the band.", SWEEP_DURATION,
                                       unit=s, alias=per_band, w=8))
        .with_panel(panels.time_series("Hop rate", "Retunes per second during the sweep.", HOP_RATE,
                                       unit=grafana_unit("station_health", "hop_rate_hz"), alias=per_band, w=8))
        .with_panel(panels.time_series("Achieved revisit time", "Time between two sweeps of the same band "
                                       "(mean and worst per interval).", REVISIT,
                                       unit=grafana_unit("station_health", "revisit_s"),
                                       alias=f"{per_band} $col", w=8))
        .with_panel(panels.alarm_when_nonzero(panels.time_series(
            "Dropped and short reads", "Reads that failed or returned fewer samples, per interval (increase of "
            "the cumulative counters). Any is red.", READ_FAILURES, unit="short", alias=f"{per_band} $col", w=8,
            bars=True)))
        .with_panel(panels.alarm_when_nonzero(panels.time_series(
            "Receiver errors", "Receiver errors per interval (increase of the cumulative counter). Any is red.",
            RECEIVER_ERRORS, unit="short", alias=per_band, w=8, bars=True)))
        .with_panel(panels.stat_panel("Uptime", "Seconds since the daemon started, per station.", UPTIME,
                                      unit=grafana_unit("station_health", "uptime_s"), alias="$tag_station",
                                      w=8, h=8, steps=((None, "blue"),)))
        .with_panel(receiver_state())
        .with_panel(panels.time_series("Sweep time split", "Where the time of one sweep goes: receiving samples "
                                       "(tuning, settling, reads), DSP, detection, compliance, sinks.", SWEEP_SPLIT,
                                       unit=s, alias=f"{per_band} $col", w=16, bars=True, stacked=True))
        .with_panel(panels.time_series("Hops per sweep", "Retunes in one sweep of the band.", HOPS, unit="short",
                                       alias=per_band, w=8))
        .with_panel(panels.limit_lines(panels.time_series(
            "Spool depth", "Points waiting in the spool for the network store. A growing spool means a sink is "
            "unreachable; nothing is lost.", SPOOL, unit=grafana_unit("station_health", "spool_depth"),
            alias="$tag_station", w=12), (None, "green"), (10_000, "orange"), (1_000_000, "red")))
        .with_panel(panels.limit_lines(panels.time_series(
            "Spool age", "Age of the oldest spooled point.", SPOOL_AGE,
            unit=grafana_unit("station_health", "spool_age_s"), alias="$tag_station", w=12),
            (None, "green"), (300, "orange"), (3600, "red")))
        .with_panel(panels.alarm_when_nonzero(panels.time_series(
            "Spool losses", "Points the server rejected (kept as dead letters, cumulative) and spectrum/noise/"
            "health points thinned by the spool quota per interval. Emissions and violations are never thinned.",
            SPOOL_LOSSES, unit="short", alias="$tag_station $col", w=12)))
        .with_panel(store_state())
        .with_panel(panels.limit_lines(panels.time_series(
            "CPU", "Process CPU use of the station daemon.", CPU, unit=grafana_unit("station_health", "cpu_pct"),
            alias="$tag_station", w=12), (None, "green"), (80, "orange"), (95, "red")).min(0))
        .with_panel(panels.limit_lines(panels.time_series(
            "Temperature", "SoC temperature (where the platform reports it); Raspberry Pi class boards throttle "
            "from 80 degC.", TEMPERATURE, unit=grafana_unit("station_health", "temperature_c"),
            alias="$tag_station", w=12), (None, "green"), (70, "orange"), (80, "red")))
    )
    return board.build()
