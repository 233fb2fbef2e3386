"""The Spectrum record: what the DSP hands to the detectors, the stores and the plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Spectrum:
    """An averaged power spectrum of one capture or one stitched band sweep.

    Levels are power spectral densities in dBFS/Hz (a complex tone of amplitude 1.0 is 0 dBFS). A tone's
    level in dBFS is its peak density + 10*log10(enbw_hz); a band's power is the integral of the linear
    density over its bins (sum * bin_hz).

    Arrays (n_bins = len(freqs_hz)):
      freqs_hz        (n_bins,) float64, bin centres, strictly ascending, RF frequency (Hz)
      psd_dbfs_hz     (n_bins,) float64, the averaged PSD (averaging mode in ``average``)
      maxhold_dbfs_hz (n_bins,) float64 or None, max over frames
      frames_dbfs_hz  (n_frames, n_bins) float32 or None, per-frame PSD (a spectrogram) for burst detection
      frame_times_s   (n_frames,) float64 or None, frame centre times in s after ``start_utc``
      above_counts    (n_bins,) int64 or None, frames whose PSD exceeded ``above_threshold_dbfs_hz``
      above_threshold_dbfs_hz (n_bins,) float64 or None
      hop_centers_hz  (n_hops,) float64, the tuned centre of each hop (one for a single capture)
      hop_edges_hz    (n_hops, 2) float64, the [lo, hi) span of bins each hop contributed
    """

    freqs_hz: np.ndarray
    psd_dbfs_hz: np.ndarray
    bin_hz: float  # bin spacing (Hz) = sample_rate / nfft
    enbw_hz: float  # equivalent noise bandwidth of the window (Hz): the resolution bandwidth
    nfft: int
    window: str  # "rect", "hann", "blackmanharris", "flattop"
    overlap: float  # fraction 0 <= overlap < 1
    average: str  # "mean", "max", "min"
    n_frames: int  # frames averaged per bin (per hop for a sweep)
    sample_rate_hz: float  # receiver sample rate of each hop
    start_utc: datetime  # tz-aware UTC
    end_utc: datetime
    hop_centers_hz: np.ndarray
    hop_edges_hz: np.ndarray
    dwell_s: float  # seconds of samples averaged per hop
    maxhold_dbfs_hz: np.ndarray | None = None
    frames_dbfs_hz: np.ndarray | None = None
    frame_times_s: np.ndarray | None = None
    above_counts: np.ndarray | None = None
    above_threshold_dbfs_hz: np.ndarray | None = None
    source: str = ""  # receiver URI or file the samples came from
    meta: dict = field(default_factory=dict)  # free-form provenance (gain, ppm, sweep mode, revisit count)

    @property
    def n_bins(self) -> int:
        return int(self.freqs_hz.shape[0])

    @property
    def f_lo_hz(self) -> float:
        return float(self.freqs_hz[0] - self.bin_hz / 2)

    @property
    def f_hi_hz(self) -> float:
        return float(self.freqs_hz[-1] + self.bin_hz / 2)

    def power_dbfs(self) -> np.ndarray:
        """Per-bin level in dBFS within one RBW (what a spectrum analyser displays), shape (n_bins,)."""
        return self.psd_dbfs_hz + 10.0 * np.log10(self.enbw_hz)
