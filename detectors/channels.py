"""Adjacent channels of a channel plan: a detected region spanning several channels is split into one emission
per channel when each channel holds its own signal, whatever their level difference.

A channel "holds its own signal" when the spectrum has its own maximum inside that channel, and the
spectrum between the two maxima dips at least ``dip_db`` under the weaker one (two transmitters on adjacent
channels: two maxima with a valley between, however unequal; one wide emission over both channels, or the
skirt of a strong one spilling into its neighbour, falls monotonically from a single maximum). Only for a
plan of channels that do not overlap (width <= spacing): an occupancy raster of overlapping channels (FM
broadcasting counted every 100 kHz with 200 kHz channels) says nothing about where one signal ends.

Pure functions on bin indices; ``detectors.energy`` calls :func:`split_regions`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ChannelRaster:
    """Parameters
    ----------
    centers_hz : channel centres (Hz), ascending.
    width_hz : channel width (Hz); channels wider than their spacing are not split on.
    dip_db : the valley between two channels' maxima lies at least this far under the weaker maximum
        (3 dB: half power; each maximum then holds its own power).
    """

    centers_hz: tuple[float, ...]
    width_hz: float
    dip_db: float = 3.0

    def __post_init__(self):
        c = np.asarray(self.centers_hz, dtype=float)
        if c.size and np.any(np.diff(c) <= 0):
            raise ValueError("channel centres must be strictly ascending")
        if self.width_hz <= 0:
            raise ValueError(f"channel width must be > 0, got {self.width_hz}")
        if self.dip_db <= 0:
            raise ValueError(f"dip_db must be > 0, got {self.dip_db}")

    def boundaries_hz(self) -> np.ndarray:
        """Frequencies between adjacent channels that do not overlap (midpoints), ascending."""
        c = np.asarray(self.centers_hz, dtype=float)
        if c.size < 2:
            return np.empty(0)
        spacing = np.diff(c)
        keep = spacing >= self.width_hz * (1.0 - 1e-9)
        return ((c[:-1] + c[1:]) / 2.0)[keep]


def split_regions(regions: list[tuple[int, int]], freqs_hz: np.ndarray, level_db: np.ndarray,
                  raster: ChannelRaster | None, bin_hz: float) -> list[tuple[int, int]]:
    """Split each region ``(a, b)`` (bins [a, b)) at the channel boundaries inside it where the channels on
    both sides hold their own signal (module docstring); the cut goes at the lowest bin of the valley within
    a quarter channel of the boundary. ``level_db`` (n_bins,) is the smoothed PSD in dB."""
    if raster is None or not regions:
        return regions
    bounds = raster.boundaries_hz()
    if bounds.size == 0:
        return regions
    half = raster.width_hz / 2.0
    out: list[tuple[int, int]] = []
    for a, b in regions:
        lo, hi = freqs_hz[a] - bin_hz / 2, freqs_hz[b - 1] + bin_hz / 2
        inside = bounds[(bounds > lo + bin_hz) & (bounds < hi - bin_hz)]
        start = a
        for f in inside:
            cut = _cut(freqs_hz, level_db, start, b, float(f), half, raster.dip_db)
            if cut is not None:
                out.append((start, cut))
                start = cut
        out.append((start, b))
    return out


def _cut(freqs_hz, level_db, a: int, b: int, boundary_hz: float, half_hz: float, dip_db: float) -> int | None:
    """The bin at which to cut [a, b) at ``boundary_hz`` when each side's channel has its own maximum, else
    None: the lowest bin within a quarter channel of the boundary is the valley; the maxima of both channels
    (up to a channel beyond the boundary) must rise ``dip_db`` above it."""
    k = int(np.searchsorted(freqs_hz, boundary_hz))
    if k - a < 2 or b - k < 2:
        return None
    va = max(a + 1, int(np.searchsorted(freqs_hz, boundary_hz - half_hz / 2)))
    vb = min(b - 1, int(np.searchsorted(freqs_hz, boundary_hz + half_hz / 2)) + 1)
    if vb <= va:
        return None
    valley = va + int(np.argmin(level_db[va:vb]))
    la = max(a, int(np.searchsorted(freqs_hz, boundary_hz - 2 * half_hz)))
    rb = min(b, int(np.searchsorted(freqs_hz, boundary_hz + 2 * half_hz)))
    if valley - la < 1 or rb - valley < 2:
        return None
    left, right = float(level_db[la:valley].max()), float(level_db[valley + 1 : rb].max())
    v = float(level_db[valley])
    if left - v < dip_db or right - v < dip_db:
        return None
    return valley
