"""When each simulated transmitter is on the air, as a pure function of the simulator time.

Three schedules (keys in docs/SCENARIO.md):

* continuous (``duty_cycle = 1``, no bursts): always on.
* random slots (``duty_cycle < 1``, ``slot_s``): time is cut into slots of ``slot_s`` seconds (each transmitter
  shifted by its own fraction of a slot); in every cycle of :data:`SLOTS_PER_CYCLE` consecutive slots exactly
  ``round(duty_cycle * SLOTS_PER_CYCLE)`` (at least 1) are on, chosen by a seeded shuffle. So a transmitter
  with duty 0.3 is on in 30 slots of every cycle of 100, and dwell windows that sample it at random times find
  it on 30 % of the time: occupancy measured over many sweeps converges to the duty cycle.
* periodic bursts (``burst_period_s``, ``burst_s``, ``burst_phase_s``): burst k is on during
  [burst_phase_s + k * burst_period_s, ... + burst_s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from station.sim.scenario import Transmitter
from station.sim.signals import stream_key

SLOTS_PER_CYCLE = 100


@dataclass(frozen=True, slots=True)
class OnInterval:
    """A key-down interval in simulator seconds; ``index`` numbers the slot or burst (stable across reads)."""

    start_s: float
    end_s: float
    index: int


class Schedule:
    """On-air intervals of one transmitter."""

    def __init__(self, tx: Transmitter, seed: int):
        self.tx = tx
        self.key = stream_key(seed, tx.id, "schedule")
        self.n_on = max(1, min(SLOTS_PER_CYCLE, int(round(tx.duty_cycle * SLOTS_PER_CYCLE))))
        self.slot_shift_s = (self.key % 1000) / 1000.0 * tx.slot_s
        self._cycles: dict[int, np.ndarray] = {}

    @property
    def always_on(self) -> bool:
        return self.tx.continuous

    def _slot_on(self, slot: int) -> bool:
        cycle = slot // SLOTS_PER_CYCLE
        on = self._cycles.get(cycle)
        if on is None:
            rng = np.random.default_rng([self.key, cycle & 0xFFFFFFFFFFFF, 1 if cycle < 0 else 0])
            on = np.zeros(SLOTS_PER_CYCLE, bool)
            on[rng.permutation(SLOTS_PER_CYCLE)[: self.n_on]] = True
            if len(self._cycles) > 8:
                self._cycles.pop(next(iter(self._cycles)))
            self._cycles[cycle] = on
        return bool(on[slot - cycle * SLOTS_PER_CYCLE])

    def intervals(self, t0_s: float, t1_s: float) -> list[OnInterval]:
        """On intervals overlapping [t0_s, t1_s), in time order (adjacent on-slots merged)."""
        tx = self.tx
        if tx.burst_period_s > 0:
            period, length, phase = tx.burst_period_s, tx.burst_s, tx.burst_phase_s
            k0 = math.floor((t0_s - phase - length) / period)
            k1 = math.floor((t1_s - phase) / period)
            out = []
            for k in range(k0, k1 + 1):
                a = phase + k * period
                b = a + length
                if b > t0_s and a < t1_s:
                    out.append(OnInterval(a, b, k))
            return out
        if tx.duty_cycle >= 1.0:
            return [OnInterval(-math.inf, math.inf, 0)]
        slot_s, shift = tx.slot_s, self.slot_shift_s
        s0 = math.floor((t0_s - shift) / slot_s)
        s1 = math.floor((t1_s - shift) / slot_s)
        out: list[OnInterval] = []
        for s in range(s0, s1 + 1):
            if not self._slot_on(s):
                continue
            a = shift + s * slot_s
            b = a + slot_s
            if out and out[-1].end_s == a:
                out[-1] = OnInterval(out[-1].start_s, b, out[-1].index)
            else:
                out.append(OnInterval(a, b, s))
        return out

    def on_fraction(self, t0_s: float, t1_s: float) -> float:
        """Fraction of [t0_s, t1_s) on the air (for tests and the documentation)."""
        total = 0.0
        for iv in self.intervals(t0_s, t1_s):
            total += max(0.0, min(iv.end_s, t1_s) - max(iv.start_s, t0_s))
        return total / (t1_s - t0_s)


__all__ = ["SLOTS_PER_CYCLE", "OnInterval", "Schedule"]
