"""An interval index over frequency channels: :class:`FrequencyIndex` (sorted arrays per width tier +
``searchsorted``; a query touches only the intervals that can overlap, never all rows), and the one-key sort
:func:`_group_key` the checker uses to order (emission, assignment) pairs. Pure numpy, no records.
"""

from __future__ import annotations

import numpy as np


class FrequencyIndex:
    """Interval index over ``[lo_hz, hi_hz]`` intervals.

    Intervals are grouped in tiers of similar width (powers of two); each tier is sorted by its lower edge.
    A query for ``[q_lo, q_hi]`` bisects each tier for lower edges in ``[q_lo - tier_max_width, q_hi]`` and keeps
    those whose upper edge reaches ``q_lo``: within a tier at most about half the scanned rows are rejected.
    """

    def __init__(self, lo_hz: np.ndarray, hi_hz: np.ndarray):
        lo = np.ascontiguousarray(lo_hz, dtype=np.float64)
        hi = np.ascontiguousarray(hi_hz, dtype=np.float64)
        if lo.shape != hi.shape or lo.ndim != 1:
            raise ValueError(f"lo_hz and hi_hz must be 1-D of equal length, got {lo.shape} and {hi.shape}")
        if np.any(hi < lo) or not np.all(np.isfinite(lo)) or not np.all(np.isfinite(hi)):
            raise ValueError("every interval needs finite edges with hi_hz >= lo_hz")
        self.size = lo.shape[0]
        width = hi - lo
        tier = np.floor(np.log2(np.maximum(width, 1.0))).astype(np.int64)
        self._tiers: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = []
        for t in np.unique(tier):
            idx = np.flatnonzero(tier == t)
            order = idx[np.argsort(lo[idx], kind="stable")]
            self._tiers.append((lo[order], hi[order], order, float(width[order].max())))

    def query(self, q_lo_hz: np.ndarray, q_hi_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All overlapping (query index, interval index) pairs for arrays of query intervals, int64 each."""
        q_lo = np.asarray(q_lo_hz, dtype=np.float64)
        q_hi = np.asarray(q_hi_hz, dtype=np.float64)
        out_q, out_i = [], []
        for lo, hi, order, max_w in self._tiers:
            start = np.searchsorted(lo, q_lo - max_w, side="left")
            end = np.searchsorted(lo, q_hi, side="right")
            counts = np.maximum(end - start, 0)
            total = int(counts.sum())
            if total == 0:
                continue
            qi = np.repeat(np.arange(q_lo.shape[0]), counts)
            first = np.repeat(start - (np.cumsum(counts) - counts), counts)
            pos = first + np.arange(total)
            keep = hi[pos] >= q_lo[qi]
            out_q.append(qi[keep])
            out_i.append(order[pos[keep]])
        if not out_q:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(out_q), np.concatenate(out_i)

    def overlapping(self, lo_hz: float, hi_hz: float) -> np.ndarray:
        """Indices of the intervals overlapping ``[lo_hz, hi_hz]``."""
        _, idx = self.query(np.array([lo_hz]), np.array([hi_hz]))
        return np.sort(idx)


def _group_key(group: np.ndarray, flag1, flag2, value: np.ndarray) -> np.ndarray:
    """One float64 sort key equal to a lexsort by (group, flag1, flag2, value): ``value >= 0`` is scaled into
    [0, 1) and added to the integer part built from the group and the boolean flags (one argsort instead of a
    multi-key lexsort)."""
    key = group.astype(np.float64)
    for flag in (flag1, flag2):
        if flag is not None:
            key = key * 2.0 + flag
    top = float(value.max()) if value.size else 0.0
    return key + value / (top * (1 + 1e-9) + 1.0)
