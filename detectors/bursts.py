"""Time behaviour from per-frame spectra: burst search and per-emission activity (duty cycle, bursts).

The spectrogram (``Spectrum.frames_dbfs_hz``, (n_frames, n_bins)) is averaged in blocks of ``block_s``
seconds. A burst much shorter than the dwell is diluted in the dwell average (a 20 ms burst in 1 s by 17 dB)
but not in its block, so the energy test is also run on every block, at ``pfa / n_blocks`` per test so the
whole search keeps the design false-alarm rate. Activity of a found emission is the per-block test of its
band power against the noise power of the same bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors import stats
from detectors._energy_kernels import block_means_lin, runs_of


@dataclass(frozen=True, slots=True)
class BurstParams:
    """Parameters of the burst search and of an emission's on/off (activity) decisions.

    Parameters
    ----------
    block_s : float
        Block length of the burst search and of the activity decisions (s, > 0).
    activity_pfa : float
        Per-block false-alarm probability of an emission's on/off decision, in (0, 0.5).
    bridge_blocks : int
        Off-blocks of up to this many joined inside one burst (blocks, >= 0).
    resolve_factor : float
        The mean on-level excess over the floor must be at least this multiple of the block threshold's excess
        for the on/off decisions to be trusted (resolved in time) (ratio).
    """

    block_s: float = 0.01
    activity_pfa: float = 1e-3
    bridge_blocks: int = 1
    resolve_factor: float = 2.5

    def __post_init__(self):
        if self.block_s <= 0:
            raise ValueError(f"block_s must be > 0, got {self.block_s}")
        if not 0.0 < self.activity_pfa < 0.5:
            raise ValueError(f"activity_pfa must be in (0, 0.5), got {self.activity_pfa}")
        if self.bridge_blocks < 0:
            raise ValueError(f"bridge_blocks must be >= 0, got {self.bridge_blocks}")


@dataclass(frozen=True, slots=True, eq=False)
class Blocks:
    """Block-averaged spectrogram. lin (n_blocks, n_bins) linear PSD; t0_s, t1_s (n_blocks,) block start and
    end (s after the spectrum start); frames_per_block."""

    lin: np.ndarray
    t0_s: np.ndarray
    t1_s: np.ndarray
    frames_per_block: int


@dataclass(frozen=True, slots=True)
class Activity:
    """on (n_blocks,) bool; occupancy = on fraction; n_bursts = on-runs (bridged); first/last on time (s);
    resolved: False when the emission is too weak for block-by-block decisions (its on-level is not well above
    the block threshold): then on/occupancy only say where noise peaks crossed and should not be used."""

    on: np.ndarray
    occupancy: float
    n_bursts: int
    first_s: float | None
    last_s: float | None
    resolved: bool = True


def make_blocks(frames_dbfs_hz: np.ndarray, frame_times_s: np.ndarray | None, block_s: float) -> Blocks:
    """Average ``frames_dbfs_hz`` (n_frames, n_bins) dB, float32 (others are converted block by block), in
    blocks of about ``block_s`` seconds."""
    frames = np.asarray(frames_dbfs_hz)
    n_frames = frames.shape[0]
    if frame_times_s is None or len(frame_times_s) < 2:
        dt = block_s
        times = np.arange(n_frames) * dt
    else:
        times = np.asarray(frame_times_s, dtype=float)
        dt = float(np.median(np.diff(times)))
    fpb = int(max(1, round(block_s / dt))) if dt > 0 else 1
    n_blocks = max(1, n_frames // fpb)
    used = n_blocks * fpb if n_frames >= fpb else n_frames
    fpb = used // n_blocks
    if frames.dtype == np.float32 and frames.flags.c_contiguous:
        lin = block_means_lin(frames[:used], fpb, n_blocks)
    else:  # float64 or strided frames: converted a block at a time, never copied whole
        lin = np.empty((n_blocks, frames.shape[1]))
        for b in range(n_blocks):
            chunk = np.ascontiguousarray(frames[b * fpb : (b + 1) * fpb], dtype=np.float32)
            lin[b] = block_means_lin(chunk, fpb, 1)[0]
    starts = times[:used:fpb] - dt / 2
    ends = starts + fpb * dt
    return Blocks(lin=lin, t0_s=starts, t1_s=ends, frames_per_block=fpb)


def on_mean_lin(blocks: Blocks, on: np.ndarray, sl: slice) -> np.ndarray:
    """Mean linear PSD over the blocks where ``on`` (n_blocks,) bool is True, of the bins ``sl`` only
    (a burst's spectrum while it is on), shape (len(sl),)."""
    return blocks.lin[on, sl].mean(axis=0)


def activity(
    blocks: Blocks,
    sl: slice,
    floor_lin: np.ndarray,
    block_rel_var_bins,
    params: BurstParams,
) -> Activity:
    """On/off per block of the band ``sl`` (bin slice) against ``floor_lin`` (n_bins,).

    ``block_rel_var_bins(m)`` gives the relative variance of one block summed over m bins (noise only)."""
    m = sl.stop - sl.start
    band = blocks.lin[:, sl].sum(axis=1) / max(float(floor_lin[sl].sum()), 1e-300)
    thr = stats.gamma_threshold(block_rel_var_bins(m), params.activity_pfa)
    on = band > thr
    n_blocks = on.shape[0]
    if not on.any():
        return Activity(on=on, occupancy=0.0, n_bursts=0, first_s=None, last_s=None, resolved=False)
    # reliable decisions need the on-level well above the threshold: its excess at least twice the threshold's
    resolved = float(np.mean(band[on])) - 1.0 >= params.resolve_factor * (thr - 1.0)
    starts, _stops = runs_of(on, params.bridge_blocks)
    idx = np.flatnonzero(on)
    return Activity(
        on=on,
        occupancy=float(on.sum()) / n_blocks,
        n_bursts=int(len(starts)),
        first_s=float(blocks.t0_s[idx[0]]),
        last_s=float(blocks.t1_s[idx[-1]]),
        resolved=bool(resolved),
    )


def keyed_by(blocks: Blocks, sl: slice, on: np.ndarray) -> float:
    """How strongly the band ``sl`` follows the on/off pattern ``on`` (n_blocks,) of another emission: the
    difference of its mean block power between on- and off-blocks in units of its standard error (a z
    score; 0 when either set is empty). A weak sideband of a burst scores high, an independent carrier ~0."""
    band = blocks.lin[:, sl].sum(axis=1)
    n_on, n_off = int(on.sum()), int((~on).sum())
    if n_on < 1 or n_off < 2:
        return 0.0
    mean_on, mean_off = float(band[on].mean()), float(band[~on].mean())
    sd = float(band[~on].std(ddof=1))
    if sd <= 0:
        return 0.0
    return (mean_on - mean_off) / (sd * np.sqrt(1.0 / n_on + 1.0 / n_off))


@dataclass(frozen=True, slots=True)
class Gated:
    """A band's excess power over its neighbourhood (linear ratio - 1, noise only: 0) while another emission
    is on and while it is off, each with its standard error over the blocks (n_on, n_off blocks)."""

    on_excess: float
    on_se: float
    off_excess: float
    off_se: float
    n_on: int
    n_off: int

    def keyed(self, z: float = 3.0) -> bool:
        """On only while the other emission is on: clearly there while it is on, more than while it is off,
        and while it is off no more than noise (within 2 standard errors)."""
        diff_se = float(np.hypot(self.on_se, self.off_se))
        return (self.on_excess >= z * self.on_se and self.on_excess - self.off_excess >= z * diff_se
                and self.off_excess <= 2.0 * self.off_se)

    def present_while_off(self, z: float = 3.0) -> bool:
        """Clearly there while the other emission is off, at no less than half its level while it is on: it
        does not need the other emission (an independent carrier or a receiver spur)."""
        return self.off_excess >= z * self.off_se and self.off_excess >= 0.5 * self.on_excess


def gated_excess(blocks: Blocks, sl: slice, floor_lin: np.ndarray, on: np.ndarray, ref_bins: int = 8,
                 gap_bins: int = 3, min_blocks: int = 3) -> Gated | None:
    """Excess of the band ``sl`` over the ``ref_bins`` bins on each side of it (``gap_bins`` away), block by
    block (both scaled by the noise floor ``floor_lin`` (n_bins,)), averaged over the blocks where ``on``
    (n_blocks,) bool is True and where it is False. Against its neighbourhood, not the floor, so a broadband
    rise of the whole block (the key clicks of a strong OOK burst, AGC) does not count as the band's own.
    None when either set has fewer than ``min_blocks`` blocks or the band has no neighbourhood."""
    on = np.asarray(on, dtype=bool)
    n_on, n_off = int(on.sum()), int((~on).sum())
    if n_on < min_blocks or n_off < min_blocks:
        return None
    n = blocks.lin.shape[1]
    ref = np.r_[max(0, sl.start - gap_bins - ref_bins) : max(0, sl.start - gap_bins),
                min(n, sl.stop + gap_bins) : min(n, sl.stop + gap_bins + ref_bins)]
    if ref.size < 2 or sl.stop <= sl.start:
        return None
    band = (blocks.lin[:, sl] / floor_lin[sl]).mean(axis=1)
    around = (blocks.lin[:, ref] / floor_lin[ref]).mean(axis=1)
    x = band / np.maximum(around, 1e-300) - 1.0
    xo, xf = x[on], x[~on]
    return Gated(on_excess=float(xo.mean()), on_se=float(xo.std(ddof=1) / np.sqrt(n_on)),
                 off_excess=float(xf.mean()), off_se=float(xf.std(ddof=1) / np.sqrt(n_off)), n_on=n_on, n_off=n_off)
