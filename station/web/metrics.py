"""Prometheus ``/metrics`` (text exposition format 0.0.4) of the station's health counters, and the host's
clock synchronisation state.

Names follow Prometheus habits: ``specmon_`` prefix, base units in the name (``_seconds``, ``_celsius``),
``_total`` for counters; the vocabulary's ``station_health`` fields map one to one (see docs/WEB.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math

#: station_health field -> (metric name, type, help)
HEALTH_METRICS: dict[str, tuple[str, str, str]] = {
    "uptime_s": ("specmon_uptime_seconds", "gauge", "Seconds since the station daemon started."),
    "receiver_errors": ("specmon_receiver_errors_total", "counter", "Receiver errors since start."),
    "dropped_reads": ("specmon_dropped_reads_total", "counter", "Receiver reads that failed since start."),
    "short_reads": ("specmon_short_reads_total", "counter", "Receiver reads that returned fewer samples."),
    "cpu_pct": ("specmon_cpu_percent", "gauge", "Process CPU use, percent of one core."),
    "temperature_c": ("specmon_soc_temperature_celsius", "gauge", "SoC temperature where readable."),
    "spool_depth": ("specmon_spool_depth_points", "gauge", "Points waiting in the spool for the sinks."),
    "spool_age_s": ("specmon_spool_oldest_age_seconds", "gauge", "Age of the oldest spooled point."),
    "spool_dead_letters": ("specmon_spool_dead_letters", "gauge", "Points the server rejected (dead-letter table)."),
    "spool_thinned": ("specmon_spool_thinned_total", "counter", "Points dropped by the spool's disk quota."),
}
STATES = {
    "receiver_state": ("specmon_receiver_state", ("ok", "reopening", "failed"),
                       "Station-wide receiver state (1 for the current state)."),
    "store_state": ("specmon_store_state", ("ok", "disk_full", "error"), "Embedded store state (1 for the current)."),
}


def _esc(v: str) -> str:
    return str(v).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _val(v) -> str | None:
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(x):
        return None
    return repr(x) if not math.isinf(x) else ("+Inf" if x > 0 else "-Inf")


class _Out:
    def __init__(self):
        self.lines: list[str] = []
        self._declared: set[str] = set()

    def add(self, name: str, kind: str, help_: str, value, labels: dict | None = None) -> None:
        v = _val(value)
        if v is None:
            return
        if name not in self._declared:
            self._declared.add(name)
            self.lines.append(f"# HELP {name} {help_}")
            self.lines.append(f"# TYPE {name} {kind}")
        lab = ""
        if labels:
            lab = "{" + ",".join(f'{k}="{_esc(x)}"' for k, x in labels.items()) + "}"
        self.lines.append(f"{name}{lab} {v}")


def render(*, station: str, health: dict, health_age_s: float, receivers, bands, case_counts: dict,
           web_clients: int, clock_synced: bool | None) -> str:
    """The exposition text. ``bands``: {name: BandSnapshot}; ``case_counts``: {state: {class: n}}."""
    o = _Out()
    o.add("specmon_info", "gauge", "Station identity (always 1).", 1, {"station": station})
    for key, (name, kind, help_) in HEALTH_METRICS.items():
        o.add(name, kind, help_, health.get(key))
    for key, (name, values, help_) in STATES.items():
        cur = health.get(key)
        if cur is None:
            continue
        for v in sorted(set(values) | {str(cur)}):
            o.add(name, "gauge", help_, 1 if v == cur else 0, {"state": v})
    sink = health.get("sink_state")
    if sink is not None:
        o.add("specmon_sinks_ok", "gauge", "1 when every sink accepts points, 0 when one fails.",
              1 if sink == "ok" else 0)
    if math.isfinite(health_age_s):
        o.add("specmon_health_age_seconds", "gauge", "Seconds since the daemon last published its health.",
              health_age_s)
    for r in receivers:
        lab = {"receiver": r.get("name", "")}
        o.add("specmon_receiver_up", "gauge", "1 when the receiver is open and reading.",
              1 if r.get("state") == "ok" else 0, lab)
        o.add("specmon_receiver_reopens_total", "counter", "Receiver reopen attempts since start.",
              r.get("reopens"), lab)
    for name, snap in sorted(bands.items()):
        lab = {"band": name}
        o.add("specmon_band_sweeps_total", "counter", "Band sweeps completed since the store began.",
              snap.sweep_no, lab)
        o.add("specmon_band_last_sweep_timestamp_seconds", "gauge", "UTC time of the band's latest sweep.",
              snap.time_utc.timestamp(), lab)
        o.add("specmon_band_sweep_duration_seconds", "gauge", "Wall time of the band's latest sweep.",
              snap.duration_s, lab)
        o.add("specmon_band_revisit_seconds", "gauge", "Achieved revisit time of the band.", snap.revisit_s, lab)
        o.add("specmon_band_emissions", "gauge", "Emissions in the band's latest sweep.", len(snap.emissions), lab)
        o.add("specmon_band_noise_dbfs_per_hz", "gauge", "Median noise floor of the latest sweep (dBFS/Hz).",
              snap.noise_dbfs_hz, lab)
    for state, by_class in sorted(case_counts.items()):
        for klass, n in sorted(by_class.items()):
            o.add("specmon_cases", "gauge", "Violation cases in the store by state and class.", n,
                  {"state": state, "class": klass})
    o.add("specmon_web_clients", "gauge", "Browsers connected to the live view.", web_clients)
    if clock_synced is not None:
        o.add("specmon_clock_synchronised", "gauge", "1 when the kernel says the clock is NTP-synchronised.",
              1 if clock_synced else 0)
    return "\n".join(o.lines) + "\n"


#: adjtimex(2) returns TIME_ERROR (5) while the kernel clock is not synchronised
_TIME_ERROR = 5


def clock_synchronised() -> bool | None:
    """True when the kernel's clock is synchronised (NTP/chrony/systemd-timesyncd keep it so), False when it
    says unsynchronised, None where this cannot be read (not Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex is ~208 bytes; modes = 0: read only
        rc = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return None
    if rc < 0:
        return None
    return rc != _TIME_ERROR
