"""The pipeline's spur guard (issue 12): the receiver's spur map learnt from every sweep, reference harmonics
from the receiver profile, and the LO-shift confirmation of a new violation before it opens a case.

:class:`SpurGuard` is owned by the :class:`~station.pipeline.stages.Pipeline`; per sweep it is called twice:
``after_detect`` (learn from the sweep, mark lines at known spurs) and ``confirm`` (re-measure each new
violation with the LO shifted by a non-integer number of bins; a line that stayed in baseband is a spur: it is
marked, added to the map and opens no case).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from detectors.spurs import SpurMap, mark_spurs, reference_harmonics_hz

log = logging.getLogger("specmon.pipeline")

#: tuners whose 28.8 MHz reference harmonics are fixed-RF spurs (the receiver profile)
R820T_FAMILY = ("r820t", "r828d", "sim")


class SpurGuard:
    """Spur maps per receiver (loaded from and saved to the station state) and the LO-shift verdicts per track."""

    def __init__(self, state):
        self.state = state
        self.maps: dict[str, SpurMap] = {}
        self.verdicts: dict[str, str] = {}  # track id -> "transmitter" / "spur" / ...
        self._dirty: set[str] = set()

    def map_for(self, receiver, sample_rate_hz: float, source: str = "") -> SpurMap | None:
        """The map of ``receiver`` at ``sample_rate_hz``; without the receiver object (a caller that passes
        only the sweep) the map of the sweep's ``source`` URI: learning from sweeps needs only the sweeps."""
        from station.spurs import load_map, receiver_key

        if receiver is None:
            if not source:
                return None
            key = f"{source}@{float(sample_rate_hz):.0f}"
        else:
            key = receiver_key(receiver, sample_rate_hz)
        if key not in self.maps:
            self.maps[key] = load_map(self.state, key)
        return self.maps[key]

    def after_detect(self, spec, emissions: list, receiver) -> list:
        """Learn from this sweep and mark the lines at known spurs (baseband map, reference harmonics)."""
        smap = self.map_for(receiver, spec.sample_rate_hz, getattr(spec, "source", ""))
        fixed = ()
        info = getattr(receiver, "info", None)
        if info is not None and any(t in str(info.tuner).lower() for t in R820T_FAMILY):
            fixed = reference_harmonics_hz(spec.f_lo_hz, spec.f_hi_hz)
        if smap is None and not fixed:
            return emissions
        offsets = ()
        if smap is not None:
            newly = smap.observe([e for e in emissions if not e.artifact or (e.artifact_reason or "").startswith("spur")],
                                 spec.hop_centers_hz, spec.hop_edges_hz, spec.bin_hz)
            if newly:
                log.info("spur map %s: learnt %s", smap.key, ", ".join(f"{s.offset_hz / 1e3:+.3f} kHz" for s in newly))
            self._dirty.add(smap.key)
            offsets = smap.offsets_hz()
        return mark_spurs(emissions, offsets, spec.hop_centers_hz, spec.hop_edges_hz, spec.bin_hz, fixed_hz=fixed,
                          tolerance_hz=smap.params.tolerance_hz if smap else 500.0)

    def confirm(self, band, spec, results: list, receiver) -> list:
        """Re-measure each violation not yet confirmed (by track) with the LO shifted; a spur opens no case."""
        from station.spurs import confirm_by_lo_shift

        if receiver is None or not getattr(band.detector, "confirm_lo_shift", True):
            return results
        out = []
        for j in results:
            if not j.is_violation or (j.track_id and self.verdicts.get(j.track_id) == "transmitter"):
                out.append(j)
                continue
            e = j.emission
            if j.track_id and self.verdicts.get(j.track_id) == "spur":
                c = None
                verdict = "spur"
            else:
                hop = _hop_center(spec, e.peak_hz)
                try:
                    c = confirm_by_lo_shift(receiver, rf_hz=e.peak_hz, hop_center_hz=hop, bandwidth_hz=e.bandwidth_hz,
                                            sample_rate_hz=spec.sample_rate_hz, nfft=spec.nfft, window=spec.window,
                                            dwell_s=max(band.dwell_s, 0.02))
                except Exception as exc:  # a receiver fault here must not lose the case: judged as measured
                    log.warning("LO-shift confirmation of %.6f MHz failed (%s); judged as measured", e.peak_hz / 1e6, exc)
                    out.append(j)
                    continue
                verdict = c.verdict
                log.info("LO shift at %.6f MHz: %s (%s)", e.peak_hz / 1e6, verdict, c.detail)
                if j.track_id and verdict in ("transmitter", "spur"):
                    self.verdicts[j.track_id] = verdict
            if verdict == "spur":
                smap = self.map_for(receiver, spec.sample_rate_hz)
                hop = _hop_center(spec, e.peak_hz)
                if smap is not None:
                    smap.add(e.peak_hz - hop, e.snr_db, "lo_shift")
                    self._dirty.add(smap.key)
                why = (f"spur: stayed at baseband {(e.peak_hz - hop) / 1e3:+.3f} kHz when the LO was shifted"
                       + (f" ({c.detail})" if c is not None else ""))
                out.append(replace(j, emission=replace(e, artifact=True, artifact_reason=why), result=None,
                                   note="receiver spur (LO shift), not judged"))
            else:
                out.append(j)
        return out

    def save(self) -> dict:
        """The maps changed since the last save, as state-store items."""
        from station.spurs import STATE_PREFIX

        items = {STATE_PREFIX + k: self.maps[k].to_state() for k in self._dirty if k in self.maps}
        self._dirty.clear()
        return items


def _hop_center(spec, f_hz: float) -> float:
    import numpy as np

    edges = np.asarray(spec.hop_edges_hz, dtype=float).reshape(-1, 2)
    centers = np.asarray(spec.hop_centers_hz, dtype=float).ravel()
    if edges.shape[0] == centers.size:
        h = int(np.searchsorted(edges[:, 0], f_hz, side="right")) - 1
        if 0 <= h < centers.size:
            return float(centers[h])
    return float(centers[int(np.argmin(np.abs(centers - f_hz)))])
