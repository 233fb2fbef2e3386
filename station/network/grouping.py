"""Station cases -> network cases: which observations are one emitter, and where it is. Pure, no I/O.

Rules (docs/NETWORK.md):

1. Two station cases of different stations may be one emitter when their centre frequencies agree within
   ``2 * hypot(u1, u2) + 0.1 * min(bandwidths)`` (u = half the RBW combined with 1 ppm of the frequency:
   the measurement's frequency uncertainty), their bandwidths within half the larger plus two RBWs, their
   classes are the same and their observation times overlap (each interval widened by ``time_slack_s``).
   Compatible pairs are joined transitively (union-find).
   Bursty emitters must also key alike: when either case's occupancy (median fraction of frames on) is
   below ``continuous_occupancy``, the two occupancies must agree within ``occupancy_tolerance`` plus twice
   their combined standard error (two transmitters sharing a channel with different duty cycles stay apart;
   the tolerance allows the weaker station to miss the faintest frames of a burst).
2. A station whose clock is not synced (``clock_state == 'unsynced'`` or ``|clock_offset_s| >
   max_clock_offset_s``) is never merged: its cases stay single-station network cases flagged
   ``clock_suspect`` (times from a bad clock cannot show overlap).
3. A group seen by three or more stations is located (station.network.locate); with four or more the fit is
   tested: when P(chi2 >= D_min) < ``split_p`` the levels are not those of one source (co-channel
   transmitters in different districts) and the group is split into the two station sets that best explain
   the levels, each tested again.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from station.network import geo
from station.network.locate import Fix, PathLossPrior, best_split, locate
from station.network.observations import StationCase, StationInfo


@dataclass(frozen=True, slots=True)
class GroupingParams:
    """Parameters of the merge rules.

    Parameters
    ----------
    time_slack_s : float
        Observation intervals are widened by this before testing overlap (revisit time, spool delays).
    max_clock_offset_s : float
        A station whose clock is further off than this is not merged.
    split_p : float
        Goodness-of-fit p-value below which one source is rejected and the group split.
    prior : PathLossPrior
        Propagation assumed by the localiser.
    eirp_range_dbm : tuple
        EIRP range for a one-station ring.
    continuous_occupancy : float
        Occupancy at or above which an emission counts as continuous (keying not compared).
    occupancy_tolerance : float
        Largest occupancy difference (beyond twice the combined standard error) of one bursty emitter seen
        by two stations.
    """

    time_slack_s: float = 300.0
    max_clock_offset_s: float = 0.5
    split_p: float = 1e-3
    prior: PathLossPrior = field(default_factory=PathLossPrior)
    eirp_range_dbm: tuple[float, float] = (0.0, 50.0)
    continuous_occupancy: float = 0.9
    occupancy_tolerance: float = 0.15


@dataclass(frozen=True, slots=True)
class NetworkCase:
    """One emitter as the network sees it. ``fix`` is in the plane tangent at (ref_lat, ref_lon)."""

    members: tuple[StationCase, ...]
    klass: str
    center_hz: float
    bandwidth_hz: float
    first_ns: int
    last_ns: int
    fix: Fix | None
    ref_lat: float
    ref_lon: float
    flag: str = ""
    case_id: str = ""  # assigned by the store
    positions: tuple[tuple[str, float, float], ...] = ()  # (station, lat, lon) of the observing stations

    @property
    def stations(self) -> tuple[str, ...]:
        return tuple(sorted({m.station for m in self.members}))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(m.key for m in self.members))

    def estimate(self) -> tuple[float, float] | None:
        """(lat, lon) of the estimate (kind 'fix' only)."""
        if self.fix is None or self.fix.x_m is None:
            return None
        lat, lon = geo.to_geo(self.fix.x_m, self.fix.y_m, self.ref_lat, self.ref_lon)
        return float(lat), float(lon)

    def region_geo(self) -> list[list[list[tuple[float, float]]]]:
        """Region polygons as [[ring of (lon, lat)]] (GeoJSON order), rings closed."""
        out = []
        if self.fix is None:
            return out
        for poly in self.fix.region:
            rings = []
            for ring in poly:
                lat, lon = geo.to_geo(ring[:, 0], ring[:, 1], self.ref_lat, self.ref_lon)
                pts = [(float(a), float(b)) for a, b in zip(lon, lat)]
                rings.append(pts + pts[:1])
            out.append(rings)
        return out


def _freq_u_hz(c: StationCase) -> float:
    return math.hypot(c.rbw_hz / 2.0, 1e-6 * c.center_hz)


def compatible(a: StationCase, b: StationCase, params: GroupingParams) -> bool:
    """Rule 1: could two station cases of different stations be the same emitter?"""
    if a.station == b.station or a.klass != b.klass or a.calibrated != b.calibrated:
        return False
    tol = 2.0 * math.hypot(_freq_u_hz(a), _freq_u_hz(b)) + 0.1 * min(a.bandwidth_hz, b.bandwidth_hz)
    if abs(a.center_hz - b.center_hz) > tol:
        return False
    if abs(a.bandwidth_hz - b.bandwidth_hz) > 0.5 * max(a.bandwidth_hz, b.bandwidth_hz) + 2 * max(a.rbw_hz, b.rbw_hz):
        return False
    if not same_keying(a, b, params):
        return False
    slack = int(params.time_slack_s * 1e9)
    return a.first_ns - slack <= b.last_ns + slack and b.first_ns - slack <= a.last_ns + slack


def same_keying(a: StationCase, b: StationCase, params: GroupingParams) -> bool:
    """Rule 1, bursty emitters: do the two cases' occupancies (duty cycles) agree? True when either lacks one."""
    if not (math.isfinite(a.occupancy) and math.isfinite(b.occupancy)):
        return True
    if min(a.occupancy, b.occupancy) >= params.continuous_occupancy:
        return True
    se = math.hypot(*(c.occupancy_se if math.isfinite(c.occupancy_se) else 0.0 for c in (a, b)))
    return abs(a.occupancy - b.occupancy) <= params.occupancy_tolerance + 2.0 * se


