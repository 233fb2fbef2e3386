"""Band scheduler: each band is revisited on its own period and priority; achieved revisits are recorded.

Time is monotonic seconds (``time.monotonic``) so a wall-clock jump (NTP step, RTC fix at boot) neither
starves nor floods the schedule. A band is *due* when ``now >= last_start + revisit_s`` (times the jitter factor below;
every band is due at start). Among due bands the highest ``priority`` runs first; ties go to the most overdue (relative to its
period), then to config order. Starvation guard: a band that has waited two full periods or more since its
last start goes ahead of any band that has not, so an overloaded schedule degrades every band's revisit time
instead of never sweeping the low-priority ones. A band may be *held* (its receiver is reopening).

Jitter (de-aliasing): with ``jitter = j > 0`` each sweep's start draws the interval to the next due time as
``revisit_s * (1 + u)``, ``u`` uniform in ``[-j, +j]`` (mean ``revisit_s``, so the mean revisit is unchanged).
A strictly periodic schedule locks in phase with a periodic burst transmitter whose period divides the
revisit (a one-hop band swept every 1 s and a device bursting every 1 s: the burst is seen in every sweep or
in none). The jitter makes the sampling phase a random walk that spreads over the whole burst cycle, so a
burst of ``b`` s every ``P`` s is seen in about ``(b + dwell) / P`` of the sweeps; ``j = 0.25`` decorrelates
the phase against a period equal to the revisit within a few sweeps (``|E exp(2 pi i u)| = sinc(2 j) = 0.64``
per sweep) and fully against half of it. The draws come from ``random.Random(seed)``: a seeded simulator run is
reproducible, a real station (seed None) draws from the OS. Jitter only moves due times; a band that is
already late when it comes up (an overloaded schedule) starts when the previous sweep ends, as before.

The achieved revisit time of a band is the time between the starts of two consecutive sweeps of it; the
occupancy statistics depend on it, so every value is kept (bounded history) with count/mean/max.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterable


#: a band that waited this many of its periods since its last start goes ahead of higher priorities
STARVING_PERIODS = 2.0
#: largest allowed jitter fraction: intervals stay within [0.5, 1.5] x revisit_s
MAX_JITTER = 0.5


@dataclass(frozen=True, slots=True)
class BandSlot:
    """What the scheduler needs to know about one band."""

    name: str
    revisit_s: float
    priority: int


@dataclass(frozen=True, slots=True)
class RevisitStats:
    """Achieved revisit times of one band (seconds between sweep starts)."""

    band: str
    wanted_s: float
    sweeps: int  # sweeps started
    count: int  # revisit intervals measured (sweeps - 1)
    last_s: float | None
    mean_s: float | None
    max_s: float | None
    min_s: float | None


@dataclass(frozen=True, slots=True)
class Decision:
    """The scheduler's answer: run ``band`` now, or wait ``wait_s`` seconds (band None) and ask again."""

    band: str | None
    wait_s: float


