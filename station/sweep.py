"""The sweep executor: drives a :class:`~station.receivers.base.Receiver` over the hops of a
:class:`SweepPlan` and returns one band :class:`~dsp.spectrum.Spectrum` per band, with per-hop timing.

Two sweep models (docs/DSP.md):

* ``dwell`` (soapy_power): each hop is visited once and ``dwell_s`` seconds of samples are averaged.
  ``above_counts`` then counts *frames* above the threshold.
* ``interleaved`` (rtl_power): quick passes over all hops (``dwell_s`` per visit, typically a few ms) repeat
  until ``interval_s`` has elapsed; every hop is revisited many times within the interval. The averaged PSD is
  the frame-weighted mean over all visits, max/min holds span all visits, ``above_counts`` counts *revisits*
  whose visit-averaged PSD exceeded the threshold (the SM.1880 occupancy input), ``meta['revisits']`` is the
  number of passes and, with ``keep_frames``, ``frames_dbfs_hz`` holds one stitched band spectrum per revisit
  (``frame_times_s`` = pass start times).

Samples are read raw (``read_raw``) and go through the fused convert + window + FFT path of :mod:`dsp.psd`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from dsp.psd import AVERAGES, PsdResult, to_db, welch
from dsp.spectrum import Spectrum
from dsp.sweep import (
    BandOutOfRange,
    BandPlan,
    FrameStitcher,
    StitchInfo,
    plan_band,
    plan_fixed_center,
    replace_dc,
    stitch,
    stitch_bins,
)
from station.errors import ReceiverError, TuningError
from station.receivers.base import Receiver

MODES = ("dwell", "interleaved")


@dataclass(frozen=True, slots=True, eq=False)
class SweepPlan:
    """Everything the executor needs: the band plans and how long/how to look at each hop.

    dwell_s: seconds of samples per hop visit (at least one FFT frame is always read)
    interval_s: interleaved model: integration interval of one band sweep (s); ignored for ``dwell``
    threshold_dbfs_hz: level for ``above_counts`` (dBFS/Hz), None to skip the counts
    """

    bands: tuple[BandPlan, ...]
    sample_rate_hz: float
    dwell_s: float = 0.1
    mode: str = "dwell"
    interval_s: float = 0.0
    average: str = "mean"
    remove_dc: bool = True
    keep_frames: bool = False
    threshold_dbfs_hz: float | None = None
    max_revisits: int = 100_000

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"unknown sweep mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.average not in AVERAGES:
            raise ValueError(f"unknown average {self.average!r}; expected one of {', '.join(AVERAGES)}")
        if not (self.dwell_s >= 0 and math.isfinite(self.dwell_s)):
            raise ValueError(f"dwell must be >= 0 s, got {self.dwell_s}")
        if self.mode == "interleaved" and not (self.interval_s > 0 and math.isfinite(self.interval_s)):
            raise ValueError(f"the interleaved model needs an interval > 0 s, got {self.interval_s}")
        if not self.bands:
            raise ValueError("a sweep plan needs at least one band")

    @classmethod
    def make(
        cls,
        bands: Sequence[tuple[float, float] | tuple[str, float, float]],
        rbw_hz: float,
        sample_rate_hz: float,
        dwell_s: float = 0.1,
        *,
        mode: str = "dwell",
        interval_s: float = 0.0,
        window: str = "hann",
        overlap: float = 0.5,
        crop: float = 0.25,
        average: str = "mean",
        remove_dc: bool = True,
        keep_frames: bool = False,
        threshold_dbfs_hz: float | None = None,
        tuning_range_hz: tuple[float, float] | None = None,
    ) -> SweepPlan:
        """Plan every band (``(f_lo_hz, f_hi_hz)`` or ``(name, f_lo_hz, f_hi_hz)``) with :func:`dsp.sweep.plan_band`.
        Raises ValueError as plan_band does (bad band, rbw the rate cannot give, band outside tuning range)."""
        plans = []
        for b in bands:
            name, lo, hi = (b if len(b) == 3 else (f"{b[0] / 1e6:g}M-{b[1] / 1e6:g}M", *b))
            plans.append(
                plan_band(
                    lo, hi, rbw_hz, sample_rate_hz, window=window, overlap=overlap, crop=crop,
                    tuning_range_hz=tuning_range_hz, name=str(name),
                )
            )
        return cls(
            bands=tuple(plans), sample_rate_hz=float(sample_rate_hz), dwell_s=float(dwell_s), mode=mode,
            interval_s=float(interval_s), average=average, remove_dc=remove_dc, keep_frames=keep_frames,
            threshold_dbfs_hz=threshold_dbfs_hz,
        )

    def samples_per_visit(self, band: BandPlan) -> int:
        """Samples read per hop visit: dwell_s * rate rounded up to whole frames, at least one frame."""
        step = band.nfft - int(round(band.overlap * band.nfft))
        n = int(math.ceil(self.dwell_s * self.sample_rate_hz))
        if n <= band.nfft:
            return band.nfft
        return band.nfft + int(math.ceil((n - band.nfft) / max(step, 1))) * max(step, 1)


@dataclass(frozen=True, slots=True)
class HopTiming:
    """Wall time spent on one hop visit (s): tuning, receiving samples, DSP."""

    center_hz: float
    tune_s: float
    receive_s: float
    dsp_s: float


@dataclass(frozen=True, slots=True, eq=False)
class BandSweep:
    """One band swept once: the stitched spectrum, per-visit timing and totals (for station_health).

    duration_s: wall time of the whole band sweep including stitching (s); the spectrum's end_utc is when the
    last samples were read.
    """

    name: str
    spectrum: Spectrum
    hops: tuple[HopTiming, ...]
    duration_s: float
    revisits: int

    @property
    def receive_s(self) -> float:
        return float(sum(h.receive_s for h in self.hops))

    @property
    def dsp_s(self) -> float:
        return float(sum(h.dsp_s for h in self.hops))

    @property
    def hop_rate_hz(self) -> float:
        """Hop visits per second."""
        return len(self.hops) / self.duration_s if self.duration_s > 0 else 0.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


def prepare_receiver(receiver: Receiver, plan: SweepPlan) -> None:
    """Set the plan's sample rate; TuningError when the receiver cannot give it (within 1 ppm)."""
    if abs(receiver.sample_rate_hz - plan.sample_rate_hz) > 1e-6 * plan.sample_rate_hz:
        got = receiver.set_sample_rate(plan.sample_rate_hz)
        if abs(got - plan.sample_rate_hz) > 1e-6 * plan.sample_rate_hz:
            raise TuningError(
                f"sample rate {plan.sample_rate_hz:g} S/s was planned but the receiver set {got:g} S/s",
                where=receiver.uri,
            )


