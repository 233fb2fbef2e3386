"""Sweep planning and stitching: cover a band [f_lo, f_hi] with hops of one receiver and join the hop spectra
into one band spectrum on an exact frequency grid.

Grid: a band plan has ``n_bins`` bins of width ``bin_hz = sample_rate / nfft`` centred at
``f_lo + (k + 0.5) * bin_hz`` (k = 0..n_bins-1), so the band spectrum's edges are exactly f_lo and
f_lo + n_bins*bin_hz >= f_hi. Each hop keeps the ``n_keep`` central bins of its fftshifted spectrum (the
``crop`` fraction is the filter roll-off discarded, half at each edge); hop h supplies band bins
[h*n_keep, (h+1)*n_keep) and is tuned so that its kept bins land exactly on that part of the grid: no gaps, no
duplicates, every bin measured by exactly one hop. The hop's DC bin (its centre, where the RTL-SDR's LO leakage
sits) is replaced by interpolating its neighbours in linear power; the replaced frequencies are listed in
``meta['dc_bins_hz']`` so detectors can flag them.

Pure functions: no I/O, clock or logging.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from dsp.psd import AVERAGES, PsdResult, to_db
from dsp.spectrum import Spectrum
from dsp.windows import WINDOWS, enbw_bins

#: FFT sizes the planner may choose (powers of two)
MIN_NFFT = 16
MAX_NFFT = 1 << 20


class BandOutOfRange(ValueError):
    """A band needs hop centres outside the receiver's tuning range."""


@dataclass(frozen=True, slots=True, eq=False)
class BandPlan:
    """How one band is swept: FFT size, crop, hop centres, and the band's bin grid.

    hop_centers_hz: (n_hops,) float64, tuning frequencies (Hz), ascending
    """

    f_lo_hz: float
    f_hi_hz: float
    sample_rate_hz: float
    nfft: int
    window: str
    overlap: float
    crop: float  # requested fraction of each hop's bins discarded (half at each edge)
    n_keep: int  # bins kept per hop
    keep_start: int  # index of the first kept bin in the fftshifted hop spectrum
    n_bins: int  # bins in the band spectrum
    hop_centers_hz: np.ndarray
    dc_notch_bins: int = 1  # bins replaced around each hop's DC (odd)
    name: str = ""

    @property
    def bin_hz(self) -> float:
        return self.sample_rate_hz / self.nfft

    @property
    def enbw_hz(self) -> float:
        """Resolution bandwidth (Hz): the window's equivalent noise bandwidth."""
        return enbw_bins(self.window, self.nfft) * self.bin_hz

    @property
    def n_hops(self) -> int:
        return int(self.hop_centers_hz.shape[0])

    @property
    def freqs_hz(self) -> np.ndarray:
        """(n_bins,) float64 bin centres of the band spectrum (Hz)."""
        return self.f_lo_hz + (np.arange(self.n_bins, dtype=np.float64) + 0.5) * self.bin_hz

    def hop_slices(self, hop: int) -> tuple[slice, slice]:
        """(band bins, hop bins): ``band[band_sl] = hop_spectrum[hop_sl]`` for hop ``hop``."""
        b0 = hop * self.n_keep
        b1 = min(b0 + self.n_keep, self.n_bins)
        return slice(b0, b1), slice(self.keep_start, self.keep_start + (b1 - b0))

    def hop_edges_hz(self) -> np.ndarray:
        """(n_hops, 2) float64: the [lo, hi) frequency span of the bins each hop contributes."""
        edges = np.empty((self.n_hops, 2), dtype=np.float64)
        for h in range(self.n_hops):
            sl, _ = self.hop_slices(h)
            edges[h] = (self.f_lo_hz + sl.start * self.bin_hz, self.f_lo_hz + sl.stop * self.bin_hz)
        return edges

    def dc_bins_hz(self) -> np.ndarray:
        """Frequencies (Hz) of the band bins replaced around each hop's DC, ascending."""
        d = self.dc_notch_bins // 2
        out = []
        for h, c in enumerate(self.hop_centers_hz):
            band_sl, hop_sl = self.hop_slices(h)
            for i in range(self.nfft // 2 - d, self.nfft // 2 + d + 1):
                if hop_sl.start <= i < hop_sl.stop:
                    out.append(self.f_lo_hz + (band_sl.start + i - hop_sl.start + 0.5) * self.bin_hz)
        return np.array(out, dtype=np.float64)

    def hop_vector(self, hop: int, band_values: np.ndarray) -> np.ndarray:
        """Map a per-band-bin vector (n_bins,) to hop ``hop``'s (nfft,) bins (edge values outside its span)."""
        band_sl, hop_sl = self.hop_slices(hop)
        seg = np.asarray(band_values, dtype=np.float64)[band_sl]
        out = np.empty(self.nfft, dtype=np.float64)
        out[hop_sl] = seg
        out[: hop_sl.start] = seg[0]
        out[hop_sl.stop :] = seg[-1]
        return out


RBW_RTOL = 1e-9  # relative slack when comparing a computed resolution with the requested rbw


def choose_nfft(rbw_hz: float, sample_rate_hz: float, window: str = "hann") -> int:
    """Smallest power-of-two FFT size whose RBW (window ENBW) is <= ``rbw_hz``; at least MIN_NFFT.

    Raises ValueError when the sample rate cannot give the rbw: finer than MAX_NFFT allows, or coarser than
    the sample rate itself.
    """
    fs = float(sample_rate_hz)
    rbw = float(rbw_hz)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"sample rate must be positive, got {sample_rate_hz}")
    if not (math.isfinite(rbw) and rbw > 0):
        raise ValueError(f"rbw must be a positive number of Hz, got {rbw_hz}")
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; known: {', '.join(WINDOWS)}")
    e = enbw_bins(window)
    if rbw >= fs:
        raise ValueError(
            f"rbw {rbw:g} Hz is not below the sample rate {fs:g} S/s: one hop cannot resolve it "
            f"(coarsest rbw at this rate with {window}: {e * fs / MIN_NFFT:g} Hz)"
        )
    nfft = MIN_NFFT
    # a relative tolerance at the boundary: an rbw equal to a size's resolution selects that size on every CPU
    # (the window's ENBW sum differs in its last bit between machines, e.g. 1.5 vs 1.5000000000000002 bins)
    while e * fs / nfft > rbw * (1.0 + RBW_RTOL):
        nfft *= 2
        if nfft > MAX_NFFT:
            raise ValueError(
                f"rbw {rbw:g} Hz needs an FFT larger than {MAX_NFFT} at {fs:g} S/s "
                f"(finest rbw with {window}: {e * fs / MAX_NFFT:.3g} Hz); lower the sample rate or widen the rbw"
            )
    return nfft