class Scheduler:
    """Chooses the next band to sweep. Not thread-safe (the daemon's main loop owns it).

    Parameters
    ----------
    bands : iterable of BandSlot
        The bands, in config order (the last tie-break).
    clock : callable, default time.monotonic
        Monotonic seconds.
    history : int, default 1000
        Achieved revisit times kept per band.
    jitter : float, default 0.0
        Fraction ``j`` (0..0.5) of random spread of each interval to the next due time (``[run]
        revisit_jitter`` in the station, default 0.25); 0: strictly periodic.
    seed : int or None, default None
        Seed of the jitter draws; None: from the OS.
    """

    def __init__(self, bands: Iterable[BandSlot], *, clock: Callable[[], float] = time.monotonic,
                 history: int = 1000, jitter: float = 0.0, seed: int | None = None):
        self._clock = clock
        self._rng = random.Random(seed)
        self._jitter = 0.0
        self.set_jitter(jitter)
        self._factor: dict[str, float] = {}  # band -> 1 + u of its current interval (drawn at its last start)
        self._bands: dict[str, BandSlot] = {}
        self._order: dict[str, int] = {}
        self._last_start: dict[str, float | None] = {}
        self._hold_until: dict[str, float] = {}
        self._sweeps: dict[str, int] = {}
        self._revisits: dict[str, deque[float]] = {}
        self._history = int(history)
        self.set_bands(bands)

    # ---- configuration --------------------------------------------------------------------------------
    def set_bands(self, bands: Iterable[BandSlot]) -> None:
        """(Re)configure the bands (SIGHUP reload). Bands that stay keep their history and last start."""
        bands = list(bands)
        names = [b.name for b in bands]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate band names in {names}")
        for b in bands:
            if not b.revisit_s > 0:
                raise ValueError(f"band {b.name!r}: revisit_s must be positive, got {b.revisit_s}")
        self._bands = {b.name: b for b in bands}
        self._order = {b.name: i for i, b in enumerate(bands)}
        for name in names:
            self._last_start.setdefault(name, None)
            self._sweeps.setdefault(name, 0)
            self._revisits.setdefault(name, deque(maxlen=self._history))
        for d in (self._last_start, self._sweeps, self._revisits, self._hold_until, self._factor):
            for gone in set(d) - set(names):
                del d[gone]

    def set_jitter(self, jitter: float) -> None:
        """Change the jitter fraction (applies from each band's next start)."""
        j = float(jitter)
        if not 0.0 <= j <= MAX_JITTER:
            raise ValueError(f"jitter must be in [0, {MAX_JITTER}], got {jitter}")
        self._jitter = j

    @property
    def jitter(self) -> float:
        return self._jitter

    @property
    def bands(self) -> tuple[str, ...]:
        return tuple(self._bands)

    # ---- decisions ------------------------------------------------------------------------------------
    def due_at(self, band: str) -> float:
        """Monotonic time at which ``band`` is next due (hold included)."""
        last = self._last_start[band]
        due = float("-inf") if last is None else last + self._bands[band].revisit_s * self._factor.get(band, 1.0)
        return max(due, self._hold_until.get(band, float("-inf")))

    def next(self, *, exclude: Iterable[str] = ()) -> Decision:
        """The band to sweep now, or how long to wait. ``exclude``: bands not to consider (finished)."""
        now = self._clock()
        skip = set(exclude)
        candidates = [n for n in self._bands if n not in skip]
        if not candidates:
            return Decision(None, float("inf"))
        due = [n for n in candidates if self.due_at(n) <= now]
        if not due:
            return Decision(None, max(0.0, min(self.due_at(n) for n in candidates) - now))

        def key(n: str):
            b = self._bands[n]
            last = self._last_start[n]
            lateness = float("inf") if last is None else (now - last) / b.revisit_s
            starving = lateness >= STARVING_PERIODS
            return (not starving, -b.priority, -lateness, self._order[n])

        return Decision(min(due, key=key), 0.0)

    def hold(self, band: str, until: float) -> None:
        """Do not schedule ``band`` before monotonic time ``until`` (its receiver is in reopen backoff)."""
        self._hold_until[band] = float(until)

    def release(self, band: str) -> None:
        self._hold_until.pop(band, None)

    # ---- bookkeeping ----------------------------------------------------------------------------------
    def started(self, band: str, at: float | None = None) -> float | None:
        """Record that a sweep of ``band`` starts now; returns the achieved revisit (s), None for the first."""
        t = self._clock() if at is None else float(at)
        last = self._last_start[band]
        self._last_start[band] = t
        self._sweeps[band] += 1
        self._hold_until.pop(band, None)
        j = self._jitter
        self._factor[band] = 1.0 + self._rng.uniform(-j, j) if j > 0 else 1.0
        if last is None:
            return None
        revisit = t - last
        self._revisits[band].append(revisit)
        return revisit

    def sweeps(self, band: str) -> int:
        return self._sweeps[band]

    def revisits(self, band: str) -> tuple[float, ...]:
        """Every achieved revisit time of ``band`` kept (most recent ``history``), seconds."""
        return tuple(self._revisits[band])

    def stats(self, band: str) -> RevisitStats:
        r = self._revisits[band]
        return RevisitStats(
            band=band,
            wanted_s=self._bands[band].revisit_s,
            sweeps=self._sweeps[band],
            count=len(r),
            last_s=r[-1] if r else None,
            mean_s=sum(r) / len(r) if r else None,
            max_s=max(r) if r else None,
            min_s=min(r) if r else None,
        )


__all__ = ["MAX_JITTER", "BandSlot", "Decision", "RevisitStats", "Scheduler"]
