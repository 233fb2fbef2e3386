"""The bounded in-memory queue an output falls back to when its spool's disk cannot take points (full, read-only,
file-size limit, I/O error) or is below its free-space reserve: the sender sends it straight to the sink, and the
output moves what is left into the spool once the disk has room again (each point lives in exactly one place:
memory or spool).

Bounded by ``max_points``. When full, the lowest priority class is dropped first, oldest first:
  0. ``violation``  1. ``emission``, ``occupancy``  2. ``station_health``  3. ``band_spectrum``, ``noise_floor``;
an incoming point of a lower priority than everything queued is the one dropped. Every dropped point is counted
per measurement (:attr:`MemoryQueue.dropped`); nothing leaves silently. Batches are taken highest priority first.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

#: measurement -> priority class (0 highest); measurements not listed rank with emissions
PRIORITY: dict[str, int] = {
    "violation": 0,
    "emission": 1,
    "occupancy": 1,
    "station_health": 2,
    "band_spectrum": 3,
    "noise_floor": 3,
}
#: the measurements a disk below its reserve stops spooling first (kept in memory and sent directly)
LOW_PRIORITY = tuple(m for m, p in PRIORITY.items() if p >= 2)

#: one encoded point: (measurement, time_ns, line protocol without newline)
Item = tuple[str, int, bytes]


def priority(measurement: str) -> int:
    return PRIORITY.get(measurement, 1)


class MemoryQueue:
    """Encoded points by priority class, at most ``max_points`` in all. Thread-safe."""

    def __init__(self, max_points: int = 50_000):
        if max_points < 1:
            raise ValueError(f"max_points must be >= 1, got {max_points}")
        self.max_points = int(max_points)
        self._classes: dict[int, deque[Item]] = {p: deque() for p in sorted(set(PRIORITY.values()))}
        self._n = 0
        self._lock = threading.Lock()
        self.dropped: dict[str, int] = {}  # measurement -> points dropped (cumulative)

    def __len__(self) -> int:
        return self._n

    def _drop(self, measurement: str, n: int = 1) -> None:
        self.dropped[measurement] = self.dropped.get(measurement, 0) + n

    def push(self, items: Iterable[Item]) -> int:
        """Queue the items; returns how many points were dropped (queued ones or incoming) to stay bounded."""
        dropped = 0
        with self._lock:
            for item in items:
                rank = priority(item[0])
                if self._n >= self.max_points:
                    lowest = max((p for p, q in self._classes.items() if q), default=None)
                    if lowest is None or lowest < rank:  # everything queued matters more: drop the newcomer
                        self._drop(item[0])
                        dropped += 1
                        continue
                    old = self._classes[lowest].popleft()
                    self._n -= 1
                    self._drop(old[0])
                    dropped += 1
                self._classes.setdefault(rank, deque()).append(item)
                self._n += 1
        return dropped

    def take(self, max_points: int) -> list[Item]:
        """Remove and return up to ``max_points`` items, highest priority class first, oldest first within one."""
        out: list[Item] = []
        with self._lock:
            for p in sorted(self._classes):
                q = self._classes[p]
                while q and len(out) < max_points:
                    out.append(q.popleft())
            self._n -= len(out)
        return out

    def put_back(self, items: list[Item]) -> None:
        """Return items taken by :meth:`take` that could not be delivered, ahead of their class (over the bound
        if need be: they were counted in it when taken)."""
        with self._lock:
            for item in reversed(items):
                self._classes.setdefault(priority(item[0]), deque()).appendleft(item)
            self._n += len(items)

    def by_measurement(self) -> dict[str, int]:
        with self._lock:
            out: dict[str, int] = {}
            for q in self._classes.values():
                for m, _t, _line in q:
                    out[m] = out.get(m, 0) + 1
        return out
