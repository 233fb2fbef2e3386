"""Receiver artifacts and products of other emissions: marks emissions that the receiver or a stronger emission
made, not a transmitter of their own. docs/DETECTION.md section 5 has the physics behind each test.

Every artifact keeps ``artifact=True`` and an ``artifact_reason`` of the form ``"<kind>: <why>"`` (the kind is
the text before the first colon, :func:`artifact_kind`); a product names its parent emission's frequency.
Receiver artifacts (judged first, from the receiver's physics alone):

* ``dc_spike``: a narrow emission at a hop's tuned centre (the RTL-SDR's DC offset / LO leakage);
* ``spur``: a narrow line at a baseband offset of this receiver's spur map (it stays at that offset whatever
  the tuning: ``spur_offsets_hz``) or at a fixed RF spur (``spurs_hz``: listed spurs, harmonics of the tuner's
  reference crystal from the receiver profile);
* ``iq_image``: the mirror, about the centre of the hop that measured it, of a stronger emission measured
  in the same hop (IQ gain/phase imbalance: the image of each bin lands in the mirrored bin, 25-40 dB weaker
  on an RTL-SDR). Judged on spectral density: the noise-subtracted power in the mirrored bins must exceed
  the emission's own by ``image_min_rejection_db``, so a CW line over the mirror of a wide OFDM block (whose
  density there is far lower than its total power) is not its image;
* ``hop_edge``: an emission centred where the hop's noise floor has rolled off by more than
  ``edge_rolloff_db`` from the hop's median floor (anti-alias filter skirt: attenuated, possibly aliased).

Products of a parent at least ``parent_min_db`` stronger (judged next, parents being non-artifacts):

* ``skirt``: it hangs off the parent's spectral skirt: within ``skirt_max_bandwidths`` parent bandwidths of
  the parent's edge, and the spectrum between the parent's peak and this emission's peak never dips
  ``skirt_valley_db`` below this emission's peak (a transmitter of its own has its own maximum, with a valley
  between; a skirt falls monotonically away from its parent);
* ``intermod``: at a third-order product 2 f1 - f2 of two parents (f1 ``parent_min_db`` stronger, f2 merely
  stronger: the product's amplitude goes as A1^2 A2) within the sampled band of the hop that
  measured it (baseband offsets, folded by the sample rate), no wider than the product (2 B1 + B2) and on the
  air no longer than its parents;
* ``clipping``: at a harmonic of a parent near full scale (``clip_min_dbfs``) within the sampled band of the
  hop that measured it (a parent that a neighbouring hop reported, beyond this hop's kept span but within
  half its sample rate, went through this hop's ADC too): the 8-bit ADC clips I and Q separately, which puts
  the odd harmonics of a baseband offset f at -3 f, +5 f, -7 f (folded by the sample rate), the k-th at
  least 30 log10|k| dB under the parent's peak density (hard clipping: 1/k^2 of the power over k times the
  bandwidth);
* ``splatter``: a weak emission keyed in time with a much stronger burst: the same first and last on-block
  and duty cycle, or on only in the burst's on-blocks, or (a line too weak to be resolved in time) there
  while the burst is on and not while it is off (:func:`detectors.bursts.gated_excess`): key clicks and
  modulation lines of the burst.

A product is on the air only while its parents are: a line too weak to be resolved in time that is clearly
there while its would-be parent is off (a continuous carrier or receiver spur that happens to sit at a
product frequency) is not that product, nor is an intermodulation product of two bursts never on together,
nor the IQ image of a burst that is off.

One method, :meth:`ArtifactClassifier.classify`, returns the emissions with ``artifact``/``artifact_reason``
set (a new list; records are frozen); :meth:`ArtifactClassifier.reasons` gives the reasons alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from detectors.records import Emission

#: every artifact kind, in the order the tests are applied
KINDS = ("dc_spike", "spur", "iq_image", "hop_edge", "skirt", "intermod", "clipping", "splatter")

#: orders of the clipping harmonics of a complex baseband signal whose I and Q are clipped separately
CLIP_HARMONICS = (-3, 5, -7)


def artifact_kind(reason: str | None) -> str | None:
    """The kind of an ``artifact_reason`` (``"iq_image: mirror of ..."`` -> ``"iq_image"``); None for None."""
    if not reason:
        return None
    return reason.split(":", 1)[0].strip()


def fold_hz(offset_hz: float, sample_rate_hz: float) -> float:
    """A baseband offset folded into [-fs/2, fs/2) by sampling at ``sample_rate_hz``."""
    fs = float(sample_rate_hz)
    return (offset_hz + fs / 2.0) % fs - fs / 2.0


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
        The mirrored bins hold at least this much more noise-subtracted power than an IQ image (dB; the
        receiver's image rejection is better: RTL-SDR 25-40 dB).
    image_tolerance_bins : float
        The source must overlap the mirrored band within this many bins (bins, >= 0).
    edge_rolloff_db : float
        An emission in the outer 15 % of a hop where the floor is this far below the hop's median floor lies in
        the roll-off: a hop-edge artifact (dB, > 0).
    spurs_hz : tuple of float
        Fixed RF spurs: listed by the operator, reference-crystal harmonics from the receiver profile (Hz).
    spur_offsets_hz : tuple of float
        Baseband offsets of this receiver's spurs, from its spur map (Hz from the tuned centre).
    spur_tolerance_hz : float
        A line peaking within this of a spur is that spur; at least 1.5 bins is used (Hz, >= 0).
    spur_max_bandwidth_hz : float
        Emissions wider than this are never a spur (Hz).
    parent_min_db : float
        A product's parent peaks at least this much stronger (dB, >= 0).
    skirt_max_bandwidths : float
        A skirt lies within this many parent bandwidths of the parent's edge (ratio, >= 0).
    skirt_valley_db : float
        The spectrum between parent and skirt never dips this far below the skirt's peak, nor to within half
        the skirt's excess of the noise floor (dB, >= 0).
    intermod_tolerance_bins, clip_tolerance_bins : float
        Product frequency match: this many bins plus a quarter of the product's own bandwidth (bins, >= 0).
    clip_min_dbfs : float
        A parent this strong (channel power) may clip the 8-bit ADC (dBFS).
    keyed_tolerance_s : float
        First and last on-times of a splatter line agree with its parent's within this (s, >= 0).
    keyed_occupancy_tolerance : float
        And so do their duty cycles; a product's duty cycle never exceeds its parent's by more (0..1).
    keyed_parent_min_db : float
        A line on the air only while a burst is on (its on-blocks within the burst's, or its power there while
        the burst is on and not while it is off) is that burst's splatter when the burst peaks at least this
        much stronger (dB, >= 0; the timing is the evidence, so less than ``parent_min_db``).
    """

    dc_tolerance_bins: float = 2.0
    dc_max_bandwidth_bins: float = 6.0
    image_min_rejection_db: float = 20.0
    image_tolerance_bins: float = 3.0
    edge_rolloff_db: float = 3.0
    spurs_hz: tuple[float, ...] = ()
    spur_offsets_hz: tuple[float, ...] = ()
    spur_tolerance_hz: float = 1000.0
    spur_max_bandwidth_hz: float = 5000.0
    parent_min_db: float = 20.0
    skirt_max_bandwidths: float = 1.0
    skirt_valley_db: float = 3.0
    intermod_tolerance_bins: float = 3.0
    clip_tolerance_bins: float = 3.0
    clip_min_dbfs: float = -12.0
    keyed_tolerance_s: float = 0.011
    keyed_occupancy_tolerance: float = 0.1
    keyed_parent_min_db: float = 10.0

    def __post_init__(self):
        for name in ("dc_tolerance_bins", "dc_max_bandwidth_bins", "image_tolerance_bins", "spur_tolerance_hz",
                     "parent_min_db", "skirt_max_bandwidths", "skirt_valley_db", "intermod_tolerance_bins",
                     "clip_tolerance_bins", "keyed_tolerance_s", "keyed_occupancy_tolerance"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.edge_rolloff_db <= 0:
            raise ValueError(f"edge_rolloff_db must be > 0, got {self.edge_rolloff_db}")


@dataclass(frozen=True, slots=True, eq=False)
class Timing:
    """When an emission was on, for the keying tests: duty cycle, first and last on-time (s after the
    spectrum's start), whether the on/off decisions were resolved (a burst) and, when they were, its
    on-blocks (n_blocks,) bool (None otherwise)."""

    occupancy: float
    first_s: float
    last_s: float
    resolved: bool
    on: np.ndarray | None = None


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


def _mhz(f: float) -> str:
    return f"{f / 1e6:.6f} MHz"


def _db(excess: float) -> str:
    """A linear excess over the noise (ratio - 1) as the level over the noise in dB."""
    return "none" if excess <= 0.0 else f"{10.0 * math.log10(excess):+.1f} dB"


class _View:
    """The spectrum around the emissions: bins, hops, PSD and floor (what the density tests read)."""

    def __init__(self, freqs_hz, psd_dbfs_hz, floor_dbfs_hz, hop_slices, centers, bin_hz):
        self.freqs = None if freqs_hz is None else np.asarray(freqs_hz, dtype=float)
        self.bin_hz = float(bin_hz)
        self.centers = centers
        n = 0 if self.freqs is None else self.freqs.shape[0]
        self.slices = list(hop_slices) if hop_slices else ([slice(0, n)] if n else [])
        self.excess = None  # noise-subtracted linear density, (n_bins,)
        self.level_db = None  # PSD smoothed over 3 bins (dB)
        self.floor_db = None if floor_dbfs_hz is None else np.asarray(floor_dbfs_hz, dtype=float)
        if self.freqs is not None and psd_dbfs_hz is not None and floor_dbfs_hz is not None:
            psd = 10.0 ** (np.asarray(psd_dbfs_hz, dtype=float) / 10.0)
            floor = 10.0 ** (np.asarray(floor_dbfs_hz, dtype=float) / 10.0)
            self.excess = np.maximum(psd - floor, 0.0)
            self.level_db = 10.0 * np.log10(np.maximum(np.convolve(psd, np.ones(3) / 3, mode="same"), 1e-30))

    def index(self, f_hz: float) -> int:
        k = int(np.searchsorted(self.freqs, f_hz))
        if 0 < k < self.freqs.shape[0] and f_hz - self.freqs[k - 1] < self.freqs[k] - f_hz:
            k -= 1
        return min(max(k, 0), self.freqs.shape[0] - 1)

    def hop_of(self, f_hz: float) -> tuple[int, float, slice | None]:
        """(hop index, tuned centre, bin slice) of the hop that measured frequency ``f_hz``."""
        if self.freqs is not None and self.slices:
            k = self.index(f_hz)
            for i, sl in enumerate(self.slices):
                if sl.start <= k < sl.stop:
                    if len(self.slices) == len(self.centers):
                        return i, self.centers[i], sl
                    lo, hi = self.freqs[sl.start], self.freqs[sl.stop - 1]
                    mid = [c for c in self.centers if lo <= c <= hi] or self.centers
                    c = min(mid, key=lambda c: abs(c - f_hz))
                    return i, c, sl
        d = [abs(c - f_hz) for c in self.centers]
        i = d.index(min(d))
        return i, self.centers[i], None


class ArtifactClassifier:
    """Marks receiver artifacts and products among emissions (see module docstring)."""

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
        *,
        psd_dbfs_hz: np.ndarray | None = None,
        sample_rate_hz: float | None = None,
        start_utc=None,
    ) -> list[Emission]:
        """Return ``emissions`` with artifacts marked. ``freqs_hz``/``floor_dbfs_hz`` (n_bins,) and the bin
        ``hop_slices`` enable the hop-edge test, ``psd_dbfs_hz`` the density tests (image, skirt),
        ``sample_rate_hz`` the folding of products; ``start_utc`` (the spectrum's start) turns each emission's
        first/last seen into the timing of the keying tests."""
        timing = None
        if start_utc is not None:
            timing = [Timing(e.occupancy, (e.first_seen - start_utc).total_seconds(),
                             (e.last_seen - start_utc).total_seconds(), e.n_bursts > 0) for e in emissions]
        reasons = self.reasons(emissions, hop_centers_hz, bin_hz, freqs_hz, floor_dbfs_hz, hop_slices,
                               psd_dbfs_hz=psd_dbfs_hz, sample_rate_hz=sample_rate_hz, timing=timing)
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
        *,
        psd_dbfs_hz: np.ndarray | None = None,
        sample_rate_hz: float | None = None,
        timing: list[Timing | None] | None = None,
        gate=None,
    ) -> list[str | None]:
        """The artifact reason of each of ``emissions`` (None: a transmitter), as :meth:`classify` marks them.
        Anything with ``center_hz``, ``peak_hz``, ``f_lo_hz``, ``f_hi_hz``, ``bandwidth_hz``, ``power_dbfs``
        and ``peak_dbfs`` will do (an :class:`Emission`, or a :class:`detectors.measure.Measurement` before the
        emission is built). ``timing`` (one :class:`Timing` or None per emission) enables the keying tests;
        ``gate(i, on)`` (:func:`detectors.bursts.gated_excess` of emission i while the blocks ``on`` are on and
        off, or None) lets them test a line too weak to be resolved in time against its parent's keying."""
        centers = [float(c) for c in np.asarray(hop_centers_hz, dtype=float).ravel()]
        view = _View(freqs_hz, psd_dbfs_hz, floor_dbfs_hz, hop_slices, centers, bin_hz)
        edge = None
        if freqs_hz is not None and floor_dbfs_hz is not None and hop_slices:
            edge = (np.asarray(freqs_hz), floor_dbfs_hz, hop_slices, {})  # hop medians: computed when first needed
        hops = [view.hop_of(e.peak_hz) if centers else None for e in emissions]
        out = [self._receiver_reason(i, emissions, hops, view, edge, timing, gate) for i in range(len(emissions))]
        parents = [i for i, r in enumerate(out) if r is None]
        for i, r in enumerate(out):
            if r is None:
                out[i] = self._product_reason(i, emissions, parents, hops, view, sample_rate_hz, timing, gate)
        return out

    # ---- the receiver's own artifacts -------------------------------------------------------------------
    def _receiver_reason(self, i, emissions, hops, view: _View, edge, timing=None, gate=None) -> str | None:
        p = self.params
        e = emissions[i]
        bin_hz = view.bin_hz
        if hops[i] is not None:
            # the nearest centre of any hop: a stitched sweep's DC bin sits at its own hop's centre
            cc = min(view.centers, key=lambda x: abs(x - e.peak_hz))
            if abs(cc - e.peak_hz) <= p.dc_tolerance_bins * bin_hz and e.bandwidth_hz <= p.dc_max_bandwidth_bins * bin_hz:
                return f"dc_spike: at the tuned centre {_mhz(cc)} (LO leakage, DC offset)"
        spur = self._spur(e, hops[i], bin_hz)
        if spur:
            return spur
        if hops[i] is not None:
            image = self._image(i, emissions, hops, view, timing, gate)
            if image:
                return image
        if edge is not None:
            freqs_hz, floor_db, slices, medians = edge
            k = min(max(int(freqs_hz.searchsorted(e.center_hz)), 0), len(freqs_hz) - 1)
            for j, sl in enumerate(slices):
                if sl.start <= k < sl.stop:
                    if k - sl.start < 0.15 * (sl.stop - sl.start) or sl.stop - k <= 0.15 * (sl.stop - sl.start):
                        if j not in medians:
                            medians[j] = _median(floor_db[sl])
                        drop = medians[j] - floor_db[k]
                        if drop > p.edge_rolloff_db:
                            return f"hop_edge: the floor has rolled off {drop:.1f} dB at the hop's edge"
                    break
        return None

    def _spur(self, e, hop, bin_hz: float) -> str | None:
        p = self.params
        if e.bandwidth_hz > p.spur_max_bandwidth_hz:
            return None
        tol = max(p.spur_tolerance_hz, 1.5 * bin_hz)
        for f in p.spurs_hz:
            if abs(e.peak_hz - f) <= tol:
                return f"spur: fixed RF spur at {_mhz(f)}"
        if hop is not None:
            _h, c, _sl = hop
            off = e.peak_hz - c
            for o in p.spur_offsets_hz:
                if abs(off - o) <= tol:
                    return f"spur: receiver spur at baseband {o / 1e3:+.3f} kHz of the hop tuned to {_mhz(c)}"
        return None

    def _image(self, i, emissions, hops, view: _View, timing=None, gate=None) -> str | None:
        """The mirror test about the centre of the hop that measured emission ``i``; the source must be
        measured in the same hop and its density at the mirror must exceed the image's by the rejection, and
        the image is on the air only while its source is (a line there while a bursty source is off is not
        its image)."""
        p = self.params
        e = emissions[i]
        h, c, sl = hops[i]
        m_lo, m_hi = 2.0 * c - e.f_hi_hz, 2.0 * c - e.f_lo_hz
        tol = p.image_tolerance_bins * view.bin_hz
        if sl is not None and view.freqs is not None:
            span_lo = view.freqs[sl.start] - view.bin_hz / 2
            span_hi = view.freqs[sl.stop - 1] + view.bin_hz / 2
            if m_lo < span_lo - tol or m_hi > span_hi + tol:
                return None  # the mirror lies outside what this hop measured: no source can be there
        for j, s in enumerate(emissions):
            if j == i or hops[j] is None or hops[j][0] != h:
                continue
            if s.f_hi_hz < m_lo - tol or s.f_lo_hz > m_hi + tol:
                continue
            ratio_db = self._mirror_ratio_db(e, c, s, view)
            if ratio_db is not None and ratio_db >= p.image_min_rejection_db:
                if timing and self._keying(i, timing[i], [timing[j]], gate, e.snr_db) in ("independent", "never"):
                    continue
                return (f"iq_image: mirror of {_mhz(s.center_hz)} about the centre {_mhz(c)} of the hop that "
                        f"holds both, {ratio_db:.0f} dB under the density at the mirror")
        return None

    def _mirror_ratio_db(self, e, c: float, s, view: _View) -> float | None:
        """Noise-subtracted power in the bins mirrored from ``e``'s band over ``e``'s own, in dB (the density
        at the mirror against the image's; the same bins mirrored). Without the PSD: mean densities."""
        if view.excess is None:
            d_s = s.power_dbfs - 10.0 * math.log10(max(s.bandwidth_hz, view.bin_hz))
            d_e = e.power_dbfs - 10.0 * math.log10(max(e.bandwidth_hz, view.bin_hz))
            return d_s - d_e
        a, b = view.index(e.f_lo_hz), view.index(e.f_hi_hz)
        k = view.index(e.peak_hz)
        a, b = min(a, k - 1), max(b, k + 1)
        ic = (c - view.freqs[0]) / view.bin_hz  # fractional index of the hop centre
        n = view.freqs.shape[0]
        own, mirror = 0.0, 0.0
        for j in range(max(a, 0), min(b, n - 1) + 1):
            jm = int(round(2.0 * ic - j))
            if not 0 <= jm < n:
                return None
            own += view.excess[j]
            mirror += view.excess[jm]
        if own <= 0.0:
            return math.inf if mirror > 0 else None
        if mirror <= 0.0:
            return -math.inf
        return 10.0 * math.log10(mirror / own)

    # ---- products of a stronger emission ----------------------------------------------------------------
    def _product_reason(self, i, emissions, parents, hops, view: _View, fs, timing, gate=None) -> str | None:
        p = self.params
        e = emissions[i]
        strong = [j for j in parents if j != i and emissions[j].peak_dbfs - e.peak_dbfs >= p.parent_min_db]
        t_e = timing[i] if timing else None

        def follows(*js) -> bool:
            # a product is on the air only while all its parents are: not when it is there without them
            return self._keying(i, t_e, [timing[j] if timing else None for j in js], gate,
                                getattr(e, "snr_db", None)) not in ("independent", "never")

        for j in strong:
            why = self._skirt(e, emissions[j], view)
            if why and follows(j):
                return why
        if hops[i] is not None and fs:
            h, c, _sl = hops[i]
            # the ADC of the hop that measured this emission digitised everything within half the sample rate
            # of its centre, also what the stitched spectrum took from a neighbouring hop (kept span < rate)
            same = [j for j in strong if hops[j] is not None
                    and (hops[j][0] == h or abs(emissions[j].peak_hz - c) < 0.5 * fs)]
            # 2 f1 - f2 has the amplitude of A1^2 A2: f1 sets the nonlinearity (parent_min_db stronger), f2 need
            # only be stronger than the product (3 dB)
            seconds = [j for j in parents if j != i and hops[j] is not None
                       and emissions[j].peak_dbfs - e.peak_dbfs >= 3.0
                       and (hops[j][0] == h or abs(emissions[j].peak_hz - c) < 0.5 * fs)]
            why = self._intermod(e, c, same, emissions, view.bin_hz, fs, t_e, timing, follows, seconds)
            if why:
                return why
            why = self._clipping(e, c, same, emissions, view.bin_hz, fs, t_e, timing, follows)
            if why:
                return why
        if t_e is not None and timing:
            for j in strong:
                t_p = timing[j]
                if t_p is None or not (t_p.resolved and t_p.occupancy < 0.95):
                    continue
                s = emissions[j]
                if (abs(t_e.first_s - t_p.first_s) <= p.keyed_tolerance_s
                        and abs(t_e.last_s - t_p.last_s) <= p.keyed_tolerance_s
                        and abs(t_e.occupancy - t_p.occupancy) <= p.keyed_occupancy_tolerance):
                    return (f"splatter: keyed in time with the burst at {_mhz(s.center_hz)}, "
                            f"{s.peak_dbfs - e.peak_dbfs:.0f} dB stronger")
            for j in sorted(parents, key=lambda j: -emissions[j].peak_dbfs):
                t_p = timing[j]
                s = emissions[j]
                if (j == i or t_p is None or not t_p.resolved or t_p.on is None or t_p.on.all()
                        or s.peak_dbfs - e.peak_dbfs < p.keyed_parent_min_db):
                    continue
                if t_e.resolved and t_e.on is not None and t_e.on.shape == t_p.on.shape:
                    near = t_p.on.copy()  # the parent's on-blocks and one block either side (block edges)
                    near[1:] |= t_p.on[:-1]
                    near[:-1] |= t_p.on[1:]
                    # (a block or 5 % of its on-blocks outside them: the per-block decisions' own false alarms)
                    outside = int((t_e.on & ~near).sum())
                    if t_e.on.any() and outside <= max(1, int(0.05 * t_e.on.sum())):
                        return (f"splatter: on only while the burst at {_mhz(s.center_hz)} is on (a modulation line "
                                f"or key click of it), {s.peak_dbfs - e.peak_dbfs:.0f} dB stronger")
                if gate is not None and not t_e.resolved:
                    g = gate(i, t_p.on)
                    if g is not None and g.keyed():
                        return (f"splatter: on only while the burst at {_mhz(s.center_hz)} is on "
                                f"({_db(g.on_excess)} over its neighbourhood then, {_db(g.off_excess)} while it is "
                                f"off), {s.peak_dbfs - e.peak_dbfs:.0f} dB stronger")
        return None

    def _keying(self, i, t_e, t_parents, gate, snr_db=None) -> str:
        """Whether emission ``i`` is on the air only while its would-be parents are: "never" (the parents are
        never on together), "independent" (a line too weak to be resolved in time that is clearly there while
        they are off, at no less than half its level while they are on), "keyed" or "unknown" (no parent
        resolved in time, too few off-blocks, or ``i`` itself resolved: its own timing is tested instead)."""
        # a parent not resolved in time (a continuous carrier) counts as always on
        ons = [t.on for t in t_parents if t is not None and t.resolved and t.on is not None]
        if not ons:
            return "unknown"
        on = ons[0]
        for o in ons[1:]:
            if o.shape != on.shape:
                return "unknown"
            on = on & o
        if not on.any():
            return "never"
        if t_e is None or t_e.resolved:
            return "unknown"
        q = float(on.mean())
        if snr_db is not None and q < 0.95:
            # found in the average over the whole capture: confined to the parents' on-fraction q its excess there
            # would be 1/q times larger; 10 dB over the noise in its on-blocks would have been resolved in time
            if 10.0 ** (snr_db / 10.0) / q >= 10.0:
                return "independent"
        if gate is None:
            return "unknown"
        g = gate(i, on)
        if g is None:
            return "unknown"
        if g.present_while_off():
            return "independent"
        return "keyed" if g.keyed() else "unknown"

    def _skirt(self, e, s, view: _View) -> str | None:
        p = self.params
        if view.level_db is None:
            return None
        if e.center_hz > s.center_hz:
            gap = e.f_lo_hz - s.f_hi_hz
        else:
            gap = s.f_lo_hz - e.f_hi_hz
        if gap > p.skirt_max_bandwidths * s.bandwidth_hz:
            return None
        ke, ks = view.index(e.peak_hz), view.index(s.peak_hz)
        a, b = min(ke, ks), max(ke, ks)
        if b - a < 1:
            return None
        valley = float(view.level_db[a : b + 1].min())
        if valley < float(view.level_db[ke]) - p.skirt_valley_db:
            return None
        if view.floor_db is not None:
            # the parent's energy fills the gap: it stays above the noise by at least half of this
            # emission's own excess (a weak transmitter near a strong one has noise between them)
            excess = view.level_db[a : b + 1] - view.floor_db[a : b + 1]
            if float(excess.min()) < 0.5 * float(view.level_db[ke] - view.floor_db[ke]):
                return None
        return (f"skirt: under the spectral skirt of {_mhz(s.center_hz)} "
                f"({s.peak_dbfs - e.peak_dbfs:.0f} dB stronger, no valley between)")

    def _not_longer(self, t_e, t_p) -> bool:
        """A product is on the air only while its parents are: its duty cycle cannot exceed theirs."""
        if t_e is None or t_p is None or not (t_e.resolved and t_p.resolved):
            return True
        return t_e.occupancy <= t_p.occupancy + self.params.keyed_occupancy_tolerance

    def _intermod(self, e, c, same, emissions, bin_hz, fs, t_e, timing, follows=None, seconds=None) -> str | None:
        p = self.params
        o_e = e.center_hz - c
        for a in same:
            for b in (same if seconds is None else seconds):
                if a == b:
                    continue
                s1, s2 = emissions[a], emissions[b]
                width = 2.0 * s1.bandwidth_hz + s2.bandwidth_hz
                if e.bandwidth_hz > width + 4 * bin_hz:
                    continue
                if e.bandwidth_hz >= width / 3.0:  # a piece of a product spread over 2 B1 + B2
                    prod = fold_hz(2.0 * (s1.center_hz - c) - (s2.center_hz - c), fs)
                    miss = abs(fold_hz(o_e - prod, fs))
                    tol = p.intermod_tolerance_bins * bin_hz + 0.25 * width
                else:  # a line: the product of the parents' carriers (between their peaks and centroids)
                    q = [fold_hz(e.peak_hz - c - (2.0 * (x1 - c) - (x2 - c)), fs)
                         for x1, x2 in ((s1.peak_hz, s2.peak_hz), (s1.center_hz, s2.center_hz))]
                    miss = 0.0 if q[0] * q[1] <= 0 and abs(q[0] - q[1]) < 0.5 * fs else min(abs(q[0]), abs(q[1]))
                    tol = p.intermod_tolerance_bins * bin_hz + 0.25 * e.bandwidth_hz
                if miss > tol:
                    continue
                if timing and not (self._not_longer(t_e, timing[a]) and self._not_longer(t_e, timing[b])):
                    continue
                if follows is not None and not follows(a, b):
                    continue
                return (f"intermod: third-order product 2 f1 - f2 of {_mhz(s1.center_hz)} (f1) and "
                        f"{_mhz(s2.center_hz)} (f2)")
        return None

    def _clipping(self, e, c, same, emissions, bin_hz, fs, t_e, timing, follows=None) -> str | None:
        p = self.params
        o_e = e.center_hz - c
        for j in same:
            s = emissions[j]
            if s.power_dbfs < p.clip_min_dbfs:
                continue
            for k in CLIP_HARMONICS:
                # even hard clipping (a square wave) leaves the k-th harmonic 1/k^2 of the power, spread over k
                # times the bandwidth: its peak density lies at least 30 log10|k| dB under the parent's
                if s.peak_dbfs - e.peak_dbfs < 30.0 * math.log10(abs(k)):
                    continue
                width = abs(k) * s.bandwidth_hz
                if e.bandwidth_hz > width + 4 * bin_hz:
                    continue
                if e.bandwidth_hz >= width / 3.0:
                    # a piece (a third or more) of a product spread over k times the parent's band: its smooth
                    # density is detected over much of the spread, its centre anywhere in it
                    miss = abs(fold_hz(o_e - k * (s.center_hz - c), fs))
                    tol = p.clip_tolerance_bins * bin_hz + 0.25 * width
                else:
                    # a line, much narrower than that spread: the harmonic of the parent's carrier, which lies
                    # between its peak and its centroid; a narrow emission elsewhere on the spread is its own
                    a = fold_hz(e.peak_hz - c - k * (s.peak_hz - c), fs)
                    b = fold_hz(e.peak_hz - c - k * (s.center_hz - c), fs)
                    miss = 0.0 if a * b <= 0 and abs(a - b) < 0.5 * fs else min(abs(a), abs(b))
                    tol = p.clip_tolerance_bins * bin_hz + 0.25 * e.bandwidth_hz
                if miss > tol:
                    continue
                if timing and not self._not_longer(t_e, timing[j]):
                    continue
                if follows is not None and not follows(j):
                    continue
                return (f"clipping: harmonic {k:+d} x of {_mhz(s.center_hz)} ({s.power_dbfs:.1f} dBFS, near full "
                        f"scale) folded by the sample rate")
        return None
