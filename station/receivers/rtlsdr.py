"""``rtlsdr://0``, ``rtlsdr://?serial=XYZ``: a real RTL-SDR dongle through pyrtlsdr (extra ``rtlsdr``).

pyrtlsdr is imported only when such a URI is opened. Install with ``pip install 'specmon[rtlsdr]'``, which
brings pyrtlsdr 0.5 and pyrtlsdrlib (a librtlsdr build that has every symbol pyrtlsdr 0.5 needs; Debian's
librtlsdr 0.6 lacks ``rtlsdr_set_dithering``).

Errors, each one line naming the URI:
  * pyrtlsdr not installed, or librtlsdr missing/too old -> ReceiverUnavailable saying how to install the extra;
  * no dongle, index out of range, serial not found -> ReceiverUnavailable listing the serials found ("none");
  * a dongle that cannot be opened (busy, kernel DVB driver, USB permissions) -> ReceiverUnavailable with hints;
  * a sample rate the RTL2832U cannot give, a frequency outside the tuner's range -> TuningError.

Options: ``serial=XYZ`` (instead of an index), ``settle=N`` samples dropped after a retune (default 16384).
A USB read failure closes the device inside pyrtlsdr; the receiver re-opens it once (same serial), re-applies
every setting and retries the read before giving up with ReceiverUnavailable.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from station.errors import ReceiverError, ReceiverUnavailable, TuningError, UsageError
from station.receivers._rtl2832 import (
    TUNER_NAMES,
    TUNER_RANGES_HZ,
    check_sample_rate,
    nearest_gain_tenths,
)
from station.receivers.base import Receiver, ReceiverInfo
from station.redact import shown

log = logging.getLogger(__name__)

INSTALL_HINT = "install the extra: pip install 'specmon[rtlsdr]' (pyrtlsdr 0.5 + pyrtlsdrlib)"
_USB_CHUNK_BYTES = 1 << 18  # librtlsdr sync reads in multiples of 512 bytes; 256 KiB per USB read


def import_pyrtlsdr(where: str):
    """Import and return pyrtlsdr's ``RtlSdr`` class, or raise ReceiverUnavailable saying what is missing."""
    try:
        from rtlsdr import RtlSdr
    except ModuleNotFoundError as exc:
        if exc.name in ("rtlsdr", "rtlsdr.rtlsdr"):
            raise ReceiverUnavailable(f"pyrtlsdr is not installed; {INSTALL_HINT}", where=where) from None
        raise ReceiverUnavailable(f"pyrtlsdr cannot load (missing module {shown(exc.name)}); {INSTALL_HINT}",
                                  where=where) from None
    except ImportError as exc:  # pyrtlsdr found no librtlsdr
        raise ReceiverUnavailable(f"librtlsdr could not be loaded ({exc}); {INSTALL_HINT}", where=where) from None
    except (AttributeError, OSError) as exc:  # a librtlsdr without a symbol pyrtlsdr uses (Debian 0.6)
        raise ReceiverUnavailable(f"the librtlsdr found is unusable with pyrtlsdr ({exc}); {INSTALL_HINT}",
                                  where=where) from None
    return RtlSdr


def list_serials(RtlSdr, where: str) -> list[str]:
    """Serial numbers of the dongles librtlsdr sees, in device-index order."""
    try:
        return list(RtlSdr.get_device_serial_addresses())
    except Exception as exc:  # LibUSBError and friends
        raise ReceiverUnavailable(f"cannot enumerate RTL-SDR dongles: {exc}", where=where) from None


def _found(serials: list[str]) -> str:
    return ", ".join(f"#{i} serial {shown(s)}" for i, s in enumerate(serials)) if serials else "none"


