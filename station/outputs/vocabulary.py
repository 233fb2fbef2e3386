"""The one vocabulary of stored names: measurements, tags, fields and units.

InfluxDB, the embedded SQLite store, the Grafana dashboards and the exports are all built from this module.
Drift fails tests: the spool refuses a point naming anything not listed here (:func:`coerce`,
tests/test_spool.py), the embedded store's tables are generated from it (station/outputs/sinks/sqlite.py), the
dashboards' queries are checked against it (tests/test_dashboards*.py), and docs/VOCABULARY.md must equal
``specmon vocabulary --markdown`` (tests/test_vocabulary_doc.py). Names are stable: add, never rename.

Cardinality is bounded: tags are station, band and small fixed sets (class, state, channel from the
configured channel plan), plus the network service's ``network_case`` id (one series per network case; its
points have the constant station 'network' and band 'all'). Never a tag or field per frequency bin: spectra are stored as one point per
decimated bin with ``freq_hz`` as a field; the points of one sweep get timestamps ``sweep_start + i us`` so
that they stay distinct, and a resend of the same sweep overwrites instead of duplicating.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldSpec:
    type: str  # "float", "int", "str", "bool"
    unit: str  # "Hz", "dBFS", "dBFS/Hz", "dB", "s", "%", "ratio", "count", "deg", "degC", "" ...
    description: str


@dataclass(frozen=True, slots=True)
class MeasurementSpec:
    name: str
    description: str
    tags: dict[str, str]  # tag -> description
    fields: dict[str, FieldSpec]


def _f(type_: str, unit: str, description: str) -> FieldSpec:
    return FieldSpec(type_, unit, description)


#: tags every point carries
COMMON_TAGS = {
    "station": "station id from the config (e.g. 'hn-01')",
    "band": "band name from the config (e.g. 'vhf-lmr'); 'all' for station-wide points",
}

#: calibrated level fields of emission and violation points (station/calibration, docs/CALIBRATION.md);
#: absent when the gain applied is unknown (automatic gain the receiver does not report)
LEVEL_FIELDS = {
    "power_dbm": _f("float", "dBm", "channel power at the antenna port (calibration profile, or the nominal one)"),
    "power_dbm_u95": _f("float", "dB", "expanded uncertainty (k=2, ~95 %) of power_dbm: measurement + calibration"),
    "field_dbuv_m": _f("float", "dBuV/m", "field strength: power_dbm + 107 + the band's antenna factor (absent without one)"),
    "field_dbuv_m_u95": _f("float", "dB", "expanded uncertainty (k=2) of field_dbuv_m, antenna factor included"),
    "gain_db": _f("float", "dB", "receiver gain applied (the tuner's setting)"),
    "level_calibration": _f("str", "", "calibrated, nominal (uncalibrated profile) or outside (beyond the calibrated range)"),
}

#: DSP settings every point carries as fields
SETTINGS_FIELDS = {
    "rbw_hz": _f("float", "Hz", "resolution bandwidth (window ENBW) that produced the point"),
    "nfft": _f("int", "count", "FFT size"),
    "dwell_s": _f("float", "s", "seconds of samples averaged per hop"),
}

MEASUREMENTS: dict[str, MeasurementSpec] = {
    m.name: m
    for m in [
        MeasurementSpec(
            "band_spectrum",
            "one band sweep decimated to a configured number of points (waterfall, latest spectrum)",
            dict(COMMON_TAGS),
            {
                "freq_hz": _f("float", "Hz", "centre of the decimated point"),
                "power_dbfs": _f("float", "dBFS", "mean level within one RBW (max over the decimated bins)"),
                "maxhold_dbfs": _f("float", "dBFS", "max-hold level within one RBW"),
                "noise_dbfs": _f("float", "dBFS", "estimated noise floor within one RBW"),
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "noise_floor",
            "per sweep summary of the noise floor estimate",
            dict(COMMON_TAGS),
            {
                "median_dbfs_hz": _f("float", "dBFS/Hz", "median noise density over the band"),
                "min_dbfs_hz": _f("float", "dBFS/Hz", "lowest noise density"),
                "max_dbfs_hz": _f("float", "dBFS/Hz", "highest noise density"),
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "emission",
            "one emission detected in one sweep",
            {**COMMON_TAGS, "class": "compliance class (licensed, exempt, unlicensed, ...; 'unknown' before matching)"},
            {
                "track_id": _f("str", "", "transmitter identity across sweeps"),
                "center_hz": _f("float", "Hz", "power centroid"),
                "peak_hz": _f("float", "Hz", "strongest bin"),
                "bandwidth_hz": _f("float", "Hz", "99 % occupied bandwidth (ITU-R SM.443 beta method)"),
                "xdb_bandwidth_hz": _f("float", "Hz", "26 dB bandwidth (absent when not measurable)"),
                "power_dbfs": _f("float", "dBFS", "channel power"),
                "peak_dbfs": _f("float", "dBFS", "peak level within one RBW"),
                "snr_db": _f("float", "dB", "channel power over noise in the same bandwidth"),
                "noise_dbfs_hz": _f("float", "dBFS/Hz", "local noise floor"),
                "occupancy": _f("float", "ratio", "fraction of frames in which it was on (0..1)"),
                "artifact": _f("bool", "", "DC spike, IQ image, hop edge or listed spur"),
                "artifact_reason": _f("str", "", "'<kind>: <why>', kind one of dc_spike, spur, iq_image, hop_edge, skirt, intermod, clipping, splatter; a product names its parent (only when artifact)"),
                "f_lo_hz": _f("float", "Hz", "lower edge of the 99 % occupied band"),
                "f_hi_hz": _f("float", "Hz", "upper edge of the 99 % occupied band"),
                "n_bursts": _f("int", "count", "bursts seen in the per-frame spectra (0 when not computed)"),
                **LEVEL_FIELDS,
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "violation",
            "one observation of a violation case in one sweep",
            {**COMMON_TAGS, "class": "violation class (unlicensed, off_frequency, excess_bandwidth, expired, not_yet_valid, exempt_nonconforming)"},
            {
                "case_id": _f("str", "", "violation case id (one per transmitter)"),
                "track_id": _f("str", "", "transmitter identity across sweeps"),
                "state": _f("str", "", "case state: new, confirmed, exported, closed; unrecorded when the case "
                                           "store's disk refused the observation (case_id empty)"),
                "center_hz": _f("float", "Hz", "power centroid: the case's canonical value (median over its observations)"),
                "center_hz_u95": _f("float", "Hz", "expanded uncertainty (k=2, ~95 %) of center_hz"),
                "bandwidth_hz": _f("float", "Hz", "99 % occupied bandwidth: the case's canonical value"),
                "bandwidth_hz_u95": _f("float", "Hz", "expanded uncertainty (k=2, ~95 %) of bandwidth_hz"),
                "power_dbfs": _f("float", "dBFS", "channel power: the case's canonical value"),
                "snr_db": _f("float", "dB", "signal to noise ratio (median over the case's observations)"),
                "n_obs": _f("int", "count", "observations summarised in the case's canonical measurement"),
                "offset_hz": _f("float", "Hz", "emission centre minus the centre of the primary assignment considered "
                                "(absent when no assignment applies, e.g. unlicensed)"),
                "licence": _f("str", "", "licence number(s) considered, comma separated"),
                "reason": _f("str", "", "the reason in words"),
                "indicative": _f("bool", "", "receiver frequency uncertainty exceeds the licence tolerance"),
                "occupancy": _f("float", "ratio", "fraction of frames in which the emission was on (its keying: < 1 for a bursty emitter)"),
                "n_bursts": _f("int", "count", "bursts seen in the per-frame spectra (0 when not computed)"),
                "latitude": _f("float", "deg", "the observing station's latitude (config [station] or GPS) when known"),
                "longitude": _f("float", "deg", "the observing station's longitude when known"),
                "chain_head": _f("str", "", "SHA-256 head of the case's hash chain in the station's case store after "
                                 "this sweep (absent when unrecorded): `specmon verify --checkpoints --influx` "
                                 "checks the store's history still contains it"),
                **LEVEL_FIELDS,
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "case_checkpoint",
            "a signed checkpoint of the case store's hash chain heads (one line of the station's "
            "case-checkpoints.jsonl; docs/VIOLATIONS.md)",
            dict(COMMON_TAGS),
            {
                "seq": _f("int", "count", "checkpoint number in the station's log (1, 2, ...)"),
                "root": _f("str", "", "SHA-256 over every case's committed [links, head]"),
                "line_hash": _f("str", "", "SHA-256 of the log line (what the next line links to)"),
                "n_cases": _f("int", "count", "cases the checkpoint commits to"),
                "changed": _f("int", "count", "cases whose chain grew since the previous checkpoint"),
                "signature": _f("str", "", "base64 Ed25519 signature of the line's body by the station key"),
                "key_fingerprint": _f("str", "", "SHA-256 of the station's raw public key"),
            },
        ),
        MeasurementSpec(
            "occupancy",
            "channel occupancy per integration period (ITU-R SM.1880)",
            {**COMMON_TAGS, "channel": "channel label from the band's channel plan, e.g. '145.5000' (MHz)"},
            {
                "channel_hz": _f("float", "Hz", "channel centre"),
                "channel_width_hz": _f("float", "Hz", "channel width"),
                "revisits": _f("int", "count", "revisits in the period"),
                "revisits_above": _f("int", "count", "revisits with the channel above threshold"),
                "occupancy_pct": _f("float", "%", "100 * revisits_above / revisits"),
                "period_s": _f("float", "s", "integration period"),
                "threshold_dbfs": _f("float", "dBFS", "channel-power threshold"),
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "station_health",
            "station and receiver state; per sweep (band tag) and periodic station-wide (band='all')",
            dict(COMMON_TAGS),
            {
                "sweep_duration_s": _f("float", "s", "wall time of the last sweep of the band"),
                "hop_rate_hz": _f("float", "Hz", "hops per second in the last sweep"),
                "revisit_s": _f("float", "s", "achieved revisit time of the band"),
                "dropped_reads": _f("int", "count", "reads that failed (cumulative)"),
                "short_reads": _f("int", "count", "reads that returned fewer samples (cumulative)"),
                "receiver_state": _f("str", "", "ok, reopening, failed"),
                "receiver_errors": _f("int", "count", "receiver errors (cumulative)"),
                "cpu_pct": _f("float", "%", "process CPU use"),
                "temperature_c": _f("float", "degC", "SoC temperature where available"),
                "spool_depth": _f("int", "count", "points waiting in the spool"),
                "spool_age_s": _f("float", "s", "age of the oldest spooled point"),
                "latitude": _f("float", "deg", "station latitude (WGS84)"),
                "longitude": _f("float", "deg", "station longitude (WGS84)"),
                "uptime_s": _f("float", "s", "seconds since the daemon started"),
                "spool_dead_letters": _f("int", "count", "points the server rejected, kept in the dead-letter table"),
                "spool_thinned": _f("int", "count", "spectrum/noise/health points dropped by the disk quota (cumulative)"),
                "receive_s": _f("float", "s", "time of the last sweep spent receiving samples (tuning, settling, reads)"),
                "dsp_s": _f("float", "s", "time of the last sweep spent in conversion, PSD and stitching"),
                "detect_s": _f("float", "s", "time of the last sweep spent in noise floor, detection, tracking, occupancy"),
                "compliance_s": _f("float", "s", "time of the last sweep spent in register matching and case updates"),
                "sinks_s": _f("float", "s", "time of the last sweep spent building points and spooling them"),
                "hops": _f("int", "count", "hops in the last sweep of the band"),
                "store_state": _f("str", "", "the station's disk: ok, or 'degraded: ' and why (a store or spool whose "
                                  "disk refuses writes or is below its reserve; points then go to the sinks directly)"),
                "memory_depth": _f("int", "count", "points held in memory because the spool's disk refuses or is low"),
                "points_lost": _f("int", "count", "points the station could not keep: dropped from the full memory "
                                  "queue or refused by the server with no spool to keep them (since start)"),
                "emissions_lost": _f("int", "count", "emission points among points_lost (since start)"),
                "violations_lost": _f("int", "count", "violation points among points_lost (since start)"),
                "sink_state": _f("str", "", "sinks: ok, or the first failing sink and why (points wait in the spool)"),
                "clock_state": _f("str", "", "time sync: synced, unsynced or unknown (chrony/timedatectl; station-wide points)"),
                "clock_offset_s": _f("float", "s", "system clock offset from the NTP reference (chrony; absent when unknown)"),
                "position_source": _f("str", "", "where latitude/longitude come from: config (surveyed, fixed) or gps"),
                **SETTINGS_FIELDS,
            },
        ),
        MeasurementSpec(
            "network_case",
            "one network case (one emitter seen by one or more stations) as `specmon network` built it; station='network', band='all'",
            {**COMMON_TAGS,
             "class": "violation class shared by the linked station cases",
             "network_case": "network case id (NC-000001): one series per network case (bounded by the emitters a network tracks)"},
            {
                "kind": _f("str", "", "fix (>= 3 stations: estimate + 95 % region), arc (2 stations), ring (1 station)"),
                "network_case_id": _f("str", "", "network case id (NC-000001), stable across rebuilds"),
                "center_hz": _f("float", "Hz", "mean centre frequency over the linked station cases"),
                "bandwidth_hz": _f("float", "Hz", "median 99 % occupied bandwidth over the linked station cases"),
                "n_stations": _f("int", "count", "stations whose cases are linked"),
                "stations": _f("str", "", "linked stations, comma separated"),
                "station_cases": _f("str", "", "linked station cases as STATION:CASE_ID, comma separated"),
                "latitude": _f("float", "deg", "estimated transmitter latitude (kind fix only)"),
                "longitude": _f("float", "deg", "estimated transmitter longitude (kind fix only)"),
                "region_radius_m": _f("float", "m", "radius of the circle with the 95 % region's area"),
                "region_bounded": _f("bool", "", "false when the region reaches the edge of the search area"),
                "p_value": _f("float", "ratio", "goodness of fit of one source to the levels (>= 4 stations)"),
                "flag": _f("str", "", "'' or why the case needs care: clock_suspect, uncalibrated_levels, split"),
                "first_seen_s": _f("float", "s", "UTC epoch seconds of the first linked observation"),
                "last_seen_s": _f("float", "s", "UTC epoch seconds of the last linked observation"),
            },
        ),
        MeasurementSpec(
            "network_region",
            "outline of the 95 % region (or arc/ring) of a network case for maps: the boundary resampled to a fixed number of vertices spaced evenly along it (the exact polygons are in the network store and its GeoJSON export); station='network', band='all'",
            {**COMMON_TAGS, "network_case": "network case id (NC-000001)",
             "vertex": "vertex index 0..47 along the outline (a fixed set, so the latest build's outline is one series per vertex)"},
            {
                "network_case_id": _f("str", "", "network case id"),
                "ring": _f("int", "count", "ring index within the case (0 = first outer boundary)"),
                "latitude": _f("float", "deg", "vertex latitude"),
                "longitude": _f("float", "deg", "vertex longitude"),
            },
        ),
        MeasurementSpec(
            "network_link",
            "one station case linked to a network case, per build; station = the observing station, band='all'",
            {**COMMON_TAGS, "network_case": "network case id (NC-000001)"},
            {
                "network_case_id": _f("str", "", "network case id"),
                "class": _f("str", "", "violation class of the station case"),
                "station_case_id": _f("str", "", "the station's violation case id (its page: <station web app>/cases/<id>)"),
                "level": _f("float", "dB", "median level of the station case: dBm at the antenna port, or dBFS when uncalibrated"),
                "level_unit": _f("str", "", "dBm or dBFS"),
                "level_u95_db": _f("float", "dB", "expanded uncertainty (k=2) of the level"),
                "occupancy": _f("float", "ratio", "median fraction of frames the emission was on (keying)"),
                "n_obs": _f("int", "count", "violation observations of the station case in the build's window"),
                "latitude": _f("float", "deg", "the observing station's latitude"),
                "longitude": _f("float", "deg", "the observing station's longitude"),
                "first_seen_s": _f("float", "s", "UTC epoch seconds of the station case's first observation"),
                "last_seen_s": _f("float", "s", "UTC epoch seconds of the station case's last observation"),
            },
        ),
    ]
}


@dataclass(frozen=True, slots=True)
class Point:
    """One stored point. ``time_ns`` is UTC nanoseconds since the epoch."""

    measurement: str
    tags: dict[str, str]
    fields: dict[str, float | int | str | bool]
    time_ns: int


def check_point(point: Point) -> None:
    """Raise ValueError when a point names a measurement, tag or field the vocabulary lacks."""
    spec = MEASUREMENTS.get(point.measurement)
    if spec is None:
        raise ValueError(f"measurement {point.measurement!r} is not in the vocabulary")
    for key in point.tags:
        if key not in spec.tags:
            raise ValueError(f"{point.measurement}: tag {key!r} is not in the vocabulary")
    for key in point.fields:
        if key not in spec.fields:
            raise ValueError(f"{point.measurement}: field {key!r} is not in the vocabulary")


_FAST_TYPES = {"float": float, "int": int, "str": str, "bool": bool}
#: (measurement, field names, tag names) already checked against the vocabulary -> per-field expected type
_checked: dict[tuple, tuple] = {}


def coerce(point: Point) -> Point:
    """Check a point against the vocabulary and convert field values to the vocabulary's type (an int given
    for a float field becomes a float, so InfluxDB never sees a field-type conflict). ValueError when the
    point names something the vocabulary lacks or a value cannot be converted."""
    fields = point.fields
    key = (point.measurement, tuple(fields), tuple(point.tags))
    types = _checked.get(key)
    if types is None:
        check_point(point)
        spec = MEASUREMENTS[point.measurement].fields
        types = tuple(_FAST_TYPES[spec[k].type] for k in fields)
        if len(_checked) > 4096:
            _checked.clear()
        _checked[key] = types
    changed = None
    for (k, value), want in zip(fields.items(), types):
        if type(value) is want or value is None:
            continue  # None is left out (and counted) by the encoder
        new = _convert(point.measurement, k, value, want)
        if changed is None:
            changed = dict(fields)
        changed[k] = new
    t = point.time_ns
    if type(t) is not int:
        if t != int(t):
            raise ValueError(f"{point.measurement}: time_ns must be a whole number of ns, got {t!r}")
        t = int(t)
    elif changed is None:
        return point
    return Point(point.measurement, point.tags, fields if changed is None else changed, t)


def _convert(measurement: str, key: str, value, want: type):
    try:
        if want is float:
            return float(value)
        if want is int:
            new = int(value)
            if new != value:
                raise ValueError
            return new
        if want is bool:
            if not isinstance(value, (bool, int)) and type(value).__name__ != "bool_":
                raise ValueError
            return bool(value)
        raise ValueError
    except (TypeError, ValueError):
        kind = {float: "float", int: "int", bool: "bool", str: "str"}[want]
        raise ValueError(
            f"{measurement}: field {key!r} must be {kind}, got {value!r} ({type(value).__name__})"
        ) from None
