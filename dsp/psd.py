"""Welch power spectral density from raw receiver bytes or complex64 samples.

Scaling is scipy's ``scaling='density'``: per frame ``P_k = |FFT(w * x)_k|**2 / (fs * sum(w**2))`` in FS^2/Hz,
fftshifted so frequencies ascend, returned in dBFS/Hz (``10*log10``). White noise of power P reads P/fs in every
bin; a tone of amplitude A on a bin peaks at A**2/enbw_hz (see :mod:`dsp.windows`). With the same window,
overlap, ``detrend=False``, ``return_onesided=False`` and ``remove_dc=False`` the mean PSD equals
``scipy.signal.welch`` (fftshifted) to float32 precision.

In one pass over the frames this computes the mean, max-hold and min-hold per bin (SCOS's detector set), per-bin
counts of frames above a threshold vector (for occupancy) and, optionally, every frame's spectrum (a
spectrogram, float32). Frames are converted and windowed by a numba kernel into a block that fits the cache,
transformed in place by ``scipy.fft`` (complex64, one thread); a second kernel accumulates each row and refills
it with the next block's frame. DC removal is applied after the FFT to the few bins around DC; the buffer mean it
needs comes from the frames' DC bins (windows that overlap-add to a constant) or from sums taken while filling.

Pure functions: no I/O, clock or logging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
import scipy.fft
from numba import njit

from dsp.convert import _ZERO_SCALE, _fill_frame, _fill_frames_sum, as_raw, complex_as_raw, frame_coefficients
from dsp.spectrum import Spectrum
from dsp.windows import WindowInfo, window_info

AVERAGES: tuple[str, ...] = ("mean", "max", "min")
#: linear floor before taking logs (-300 dB): an all-zero bin stays finite
_FLOOR = 1e-30
#: complex samples per FFT block (frames * nfft): 64 Ki samples (512 KiB of complex64) stay in the L2 cache
#: between the fill kernel, the FFT and the accumulate kernel (32 Ki-256 Ki measured within noise)
_BLOCK_SAMPLES = 1 << 16


@dataclass(frozen=True, slots=True, eq=False)
class PsdResult:
    """Linear Welch PSD of one buffer, fftshifted (bin i is at offset ``(i - nfft//2) * bin_hz`` from centre).

    mean_lin, max_lin:   (nfft,) float64, FS^2/Hz
    min_lin:             (nfft,) float64 or None (computed when asked)
    above_counts:        (nfft,) int64 or None, frames whose density exceeded the threshold
    frames_lin:          (n_frames, nfft) float32 or None, every frame's density (FS^2/Hz)
    frame_times_s:       (n_frames,) float64, frame centre times (s) after the first sample
    offsets_hz:          (nfft,) float64, bin offsets from the tuned centre (Hz)
    """

    mean_lin: np.ndarray
    max_lin: np.ndarray
    min_lin: np.ndarray | None
    above_counts: np.ndarray | None
    frames_lin: np.ndarray | None
    frame_times_s: np.ndarray
    offsets_hz: np.ndarray
    n_frames: int
    nfft: int
    step: int
    sample_rate_hz: float
    window: WindowInfo
    overlap: float

    @property
    def bin_hz(self) -> float:
        return self.sample_rate_hz / self.nfft

    @property
    def enbw_hz(self) -> float:
        return self.window.enbw_hz(self.sample_rate_hz)

    def averaged(self, average: str) -> np.ndarray:
        """The (nfft,) linear PSD for averaging mode ``average`` ('mean', 'max' or 'min')."""
        if average == "mean":
            return self.mean_lin
        if average == "max":
            return self.max_lin
        if average == "min":
            if self.min_lin is None:
                raise ValueError("min-hold was not computed; pass want_min=True")
            return self.min_lin
        raise ValueError(f"unknown average {average!r}; expected one of {', '.join(AVERAGES)}")


def to_db(lin: np.ndarray) -> np.ndarray:
    """10*log10 of a linear power array, floored at -300 dB (float64, same shape)."""
    return 10.0 * np.log10(np.maximum(np.asarray(lin, dtype=np.float64), _FLOOR))


def frame_step(nfft: int, overlap: float) -> int:
    """Samples between frame starts: ``nfft - round(overlap * nfft)`` (>= 1). ValueError for a bad overlap."""
    if not (0.0 <= overlap < 1.0):
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    step = int(nfft) - int(round(overlap * nfft))
    return max(step, 1)


@njit(cache=True, nogil=True)
def _accumulate_fast(
    X, n, acc, mx, tmp, dc_bins, dc_y, frame0, raw, w2, zw2, step, out, n_next, colsum, do_sum
):  # pragma: no cover - compiled
    """Add |X|^2 of the first n rows of X (B, nfft) complex64 to acc (float64) and the max-hold mx (float32);
    copy the bins ``dc_bins`` of each row to ``dc_y[frame0 + f]`` (for the DC correction after the FFT).
    Once row f is read, fill row f of ``out`` (the float32 view of the block, usually X itself: the FFT works
    in place) with frame ``frame0 + n + f`` of the next block if ``f < n_next`` (:func:`dsp.convert._fill_frame`):
    one pass over the block instead of two, while each row is in the L1 cache.

    The block is summed in float32 (``tmp``, (nfft,) scratch; <= a few hundred frames, relative error < 1e-5)
    and then added to the float64 total: the float32 loop vectorises better."""
    nfft = X.shape[1]
    for j in range(nfft):
        tmp[j] = 0.0
    for f in range(n):
        for d in range(dc_bins.shape[0]):
            dc_y[frame0 + f, d] = X[f, dc_bins[d]]
        for j in range(nfft):
            v = X[f, j]
            p = v.real * v.real + v.imag * v.imag
            tmp[j] += p
            mx[j] = max(mx[j], p)
        if f < n_next:
            _fill_frame(raw, w2, zw2, frame0 + n + f, step, out[f], colsum, do_sum)
    for j in range(nfft):
        acc[j] += tmp[j]


@njit(cache=True, nogil=True)
def _accumulate(
    X, n, acc, mx, mn, do_min, thr, counts, do_count, frames, frame0, do_frames, dc_bins, dc_y,
    raw, w2, zw2, step, out, n_next, colsum, do_sum,
):  # pragma: no cover - compiled
    """As _accumulate_fast (summing in float64, also filling the next block), plus min-hold mn, counts of
    p > thr[j], and per-frame powers into frames[frame0+f]."""
    nfft = X.shape[1]
    for f in range(n):
        for d in range(dc_bins.shape[0]):
            dc_y[frame0 + f, d] = X[f, dc_bins[d]]
        for j in range(nfft):
            v = X[f, j]
            p = v.real * v.real + v.imag * v.imag
            acc[j] += p
            mx[j] = max(mx[j], p)
            if do_min:
                mn[j] = min(mn[j], p)
            if do_count and p > thr[j]:
                counts[j] += 1
            if do_frames:
                frames[frame0 + f, j] = p
        if f < n_next:
            _fill_frame(raw, w2, zw2, frame0 + n + f, step, out[f], colsum, do_sum)


_NO_BINS = np.zeros(0, dtype=np.int64)


@lru_cache(maxsize=16)
def _frame_setup(window: str, nfft: int, fmt: str):
    """What welch needs per (window, nfft, format), cached (a sweep analyses many buffers alike): the WindowInfo,
    the fill kernel's interleaved ``w2``/``zw2`` (format zero as offset), the bins where the window's own spectrum
    W is non-zero (``dc_bins``, int64) and W there (``w_dc``, complex128). Arrays are read-only."""
    win = window_info(window, nfft)
    zero = _ZERO_SCALE[fmt][0]
    w2, zw2 = frame_coefficients(win.coefficients, fmt, zero, zero)
    w_spec = np.fft.fft(win.coefficients)
    dc_bins = np.nonzero(np.abs(w_spec) > 1e-9 * np.abs(w_spec[0]))[0].astype(np.int64)
    w_dc = w_spec[dc_bins]
    for a in (win.coefficients, w2, zw2, dc_bins, w_dc):
        a.flags.writeable = False
    return win, w2, zw2, dc_bins, w_dc


@lru_cache(maxsize=16)
def _cola_edges(window: str, nfft: int, step: int):
    """For a window that overlap-adds to a constant at this step (COLA: periodic Hann at 50 %, rect at 0 %,
    Blackman-Harris at 75 %, ...): ``(K, head, tail)`` with K the constant sum of the overlapping windows and
    head/tail ((nfft,) float64) ``K - coverage`` over the first and the last nfft samples of the framed span, where
    ``coverage(p)`` = sum of the windows of the frames holding sample p. Else None. (Read-only arrays.)

    Then the DC bins of the frames already sum the samples: ``sum_m Y_m[0] = sum_p coverage(p) x[p]``, so
    ``sum_p x[p] = (sum_m Y_m[0] + sum_head head*x + sum_tail tail*x) / K`` (when the span is >= 2 nfft)."""
    w = window_info(window, nfft).coefficients
    if nfft % step:
        return None
    per_phase = w.reshape(nfft // step, step).sum(axis=0)  # interior coverage, periodic in p with period step
    k = float(per_phase.mean())
    if not (k > 0.0 and np.all(np.abs(per_phase - k) <= 1e-9 * k)):
        return None
    head = np.zeros(nfft)
    tail = np.zeros(nfft)
    for m in range(nfft // step):
        head[m * step :] += w[: nfft - m * step]  # frame m (from 0) covers p >= m*step
        tail[: nfft - m * step] += w[m * step :]  # the m-th frame from the end covers the span's last nfft - m*step
    head = k - head
    tail = k - tail
    head.flags.writeable = False
    tail.flags.writeable = False
    return k, head, tail


def welch(
    samples,
    sample_rate_hz: float,
    *,
    fmt: str | None = None,
    nfft: int = 1024,
    window: str = "hann",
    overlap: float = 0.5,
    remove_dc: bool = True,
    want_min: bool = False,
    keep_frames: bool = False,
    threshold_dbfs_hz: float | np.ndarray | None = None,
) -> PsdResult:
    """Welch PSD of one buffer.

    samples: complex (n,) array (``fmt=None``) or interleaved native components (2n,) / bytes with ``fmt`` in
      cu8/cs8/cs16/cf32. sample_rate_hz: samples/s. nfft: FFT size (>= 2; any size, powers of 2 are fastest).
    overlap: fraction of nfft shared by successive frames, [0, 1). remove_dc: subtract the buffer's mean I and Q
      first (the RTL-SDR DC offset); False reproduces scipy's ``detrend=False``.
    threshold_dbfs_hz: scalar or (nfft,) array in ascending-frequency order; ``above_counts`` counts frames
      whose density exceeds it, per bin.
    Raises ValueError for an empty or too short buffer, a truncated I/Q pair, bad nfft/overlap/window/threshold.
    """
    fs = float(sample_rate_hz)
    if not (fs > 0.0 and np.isfinite(fs)):
        raise ValueError(f"sample rate must be a positive number of samples/s, got {sample_rate_hz}")
    nfft = int(nfft)
    if nfft < 2:
        raise ValueError(f"nfft must be >= 2, got {nfft}")
    if fmt is None:
        raw = complex_as_raw(samples)
        fmt_eff = "cf32"
    else:
        raw = as_raw(samples, fmt)
        fmt_eff = fmt
    n = raw.shape[0] // 2
    if n == 0:
        raise ValueError("empty sample buffer: no samples to analyse")
    if n < nfft:
        raise ValueError(f"buffer has {n} samples, fewer than one FFT frame (nfft={nfft})")
    step = frame_step(nfft, overlap)
    n_frames = 1 + (n - nfft) // step
    win, w2, zw2, dc_bins, w_dc = _frame_setup(window, nfft, fmt_eff)
    zero, scale = _ZERO_SCALE[fmt_eff]
    norm = fs * win.sum_w2  # |X|^2 -> FS^2/Hz

    acc = np.zeros(nfft, dtype=np.float64)
    mx = np.full(nfft, -1.0, dtype=np.float32)
    mn = np.full(nfft if want_min else 1, np.inf, dtype=np.float32)
    do_count = threshold_dbfs_hz is not None
    if do_count:
        thr_db = np.asarray(threshold_dbfs_hz, dtype=np.float64)
        if thr_db.ndim == 0:
            thr_db = np.full(nfft, float(thr_db))
        if thr_db.shape != (nfft,):
            raise ValueError(f"threshold vector has shape {thr_db.shape}, expected ({nfft},) (one per bin)")
        if not np.all(np.isfinite(thr_db)):
            raise ValueError("threshold vector holds NaN or infinite values")
        thr = np.fft.ifftshift(10.0 ** (thr_db / 10.0) * norm).astype(np.float32)
        counts = np.zeros(nfft, dtype=np.int64)
    else:
        thr = np.zeros(1, dtype=np.float32)
        counts = np.zeros(1, dtype=np.int64)
    frames = np.empty((n_frames, nfft) if keep_frames else (1, 1), dtype=np.float32)

    simple = not (want_min or do_count or keep_frames)
    block = max(1, min(n_frames, _BLOCK_SAMPLES // nfft))
    buf = np.empty((block, nfft), dtype=np.complex64)
    buf_f32 = buf.view(np.float32)
    tmp = np.empty(nfft, dtype=np.float32)
    # DC removal is applied after the FFT: subtracting the buffer mean c (complex, full scale) from every sample
    # changes only the bins where the window's own spectrum W is non-zero (2K+1 bins around DC for a K-term
    # cosine sum): X_k = Y_k - c * W_k. Those bins of every frame are kept and recomputed once c is known, so the
    # raw buffer is read once (no separate mean pass).
    if remove_dc:
        dc_y = np.empty((n_frames, dc_bins.shape[0]), dtype=np.complex128)
    else:
        dc_bins = _NO_BINS
        dc_y = np.zeros((1, 0), dtype=np.complex128)
    # The buffer mean: from the frames' DC bins when the window overlap-adds to a constant (no extra work), else
    # by summing the samples by position in the frame (colsum) while filling the frames.
    span = (n_frames - 1) * step + nfft  # samples covered by the frames
    cola = _cola_edges(window, nfft, step) if remove_dc and span >= 2 * nfft else None
    do_sum = bool(remove_dc) and cola is None
    colsum = np.zeros(2 * nfft if do_sum else 0, dtype=np.float64)
    # Fill the first block; then per block: FFT in place, and one kernel accumulates each row and refills it with
    # the corresponding frame of the next block.
    _fill_frames_sum(raw, w2, zw2, 0, step, buf_f32, block, colsum, do_sum)
    first = 0
    while first < n_frames:
        nb = min(block, n_frames - first)
        X = scipy.fft.fft(buf[:nb], axis=-1, overwrite_x=True, workers=1)
        nn = min(block, n_frames - first - nb)  # frames of the next block
        fill = (raw, w2, zw2, step, buf_f32, nn, colsum, do_sum)
        if simple:
            _accumulate_fast(X, nb, acc, mx, tmp, dc_bins, dc_y, first, *fill)
        else:
            _accumulate(
                X, nb, acc, mx, mn, want_min, thr, counts, do_count, frames, first, keep_frames, dc_bins, dc_y, *fill
            )
        first += nb
    if remove_dc:
        after = raw[2 * span :]  # samples after the last whole frame
        if cola is None:
            s_frames = complex(float(colsum[0::2].sum()) - zero * span, float(colsum[1::2].sum()) - zero * span)
        else:
            k, head, tail = cola
            # dc_bins[0] is bin 0 (W_0 = sum(w) > 0); Y_m[0] is in full-scale units, the format zero removed
            hd = raw[: 2 * nfft].astype(np.float64) - zero
            tl = raw[2 * (span - nfft) : 2 * span].astype(np.float64) - zero
            s_frames = (
                complex(dc_y[:, 0].sum()) * scale
                + complex(head @ hd[0::2], head @ hd[1::2])
                + complex(tail @ tl[0::2], tail @ tl[1::2])
            ) / k
        af = after.astype(np.float64) - zero
        c = (s_frames + complex(af[0::2].sum(), af[1::2].sum())) / (n * scale)  # buffer mean, full scale
        xs = dc_y - c * w_dc
        p = (xs.real**2 + xs.imag**2).astype(np.float64)
        acc[dc_bins] = p.sum(axis=0)
        mx[dc_bins] = p.max(axis=0)
        if want_min:
            mn[dc_bins] = p.min(axis=0)
        if do_count:
            counts[dc_bins] = (p > thr[dc_bins]).sum(axis=0)
        if keep_frames:
            frames[:, dc_bins] = p

    mean_lin = np.fft.fftshift(acc / (n_frames * norm))
    max_lin = np.fft.fftshift(mx.astype(np.float64) / norm)
    min_lin = np.fft.fftshift(mn.astype(np.float64) / norm) if want_min else None
    frames_lin = None
    if keep_frames:
        frames *= np.float32(1.0 / norm)
        frames_lin = np.fft.fftshift(frames, axes=1)
    times = (np.arange(n_frames, dtype=np.float64) * step + nfft / 2.0) / fs
    offsets = np.fft.fftshift(np.fft.fftfreq(nfft, d=1.0 / fs))
    return PsdResult(
        mean_lin=mean_lin,
        max_lin=max_lin,
        min_lin=min_lin,
        above_counts=np.fft.fftshift(counts) if do_count else None,
        frames_lin=frames_lin,
        frame_times_s=times,
        offsets_hz=offsets,
        n_frames=n_frames,
        nfft=nfft,
        step=step,
        sample_rate_hz=fs,
        window=win,
        overlap=float(overlap),
    )


def psd_spectrum(
    samples,
    sample_rate_hz: float,
    center_hz: float,
    start_utc: datetime,
    *,
    fmt: str | None = None,
    nfft: int = 1024,
    window: str = "hann",
    overlap: float = 0.5,
    average: str = "mean",
    remove_dc: bool = True,
    keep_frames: bool = False,
    threshold_dbfs_hz: float | np.ndarray | None = None,
    source: str = "",
) -> Spectrum:
    """The :class:`~dsp.spectrum.Spectrum` of one capture tuned to ``center_hz`` (Hz) starting at ``start_utc``.

    Arguments as :func:`welch`; ``average`` picks what ``psd_dbfs_hz`` holds (mean, max or min over frames);
    ``maxhold_dbfs_hz`` is always filled. One hop: ``hop_centers_hz=[center_hz]``, ``hop_edges_hz`` the span.
    """
    if average not in AVERAGES:
        raise ValueError(f"unknown average {average!r}; expected one of {', '.join(AVERAGES)}")
    if start_utc.tzinfo is None:
        raise ValueError("start_utc must be timezone-aware (UTC)")
    r = welch(
        samples,
        sample_rate_hz,
        fmt=fmt,
        nfft=nfft,
        window=window,
        overlap=overlap,
        remove_dc=remove_dc,
        want_min=average == "min",
        keep_frames=keep_frames,
        threshold_dbfs_hz=threshold_dbfs_hz,
    )
    n_samples = (r.n_frames - 1) * r.step + r.nfft
    duration_s = n_samples / r.sample_rate_hz
    freqs = float(center_hz) + r.offsets_hz
    thr = None
    if threshold_dbfs_hz is not None:
        thr = np.broadcast_to(np.asarray(threshold_dbfs_hz, dtype=np.float64), (r.nfft,)).copy()
    return Spectrum(
        freqs_hz=freqs,
        psd_dbfs_hz=to_db(r.averaged(average)),
        bin_hz=r.bin_hz,
        enbw_hz=r.enbw_hz,
        nfft=r.nfft,
        window=window,
        overlap=r.overlap,
        average=average,
        n_frames=r.n_frames,
        sample_rate_hz=r.sample_rate_hz,
        start_utc=start_utc,
        end_utc=start_utc + timedelta(seconds=duration_s),
        hop_centers_hz=np.array([float(center_hz)]),
        hop_edges_hz=np.array([[freqs[0] - r.bin_hz / 2, freqs[-1] + r.bin_hz / 2]]),
        dwell_s=duration_s,
        maxhold_dbfs_hz=to_db(r.max_lin),
        frames_dbfs_hz=None if r.frames_lin is None else to_db(r.frames_lin).astype(np.float32),
        frame_times_s=r.frame_times_s if keep_frames else None,
        above_counts=r.above_counts,
        above_threshold_dbfs_hz=thr,
        source=source,
        meta={"remove_dc": bool(remove_dc)},
    )
