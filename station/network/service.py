"""`specmon network`: read the central InfluxDB, build network cases, store them, write them back.

One build (:func:`build_once`): read every station's violation cases and health over the window ending now,
group them (station.network.grouping), give them stable ids in the network store, and write
``network_case`` and ``network_region`` points (station='network', band='all') back to InfluxDB for Grafana.
The service (``specmon network run``) repeats a build every interval with an
:class:`~station.network.incremental.ObservationCache`, reading only the points new since the last build; a station going silent only stops
adding observations (its cases stay linked while they are inside the window).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
from dataclasses import dataclass
from datetime import datetime, timezone

from station.network.grouping import GroupingParams, NetworkCase, build_network_cases
from station.network.incremental import ObservationCache
from station.network.observations import InfluxReader, read_station_cases, read_stations
from station.network.store import NetworkStore
from station.outputs.lineprotocol import encode_points
from station.outputs.points import time_ns
from station.outputs.vocabulary import Point, check_point

log = logging.getLogger("specmon.network")


@dataclass(frozen=True, slots=True)
class BuildReport:
    cases: list[NetworkCase]
    n_station_cases: int
    n_stations: int
    read_s: float
    group_s: float
    write_s: float


def network_points(cases: list[NetworkCase], at: datetime) -> list[Point]:
    """Points of one build at ``at``: ``network_case`` (one per case), ``network_link`` (one per linked station
    case) and ``network_region`` (the region's outline, :data:`OUTLINE_VERTICES` vertices)."""
    t0 = time_ns(at)
    tags = {"station": "network", "band": "all"}
    out = []
    for i, nc in enumerate(cases):
        fix = nc.fix
        est = nc.estimate()
        fields = {
            "network_case_id": nc.case_id, "kind": fix.kind if fix else "none", "center_hz": nc.center_hz,
            "bandwidth_hz": nc.bandwidth_hz, "n_stations": len(nc.stations), "stations": ",".join(nc.stations),
            "station_cases": ",".join(nc.keys), "flag": nc.flag,
            "first_seen_s": nc.first_ns / 1e9, "last_seen_s": nc.last_ns / 1e9,
        }
        if est is not None:
            fields["latitude"], fields["longitude"] = est
        if fix is not None:
            fields["region_radius_m"] = math.sqrt(fix.area_m2 / math.pi)
            fields["region_bounded"] = bool(fix.region_bounded)
            if fix.p_value is not None:
                fields["p_value"] = fix.p_value
        p = Point("network_case", {**tags, "class": nc.klass, "network_case": nc.case_id}, fields, t0 + i)
        check_point(p)
        out.append(p)
    k = len(out)
    for nc in cases:
        positions = {st: (lat, lon) for st, lat, lon in nc.positions}
        for m in nc.members:
            fields = {"network_case_id": nc.case_id, "station_case_id": m.case_id, "level": m.level,
                      "level_unit": "dBm" if m.calibrated else "dBFS", "level_u95_db": m.level_u95_db,
                      "n_obs": m.n_obs, "first_seen_s": m.first_ns / 1e9, "last_seen_s": m.last_ns / 1e9}
            if math.isfinite(m.occupancy):
                fields["occupancy"] = m.occupancy
            if m.station in positions:
                fields["latitude"], fields["longitude"] = positions[m.station]
            fields["class"] = m.klass
            out.append(Point("network_link", {"station": m.station, "band": "all", "network_case": nc.case_id},
                             fields, t0 + k))
            k += 1
        for v, (r, lon, lat) in enumerate(outline(nc.region_geo())):
            out.append(Point("network_region", {**tags, "network_case": nc.case_id, "vertex": str(v)}, {
                "network_case_id": nc.case_id, "ring": r, "latitude": lat, "longitude": lon}, t0 + k))
            k += 1
    return out


#: vertices of a region outline in the ``network_region`` points (a fixed set: one series per vertex)
OUTLINE_VERTICES = 48


def outline(region: list, n: int = OUTLINE_VERTICES) -> list[tuple[int, float, float]]:
    """``n`` (ring index, lon, lat) points spaced evenly along the total length of a region's rings (every
    ring of every polygon, rings closed), each ring getting at least 3; empty for no region."""
    rings = [np.asarray(ring, dtype=np.float64) for poly in region for ring in poly if len(ring) >= 2]
    if not rings:
        return []
    lengths = np.array([np.hypot(*np.diff(r, axis=0).T).sum() for r in rings])
    share = np.maximum(3, np.floor(n * lengths / max(lengths.sum(), 1e-300)).astype(int))
    while share.sum() > n and share.max() > 3:
        share[int(np.argmax(share))] -= 1
    share[int(np.argmax(lengths))] += max(0, n - int(share.sum()))
    out = []
    for r, (ring, m) in enumerate(zip(rings, share)):
        seg = np.hypot(*np.diff(ring, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        t = np.linspace(0.0, s[-1], int(m), endpoint=False)
        lon = np.interp(t, s, ring[:, 0])
        lat = np.interp(t, s, ring[:, 1])
        out.extend((r, float(a), float(b)) for a, b in zip(lon, lat))
    return out[:n]


def build_once(reader: InfluxReader, store: NetworkStore, *, window_s: float = 86400.0,
               now: datetime | None = None, params: GroupingParams = GroupingParams(),
               write_back: bool = True, cache: ObservationCache | None = None) -> BuildReport:
    """One build over the window ending ``now`` (default: the wall clock). With a ``cache`` (the service) only
    the points new since its last build are read (station/network/incremental.py); its window is used."""
    now = now or datetime.now(timezone.utc)
    until = time_ns(now) + 1
    since = until - int(window_s * 1e9)
    t0 = time.perf_counter()
    if cache is None:
        station_cases = read_station_cases(reader, since, until)
        stations = read_stations(reader, since, until)
    else:
        cache.update(reader, until)
        station_cases, stations = cache.station_cases(), cache.stations()
    t1 = time.perf_counter()
    cases = store.save(build_network_cases(station_cases, stations, params), now=now)
    t2 = time.perf_counter()
    if write_back and cases:
        reader.write(list(encode_points(network_points(cases, now)).lines))
    t3 = time.perf_counter()
    log.info("network build: %d station cases from %d stations -> %d network cases (read %.2f s, group %.2f s, "
             "write %.2f s)", len(station_cases), len(stations), len(cases), t1 - t0, t2 - t1, t3 - t2)
    return BuildReport(cases, len(station_cases), len(stations), t1 - t0, t2 - t1, t3 - t2)


def describe(nc: NetworkCase) -> str:
    """One line per network case for the terminal."""
    fix = nc.fix
    where = "no location"
    if fix is not None and fix.kind == "fix":
        lat, lon = nc.estimate()
        r = math.sqrt(fix.area_m2 / math.pi)
        where = (f"at {lat:.5f}, {lon:.5f} (95 % region ~{r:,.0f} m equivalent radius"
                 f"{'' if fix.region_bounded else ', reaches the search edge'})")
    elif fix is not None and fix.kind == "arc":
        where = "2 stations: on an arc (region consistent with the level difference)"
    elif fix is not None and fix.kind == "ring":
        where = f"1 station: ring {fix.ring_m[0]:,.0f}-{fix.ring_m[1]:,.0f} m (EIRP assumed)"
    flag = f" [{nc.flag}]" if nc.flag else ""
    return (f"{nc.case_id} {nc.klass:<12} {nc.center_hz / 1e6:11.5f} MHz {len(nc.stations)} stations "
            f"({', '.join(nc.keys)}) {where}{flag}")


__all__ = ["BuildReport", "OUTLINE_VERTICES", "build_once", "describe", "network_points", "outline"]
