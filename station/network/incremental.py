"""Incremental reading for the network service: keep the window's observations in memory and read only what
is new at each build.

A from-scratch build reads every violation point of the window (24 h of 200 stations is 1.4 M rows: most of
a build's time). :class:`ObservationCache` reads the whole window once, then at each build only the points at
or after the previous build's high-water mark minus ``overlap_s`` (late arrivals: a station's spool delivers
points with their original timestamps once its link is back). Points are kept per (station, case) keyed by
their timestamp, so the overlap's re-read replaces, never duplicates. Points older than the window are
dropped; only cases that gained or lost points are re-aggregated. Points arriving later than the overlap
(a station offline for longer) are picked up by the next full re-read, every ``full_every`` builds.
Station health is merged the same way (the newest value of each field per station wins).
"""

from __future__ import annotations

from dataclasses import dataclass

from station.network.observations import (
    InfluxReader, StationCase, StationInfo, aggregate, health_rows, read_series, station_infos, violation_query,
)


@dataclass(slots=True)
class ReadStats:
    """What one :meth:`ObservationCache.update` read."""

    full: bool
    rows: int
    since_ns: int
    until_ns: int


class ObservationCache:
    """The window's violation rows and station health, updated incrementally (see the module docstring).

    Parameters
    ----------
    window_s : float
        Observations considered: the last ``window_s`` seconds before each build.
    overlap_s : float
        Each incremental read starts this long before the previous high-water mark.
    full_every : int
        Every this many builds the whole window is read again (0: never after the first).
    """

    def __init__(self, window_s: float, *, overlap_s: float = 300.0, full_every: int = 60):
        if window_s <= 0 or overlap_s < 0 or full_every < 0:
            raise ValueError("window_s must be > 0, overlap_s and full_every >= 0")
        self.window_ns = int(window_s * 1e9)
        self.overlap_ns = int(overlap_s * 1e9)
        self.full_every = full_every
        self.hwm_ns: int | None = None
        self._rows: dict[tuple[str, str], dict[int, dict]] = {}
        self._cases: dict[tuple[str, str], StationCase | None] = {}
        self._health: dict[str, dict] = {}
        self._series: dict[tuple[str, str], dict] = {}
        self._builds = 0

    def update(self, reader: InfluxReader, until_ns: int) -> ReadStats:
        """Read what is new up to ``until_ns`` (exclusive) and drop what left the window."""
        start = until_ns - self.window_ns
        full = self.hwm_ns is None or (self.full_every and self._builds % self.full_every == 0)
        since = start if full else max(start, self.hwm_ns - self.overlap_ns)
        if full:
            self._rows.clear()
            self._cases.clear()
            self._health.clear()
            self._series.clear()
        for key, info in read_series(reader, since, until_ns).items():
            self._series.setdefault(key, {}).update({f: v for f, v in info.items() if v is not None})
        dirty: set[tuple[str, str]] = set()
        n = 0
        for row in reader.query(violation_query(since, until_ns)):
            if not row.get("case_id") or row.get("center_hz") is None:
                continue
            key = (row.get("station", ""), row["case_id"])
            self._rows.setdefault(key, {})[int(row["time"])] = row
            dirty.add(key)
            n += 1
        for key, rows in list(self._rows.items()):  # evict what left the window
            if min(rows) < start:
                for t in [t for t in rows if t < start]:
                    del rows[t]
                dirty.add(key)
                if not rows:
                    del self._rows[key]
        for key in dirty:
            rows = self._rows.get(key)
            if rows:
                self._cases[key] = aggregate(key[0], key[1], list(rows.values()), self._series)
            else:
                self._cases.pop(key, None)
        for st, fields in health_rows(reader, since, until_ns).items():
            mine = self._health.setdefault(st, {})
            for f, (t, v) in fields.items():
                if f not in mine or t >= mine[f][0]:
                    mine[f] = (t, v)
        for st in list(self._health):  # a station silent for the whole window is forgotten
            self._health[st] = {f: tv for f, tv in self._health[st].items() if tv[0] >= start}
            if not self._health[st]:
                del self._health[st]
        self.hwm_ns = until_ns
        self._builds += 1
        return ReadStats(bool(full), n, since, until_ns)

    def station_cases(self) -> list[StationCase]:
        out = [c for c in self._cases.values() if c is not None]
        out.sort(key=lambda c: (c.center_hz, c.station, c.case_id))
        return out

    def stations(self) -> dict[str, StationInfo]:
        return station_infos(self._health)


__all__ = ["ObservationCache", "ReadStats"]