def plan_band(
    f_lo_hz: float,
    f_hi_hz: float,
    rbw_hz: float,
    sample_rate_hz: float,
    *,
    window: str = "hann",
    overlap: float = 0.5,
    crop: float = 0.25,
    dc_notch_bins: int = 1,
    tuning_range_hz: tuple[float, float] | None = None,
    name: str = "",
) -> BandPlan:
    """Plan a sweep of [f_lo_hz, f_hi_hz] (Hz) at resolution bandwidth <= rbw_hz with a receiver of
    ``sample_rate_hz``. ``crop`` in [0, 0.9] is the fraction of each hop's spectrum discarded at the edges
    (RTL-SDR's anti-alias roll-off: 0.2-0.3 is typical). ``tuning_range_hz`` (lo, hi) checks every hop centre.

    Raises ValueError for an empty/inverted/non-finite band, an rbw the sample rate cannot give, a bad crop,
    overlap or notch, or a band the receiver cannot tune.
    """
    lo, hi = float(f_lo_hz), float(f_hi_hz)
    label = f"band {name!r} " if name else "band "
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0:
        raise ValueError(f"{label}{f_lo_hz}-{f_hi_hz} Hz: edges must be finite and non-negative")
    if hi <= lo:
        raise ValueError(f"{label}{lo / 1e6:.6f}-{hi / 1e6:.6f} MHz is empty: the upper edge must exceed the lower")
    if not (0.0 <= crop <= 0.9):
        raise ValueError(f"crop must be in [0, 0.9], got {crop}")
    if not (0.0 <= overlap < 1.0):
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if dc_notch_bins < 0 or (dc_notch_bins and dc_notch_bins % 2 == 0):
        raise ValueError(f"dc_notch_bins must be 0 or odd, got {dc_notch_bins}")
    nfft = choose_nfft(rbw_hz, sample_rate_hz, window)
    fs = float(sample_rate_hz)
    bin_hz = fs / nfft
    edge = int(math.floor(nfft * crop / 2.0))
    n_keep = nfft - 2 * edge
    if dc_notch_bins // 2 + 1 >= n_keep // 2:
        raise ValueError(f"dc notch of {dc_notch_bins} bins does not fit in the {n_keep} bins kept per hop")
    n_bins = int(math.ceil((hi - lo) / bin_hz - 1e-9))
    n_hops = int(math.ceil(n_bins / n_keep))
    centers = lo + (np.arange(n_hops, dtype=np.float64) * n_keep - edge + nfft // 2 + 0.5) * bin_hz
    if tuning_range_hz is not None:
        t_lo, t_hi = (float(v) for v in tuning_range_hz)
        if centers[0] < t_lo or centers[-1] > t_hi:
            raise BandOutOfRange(
                f"{label}{lo / 1e6:.6f}-{hi / 1e6:.6f} MHz needs hop centres {centers[0] / 1e6:.6f}-"
                f"{centers[-1] / 1e6:.6f} MHz, outside the receiver's tuning range "
                f"{t_lo / 1e6:.3f}-{t_hi / 1e6:.3f} MHz"
            )
    return BandPlan(
        f_lo_hz=lo,
        f_hi_hz=hi,
        sample_rate_hz=fs,
        nfft=nfft,
        window=window,
        overlap=float(overlap),
        crop=float(crop),
        n_keep=n_keep,
        keep_start=edge,
        n_bins=n_bins,
        hop_centers_hz=centers,
        dc_notch_bins=int(dc_notch_bins),
        name=name,
    )


def plan_fixed_center(band: BandPlan, center_hz: float) -> BandPlan:
    """A one-hop plan for a receiver that stays at ``center_hz`` (a recording, a receiver that ignored the tune).

    The grid follows that hop's FFT bins (``center_hz + (i - nfft//2) * bin_hz``) over the bins whose centres lie
    in [f_lo, f_hi), keeping the plan's crop. Raises BandOutOfRange when the band does not fit in the span the
    hop keeps."""
    c = float(center_hz)
    nfft, b, edge = band.nfft, band.bin_hz, band.keep_start
    half = nfft // 2
    kept_lo = c + (edge - half - 0.5) * b
    kept_hi = c + (nfft - edge - half - 0.5) * b
    tol = 1e-6 * b
    if band.f_lo_hz < kept_lo - tol or band.f_hi_hz > kept_hi + tol:
        raise BandOutOfRange(
            f"band {band.f_lo_hz / 1e6:.6f}-{band.f_hi_hz / 1e6:.6f} MHz does not fit in the "
            f"{kept_lo / 1e6:.6f}-{kept_hi / 1e6:.6f} MHz a receiver fixed at {c / 1e6:.6f} MHz covers "
            f"(crop {band.crop:g})"
        )
    i0 = max(edge, int(math.ceil((band.f_lo_hz - c) / b + half - 1e-9)))
    i1 = min(nfft - edge, int(math.ceil((band.f_hi_hz - c) / b + half - 1e-9)))
    if i1 <= i0:
        i1 = i0 + 1
    return BandPlan(
        f_lo_hz=c + (i0 - half - 0.5) * b,
        f_hi_hz=band.f_hi_hz,
        sample_rate_hz=band.sample_rate_hz,
        nfft=nfft,
        window=band.window,
        overlap=band.overlap,
        crop=band.crop,
        n_keep=i1 - i0,
        keep_start=i0,
        n_bins=i1 - i0,
        hop_centers_hz=np.array([c]),
        dc_notch_bins=band.dc_notch_bins,
        name=band.name,
    )


def replace_dc(values: np.ndarray, notch_bins: int) -> np.ndarray:
    """Copy of ``values`` (..., nfft) (linear power, fftshifted) with the ``notch_bins`` bins around DC
    (index nfft//2) replaced by linear interpolation between the bins just outside the notch."""
    out = np.array(values, dtype=np.result_type(values, np.float32), copy=True)
    if notch_bins <= 0:
        return out
    nfft = out.shape[-1]
    d = notch_bins // 2
    a, b = nfft // 2 - d - 1, nfft // 2 + d + 1
    left, right = out[..., a], out[..., b]
    for k, i in enumerate(range(a + 1, b)):
        t = (k + 1) / (b - a)
        out[..., i] = left * (1 - t) + right * t
    return out


def stitch_bins(plan: BandPlan, per_hop: Sequence[np.ndarray]) -> np.ndarray:
    """Join per-hop arrays (..., nfft) fftshifted into the band grid (..., n_bins), cropping each hop's edges.

    Leading axes must agree between hops. DC replacement is the caller's (see :func:`replace_dc`).
    """
    if len(per_hop) != plan.n_hops:
        raise ValueError(f"got {len(per_hop)} hop spectra for a plan of {plan.n_hops} hops")
    first = np.asarray(per_hop[0])
    out = np.empty(first.shape[:-1] + (plan.n_bins,), dtype=first.dtype)
    for h, arr in enumerate(per_hop):
        arr = np.asarray(arr)
        if arr.shape[-1] != plan.nfft or arr.shape[:-1] != first.shape[:-1]:
            raise ValueError(f"hop {h} spectrum has shape {arr.shape}, expected {first.shape[:-1] + (plan.nfft,)}")
        band_sl, hop_sl = plan.hop_slices(h)
        out[..., band_sl] = arr[..., hop_sl]
    return out


#: elements per chunk when a float32 spectrogram is converted to dB in place (bounds the float64 scratch)
_DB_CHUNK = 1 << 18


def lin_to_db_inplace(a: np.ndarray) -> np.ndarray:
    """Convert ``a`` (..., n) float32 linear power to dB in place (10*log10, floored at -300 dB) and return it.

    The values equal ``to_db(a).astype(np.float32)``: rows are converted a chunk at a time through float64, so
    the scratch stays a few MB whatever the size of ``a`` (which may be a strided view, e.g. a column slice)."""
    if a.dtype != np.float32:
        raise TypeError(f"lin_to_db_inplace needs float32, got {a.dtype}")
    if a.ndim == 0 or a.size == 0:
        return a
    if a.ndim > 2:
        for sub in a:
            lin_to_db_inplace(sub)
        return a
    rows = a if a.ndim == 2 else a[np.newaxis, :]
    step = max(1, _DB_CHUNK // max(1, rows.shape[1]))
    for r0 in range(0, rows.shape[0], step):
        seg = rows[r0 : r0 + step]
        seg[...] = to_db(seg)
    return a


class FrameStitcher:
    """Builds a band's spectrogram hop by hop: ``frames_dbfs_hz`` (n_frames, n_bins) float32 dBFS/Hz.

    :meth:`add` copies the kept bins of one hop's per-frame linear PSD (n >= n_frames, nfft) fftshifted into the
    band grid, replaces its DC bins as :func:`replace_dc` does and converts them to dB in place, so a caller may
    drop each hop's linear frames as soon as they are added: peak memory is the band spectrogram plus one hop.
    Values equal ``to_db(stitch_bins(plan, [replace_dc(f, notch) ...])).astype(np.float32)``.
    """

    def __init__(self, plan: BandPlan, n_frames: int):
        if n_frames < 0:
            raise ValueError(f"n_frames must be >= 0, got {n_frames}")
        self.plan = plan
        self.n_frames = int(n_frames)
        self.frames_dbfs_hz = np.empty((self.n_frames, plan.n_bins), dtype=np.float32)
        self._added = np.zeros(plan.n_hops, dtype=np.bool_)

    def add(self, hop: int, frames_lin: np.ndarray) -> None:
        """Stitch hop ``hop``'s frames_lin (n, nfft) (rows beyond n_frames are ignored)."""
        plan = self.plan
        src = np.asarray(frames_lin)
        if src.ndim != 2 or src.shape[1] != plan.nfft or src.shape[0] < self.n_frames:
            raise ValueError(
                f"hop {hop} frames have shape {src.shape}, expected at least ({self.n_frames}, {plan.nfft})"
            )
        src = src[: self.n_frames]
        band_sl, hop_sl = plan.hop_slices(hop)
        dst = self.frames_dbfs_hz[:, band_sl]
        dst[...] = src[:, hop_sl]
        notch = plan.dc_notch_bins
        if notch > 0:
            d = notch // 2
            a, b = plan.nfft // 2 - d - 1, plan.nfft // 2 + d + 1
            dt = np.result_type(src, np.float32)
            left, right = src[:, a].astype(dt), src[:, b].astype(dt)
            for k, i in enumerate(range(a + 1, b)):
                if hop_sl.start <= i < hop_sl.stop:
                    t = (k + 1) / (b - a)
                    dst[:, i - hop_sl.start] = left * (1 - t) + right * t
        lin_to_db_inplace(dst)
        self._added[hop] = True

    @property
    def complete(self) -> bool:
        """Whether every hop of the plan was added."""
        return bool(self._added.all())


@dataclass(frozen=True, slots=True)
class StitchInfo:
    """What a band Spectrum needs besides the hop spectra (times, provenance)."""

    start_utc: datetime
    end_utc: datetime
    dwell_s: float
    source: str = ""
    meta: dict = field(default_factory=dict)


def stitch(
    plan: BandPlan,
    hops: Sequence[PsdResult],
    info: StitchInfo,
    *,
    average: str = "mean",
    threshold_dbfs_hz: np.ndarray | float | None = None,
    frames_dbfs_hz: np.ndarray | None = None,
) -> Spectrum:
    """Stitch one Welch result per hop (same nfft and rate as the plan) into the band :class:`Spectrum`.

    ``psd_dbfs_hz`` holds the ``average`` mode; max-hold always; frames (spectrogram, float32) when every hop
    kept them (row i = frame i of every hop: hop h's frame i was taken ``meta['hop_start_s'][h] +
    frame_times_s[i]`` after ``start_utc`` when the caller records hop starts), or ``frames_dbfs_hz`` when the
    caller stitched them already with a :class:`FrameStitcher` (and dropped the hops' linear frames);
    above counts when every hop computed them.
    """
    if average not in AVERAGES:
        raise ValueError(f"unknown average {average!r}; expected one of {', '.join(AVERAGES)}")
    if len(hops) != plan.n_hops:
        raise ValueError(f"got {len(hops)} hop spectra for a plan of {plan.n_hops} hops")
    for h, r in enumerate(hops):
        if r.nfft != plan.nfft or abs(r.sample_rate_hz - plan.sample_rate_hz) > 1e-6 * plan.sample_rate_hz:
            raise ValueError(
                f"hop {h} was analysed with nfft {r.nfft} at {r.sample_rate_hz:g} S/s; the plan says "
                f"nfft {plan.nfft} at {plan.sample_rate_hz:g} S/s"
            )
    notch = plan.dc_notch_bins
    psd = stitch_bins(plan, [replace_dc(r.averaged(average), notch) for r in hops])
    maxhold = stitch_bins(plan, [replace_dc(r.max_lin, notch) for r in hops])
    frames = times = None
    n_frames = min(r.n_frames for r in hops)
    if frames_dbfs_hz is not None:
        frames = np.asarray(frames_dbfs_hz)
        if frames.dtype != np.float32 or frames.ndim != 2 or frames.shape[1] != plan.n_bins:
            raise ValueError(f"frames_dbfs_hz must be float32 (n_frames, {plan.n_bins}), got {frames.dtype} "
                             f"{frames.shape}")
        times = hops[0].frame_times_s[: frames.shape[0]].copy()
    elif all(r.frames_lin is not None for r in hops):
        fs = FrameStitcher(plan, n_frames)
        for h, r in enumerate(hops):
            fs.add(h, r.frames_lin)
        frames = fs.frames_dbfs_hz
        times = hops[0].frame_times_s[:n_frames].copy()
    counts = thr = None
    if threshold_dbfs_hz is not None and all(r.above_counts is not None for r in hops):
        counts = stitch_bins(
            plan, [np.rint(replace_dc(r.above_counts.astype(np.float64), notch)).astype(np.int64) for r in hops]
        )
        thr = np.broadcast_to(np.asarray(threshold_dbfs_hz, dtype=np.float64), (plan.n_bins,)).copy()
    meta = {
        "sweep_mode": "dwell",
        "dc_bins_hz": plan.dc_bins_hz().tolist(),
        "crop": plan.crop,
        "frames_per_hop": [int(r.n_frames) for r in hops],
        "above_counts_unit": "frames",
    }
    meta.update(info.meta)
    return Spectrum(
        freqs_hz=plan.freqs_hz,
        psd_dbfs_hz=to_db(psd),
        bin_hz=plan.bin_hz,
        enbw_hz=plan.enbw_hz,
        nfft=plan.nfft,
        window=plan.window,
        overlap=plan.overlap,
        average=average,
        n_frames=int(n_frames),
        sample_rate_hz=plan.sample_rate_hz,
        start_utc=info.start_utc,
        end_utc=info.end_utc,
        hop_centers_hz=plan.hop_centers_hz.copy(),
        hop_edges_hz=plan.hop_edges_hz(),
        dwell_s=float(info.dwell_s),
        maxhold_dbfs_hz=to_db(maxhold),
        frames_dbfs_hz=frames,
        frame_times_s=times,
        above_counts=counts,
        above_threshold_dbfs_hz=thr,
        source=info.source,
        meta=meta,
    )