class RtlSdrReceiver(Receiver):
    """A dongle opened through pyrtlsdr. Open with :meth:`from_uri`."""

    def __init__(self, uri: str, RtlSdr, index: int, serial: str, *, settle_samples: int = 16384):
        super().__init__(uri, settle_samples=settle_samples)
        self._RtlSdr = RtlSdr
        self.index = index
        self.serial = serial
        self._sdr = None
        self._leftover = np.empty(0, dtype=np.uint8)
        self._agc = False
        self.reopens = 0
        self._open()
        self.tuner_type = int(self._sdr.get_tuner_type())
        self._gain_tenths = tuple(int(g) for g in self._sdr.get_gains())
        name = TUNER_NAMES.get(self.tuner_type, f"tuner type {self.tuner_type}")
        self._info = ReceiverInfo(
            uri=uri, driver="rtlsdr", hw=f"RTL2832U/{name} serial {serial} (device #{index})", tuner=name,
            tuning_range_hz=TUNER_RANGES_HZ.get(self.tuner_type, TUNER_RANGES_HZ[0]),
            gains_db=tuple(g / 10 for g in self._gain_tenths), native_format="cu8",
            frequency_uncertainty_ppm=50.0,
        )
        # pyrtlsdr's open() leaves the dongle at its defaults; record them as the state actually set
        self._center_freq_hz = float(self._sdr.get_center_freq())
        self._sample_rate_hz = float(self._sdr.get_sample_rate())
        self._gain_db = None

    @classmethod
    def check_uri(cls, uri: str, **options) -> tuple[float, float]:
        """Parse the URI (no USB access); the widest range any supported tuner gives (the dongle's own tuner is
        checked when it opens)."""
        cls._parse(uri, **options)
        return (min(lo for lo, _ in TUNER_RANGES_HZ.values()), max(hi for _, hi in TUNER_RANGES_HZ.values()))

    @classmethod
    def _parse(cls, uri: str, **options) -> tuple[int, str | None, int]:
        """(device index, serial or None, settle samples) from ``rtlsdr://INDEX`` or ``rtlsdr://?serial=S``."""
        scheme, _, rest = uri.partition(":")
        if not rest.startswith("//"):
            raise UsageError("malformed rtlsdr URI: expected rtlsdr://INDEX or rtlsdr://?serial=XYZ", where=uri)
        parts = urlsplit(uri)
        if parts.path not in ("", "/"):
            raise UsageError(f"malformed rtlsdr URI: unexpected path {shown(parts.path)}; expected rtlsdr://INDEX or "
                             "rtlsdr://?serial=XYZ", where=uri)
        opts = dict(parse_qsl(parts.query, keep_blank_values=True))
        opts.update({k: v for k, v in options.items() if v is not None})
        if "settle_samples" in opts:
            opts.setdefault("settle", opts.pop("settle_samples"))
        unknown = set(opts) - {"serial", "settle"}
        if unknown:
            raise UsageError(f"unknown rtlsdr option(s) {', '.join(sorted(unknown))}; known: serial, settle", where=uri)
        target = (parts.netloc or parts.path.lstrip("/")).strip()
        serial = opts.get("serial")
        if serial is not None and target:
            raise UsageError("give either a device index or ?serial=, not both", where=uri)
        index = 0
        if target:
            try:
                index = int(target)
            except ValueError:
                raise UsageError(f"device index {shown(target)} is not a number; use rtlsdr://0 or rtlsdr://?serial=XYZ",
                                 where=uri) from None
            if index < 0:
                raise UsageError(f"device index {index} is negative", where=uri)
        try:
            settle = int(opts.get("settle", 16384))
        except ValueError:
            raise UsageError(f"option settle={shown(opts['settle'])} must be an integer", where=uri) from None
        if settle < 0:
            raise UsageError(f"option settle={settle} must be >= 0", where=uri)
        return index, serial, settle

    @classmethod
    def from_uri(cls, uri: str, **options) -> RtlSdrReceiver:
        index, serial, settle = cls._parse(uri, **options)
        RtlSdr = import_pyrtlsdr(uri)
        serials = list_serials(RtlSdr, uri)
        if not serials:
            raise ReceiverUnavailable("no RTL-SDR dongle found (serials found: none); is it plugged in?", where=uri)
        if serial is not None:
            if serial not in serials:
                raise ReceiverUnavailable(f"no RTL-SDR with serial {shown(serial)} (found: {_found(serials)})", where=uri)
            index = serials.index(serial)
        elif index >= len(serials):
            raise ReceiverUnavailable(f"no RTL-SDR device #{index} (found: {_found(serials)})", where=uri)
        return cls(uri, RtlSdr, index, serials[index], settle_samples=settle)

    # ---- device ----------------------------------------------------------------------------------------
    def _open(self) -> None:
        try:
            self._sdr = self._RtlSdr(device_index=self.index)
        except Exception as exc:
            raise ReceiverUnavailable(
                f"RTL-SDR #{self.index} (serial {shown(self.serial)}) found but cannot be opened ({exc}); is another "
                f"program (rtl_tcp, rtl_433) using it, is the dvb_usb_rtl28xxu kernel driver bound to it, or do "
                f"udev rules deny USB access?", where=self.uri) from None

    def _reopen(self, reason: str) -> None:
        """Re-open the dongle after a USB failure (pyrtlsdr closed it) and re-apply every setting."""
        log.warning("%s: %s; re-opening the dongle", self.uri, reason)
        try:
            if self._sdr is not None:
                self._sdr.close()
        except Exception:
            pass
        self._sdr = None
        serials = list_serials(self._RtlSdr, self.uri)
        if self.serial not in serials:
            raise ReceiverUnavailable(f"dongle serial {shown(self.serial)} disappeared ({reason}); found: {_found(serials)}",
                                      where=self.uri)
        self.index = serials.index(self.serial)
        self._open()
        self.reopens += 1
        self._call("set_sample_rate", int(round(self._sample_rate_hz)))
        if self._ppm:
            self._call("set_freq_correction", self._ppm)
        self._call("set_center_freq", int(round(self._center_freq_hz)))
        self._apply_gain(self._gain_db)
        if self._agc:
            self._call("set_agc_mode", True)
        self._leftover = np.empty(0, dtype=np.uint8)
        self._discard = self.settle_samples

    def _call(self, method: str, *args):
        if self._sdr is None:
            raise ReceiverError("device is closed", where=self.uri)
        try:
            return getattr(self._sdr, method)(*args)
        except Exception as exc:
            raise ReceiverError(f"{method}{args} failed: {exc}", where=self.uri) from None

    # ---- receiver interface ----------------------------------------------------------------------------
    @property
    def info(self) -> ReceiverInfo:
        return self._info

    def _set_center_freq(self, freq_hz: float) -> float:
        f = int(round(freq_hz))
        try:
            self._call("set_center_freq", f)
        except ReceiverError as exc:
            raise TuningError(f"tuner refused {f / 1e6:.6f} MHz ({exc})", where=self.uri) from None
        self._leftover = np.empty(0, dtype=np.uint8)
        # librtlsdr tunes to the requested frequency (ppm-corrected internally); pyrtlsdr's getter rounds to
        # 1 kHz, so the requested integer Hz is the better report.
        return float(f)

    def _set_sample_rate(self, rate_hz: float) -> float:
        check_sample_rate(rate_hz, self.uri)
        self._call("set_sample_rate", int(round(rate_hz)))
        self._leftover = np.empty(0, dtype=np.uint8)
        return float(self._call("get_sample_rate"))

    def _apply_gain(self, gain_db: float | None) -> float | None:
        if gain_db is None:
            self._call("set_manual_gain_enabled", False)
            return None
        tenths = nearest_gain_tenths(gain_db, self.tuner_type) if not self._gain_tenths else min(
            self._gain_tenths, key=lambda g: abs(g - gain_db * 10))
        self._call("set_manual_gain_enabled", True)
        self._call("set_gain", tenths / 10)
        return float(self._call("get_gain"))

    def _set_gain(self, gain_db: float | None) -> float | None:
        return self._apply_gain(gain_db)

    def _set_ppm(self, ppm: int) -> None:
        # librtlsdr returns an error when the correction is unchanged; skip that case
        if ppm != self._ppm:
            self._call("set_freq_correction", int(ppm))

    def set_agc(self, enabled: bool) -> None:
        """The RTL2832U's digital AGC (distinct from the tuner's automatic gain)."""
        self._call("set_agc_mode", bool(enabled))
        self._agc = bool(enabled)

    def _read_raw(self, n_samples: int) -> np.ndarray:
        n_bytes = 2 * n_samples
        for attempt in (1, 2):
            try:
                return self._read_bytes(n_bytes)
            except ReceiverError as exc:
                if attempt == 2:
                    raise ReceiverUnavailable(f"USB read failed again after re-opening the dongle: {exc}",
                                              where=self.uri) from None
                self._reopen(str(exc))
                if self._discard:
                    drop, self._discard = self._discard, 0
                    self._read_bytes(2 * drop)
        raise AssertionError("unreachable")

    def _read_bytes(self, n_bytes: int) -> np.ndarray:
        out = np.empty(n_bytes, dtype=np.uint8)
        got = min(n_bytes, self._leftover.shape[0])
        out[:got] = self._leftover[:got]
        self._leftover = self._leftover[got:]
        while got < n_bytes:
            want = min(_USB_CHUNK_BYTES, -(-(n_bytes - got) // 512) * 512)
            buf = np.frombuffer(bytes(self._call("read_bytes", want)), dtype=np.uint8)
            take = min(n_bytes - got, buf.shape[0])
            out[got:got + take] = buf[:take]
            got += take
            if take < buf.shape[0]:
                self._leftover = buf[take:].copy()
        return out

    def close(self) -> None:
        sdr, self._sdr = self._sdr, None
        if sdr is not None:
            try:
                sdr.close()
            except Exception as exc:  # closing must not raise
                log.debug("%s: close failed: %s", self.uri, exc)


__all__ = ["INSTALL_HINT", "RtlSdrReceiver", "import_pyrtlsdr", "list_serials"]
