"""Energy detection of emissions in a :class:`Spectrum`: thresholds from a target Pfa, not dB margins.

Pipeline of :meth:`EmissionDetector.detect`:

1. noise floor per bin (:mod:`detectors.noise`);
2. matched-width energy test (:func:`detectors._energy_kernels.mark_multiresolution`): the PSD-over-floor ratio is
   averaged over windows of 1, 2, 4, ... bins; each width has its own threshold from the Gamma law of an
   averaged periodogram summed over that many bins (:mod:`detectors.stats`, window and overlap included),
   widened by the floor estimate's own variance, at ``pfa`` per test. A 7.6 kHz emission spanning a few
   bins is tested over about its own width, which recovers most of the gain of the ideal energy detector;
3. burst search on block-averaged per-frame spectra at ``pfa / n_blocks`` per test (:mod:`detectors.bursts`);
4. runs of marked bins, bridged over ``bridge_bins``, split at valleys ``split_db`` below both neighbouring
   peaks (two adjacent channels stay two), neighbours joined when they are one emission (energy in the gap,
   the same keying in time, a weak fringe of a burst), weak lines keyed with a much stronger burst absorbed,
   narrower than ``min_width_bins`` dropped; a region seen in one block only must be confirmed by its own
   on/off test;
5. measurement (:mod:`detectors.measure`; a burst on its on-blocks), activity (occupancy, bursts, first/last
   seen) and artifacts (:mod:`detectors.artifacts`). docs/DETECTION.md has the measurements behind each step.

This module is one cohesive thing, the detector: its parameters and the merge/split rules of steps 4-5 share
one spectrum's floor, blocks and activities, so it stays one module of a little over 400 lines (the
parameters' numpydoc section is a seventh of them). The kernels live in :mod:`detectors._energy_kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from scipy.ndimage import median_filter

from detectors import stats
from detectors._energy_kernels import mark_multiresolution, runs_of, split_valleys
from detectors.artifacts import CLIP_HARMONICS, ArtifactClassifier, ArtifactParams, Timing, fold_hz
from detectors.channels import ChannelRaster, split_regions
from detectors.bursts import Activity, Blocks, BurstParams, activity, gated_excess, keyed_by, make_blocks, on_mean_lin
from detectors.measure import measure_region, measure_regions
from detectors.noise import (
    NoiseFloor,
    NoiseFloorEstimator,
    NoiseFloorParams,
    doubling_widths,
    hop_slices,
    spectrum_rel_var,
    width_thresholds,
)
from detectors.records import Emission
from dsp.spectrum import Spectrum


@dataclass(frozen=True, slots=True)
class DetectorParams:
    """Parameters of :class:`EmissionDetector`.

    Parameters
    ----------
    pfa : float
        False-alarm probability per test (one window width at one bin position), in (0, 0.5).
    max_width_bins : int
        Widest test window (bins); 0 = auto: a quarter of the bins, at most 1024.
    bridge_bins : int
        Gaps of up to this many unmarked bins are joined inside one emission (bins, >= 0).
    min_width_bins : int
        Detections narrower than this are dropped (bins, >= 1).
    split_db : float
        A valley this far below both neighbouring peaks splits a region in two (dB, > 0).
    merge_gap_hz : float
        Neighbours closer than this are joined when they are one emission: energy in the gap (no deep valley),
        the same keying in time, or a weak fringe of a burst (see ``fringe_db``, ``keyed_z``) (Hz).
    merge_gap_fraction : float
        Neighbours closer than this fraction of the wider one's width are candidates too (ratio).
    fringe_db : float
        A region at least this much weaker than a burst, too weak to be resolved in time, is a fringe of that
        burst when its power follows the burst's keying (dB).
    keyed_z : float
        z score of a weak region's power following a burst's on/off keying at or above which it belongs to
        that burst (dimensionless).
    keying_split_corr : float
        A bursty region whose two sides' block powers correlate less than this is two emissions (correlation
        coefficient, -1..1).
    fsk_jaccard : float
        Two bursts whose on-blocks overlap at least this much (Jaccard index of on-blocks, 0..1) are keyed
        together: candidate tones of one FSK emission.
    fsk_power_db : float
        The two FSK tones' peaks are within this of each other (dB).
    fsk_max_gap_hz : float
        The two FSK tones are at most this far apart, edge to edge (Hz).
    fsk_min_peak_db : float
        Both FSK tones peak at least this far above the noise floor (dB).
    pad_bins : int
        Noise bins measured on each side of an emission (bins, >= 0).
    keep_artifacts : bool
        True marks artifacts (receiver artifacts and products of other emissions, detectors.artifacts) and keeps them; False drops them.
    detect_bursts : bool
        Search the per-frame spectra for bursts too (when the spectrum has them).
    noise : NoiseFloorParams
        Parameters of the noise-floor estimate.
    artifacts : ArtifactParams
        Parameters of the artifact classifier.
    bursts : BurstParams
        Parameters of the burst search and of the on/off decisions.
    channels : ChannelRaster or None
        The band's channel plan: a region spanning adjacent channels that each hold their own signal is split
        into one emission per channel (:mod:`detectors.channels`); None: no plan.
    """

    pfa: float = 1e-6
    max_width_bins: int = 0
    bridge_bins: int = 2
    min_width_bins: int = 1
    split_db: float = 15.0
    merge_gap_hz: float = 5000.0
    merge_gap_fraction: float = 0.05
    fringe_db: float = 6.0
    keyed_z: float = 3.0
    keying_split_corr: float = 0.3
    fsk_jaccard: float = 0.8
    fsk_power_db: float = 6.0
    fsk_max_gap_hz: float = 200e3
    fsk_min_peak_db: float = 20.0
    pad_bins: int = 3
    keep_artifacts: bool = True
    detect_bursts: bool = True
    noise: NoiseFloorParams = field(default_factory=NoiseFloorParams)
    artifacts: ArtifactParams = field(default_factory=ArtifactParams)
    bursts: BurstParams = field(default_factory=BurstParams)
    channels: ChannelRaster | None = None

    def __post_init__(self):
        if not 0.0 < self.pfa < 0.5:
            raise ValueError(f"pfa must be in (0, 0.5), got {self.pfa}")
        if self.max_width_bins < 0 or self.bridge_bins < 0 or self.min_width_bins < 1 or self.pad_bins < 0:
            raise ValueError("max_width_bins, bridge_bins, pad_bins must be >= 0 and min_width_bins >= 1")
        if self.split_db <= 0:
            raise ValueError(f"split_db must be > 0, got {self.split_db}")


def _widths(n_bins: int, max_width: int) -> np.ndarray:
    return doubling_widths(max_width or min(1024, max(1, n_bins // 4)))


def _frames_per_row(spectrum: Spectrum) -> int:
    """FFT frames averaged in one row of ``frames_dbfs_hz``: 1, except for an interleaved sweep whose rows are
    one stitched spectrum per revisit (``meta['sweep_mode'] == 'interleaved'``, ``meta['revisits']`` passes)."""
    meta = spectrum.meta or {}
    revisits = int(meta.get("revisits") or 0)
    if meta.get("sweep_mode") == "interleaved" and revisits > 0:
        return max(1, spectrum.n_frames // revisits)
    return 1


def window_thresholds(spectrum: Spectrum, floor: NoiseFloor, widths: np.ndarray, pfa: float, n_frames=None) -> np.ndarray:
    """Window-mean thresholds (ratio to the floor) for each width in ``widths`` at ``pfa`` per test."""
    return width_thresholds(spectrum, widths, floor.floor_rel_var, pfa, n_frames)


class EmissionDetector:
    """Finds emissions in a spectrum. ``EmissionDetector(DetectorParams(pfa=1e-6)).detect(spectrum)``."""

    def __init__(self, params: DetectorParams | None = None):
        self.params = params or DetectorParams()
        self._floor = NoiseFloorEstimator(self.params.noise)
        self._artifacts = ArtifactClassifier(self.params.artifacts)

    def noise_floor(self, spectrum: Spectrum) -> NoiseFloor:
        return self._floor.estimate(spectrum)

    def detection_mask(self, spectrum: Spectrum, floor: NoiseFloor | None = None) -> np.ndarray:
        """Bins (n_bins,) bool marked by the matched-width test on the averaged spectrum."""
        floor = floor or self.noise_floor(spectrum)
        return self._mask(10.0 ** (np.asarray(spectrum.psd_dbfs_hz, dtype=np.float64) / 10.0), spectrum, floor)

    def _mask(self, x: np.ndarray, spectrum: Spectrum, floor: NoiseFloor) -> np.ndarray:
        """:meth:`detection_mask` of the linear PSD ``x`` (n_bins,) of ``spectrum``."""
        ratio = np.ascontiguousarray(x / floor.test_floor_lin)
        widths = _widths(spectrum.n_bins, self.params.max_width_bins)
        thr = window_thresholds(spectrum, floor, widths, self.params.pfa)
        marked = np.zeros(spectrum.n_bins, dtype=np.bool_)
        mark_multiresolution(ratio, widths, thr, marked)
        return marked

    def _same_emission(self, blocks, level_db, gap_ratio_ok: bool, r0, r1, act0: Activity | None, act1: Activity | None) -> bool:
        """Whether two neighbouring regions are one emission: the gap between them still holds significant
        energy (a tail that dipped below the per-bin threshold), or they share the same keying in time
        (Jaccard of on-blocks, e.g. the tones of one FSK burst), or one is a weak fringe of a strong burst
        too weak to be resolved in time."""
        p = self.params
        (a0, b0), (a1, b1) = r0, r1
        if a1 > b0 and gap_ratio_ok:
            if act0 is None or act1 is None or not (act0.resolved and act1.resolved):
                return True
            if abs(act0.occupancy - act1.occupancy) < 0.2:
                return True
        if act0 is None or act1 is None:
            return False
        peak0, peak1 = float(level_db[a0:b0].max()), float(level_db[a1:b1].max())
        bursty0 = act0.resolved and act0.occupancy < 0.95
        bursty1 = act1.resolved and act1.occupancy < 0.95
        if bursty0 and bursty1:
            union = np.logical_or(act0.on, act1.on).sum()
            return bool(union) and np.logical_and(act0.on, act1.on).sum() / union >= 0.6
        if bursty0 and not act1.resolved:
            return peak1 <= peak0 - p.fringe_db and keyed_by(blocks, slice(a1, b1), act0.on) >= p.keyed_z
        if bursty1 and not act0.resolved:
            return peak0 <= peak1 - p.fringe_db and keyed_by(blocks, slice(a0, b0), act1.on) >= p.keyed_z
        return False

    def _fsk_tones(self, level_db, r0, r1, act0: Activity | None, act1: Activity | None) -> bool:
        """Two strong bursts (peaks ``fsk_min_peak_db`` over the floor) keyed together (on-block Jaccard >=
        ``fsk_jaccard``) with peaks within ``fsk_power_db`` of each other: the mark and space tones of one FSK
        emission (the caller limits their distance to ``fsk_max_gap_hz``)."""
        p = self.params
        if act0 is None or act1 is None or not (act0.resolved and act1.resolved):
            return False
        if act0.occupancy >= 0.95 or act1.occupancy >= 0.95:
            return False
        (a0, b0), (a1, b1) = r0, r1
        floor_db = self._floor_db
        if min(float((level_db[a0:b0] - floor_db[a0:b0]).max()), float((level_db[a1:b1] - floor_db[a1:b1]).max())) < p.fsk_min_peak_db:
            return False
        if abs(float(level_db[a0:b0].max()) - float(level_db[a1:b1].max())) > p.fsk_power_db:
            return False
        union = np.logical_or(act0.on, act1.on).sum()
        return bool(union) and np.logical_and(act0.on, act1.on).sum() / union >= p.fsk_jaccard

    def _join_fsk(self, level_db, regions, acts, act_of):
        """Join FSK tones (:meth:`_fsk_tones`) with what lies between them when all of it is at least
        ``fringe_db`` weaker than both tones (their modulation comb), into one emission."""
        p = self.params
        i = 0
        while i < len(regions):
            joined = False
            for j in range(i + 1, len(regions)):
                if (regions[j][0] - regions[i][1]) * self._bin_hz > p.fsk_max_gap_hz:
                    break
                if self._fsk_tones(level_db, regions[i], regions[j], acts[i], acts[j]):
                    low = min(float(level_db[a:b].max()) for a, b in (regions[i], regions[j])) - p.fringe_db
                    if all(float(level_db[a:b].max()) <= low for a, b in regions[i + 1 : j]):
                        a, b = regions[i][0], regions[j][1]
                        regions[i : j + 1] = [(a, b)]
                        acts[i : j + 1] = [act_of(a, b)]
                        joined = True
                    break
            if not joined:
                i += 1
        return regions, acts

    def _split_by_keying(self, blocks, floor_lin, regions, acts, act_of):
        """Split a bursty region where the power on its two sides does not rise and fall together: two
        transmitters on the air at different times whose spectra touch (Ambient Weather sensors 10 kHz apart).
        At the split point with the lowest correlation of the two sides' block powers, when that correlation is
        below ``keying_split_corr`` and both sides are bursts resolved in time on their own."""
        p = self.params
        out_r, out_a = [], []
        todo = list(zip(regions, acts))
        while todo:
            (a, b), act = todo.pop(0)
            if act is not None and act.resolved and act.occupancy < 0.95 and b - a >= 8:
                cs = np.cumsum(blocks.lin[:, a:b] / floor_lin[a:b], axis=1)
                total = cs[:, -1]
                best_r, best_k = 1.0, -1
                for k in range(3, b - a - 3):
                    left = cs[:, k - 1]
                    right = total - left
                    if left.std() > 0 and right.std() > 0:
                        r = float(np.corrcoef(left, right)[0, 1])
                        if r < best_r:
                            best_r, best_k = r, k
                if best_k > 0 and best_r < p.keying_split_corr:
                    # each side's activity from its part away from the split (the other side leaks into it)
                    k = best_k
                    left, right = act_of(a, a + max(1, (2 * k) // 3)), act_of(a + k + (b - a - k) // 3, b)
                    if left.resolved and right.resolved and left.on.any() and right.on.any():
                        todo[:0] = [((a, a + k), left), ((a + k, b), right)]
                        continue
            out_r.append((a, b))
            out_a.append(act)
        return out_r, out_a

    def _absorb_keyed(self, blocks, level_db, regions, acts):
        """Drop weak regions too weak to be resolved in time whose power follows the keying of a much
        stronger burst in the same capture (z >= keyed_z): spectral lines of that burst's pulse train (short
        OOK pulses spread lines far from the carrier), not separate transmitters."""
        p = self.params
        bursts = [
            (k, float(level_db[a:b].max()))
            for k, ((a, b), act) in enumerate(zip(regions, acts))
            if act is not None and act.resolved and act.occupancy < 0.95
        ]
        if not bursts:
            return regions, acts
        keep_r, keep_a = [], []
        for (a, b), act in zip(regions, acts):
            if act is not None and not act.resolved:
                peak = float(level_db[a:b].max())
                if any(
                    peak <= pk - p.fringe_db and keyed_by(blocks, slice(a, b), acts[k].on) >= p.keyed_z
                    for k, pk in bursts
                ):
                    continue
            keep_r.append((a, b))
            keep_a.append(act)
        return keep_r, keep_a

    def _split_clip_products(self, spectrum: Spectrum, x, level_db, regions, acts, act_of):
        """Cut a region holding a parent near full scale and, beyond a valley, its own 8-bit clipping harmonic
        (-3 f, +5 f, -7 f of the parent's baseband offset, folded by the sample rate): the harmonic's maximum
        lies within a quarter of its spread (|k| x the parent's 3 dB width) of the predicted frequency, at least
        30 log10|k| dB under the parent's peak (hard clipping, see detectors.artifacts), and the spectrum dips
        ``ChannelRaster.dip_db``-like 3 dB under that maximum between them. The two pieces are measured apart;
        the artifact classifier then names the harmonic's parent."""
        ap = self.params.artifacts
        freqs, bin_hz, fs = spectrum.freqs_hz, spectrum.bin_hz, spectrum.sample_rate_hz
        slices = hop_slices(spectrum)
        centers = np.asarray(spectrum.hop_centers_hz, dtype=float).ravel()
        enbw_db = 10.0 * np.log10(spectrum.enbw_hz)
        out_r, out_a = [], []
        todo = list(zip(regions, acts))
        while todo:
            (a, b), act = todo.pop(0)
            cut = None
            if b - a >= 8 and 10.0 * np.log10(max(float(x[a:b].sum()) * bin_hz, 1e-300)) >= ap.clip_min_dbfs:
                kp = a + int(np.argmax(level_db[a:b]))
                h = next((i for i, sl in enumerate(slices) if sl.start <= kp < sl.stop), 0)
                c = float(centers[h]) if len(centers) == len(slices) else float(centers[np.argmin(np.abs(centers - freqs[kp]))])
                top = float(level_db[kp])
                above = np.flatnonzero(level_db[a:b] >= top - 3.0)
                w3 = (above[-1] - above[0] + 1) * bin_hz
                for k in CLIP_HARMONICS:
                    f_p = c + fold_hz(k * (freqs[kp] - c), fs)
                    half = 0.25 * abs(k) * w3
                    lo, hi = np.searchsorted(freqs, [f_p - half, f_p + half])
                    lo, hi = max(lo, a), min(hi, b)
                    if hi - lo < 1 or lo <= kp < hi:
                        continue
                    km = lo + int(np.argmax(level_db[lo:hi]))
                    if top + enbw_db - (level_db[km] + enbw_db) < 30.0 * np.log10(abs(k)):
                        continue
                    i0, i1 = (kp, km) if kp < km else (km, kp)
                    if i1 - i0 < 3:
                        continue
                    v = i0 + 1 + int(np.argmin(level_db[i0 + 1 : i1]))
                    if level_db[km] - level_db[v] >= 3.0 and v - a >= 2 and b - v >= 2:
                        cut = v
                        break
            if cut is None:
                out_r.append((a, b))
                out_a.append(act)
            else:
                todo[:0] = [((a, cut), act_of(a, cut)), ((cut, b), act_of(cut, b))]
        return out_r, out_a

    def detect(self, spectrum: Spectrum) -> list[Emission]:
        """Emissions in ``spectrum``, in frequency order; artifacts marked (or dropped, see params)."""
        p = self.params
        if spectrum.n_bins < 3:
            raise ValueError(f"spectrum has {spectrum.n_bins} bins; at least 3 are needed")
        x = 10.0 ** (np.asarray(spectrum.psd_dbfs_hz, dtype=np.float64) / 10.0)
        if not np.all(np.isfinite(x)):
            raise ValueError("spectrum PSD contains NaN or infinite values")
        self._bin_hz = float(spectrum.bin_hz)
        floor = self.noise_floor(spectrum)
        self._floor_db = floor_db = floor.floor_dbfs_hz
        marked = self._mask(x, spectrum, floor)
        avg_marked = marked.copy()
        blocks = None  # block-averaged spectrogram, raw (powers while on are measured on it)
        keyed = None  # the same, each block divided by its own broadband level (for every time decision)
        n_frames_block = None
        if spectrum.frames_dbfs_hz is not None and spectrum.frames_dbfs_hz.shape[0] >= 2:
            blocks = make_blocks(spectrum.frames_dbfs_hz, spectrum.frame_times_s, p.bursts.block_s)
            n_frames_block = blocks.frames_per_block * _frames_per_row(spectrum)
            n_b = blocks.lin.shape[0]
            # the block's own level and shape (gain changes, desensitisation by a strong burst, the key clicks
            # of a strong OOK burst splattering over the band): its running median over n/8 bins, where that is
            # above the floor, divides the block for the burst search and for every on/off decision
            bias = stats.gamma_median(spectrum_rel_var(spectrum, 1, n_frames_block))
            wide = max(31, spectrum.n_bins // 8) | 1
            keyed_lin = np.empty_like(blocks.lin)  # filled a block at a time: no full-size level array
            test_floor = floor.test_floor_lin
            for b in range(n_b):
                ratio = blocks.lin[b] / test_floor
                level = np.maximum(median_filter(ratio, size=wide, mode="mirror") / bias, 1.0)
                np.divide(blocks.lin[b], level, out=keyed_lin[b])
            keyed = Blocks(lin=keyed_lin, t0_s=blocks.t0_s, t1_s=blocks.t1_s,
                           frames_per_block=blocks.frames_per_block)
            if p.detect_bursts and n_b >= 2:
                widths = _widths(spectrum.n_bins, p.max_width_bins)
                thr = window_thresholds(spectrum, floor, widths, p.pfa / n_b, n_frames_block)
                for b in range(n_b):
                    ratio = np.ascontiguousarray(keyed.lin[b] / test_floor)
                    mark_multiresolution(ratio, widths, thr, marked)
        starts, stops = runs_of(marked, p.bridge_bins)
        level_db = 10.0 * np.log10(np.maximum(np.convolve(x, np.ones(3) / 3, mode="same"), 1e-30))
        piece_a, piece_b = split_valleys(level_db, starts, stops, float(p.split_db))
        regions = [(a, b) for a, b in zip(piece_a.tolist(), piece_b.tolist()) if b - a >= p.min_width_bins]

        def block_rel_var(m: int) -> float:
            return spectrum_rel_var(spectrum, m, n_frames_block) + floor.floor_rel_var

        def act_of(a: int, b: int) -> Activity | None:
            return None if keyed is None else activity(keyed, slice(a, b), floor.floor_lin, block_rel_var, p.bursts)

        acts = [act_of(a, b) for a, b in regions]
        merge_gap = max(p.bridge_bins, int(round(p.merge_gap_hz / spectrum.bin_hz)))
        ratio_avg = x / floor.floor_lin
        def merge_pass(regions, acts):
            i = 0
            while i + 1 < len(regions):
                (a0, b0), (a1, b1) = regions[i], regions[i + 1]
                gap_ok = a1 - b0 <= max(merge_gap, int(p.merge_gap_fraction * max(b0 - a0, b1 - a1)))
                gap_energy = False
                if gap_ok and a1 > b0:
                    g = a1 - b0
                    t = stats.gamma_threshold(spectrum_rel_var(spectrum, g) + floor.floor_rel_var, p.pfa)
                    gap_energy = float(np.mean(ratio_avg[b0:a1])) > t
                if gap_ok and self._same_emission(keyed, level_db, gap_energy, (a0, b0), (a1, b1), acts[i], acts[i + 1]):
                    regions[i : i + 2] = [(a0, b1)]
                    acts[i : i + 2] = [act_of(a0, b1)]
                else:
                    i += 1
            return regions, acts

        # merge neighbours, drop weak keyed fringes far from their burst, merge again (pieces of one burst
        # that the dropped fringes separated become neighbours)
        regions, acts = merge_pass(regions, acts)
        if keyed is not None:
            regions, acts = self._absorb_keyed(keyed, level_db, regions, acts)
            regions, acts = merge_pass(regions, acts)
            regions, acts = self._split_by_keying(keyed, floor.floor_lin, regions, acts, act_of)
            regions, acts = self._join_fsk(level_db, regions, acts, act_of)
        if p.channels is not None:  # last: no merge may join two channels of the plan again
            split = split_regions(regions, spectrum.freqs_hz, level_db, p.channels, spectrum.bin_hz)
            if len(split) != len(regions):
                old = dict(zip(regions, acts))
                regions, acts = split, [old[r] if r in old else act_of(*r) for r in split]

        if spectrum.sample_rate_hz:
            regions, acts = self._split_clip_products(spectrum, x, level_db, regions, acts, act_of)

        found = []  # [measurement, occupancy, first, last, n_bursts] of each emission, in frequency order
        spans = []  # (bin slice, on-blocks or None) of each: for the keying tests of the artifact classifier
        n, freqs, floor_lin = spectrum.n_bins, spectrum.freqs_hz, floor.floor_lin
        on_avg = []  # (index in found, lo, hi): measured on the averaged PSD, all at once below
        for (a, b), act in zip(regions, acts):
            if not avg_marked[a:b].any() and (act is None or not act.resolved or not act.on.any()):
                continue  # found in one block only and not confirmed by its own on/off test: a fluke
            lo, hi = max(0, a - p.pad_bins), min(n, b + p.pad_bins)
            m = None
            if act is not None and act.resolved and act.on.any() and (act.occupancy < 0.95 or not avg_marked[a:b].any()):
                source = on_mean_lin(blocks, act.on, slice(lo, hi))  # a burst: measured while it is on
                m = measure_region(freqs[lo:hi], source, floor_lin[lo:hi], spectrum.bin_hz, spectrum.enbw_hz)
            else:
                on_avg.append((len(found), lo, hi))
            occupancy, n_bursts = 1.0, 0
            first, last = spectrum.start_utc, spectrum.end_utc
            if act is not None:
                if act.on.any() and act.resolved:
                    occupancy, n_bursts = act.occupancy, act.n_bursts
                    first = spectrum.start_utc + timedelta(seconds=max(0.0, act.first_s))
                    last = min(spectrum.end_utc, spectrum.start_utc + timedelta(seconds=act.last_s))
                # else: too weak to decide block by block; reported as on for the whole dwell
            elif spectrum.above_counts is not None and spectrum.n_frames > 0:
                occupancy = float(np.max(spectrum.above_counts[a:b])) / spectrum.n_frames
            found.append([m, occupancy, first, last, n_bursts])
            spans.append((slice(a, b), act.on if act is not None and act.resolved and act.on.any() else None))
        if on_avg:
            idx, los, his = zip(*on_avg)
            for i, m in zip(idx, measure_regions(freqs, x, floor_lin, np.array(los), np.array(his), spectrum.bin_hz,
                                                 spectrum.enbw_hz)):
                found[i][0] = m
        # artifacts are judged on the measurements, so that each Emission is built once, already marked
        t0 = spectrum.start_utc
        timing = [Timing(occ, (first - t0).total_seconds(), (last - t0).total_seconds(), nb > 0, on)
                  for (_m, occ, first, last, nb), (_sl, on) in zip(found, spans)]

        def gate(i: int, on: np.ndarray):
            # emission i's own power, block by block, while another emission is on and while it is off
            return gated_excess(blocks, spans[i][0], floor_lin, on)

        reasons = self._artifacts.reasons(
            [m for m, *_ in found], spectrum.hop_centers_hz, spectrum.bin_hz, freqs, floor_db, hop_slices(spectrum),
            psd_dbfs_hz=spectrum.psd_dbfs_hz, sample_rate_hz=spectrum.sample_rate_hz, timing=timing,
            gate=gate if blocks is not None else None,
        )
        emissions: list[Emission] = []
        for (m, occupancy, first, last, n_bursts), reason in zip(found, reasons):
            if reason is not None and not p.keep_artifacts:
                continue
            emissions.append(
                Emission(
                    center_hz=m.center_hz,
                    peak_hz=m.peak_hz,
                    f_lo_hz=m.f_lo_hz,
                    f_hi_hz=m.f_hi_hz,
                    bandwidth_hz=m.bandwidth_hz,
                    xdb_bandwidth_hz=m.xdb_bandwidth_hz,
                    xdb_valid=m.xdb_valid,
                    power_dbfs=m.power_dbfs,
                    peak_dbfs=m.peak_dbfs,
                    snr_db=m.snr_db,
                    noise_dbfs_hz=m.noise_dbfs_hz,
                    occupancy=min(1.0, max(0.0, occupancy)),
                    first_seen=first,
                    last_seen=last,
                    n_bursts=n_bursts,
                    artifact=reason is not None,
                    artifact_reason=reason,
                )
            )
        return emissions
