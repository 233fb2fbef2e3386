"""In-band power of consecutive blocks of IQ: what the evidence recorder triggers on to catch a burst.

:func:`band_power_blocks` cuts complex samples into blocks of ``block`` samples, takes each block's Hann-windowed
FFT and sums the bins inside [``lo_hz``, ``hi_hz``] (offsets from the tuned centre). Scaling (Parseval):
``P = sum_k |X_k|^2 / (N sum w^2)`` in FS^2, so white noise of power s^2 reads s^2 x (band / rate) and a tone
of amplitude A inside the band reads A^2 (up to the window's leakage past the band edges). Pure functions.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft


def band_power_blocks(iq, rate_hz: float, lo_hz: float, hi_hz: float, block: int) -> np.ndarray:
    """Mean power (FS^2) inside [lo_hz, hi_hz] of each whole block of ``block`` samples of ``iq`` (complex, 1-D).
    Returns float64 of shape (len(iq) // block,); a trailing partial block is ignored."""
    x = np.asarray(iq)
    if x.ndim != 1 or x.dtype.kind != "c":
        raise TypeError(f"IQ must be 1-D complex samples, got {x.dtype} of shape {x.shape}")
    if int(block) != block or block < 8:
        raise ValueError(f"block must be an integer of at least 8 samples, got {block}")
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"sample rate must be positive, got {rate_hz}")
    if not lo_hz < hi_hz:
        raise ValueError(f"band lower edge {lo_hz} Hz must be below the upper edge {hi_hz} Hz")
    block = int(block)
    n = x.size // block
    if n == 0:
        return np.zeros(0)
    w = np.hanning(block + 1)[:-1]  # periodic Hann
    frames = x[: n * block].reshape(n, block).astype(np.complex64) * w.astype(np.float32)
    spec = scipy.fft.fftshift(scipy.fft.fft(frames, axis=1, workers=1), axes=1)
    freqs = scipy.fft.fftshift(scipy.fft.fftfreq(block, 1.0 / rate_hz))
    sel = (freqs >= lo_hz) & (freqs <= hi_hz)
    if not sel.any():  # a band narrower than a bin: the nearest bin
        sel = np.zeros(block, bool)
        sel[int(np.argmin(np.abs(freqs - 0.5 * (lo_hz + hi_hz))))] = True
    p = (np.abs(spec[:, sel]) ** 2).sum(axis=1)
    return p / (block * float(np.sum(w * w)))


__all__ = ["band_power_blocks"]
