"""IQ sample conversion: native receiver formats -> complex64 at full scale 1.0, and the fused
convert + DC removal + window step of the PSD path.

Native formats (interleaved I,Q components, shape (2*n_samples,)):

=====  ==========  ==========================  ==========================
fmt    dtype       zero                        full scale (value -> 1.0)
=====  ==========  ==========================  ==========================
cu8    uint8       127.5                       127.5   (b -> (b-127.5)/127.5)
cs8    int8        0                           128
cs16   int16 (le)  0                           32768
cf32   float32     0                           1.0
=====  ==========  ==========================  ==========================

``bytes``/``bytearray``/``memoryview`` inputs are reinterpreted with the format's dtype (little endian).
Pure functions: no I/O, clock or logging.
"""

from __future__ import annotations

import numpy as np
from numba import njit

FORMATS: tuple[str, ...] = ("cu8", "cs8", "cs16", "cf32")
_DTYPES = {"cu8": np.dtype(np.uint8), "cs8": np.dtype(np.int8), "cs16": np.dtype("<i2"), "cf32": np.dtype("<f4")}
#: (zero offset, full scale) per format, in raw component units
_ZERO_SCALE = {"cu8": (127.5, 127.5), "cs8": (0.0, 128.0), "cs16": (0.0, 32768.0), "cf32": (0.0, 1.0)}

_LUT_CU8 = ((np.arange(256, dtype=np.float32) - np.float32(127.5)) / np.float32(127.5)).astype(np.float32)
_LUT_CS8 = (np.arange(256, dtype=np.uint8).view(np.int8).astype(np.float32) / np.float32(128.0)).astype(np.float32)


def zero_and_scale(fmt: str) -> tuple[float, float]:
    """(zero offset, full scale) of a native format in raw component units (see module table)."""
    _check_fmt(fmt)
    return _ZERO_SCALE[fmt]


def _check_fmt(fmt: str) -> None:
    if fmt not in _DTYPES:
        raise ValueError(f"unknown sample format {fmt!r}; expected one of {', '.join(FORMATS)}")


def as_raw(raw, fmt: str) -> np.ndarray:
    """Validate interleaved raw components and return them as a contiguous 1-D array of the format's dtype.

    Accepts a numpy array (of the format's dtype, any shape; flattened), bytes, bytearray or memoryview.
    Raises ValueError naming the problem for a wrong dtype, a byte count that is not a whole number of
    components, or an odd number of components (a truncated I/Q pair). An empty buffer is returned empty.
    """
    _check_fmt(fmt)
    dtype = _DTYPES[fmt]
    if isinstance(raw, (bytes, bytearray, memoryview)):
        nbytes = len(memoryview(raw).cast("B"))
        if nbytes % dtype.itemsize:
            raise ValueError(
                f"truncated {fmt} buffer: {nbytes} bytes is not a whole number of {dtype.itemsize}-byte components"
            )
        arr = np.frombuffer(raw, dtype=dtype)
    elif isinstance(raw, np.ndarray):
        if raw.dtype == np.complex64 and fmt == "cf32":
            raw = np.ascontiguousarray(raw.reshape(-1)).view(np.float32)
        if raw.dtype.kind == "c":
            raise TypeError(f"raw {fmt} buffer must hold interleaved components, got complex dtype {raw.dtype}")
        if raw.dtype != dtype:
            raise TypeError(f"raw buffer dtype {raw.dtype} does not match format {fmt} ({dtype})")
        arr = np.ascontiguousarray(raw.reshape(-1), dtype=dtype)
    else:
        raise TypeError(f"raw buffer must be a numpy array or bytes, got {type(raw).__name__}")
    if arr.shape[0] % 2:
        raise ValueError(f"truncated {fmt} buffer: {arr.shape[0]} components is odd (an I without its Q)")
    return arr


def to_complex64(raw, fmt: str) -> np.ndarray:
    """Convert interleaved native components to complex64 at full scale 1.0, shape (n_samples,).

    ``raw``: shape (2*n_samples,) of the format's dtype (or bytes). cu8 byte b maps to (b - 127.5)/127.5,
    cs8 to b/128, cs16 to s/32768, cf32 unchanged. ValueError for a truncated buffer or unknown format.
    """
    arr = as_raw(raw, fmt)
    if fmt == "cu8":
        out = _LUT_CU8[arr]
    elif fmt == "cs8":
        out = _LUT_CS8[arr.view(np.uint8)]
    elif fmt == "cs16":
        out = arr.astype(np.float32) * np.float32(1.0 / 32768.0)
    else:
        out = arr.astype(np.float32, copy=True)
    return out.view(np.complex64)


def complex_as_raw(samples: np.ndarray) -> np.ndarray:
    """View complex samples as interleaved cf32 components (a copy only when needed), shape (2*n,)."""
    x = np.asarray(samples)
    if x.dtype != np.complex64:
        if x.dtype.kind != "c" and x.dtype.kind not in "fiu":
            raise TypeError(f"samples must be complex, got dtype {x.dtype}")
        x = x.astype(np.complex64)
    return np.ascontiguousarray(x.reshape(-1)).view(np.float32)


