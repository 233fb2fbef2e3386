"""Observation matching: keying of bursty emitters, station positions carried on violation points."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from station.network.grouping import GroupingParams, build_network_cases, same_keying
from station.network.observations import StationCase, StationInfo

SITES = {"hn-n": (21.075, 105.834), "hn-e": (21.028, 105.890), "hn-s": (20.985, 105.834), "hn-w": (21.028, 105.780)}


def sc(st, level, occ, occ_se=0.02, case="VC-000001", lat=math.nan, lon=math.nan):
    return StationCase(st, case, "unlicensed", "vhf", 147.25e6, 11e3, level, 3.0, True, 30.0, 2e3,
                       0, 600_000_000_000, 20, occupancy=occ, occupancy_se=occ_se, latitude=lat, longitude=lon)


def test_two_bursty_emitters_on_one_frequency_with_different_keying_stay_apart():
    infos = {st: StationInfo(st, *SITES[st], 0, "synced", 0.001) for st in SITES}
    # north-west emitter keyed 20 % of the time, south-east one 70 %: same channel, same class, same hours
    cases = [sc("hn-n", -60, 0.21), sc("hn-w", -63, 0.18, case="VC-000007"),
             sc("hn-s", -61, 0.69, case="VC-000003"), sc("hn-e", -64, 0.72, case="VC-000002")]
    groups = sorted(c.stations for c in build_network_cases(cases, infos))
    assert groups == [("hn-e", "hn-s"), ("hn-n", "hn-w")]
    # the same four with one keying are one emitter
    same = [sc(c.station, c.level, 0.2 + 0.02 * i, case=c.case_id) for i, c in enumerate(cases)]
    merged = build_network_cases(same, infos)
    assert len(merged) == 1 and len(merged[0].stations) == 4


def test_keying_is_compared_only_for_bursty_emitters_and_within_the_measurement_spread():
    p = GroupingParams()
    assert same_keying(sc("a", 0, 0.97), sc("b", 0, 0.93), p)  # continuous: not compared
    assert same_keying(sc("a", 0, math.nan), sc("b", 0, 0.2), p)  # not measured: not compared
    assert not same_keying(sc("a", 0, 0.95), sc("b", 0, 0.4), p)
    assert same_keying(sc("a", 0, 0.30, 0.10), sc("b", 0, 0.60, 0.10), p)  # few, scattered readings
    assert not same_keying(sc("a", 0, 0.30, 0.01), sc("b", 0, 0.60, 0.01), p)


def test_a_station_without_health_points_is_placed_where_its_violation_points_say():
    cases = [sc(st, lv, 1.0, lat=SITES[st][0], lon=SITES[st][1]) for st, lv in
             (("hn-n", -70), ("hn-e", -62), ("hn-s", -80), ("hn-w", -78))]
    out = build_network_cases(cases, {})
    assert len(out) == 1 and out[0].fix is not None and out[0].fix.kind == "fix"
    assert dict((s, (la, lo)) for s, la, lo in out[0].positions) == SITES


def test_violation_points_carry_the_station_position_and_keying():
    from detectors.records import Emission
    from station.compliance.records import ComplianceClass, ComplianceResult
    from station.outputs.points import PointContext, ViolationObservation, violation_points

    e = Emission(center_hz=147.25e6, peak_hz=147.25e6, bandwidth_hz=11e3, xdb_bandwidth_hz=10e3, xdb_valid=True,
                 power_dbfs=-60.0, peak_dbfs=-55.0, snr_db=20.0, noise_dbfs_hz=-140.0, occupancy=0.25, n_bursts=3,
                 f_lo_hz=147.2445e6, f_hi_hz=147.2555e6, first_seen=datetime(2026, 12, 1, tzinfo=timezone.utc),
                 last_seen=datetime(2026, 12, 1, tzinfo=timezone.utc))
    r = ComplianceResult(e, ComplianceClass.UNLICENSED, (), "unlicensed", track_id="T1")
    ctx = PointContext("hn-n", "vhf", 2e3, 1024, 0.05, position=SITES["hn-n"])
    (pt,) = violation_points([ViolationObservation(r, "VC-000001", "confirmed")],
                             ctx, datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert (pt.fields["latitude"], pt.fields["longitude"]) == SITES["hn-n"]
    assert pt.fields["occupancy"] == 0.25 and pt.fields["n_bursts"] == 3