class _HopVisitor:
    """Tunes, reads and analyses one hop visit at a time, keeping per-visit timing and the largest tuning error."""

    def __init__(self, receiver: Receiver, plan: SweepPlan, band: BandPlan, clock: Callable[[], float],
                 pre_tuned_hz: float | None, pre_tuned_hop: int = 0):
        self.receiver, self.plan, self.band, self.clock = receiver, plan, band, clock
        self.fmt = receiver.info.native_format
        self.n_samples = plan.samples_per_visit(band)
        self.tol_hz = 0.01 * band.bin_hz
        self.timings: list[HopTiming] = []
        self.tune_err_hz = 0.0
        self._pre_tuned_hz = pre_tuned_hz  # the first hop was tuned while choosing the plan
        self._pre_tuned_hop = int(pre_tuned_hop)
        self.t0 = clock()
        self.thr_hop = None
        if plan.threshold_dbfs_hz is not None:
            thr_band = np.full(band.n_bins, float(plan.threshold_dbfs_hz))
            self.thr_hop = [band.hop_vector(h, thr_band) for h in range(band.n_hops)]

    def visit(self, h: int, *, keep_frames: bool, counts: bool) -> tuple[PsdResult, float]:
        """(Welch result of hop h, seconds from the sweep start to when its samples started)."""
        rx, band, clock = self.receiver, self.band, self.clock
        c = float(band.hop_centers_hz[h])
        ta = clock()
        if h == self._pre_tuned_hop and self._pre_tuned_hz is not None:
            got, self._pre_tuned_hz = self._pre_tuned_hz, None
        else:
            got = rx.set_center_freq(c)
        if abs(got - c) > self.tol_hz:
            raise TuningError(f"hop {h} asked for {c / 1e6:.6f} MHz but the receiver tuned {got / 1e6:.6f} MHz",
                              where=rx.uri)
        self.tune_err_hz = max(self.tune_err_hz, abs(got - c))
        tb = clock()
        raw = rx.read_raw(self.n_samples)
        tc = clock()
        if raw is None or raw.shape[0] < 2 * self.n_samples:
            got_n = 0 if raw is None else raw.shape[0] // 2
            raise ReceiverError(f"short read: {got_n} of {self.n_samples} samples at {c / 1e6:.6f} MHz", where=rx.uri)
        r = welch(
            raw, self.plan.sample_rate_hz, fmt=self.fmt, nfft=band.nfft, window=band.window, overlap=band.overlap,
            remove_dc=self.plan.remove_dc, want_min=self.plan.average == "min", keep_frames=keep_frames,
            threshold_dbfs_hz=self.thr_hop[h] if (counts and self.thr_hop is not None) else None,
        )
        td = clock()
        self.timings.append(HopTiming(center_hz=got, tune_s=tb - ta, receive_s=tc - tb, dsp_s=td - tc))
        return r, tb - self.t0


