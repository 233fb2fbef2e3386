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
    """dc_tolerance_bins: max peak distance from the hop centre (bins); dc_max_bandwidth_bins: widest DC
    spike (99 % bandwidth, bins); image_min_rejection_db: the image is at least this much weaker than its
    source; image_tolerance_bins: mirror match tolerance (bins); edge_rolloff_db: roll-off that defines the
    hop edge zone; spurs_hz: listed spur frequencies; spur_tolerance_hz; spur_max_bandwidth_hz."""

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
        centers = np.asarray(hop_centers_hz, dtype=float).ravel()
        medians = None
        if freqs_hz is not None and floor_dbfs_hz is not None and hop_slices:
            medians = [float(np.median(floor_dbfs_hz[sl])) for sl in hop_slices]
        out: list[Emission] = []
        for e in emissions:
            reason = self._reason(e, emissions, centers, bin_hz, freqs_hz, floor_dbfs_hz, hop_slices, medians)
            out.append(dataclasses.replace(e, artifact=reason is not None, artifact_reason=reason) if reason else e)
        return out

    def _reason(self, e, emissions, centers, bin_hz, freqs_hz, floor_db, slices, medians) -> str | None:
        p = self.params
        if centers.size:
            d = np.abs(centers - e.peak_hz)
            hop = int(np.argmin(d))
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
        if medians is not None:
            k = int(np.clip(np.searchsorted(freqs_hz, e.center_hz), 0, len(freqs_hz) - 1))
            for sl, ref in zip(slices, medians):
                if sl.start <= k < sl.stop:
                    if floor_db[k] < ref - p.edge_rolloff_db and (k - sl.start < 0.15 * (sl.stop - sl.start) or sl.stop - k <= 0.15 * (sl.stop - sl.start)):
                        return "hop_edge"
                    break
        return None