@njit(cache=True, nogil=True, fastmath=True)
def _component_means(raw):  # pragma: no cover - compiled
    """Mean of the I and of the Q components (raw units), float64 (fastmath: reassociated sums vectorise)."""
    n = raw.shape[0] // 2
    si = 0.0
    sq = 0.0
    for k in range(n):
        si += np.float64(raw[2 * k])
        sq += np.float64(raw[2 * k + 1])
    return si / n, sq / n


@njit(cache=True, nogil=True)
def _fill_frames(raw, w2, zw2, first_frame, step, out, n_frames):  # pragma: no cover - compiled
    """Convert, remove the zero/DC offset and window ``n_frames`` frames into ``out``.

    Works on interleaved components so the inner loop is one contiguous multiply-subtract (SIMD friendly):
    ``out[f, k] = raw[2*(first_frame+f)*step + k] * w2[k] - zw2[k]`` for k < 2*nfft, where ``out`` is the
    float32 view (B, 2*nfft) of the complex64 frame block, ``w2`` (2*nfft,) float32 the window repeated for I
    and Q and divided by full scale, ``zw2`` = offsets (I, Q alternating) * w2.
    """
    m = w2.shape[0]
    for f in range(n_frames):
        base = 2 * (first_frame + f) * step
        seg = raw[base : base + m]
        row = out[f]
        for k in range(m):
            row[k] = np.float32(seg[k]) * w2[k] - zw2[k]


@njit(cache=True, nogil=True)
def _fill_frame(raw, w2, zw2, g, step, row, colsum, do_sum):  # pragma: no cover - compiled
    """Frame ``g`` (starting at sample ``g*step``) converted and windowed into ``row`` (float32 (2*nfft,)), as
    :func:`_fill_frames`; if ``do_sum``, add to ``colsum`` ((2*nfft,) float64) the components this frame
    contributes once, by position in the frame: all of frame 0, the last ``2*step`` (the new samples) of later
    frames. Over all frames ``colsum[0::2].sum()`` and ``colsum[1::2].sum()`` are the sums of the I and of the Q
    components the frames cover. Summing by position keeps the loop contiguous, so it vectorises (two running
    scalar sums over every other component did not, and cost twice the fill itself); exact for integer formats."""
    m = w2.shape[0]
    base = 2 * g * step
    seg = raw[base : base + m]
    for k in range(m):
        row[k] = np.float32(seg[k]) * w2[k] - zw2[k]
    if do_sum:
        k0 = 0 if g == 0 else m - 2 * step
        new = seg[k0:]
        cs = colsum[k0:]
        for k in range(m - k0):  # from 0: numba then knows the index is >= 0 and the loop vectorises
            cs[k] += np.float64(new[k])


@njit(cache=True, nogil=True)
def _fill_frames_sum(raw, w2, zw2, first_frame, step, out, n_frames, colsum, do_sum):  # pragma: no cover - compiled
    """Frames ``first_frame ..`` into the rows of ``out`` (B, 2*nfft) float32 with :func:`_fill_frame`."""
    for f in range(n_frames):
        _fill_frame(raw, w2, zw2, first_frame + f, step, out[f], colsum, do_sum)


def frame_coefficients(window: np.ndarray, fmt: str, zero_i: float, zero_q: float) -> tuple[np.ndarray, np.ndarray]:
    """The interleaved (2*nfft,) float32 ``w2`` and ``zw2`` arrays :func:`_fill_frames` uses (see there)."""
    w = np.asarray(window, dtype=np.float64).reshape(-1) / _ZERO_SCALE[fmt][1]
    w2 = np.repeat(w, 2)
    z2 = np.tile(np.array([zero_i, zero_q], dtype=np.float64), w.shape[0])
    return w2.astype(np.float32), (z2 * w2).astype(np.float32)


def dc_offsets(raw: np.ndarray, fmt: str, remove_dc: bool) -> tuple[float, float]:
    """Offsets (raw units) subtracted from I and Q: the buffer means when ``remove_dc``, else the format zero."""
    if remove_dc:
        mi, mq = _component_means(raw)
        return float(mi), float(mq)
    z = _ZERO_SCALE[fmt][0]
    return z, z


def convert_window_frames(
    raw, fmt: str, window: np.ndarray, step: int, *, remove_dc: bool = True
) -> np.ndarray:
    """Fused convert + DC removal + windowing of every whole frame in a raw buffer.

    raw: interleaved native components, shape (2*n_samples,); window: (nfft,) real; step: samples between frame
    starts (nfft - overlap). Returns complex64 (n_frames, nfft) with n_frames = 1 + (n_samples - nfft)//step,
    values at full scale 1.0 times the window. DC removal subtracts the per-buffer mean of I and of Q.
    """
    arr = as_raw(raw, fmt)
    w = np.asarray(window, dtype=np.float64).reshape(-1)
    nfft = w.shape[0]
    n = arr.shape[0] // 2
    if n < nfft:
        raise ValueError(f"buffer has {n} samples, fewer than one frame of {nfft}")
    step = int(step)
    if step < 1:
        raise ValueError(f"frame step must be >= 1 sample, got {step}")
    n_frames = 1 + (n - nfft) // step
    zi, zq = dc_offsets(arr, fmt, remove_dc)
    w2, zw2 = frame_coefficients(w, fmt, zi, zq)
    out = np.empty((n_frames, nfft), dtype=np.complex64)
    _fill_frames(arr, w2, zw2, 0, step, out.view(np.float32), n_frames)
    return out
