"""The network service reads incrementally (station/network/incremental.py) and ends with the same station
cases as a from-scratch read of the window, on a real influxd: new points, a late point inside the overlap,
points leaving the window, a station's health update."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from station.network.incremental import ObservationCache
from station.network.observations import InfluxReader, read_station_cases, read_stations
from station.outputs.lineprotocol import encode_points
from station.outputs.vocabulary import Point

pytestmark = pytest.mark.influx

S = 1_000_000_000
T0 = 1_790_000_000 * S


def points(minutes, stations=("a", "b"), late_from=None):
    out = []
    for m in minutes:
        t = T0 + int(m * 60) * S
        for i, st in enumerate(stations):
            out.append(Point("station_health", {"station": st, "band": "all"}, {
                "latitude": 21.0 + i / 100, "longitude": 105.8, "clock_state": "synced", "clock_offset_s": 0.001},
                t))
            out.append(Point("violation", {"station": st, "band": "vhf", "class": "unlicensed"}, {
                "case_id": f"VC-{st}", "center_hz": 147.25e6 + m, "bandwidth_hz": 11e3, "power_dbm": -70.0 - m % 7,
                "power_dbm_u95": 3.0, "snr_db": 20.0, "occupancy": 0.5, "rbw_hz": 2e3}, t + 1))
    return out


def write(influxdb, db, pts):
    influxdb.write_lines(db, list(encode_points(pts).lines))


def cases(reader, since, until):
    return sorted(astuple(c) for c in read_station_cases(reader, since, until))


def test_incremental_reads_end_where_a_full_read_does(influxdb, influx_db):
    reader = InfluxReader(f"influx://127.0.0.1:{influxdb.port}/{influx_db}")
    window_s = 30 * 60
    cache = ObservationCache(window_s, overlap_s=120, full_every=0)
    write(influxdb, influx_db, points(range(0, 20)))
    until = T0 + 20 * 60 * S
    st = cache.update(reader, until)
    assert st.full and st.rows == 40
    assert sorted(astuple(c) for c in cache.station_cases()) == cases(reader, until - window_s * S, until)

    # ten more minutes, one of them for minute 19.5 arriving late (inside the 2-minute overlap), a third station
    write(influxdb, influx_db, points(range(20, 30)) + points([19.5]) + points([25], stations=("c",)))
    until = T0 + 30 * 60 * S
    st = cache.update(reader, until)
    assert not st.full and st.since_ns == T0 + 18 * 60 * S
    assert st.rows < 40  # only the new minutes (and the overlap), not the window
    assert sorted(astuple(c) for c in cache.station_cases()) == cases(reader, until - window_s * S, until)
    assert cache.stations() == read_stations(reader, until - window_s * S, until)

    # the window moves on: the oldest minutes leave, the cases' first_ns and counts follow
    until = T0 + 45 * 60 * S
    cache.update(reader, until)
    got = sorted(astuple(c) for c in cache.station_cases())
    assert got == cases(reader, until - window_s * S, until)
    assert min(c.first_ns for c in cache.station_cases()) >= until - window_s * S


def test_bad_cache_settings_are_refused():
    with pytest.raises(ValueError, match="window_s"):
        ObservationCache(0)
