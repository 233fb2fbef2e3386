"""Receiver artifacts: marks emissions that the receiver made, not a transmitter.

* ``dc_spike``: a narrow emission at a hop's tuned centre (the RTL-SDR's DC offset / LO leakage);
* ``iq_image``: an emission mirrored about a hop centre from a much stronger one (IQ gain/phase imbalance,
  25-40 dB image rejection on an RTL-SDR): the mirror frequency matches within ``image_tolerance_hz`` plus
  half the stronger emission's bandwidth and it is at least ``image_min_rejection_db`` weaker;
* ``hop_edge``: an emission centred where the hop's noise floor has rolled off by more than
  ``edge_rolloff_db`` from the hop's median floor (anti-alias filter skirt: attenuated, possibly aliased);
* ``spur``: a narrow emission at a listed spur frequency (the station's own clock harmonics, etc.).

One method, :meth:`ArtifactClassifier.classify`, returns the emissions with ``artifact``/``artifact_reason``
set (a new list; records are frozen).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from detectors.records import Emission


@dataclass(frozen=True, slots=True)
class ArtifactParams:
    """Parameters of :class:`ArtifactClassifier`.

    Parameters
    ----------
    dc_tolerance_bins : float
        A DC spike peaks at most this far from its hop's centre (bins, >= 0).
    dc_max_bandwidth_bins : float
        Widest DC spike, as 99 % bandwidth (bins, >= 0).
    image_min_rejection_db : float
        An IQ image is at least this much weaker than its source emission (dB).
    image_tolerance_bins : float
        Mirror match tolerance around the source's mirror frequency, added to half the source's bandwidth
        (bins, >= 0).
    edge_rolloff_db : float
        An emission in the outer 15 % of a hop where the floor is this far below the hop's median floor lies in
        the roll-off: a hop-edge artifact (dB, > 0).
    spurs_hz : tuple of float
        Listed spur frequencies (Hz).
    spur_tolerance_hz : float
        An emission peaking within this of a listed spur is that spur (Hz, >= 0).
    spur_max_bandwidth_hz : float
        Emissions wider than this are never a listed spur (Hz).
    """

    dc_tolerance_bins: float = 2.0
    dc_max_bandwidth_bins: float = 6.0
    image_min_rejection_db: float = 20.0
    image_tolerance_bins: float = 3.0
    edge_rolloff_db: float = 3.0
    spurs_hz: tuple[float, ...] = ()
    spur_tolerance_hz: float = 1000.0
    spur_max_bandwidth_hz: float = 5000.0

    def __post_init__(self):
        for name in ("dc_tolerance_bins", "dc_max_bandwidth_bins", "image_tolerance_bins", "spur_tolerance_hz"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.edge_rolloff_db <= 0:
            raise ValueError(f"edge_rolloff_db must be > 0, got {self.edge_rolloff_db}")


def _median(a: np.ndarray) -> float:
    """``np.median`` of a 1-D array, the same value from a partition at the middle only (no copy of the
    whole machinery; NaN falls back to np.median)."""
    n = a.shape[0]
    h = n // 2
    if n == 0 or np.isnan(a).any():
        return float(np.median(a))
    if n % 2:
        return float(np.partition(a, h)[h])
    part = np.partition(a, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2.0)


class ArtifactClassifier:
    """Marks receiver artifacts among emissions (see module docstring)."""

    def __init__(self, params: ArtifactParams | None = None):
        self.params = params or ArtifactParams()

    def classify(
        self,
        emissions: list[Emission],
        hop_centers_hz: np.ndarray,
        bin_hz: float,
        freqs_hz: np.ndarray | None = None,
        floor_dbfs_hz: np.ndarray | None = None,
        hop_slices: list[slice] | None = None,
    ) -> list[Emission]:
        """Return ``emissions`` with artifacts marked. ``freqs_hz``/``floor_dbfs_hz`` (n_bins,) and the bin
        ``hop_slices`` enable the hop-edge test; without them it is skipped."""
        reasons = self.reasons(emissions, hop_centers_hz, bin_hz, freqs_hz, floor_dbfs_hz, hop_slices)
        return [
            dataclasses.replace(e, artifact=True, artifact_reason=reason) if reason else e
            for e, reason in zip(emissions, reasons)
        ]

    def reasons(
        self,
        emissions,
        hop_centers_hz: np.ndarray,
        bin_hz: float,
        freqs_hz: np.ndarray | None = None,
        floor_dbfs_hz: np.ndarray | None = None,
        hop_slices: list[slice] | None = None,
    ) -> list[str | None]:
        """The artifact reason of each of ``emissions`` (None: a transmitter), as :meth:`classify` marks them.
        Anything with ``center_hz``, ``peak_hz``, ``bandwidth_hz`` and ``power_dbfs`` will do (an
        :class:`Emission`, or a :class:`detectors.measure.Measurement` before the emission is built)."""
        centers = [float(c) for c in np.asarray(hop_centers_hz, dtype=float).ravel()]
        edge = None
        if freqs_hz is not None and floor_dbfs_hz is not None and hop_slices:
            edge = (np.asarray(freqs_hz), floor_dbfs_hz, hop_slices, {})  # hop medians: computed when first needed
        return [self._reason(e, emissions, centers, bin_hz, edge) for e in emissions]

    def _reason(self, e, emissions, centers, bin_hz, edge) -> str | None:
        p = self.params
        if centers:
            d = [abs(c - e.peak_hz) for c in centers]
            hop = d.index(min(d))  # the first nearest, as argmin
            if d[hop] <= p.dc_tolerance_bins * bin_hz and e.bandwidth_hz <= p.dc_max_bandwidth_bins * bin_hz:
                return "dc_spike"
            for c in centers:
                mirror = 2.0 * c - e.center_hz
                for s in emissions:
                    if s is e or s.power_dbfs - e.power_dbfs < p.image_min_rejection_db:
                        continue
                    tol = p.image_tolerance_bins * bin_hz + 0.5 * s.bandwidth_hz
                    if abs(s.center_hz - mirror) <= tol and e.bandwidth_hz <= 1.5 * s.bandwidth_hz + 4 * bin_hz:
                        return "iq_image"
        for f in p.spurs_hz:
            if abs(e.peak_hz - f) <= p.spur_tolerance_hz and e.bandwidth_hz <= p.spur_max_bandwidth_hz:
                return "spur"
        if edge is not None:
            freqs_hz, floor_db, slices, medians = edge
            k = min(max(int(freqs_hz.searchsorted(e.center_hz)), 0), len(freqs_hz) - 1)
            for i, sl in enumerate(slices):
                if sl.start <= k < sl.stop:
                    if k - sl.start < 0.15 * (sl.stop - sl.start) or sl.stop - k <= 0.15 * (sl.stop - sl.start):
                        if i not in medians:
                            medians[i] = _median(floor_db[sl])
                        if floor_db[k] < medians[i] - p.edge_rolloff_db:
                            return "hop_edge"
                    break
        return None
