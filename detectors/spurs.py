"""The receiver's spur map: lines the receiver makes itself, at fixed BASEBAND offsets from its tuned centre.

Physics: a receiver spur (clock harmonics mixed into the IF, ADC and USB interference, the LO's own
sidebands) stays at the same baseband offset when the receiver retunes; a transmitter stays at the same RF
frequency. A sweep retunes at every hop, so a narrow line found at the same offset in several hops at
different RF frequencies is the receiver's. :class:`SpurMap` counts, per offset cell (``tolerance_hz``
wide), the hops of each sweep that hold a narrow line there against the hops that could have shown it;
an offset is a confirmed spur once it was seen in at least ``min_hops`` hops and in at least ``min_fraction``
of the hops that covered it (a transmitter on a channel raster aligned with the hop spacing is at the same
offset in a few hops, not in most of them). Lines learnt on purpose (``specmon spurs learn``: LO dithering
or antenna disconnected) and lines whose LO-shift re-measurement stayed in baseband are added as confirmed.

Pure: records in, state out (:meth:`SpurMap.to_state` is plain JSON for the station's state store).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

#: R820T / R828D reference crystal (Hz): its harmonics are fixed-RF spurs of every such dongle
R820T_REFERENCE_HZ = 28.8e6


def reference_harmonics_hz(f_lo_hz: float, f_hi_hz: float, reference_hz: float = R820T_REFERENCE_HZ) -> tuple[float, ...]:
    """Harmonics n x ``reference_hz`` inside [f_lo_hz, f_hi_hz] (fixed RF spurs from the receiver profile)."""
    if reference_hz <= 0:
        raise ValueError(f"reference_hz must be > 0, got {reference_hz}")
    n0 = max(1, math.ceil(f_lo_hz / reference_hz))
    n1 = math.floor(f_hi_hz / reference_hz)
    return tuple(n * reference_hz for n in range(n0, n1 + 1))


@dataclass(frozen=True, slots=True)
class SpurParams:
    """Parameters
    ----------
    tolerance_hz : float
        Width of an offset cell; lines closer than this are one offset (Hz; keep it above 1.5 bins).
    max_bandwidth_bins : float
        A spur is a line: wider emissions are never counted (99 % bandwidth, bins; a CW line's Hann main lobe
        is 4 bins wide and a line a few dB over the noise reads up to about twice that).
    min_hops : int
        Distinct hops (RF frequencies) in which the offset must have held a line.
    min_fraction : float
        Fraction of the hops covering the offset that held the line (0..1).
    """

    tolerance_hz: float = 500.0
    max_bandwidth_bins: float = 8.0
    min_hops: int = 3
    min_fraction: float = 0.5

    def __post_init__(self):
        if self.tolerance_hz <= 0 or self.max_bandwidth_bins <= 0:
            raise ValueError("tolerance_hz and max_bandwidth_bins must be > 0")
        if self.min_hops < 2:
            raise ValueError(f"min_hops must be >= 2 (a spur is seen at different RF), got {self.min_hops}")
        if not 0.0 < self.min_fraction <= 1.0:
            raise ValueError(f"min_fraction must be in (0, 1], got {self.min_fraction}")


@dataclass(frozen=True, slots=True)
class Spur:
    """One spur of the map: its baseband offset, how strong it was, how often seen and how it was learnt."""

    offset_hz: float
    level_db: float  # peak over the floor (dB), the latest sighting
    n_seen: int  # hops that held it
    n_tested: int  # hops that covered its offset
    how: str  # "sweeps", "dither", "antenna_off", "lo_shift"
    confirmed: bool


class SpurMap:
    """Spurs of one receiver (identity and sample rate in ``key``), learnt continuously from its sweeps."""

    def __init__(self, key: str, params: SpurParams | None = None):
        self.key = key
        self.params = params or SpurParams()
        self._cells: dict[int, Spur] = {}

    # ---- learning -----------------------------------------------------------------------------------------
    def _cell(self, offset_hz: float, bin_hz: float = 0.0) -> int:
        return int(round(offset_hz / self.params.tolerance_hz))

    def observe(self, emissions, hop_centers_hz, hop_edges_hz, bin_hz: float) -> list[Spur]:
        """Count one sweep: each narrow emission's offset from the centre of the hop that measured it. Returns
        the spurs confirmed by this sweep (newly). A sweep of fewer than ``min_hops`` hops teaches nothing."""
        p = self.params
        centers = np.asarray(hop_centers_hz, dtype=float).ravel()
        edges = np.asarray(hop_edges_hz, dtype=float).reshape(-1, 2)
        if centers.size < p.min_hops or edges.shape[0] != centers.size:
            return []
        seen: dict[int, set] = {}
        level: dict[int, float] = {}
        offset: dict[int, list] = {}
        for e in emissions:
            if e.bandwidth_hz > p.max_bandwidth_bins * bin_hz:
                continue
            h = int(np.searchsorted(edges[:, 0], e.peak_hz, side="right")) - 1
            if not 0 <= h < centers.size or e.peak_hz >= edges[h, 1]:
                continue
            off = float(e.peak_hz - centers[h])
            cell = self._cell(off, bin_hz)
            seen.setdefault(cell, set()).add(h)
            level[cell] = max(level.get(cell, -math.inf), float(getattr(e, "snr_db", 0.0)))
            offset.setdefault(cell, []).append(off)
        newly = []
        # every cell with history is tested again by this sweep: each hop covering the offset counts
        for cell in set(self._cells) | set(seen):
            old = self._cells.get(cell)
            off = float(np.median(offset[cell])) if cell in offset else old.offset_hz
            n_tested = int(np.sum((centers + off >= edges[:, 0]) & (centers + off < edges[:, 1])))
            if n_tested == 0:
                continue
            hits = len(seen.get(cell, ()))
            n_seen = (old.n_seen if old else 0) + hits
            n_all = (old.n_tested if old else 0) + n_tested
            if old is None and hits == 0:
                continue
            if old is not None and old.how != "sweeps":
                continue  # learnt on purpose: kept as it is
            confirmed = n_seen >= p.min_hops and n_seen >= p.min_fraction * n_all
            spur = Spur(offset_hz=off, level_db=level.get(cell, old.level_db if old else 0.0), n_seen=n_seen,
                        n_tested=n_all, how="sweeps", confirmed=confirmed)
            if confirmed and not (old and old.confirmed):
                newly.append(spur)
            self._cells[cell] = spur
        return newly

    def add(self, offset_hz: float, level_db: float, how: str, bin_hz: float = 0.0) -> Spur:
        """A spur learnt on purpose (dithering, antenna off) or by an LO-shift re-measurement: confirmed."""
        spur = Spur(offset_hz=float(offset_hz), level_db=float(level_db), n_seen=1, n_tested=1, how=how,
                    confirmed=True)
        self._cells[self._cell(offset_hz, bin_hz)] = spur
        return spur

    # ---- reading ------------------------------------------------------------------------------------------
    def spurs(self, confirmed_only: bool = True) -> list[Spur]:
        return sorted((s for s in self._cells.values() if s.confirmed or not confirmed_only),
                      key=lambda s: s.offset_hz)

    def offsets_hz(self) -> tuple[float, ...]:
        """Baseband offsets of the confirmed spurs, ascending (for ``ArtifactParams.spur_offsets_hz``)."""
        return tuple(s.offset_hz for s in self.spurs())

    # ---- state ----------------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {"version": 1, "key": self.key, "params": dataclasses.asdict(self.params),
                "spurs": [dataclasses.asdict(s) for s in self.spurs(confirmed_only=False)]}

    @classmethod
    def from_state(cls, state: dict) -> "SpurMap":
        """The map saved by :meth:`to_state`; ValueError naming what is wrong in it."""
        try:
            if state.get("version") != 1:
                raise ValueError(f"unknown spur map version {state.get('version')!r}")
            m = cls(str(state["key"]), SpurParams(**state.get("params", {})))
            for d in state["spurs"]:
                s = Spur(**d)
                m._cells[m._cell(s.offset_hz, 0.0)] = s
            return m
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"spur map state is malformed: {exc}") from None


def mark_spurs(emissions, offsets_hz, hop_centers_hz, hop_edges_hz, bin_hz: float, *, fixed_hz=(),
               tolerance_hz: float = 500.0, max_bandwidth_bins: float = 4.0) -> list:
    """``emissions`` with the narrow non-artifact lines at a spur marked ``spur`` (a new list): at a baseband
    offset of ``offsets_hz`` from the centre of the hop that measured them, or at a fixed RF spur
    ``fixed_hz`` (reference harmonics)."""
    import dataclasses as dc

    centers = np.asarray(hop_centers_hz, dtype=float).ravel()
    edges = np.asarray(hop_edges_hz, dtype=float).reshape(-1, 2)
    offs = np.asarray(offsets_hz, dtype=float)
    tol = max(tolerance_hz, 1.5 * bin_hz)
    out = []
    for e in emissions:
        reason = None
        if not e.artifact and e.bandwidth_hz <= max_bandwidth_bins * bin_hz:
            for f in fixed_hz:
                if abs(e.peak_hz - f) <= tol:
                    reason = f"spur: harmonic of the tuner's reference at {f / 1e6:.6f} MHz (receiver profile)"
                    break
            if reason is None and offs.size and edges.shape[0] == centers.size:
                h = int(np.searchsorted(edges[:, 0], e.peak_hz, side="right")) - 1
                if 0 <= h < centers.size:
                    off = e.peak_hz - centers[h]
                    k = int(np.argmin(np.abs(offs - off)))
                    if abs(offs[k] - off) <= tol:
                        reason = (f"spur: receiver spur at baseband {offs[k] / 1e3:+.3f} kHz of the hop tuned to "
                                  f"{centers[h] / 1e6:.6f} MHz (spur map)")
        out.append(dc.replace(e, artifact=True, artifact_reason=reason) if reason else e)
    return out