def sweep_band(
    receiver: Receiver,
    plan: SweepPlan,
    band: BandPlan,
    *,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _utcnow,
    first_hop: int = 0,
) -> BandSweep:
    """Sweep one band of ``plan`` once with ``receiver`` (already at the plan's sample rate).

    ``first_hop``: in dwell mode the hops are visited from this one on, wrapping around (``first_hop``,
    ``first_hop + 1``, ..., ``n_hops - 1``, ``0``, ...). A caller that draws it at random for each sweep
    de-aliases its sampling: a periodic sweep and a periodic burst transmitter (telemetry every second) can
    otherwise lock in phase, so that the transmitter is never (or always) on the air during its hop's dwell;
    with a random start each hop's visit time moves by a random multiple of the hop time from sweep to sweep.

    A receiver that stays at another frequency than the first hop's (a recording) is swept as one hop on its
    own FFT grid (:func:`dsp.sweep.plan_fixed_center`), or TuningError when the band does not fit there. A hop
    tuned more than 1 % of a bin away from its plan later in the sweep is a TuningError; a short read is a
    ReceiverError.
    """
    if not 0 <= int(first_hop) < band.n_hops:
        raise ValueError(f"first_hop must be in [0, {band.n_hops}), got {first_hop}")
    first_hop = int(first_hop) if plan.mode == "dwell" else 0
    first_center = float(band.hop_centers_hz[first_hop])
    got0 = receiver.set_center_freq(first_center)
    if abs(got0 - first_center) > 0.01 * band.bin_hz:
        first_hop = 0
        try:
            band = plan_fixed_center(band, got0)
        except BandOutOfRange as exc:
            raise TuningError(
                f"asked for {first_center / 1e6:.6f} MHz the receiver stayed at {got0 / 1e6:.6f} MHz (a recording "
                f"cannot be retuned): {exc}", where=receiver.uri
            ) from None
    start_utc = now()
    v = _HopVisitor(receiver, plan, band, clock, got0, first_hop)
    if plan.mode == "dwell":
        return _sweep_dwell(v, start_utc, first_hop)
    return _sweep_interleaved(v, start_utc)


def _sweep_dwell(v: _HopVisitor, start_utc: datetime, first_hop: int = 0) -> BandSweep:
    plan, band = v.plan, v.band
    results, hop_start = [None] * band.n_hops, [0.0] * band.n_hops
    frames = None  # the spectrogram is stitched (float32 dB) as each hop arrives; its linear frames are dropped
    for i in range(band.n_hops):
        h = (first_hop + i) % band.n_hops
        r, ts = v.visit(h, keep_frames=plan.keep_frames, counts=True)
        if r.frames_lin is not None:
            if frames is None:
                frames = FrameStitcher(band, r.n_frames)  # every visit reads the same number of samples
            frames.add(h, r.frames_lin)
            r = replace(r, frames_lin=None)
        results[h] = r
        hop_start[h] = ts
    data_s = v.clock() - v.t0
    info = StitchInfo(
        start_utc=start_utc, end_utc=start_utc + timedelta(seconds=data_s), dwell_s=v.n_samples / plan.sample_rate_hz,
        source=v.receiver.uri,
        meta={"band": band.name, "hop_start_s": hop_start, "revisits": 1, "max_tuning_error_hz": v.tune_err_hz},
    )
    spectrum = stitch(band, results, info, average=plan.average, threshold_dbfs_hz=plan.threshold_dbfs_hz,
                      frames_dbfs_hz=frames.frames_dbfs_hz if frames is not None else None)
    return BandSweep(band.name, spectrum, tuple(v.timings), v.clock() - v.t0, 1)


