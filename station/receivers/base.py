"""The one narrow interface every receiver implements.

A receiver is opened from a URI (see :mod:`station.receivers`), tuned, and read. Samples come either raw in
the receiver's native format (``read_raw``: interleaved I,Q as stored on the wire or on disk, for the DSP's
fused convert+window path) or as complex64 normalised to full scale 1.0 (``read``).

Full scale: a complex sample whose I and Q are both at the converter's limit has |I| = |Q| = 1.0. A complex
tone of amplitude 1.0 is 0 dBFS (mean |x|^2 = 1). cu8 maps byte b to (b - 127.5) / 127.5.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

#: Native sample formats (SigMF names in brackets): cu8 [cu8], cs8 [ci8], cs16 [ci16_le], cf32 [cf32_le].
NATIVE_FORMATS = ("cu8", "cs8", "cs16", "cf32")

#: numpy dtype of one interleaved component for each native format.
FORMAT_DTYPES = {"cu8": np.uint8, "cs8": np.int8, "cs16": np.int16, "cf32": np.float32}


@dataclass(frozen=True, slots=True)
class ReceiverInfo:
    """What the receiver reports about itself (for SigMF core:hw, health and logs)."""

    uri: str
    driver: str  # "rtlsdr", "rtltcp", "file", "sim"
    hw: str  # human-readable hardware description, e.g. "RTL2832U/R820T serial 00000001"
    tuner: str  # e.g. "R820T", "E4000", "file", "sim"
    tuning_range_hz: tuple[float, float]
    gains_db: tuple[float, ...]  # gains the tuner supports (empty when continuous or unknown)
    native_format: str  # one of NATIVE_FORMATS
    frequency_uncertainty_ppm: float  # how far the reported frequency may be from the true one


class Receiver(abc.ABC):
    """Abstract receiver. Implementations are one module each, registered in :mod:`station.receivers`.

    Subclasses implement the ``_``-prefixed hooks; this base keeps the state, applies the settle discard and
    validates arguments. All frequencies in Hz, rates in samples/s, gains in dB.
    """

    def __init__(self, uri: str, *, settle_samples: int = 16384):
        self.uri = uri
        self.settle_samples = int(settle_samples)
        self._center_freq_hz = 0.0
        self._sample_rate_hz = 0.0
        self._gain_db: float | None = None  # None = automatic gain
        self._ppm = 0
        self._discard = 0  # samples still to drop after a retune

    # ---- state -----------------------------------------------------------------------------------------
    @property
    def center_freq_hz(self) -> float:
        """Centre frequency actually set (Hz)."""
        return self._center_freq_hz

    @property
    def sample_rate_hz(self) -> float:
        """Sample rate actually set (samples/s)."""
        return self._sample_rate_hz

    @property
    def gain_db(self) -> float | None:
        """Manual gain actually set (dB), or None for automatic gain."""
        return self._gain_db

    @property
    def ppm(self) -> int:
        return self._ppm

    @property
    @abc.abstractmethod
    def info(self) -> ReceiverInfo: ...

    @classmethod
    def check_uri(cls, uri: str, **options) -> tuple[float, float] | None:
        """Validate ``uri`` and ``options`` as :meth:`from_uri` would, without opening a device or connecting.
        Returns the tuning range (Hz) known before opening, or None when only the device can tell. Raises the
        same errors as ``from_uri`` for a malformed URI, an unknown option or a bad referenced file."""
        return None

    # ---- control ---------------------------------------------------------------------------------------
    def set_center_freq(self, freq_hz: float) -> float:
        """Tune; returns the frequency actually set. Raises TuningError outside the tuning range.

        The next ``settle_samples`` samples read are discarded (PLL settling, stale USB buffers).
        """
        from station.errors import TuningError

        lo, hi = self.info.tuning_range_hz
        if not (lo <= freq_hz <= hi):
            raise TuningError(
                f"centre frequency {freq_hz / 1e6:.6f} MHz is outside the tuning range "
                f"{lo / 1e6:.3f}-{hi / 1e6:.3f} MHz",
                where=self.uri,
            )
        self._center_freq_hz = float(self._set_center_freq(float(freq_hz)))
        self._discard = self.settle_samples
        return self._center_freq_hz

    def set_sample_rate(self, rate_hz: float) -> float:
        """Set the sample rate; returns the rate actually set."""
        self._sample_rate_hz = float(self._set_sample_rate(float(rate_hz)))
        self._discard = self.settle_samples
        return self._sample_rate_hz

    def set_gain(self, gain_db: float | None) -> float | None:
        """Set a manual gain in dB (nearest supported step), or None for automatic gain."""
        self._gain_db = self._set_gain(None if gain_db is None else float(gain_db))
        return self._gain_db

    def set_ppm(self, ppm: int) -> None:
        """Frequency correction in parts per million."""
        self._set_ppm(int(ppm))
        self._ppm = int(ppm)

    # ---- reading ---------------------------------------------------------------------------------------
    def read_raw(self, n_samples: int) -> np.ndarray:
        """Read ``n_samples`` complex samples as interleaved native components, shape (2*n_samples,).

        dtype is ``FORMAT_DTYPES[self.info.native_format]``. Settling samples after a retune are dropped
        first. Raises ReceiverError on a short read that cannot be completed.
        """
        if n_samples <= 0:
            raise ValueError(f"n_samples must be positive, got {n_samples}")
        if self._discard:
            drop, self._discard = self._discard, 0
            self._read_raw(drop)
        return self._read_raw(int(n_samples))

    def read(self, n_samples: int) -> np.ndarray:
        """Read ``n_samples`` as complex64 normalised to full scale 1.0, shape (n_samples,)."""
        from dsp.convert import to_complex64

        return to_complex64(self.read_raw(n_samples), self.info.native_format)

    def close(self) -> None:
        """Release the device/connection/file. Idempotent."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- hooks -----------------------------------------------------------------------------------------
    @abc.abstractmethod
    def _set_center_freq(self, freq_hz: float) -> float: ...

    @abc.abstractmethod
    def _set_sample_rate(self, rate_hz: float) -> float: ...

    @abc.abstractmethod
    def _set_gain(self, gain_db: float | None) -> float | None: ...

    def _set_ppm(self, ppm: int) -> None:  # default: receivers that cannot correct ignore it
        pass

    @abc.abstractmethod
    def _read_raw(self, n_samples: int) -> np.ndarray: ...