def station_positions(cases: list[StationCase], stations: dict[str, StationInfo]) -> dict[str, StationInfo]:
    """Stations' positions: their health points' (with clock state), else the position their violation points
    carry (no clock report: clock 'unknown')."""
    out = dict(stations)
    for c in cases:
        if c.station not in out and math.isfinite(c.latitude) and math.isfinite(c.longitude):
            out[c.station] = StationInfo(c.station, c.latitude, c.longitude, c.last_ns, position_source="observation")
    return out


def clock_ok(info: StationInfo | None, params: GroupingParams) -> bool:
    if info is None:
        return True  # no health point: unknown, merged (the case says which stations had no clock report)
    if info.clock_state == "unsynced":
        return False
    return info.clock_offset_s is None or abs(info.clock_offset_s) <= params.max_clock_offset_s


def build_network_cases(cases: list[StationCase], stations: dict[str, StationInfo],
                        params: GroupingParams = GroupingParams()) -> list[NetworkCase]:
    """Network cases from every station's cases (stations without a known position are left out)."""
    stations = station_positions(cases, stations)
    usable = [c for c in cases if c.station in stations]
    parent = list(range(len(usable)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ok = [clock_ok(stations.get(c.station), params) for c in usable]
    order = sorted(range(len(usable)), key=lambda i: usable[i].center_hz)
    for pos, i in enumerate(order):  # sorted by frequency: only neighbours within the tolerance can match
        if not ok[i]:
            continue
        for j in order[pos + 1:]:
            if usable[j].center_hz - usable[i].center_hz > 0.5 * max(usable[i].bandwidth_hz, 1.0) + 10 * max(
                    usable[i].rbw_hz, 1.0) + 1e-5 * usable[i].center_hz:
                break
            if ok[j] and compatible(usable[i], usable[j], params):
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(usable)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for idx in groups.values():
        flag = "" if all(ok[i] for i in idx) else "clock_suspect"
        out.extend(_resolve([usable[i] for i in idx], stations, params, flag))
    out.sort(key=lambda n: (n.center_hz, n.stations))
    return out


def _per_station(members: list[StationCase]) -> list[StationCase]:
    """One representative case per station (most observations), for the levels."""
    best: dict[str, StationCase] = {}
    for m in members:
        if m.station not in best or m.n_obs > best[m.station].n_obs:
            best[m.station] = m
    return [best[s] for s in sorted(best)]


@functools.lru_cache(maxsize=4096)
def _locate_cached(levels, xs, ys, u, prior, frequency_hz, eirp_range_dbm) -> Fix:
    """:func:`locate` of hashable inputs, remembered (a pure function of them)."""
    return locate(np.array(levels), np.array(xs), np.array(ys), prior=prior, level_u_db=np.array(u),
                  frequency_hz=frequency_hz, eirp_range_dbm=eirp_range_dbm)


def _resolve(members, stations, params, flag, depth=0) -> list[NetworkCase]:
    reps = _per_station(members)
    lat0 = float(np.mean([stations[r.station].latitude for r in reps]))
    lon0 = float(np.mean([stations[r.station].longitude for r in reps]))
    xs, ys = geo.to_local([stations[r.station].latitude for r in reps],
                          [stations[r.station].longitude for r in reps], lat0, lon0)
    # levels to 0.01 dB, positions to 1 cm: far below the shadowing, and an unchanged case between two builds of
    # the service gets its fix from the cache instead of a new search and bootstrap
    levels = np.round([r.level for r in reps], 2)
    u = np.round([r.level_u95_db / 2.0 for r in reps], 3)  # U95 (k=2) -> standard uncertainty
    xs, ys = np.round(xs, 2), np.round(ys, 2)
    fix = _locate_cached(tuple(levels), tuple(xs), tuple(ys), tuple(u), params.prior,
                         round(float(np.mean([r.center_hz for r in reps])), -3),
                         tuple(params.eirp_range_dbm)) if (len(reps) >= 2 or reps[0].calibrated) else None
    if fix is not None and fix.p_value is not None and fix.p_value < params.split_p and depth < 3:
        a, b, _ = best_split(levels, xs, ys, prior=params.prior, level_u_db=u)
        parts = []
        for idx in (a, b):
            sts = {reps[i].station for i in idx}
            parts.extend(_resolve([m for m in members if m.station in sts], stations, params,
                                  ",".join(x for x in (flag, "split") if x), depth + 1))
        return parts
    if not reps[0].calibrated:
        flag = ",".join(x for x in (flag, "uncalibrated_levels") if x)
    return [NetworkCase(
        members=tuple(sorted(members, key=lambda m: m.key)),
        klass=Counter(m.klass for m in members).most_common(1)[0][0],
        center_hz=float(np.mean([m.center_hz for m in members])),
        bandwidth_hz=float(np.median([m.bandwidth_hz for m in members])),
        first_ns=min(m.first_ns for m in members), last_ns=max(m.last_ns for m in members),
        fix=fix, ref_lat=lat0, ref_lon=lon0, flag=flag,
        positions=tuple((r.station, stations[r.station].latitude, stations[r.station].longitude) for r in reps),
    )]


__all__ = ["GroupingParams", "NetworkCase", "build_network_cases", "clock_ok", "compatible", "same_keying",
           "station_positions"]