def _sweep_interleaved(v: _HopVisitor, start_utc: datetime) -> BandSweep:
    plan, band = v.plan, v.band
    nfft, notch, n_hops = band.nfft, band.dc_notch_bins, band.n_hops
    want_min = plan.average == "min"
    acc = [np.zeros(nfft) for _ in range(n_hops)]
    mx = [np.zeros(nfft) for _ in range(n_hops)]
    mn = [np.full(nfft, np.inf) for _ in range(n_hops)]
    frames_n = [0] * n_hops
    above = [np.zeros(nfft, dtype=np.int64) for _ in range(n_hops)]
    thr_lin = None if v.thr_hop is None else [10.0 ** (t / 10.0) for t in v.thr_hop]
    revisit_rows: list[np.ndarray] = []
    revisit_times: list[float] = []
    revisits = 0
    while True:
        pass_start = v.clock() - v.t0
        row = []
        for h in range(n_hops):
            r, _ = v.visit(h, keep_frames=False, counts=False)
            acc[h] += r.mean_lin * r.n_frames
            frames_n[h] += r.n_frames
            np.maximum(mx[h], r.max_lin, out=mx[h])
            if want_min:
                np.minimum(mn[h], r.min_lin, out=mn[h])
            if thr_lin is not None:
                above[h] += r.mean_lin > thr_lin[h]
            if plan.keep_frames:
                row.append(replace_dc(r.mean_lin, notch))
        revisits += 1
        if plan.keep_frames:  # one float32 dB row per revisit (the spectrogram is float32 end to end)
            revisit_rows.append(to_db(stitch_bins(band, row)).astype(np.float32))
            revisit_times.append(pass_start)
        if v.clock() - v.t0 >= plan.interval_s or revisits >= plan.max_revisits:
            break
    data_s = v.clock() - v.t0
    mean_lin = [a / n for a, n in zip(acc, frames_n, strict=True)]
    avg = {"mean": mean_lin, "max": mx, "min": mn}[plan.average]
    psd = stitch_bins(band, [replace_dc(a, notch) for a in avg])
    maxhold = stitch_bins(band, [replace_dc(a, notch) for a in mx])
    counts = thr = None
    if thr_lin is not None:
        counts = stitch_bins(band, [np.rint(replace_dc(a.astype(np.float64), notch)).astype(np.int64) for a in above])
        thr = np.full(band.n_bins, float(plan.threshold_dbfs_hz))
    spectrum = Spectrum(
        freqs_hz=band.freqs_hz,
        psd_dbfs_hz=to_db(psd),
        bin_hz=band.bin_hz,
        enbw_hz=band.enbw_hz,
        nfft=nfft,
        window=band.window,
        overlap=band.overlap,
        average=plan.average,
        n_frames=int(min(frames_n)),
        sample_rate_hz=plan.sample_rate_hz,
        start_utc=start_utc,
        end_utc=start_utc + timedelta(seconds=data_s),
        hop_centers_hz=band.hop_centers_hz.copy(),
        hop_edges_hz=band.hop_edges_hz(),
        dwell_s=revisits * v.n_samples / plan.sample_rate_hz,
        maxhold_dbfs_hz=to_db(maxhold),
        frames_dbfs_hz=np.array(revisit_rows, dtype=np.float32) if plan.keep_frames else None,
        frame_times_s=np.array(revisit_times) if plan.keep_frames else None,
        above_counts=counts,
        above_threshold_dbfs_hz=thr,
        source=v.receiver.uri,
        meta={
            "band": band.name,
            "sweep_mode": "interleaved",
            "revisits": revisits,
            "above_counts_unit": "revisits",
            "interval_s": plan.interval_s,
            "visit_dwell_s": v.n_samples / plan.sample_rate_hz,
            "dc_bins_hz": band.dc_bins_hz().tolist(),
            "crop": band.crop,
            "max_tuning_error_hz": v.tune_err_hz,
        },
    )
    return BandSweep(band.name, spectrum, tuple(v.timings), v.clock() - v.t0, revisits)


def run_sweep(
    receiver: Receiver,
    plan: SweepPlan,
    *,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = _utcnow,
) -> list[BandSweep]:
    """Sweep every band of ``plan`` once, in order. Sets the sample rate first.

    Raises TuningError (a hop outside the tuning range, a rate the receiver cannot give), ReceiverError from
    reads, ValueError for a plan that does not fit the receiver.
    """
    prepare_receiver(receiver, plan)
    return [sweep_band(receiver, plan, band, clock=clock, now=now) for band in plan.bands]


def with_threshold(plan: SweepPlan, threshold_dbfs_hz: float | None) -> SweepPlan:
    """A copy of ``plan`` with another above-count threshold."""
    return replace(plan, threshold_dbfs_hz=threshold_dbfs_hz)
