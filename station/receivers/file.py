"""``file:PATH[?options]``: replay a recording as if it were a receiver.

Recordings:
  * a SigMF pair (``x.sigmf-meta`` / ``x.sigmf-data`` / ``x.sigmf``): datatype cu8, ci8, ci16_le or cf32_le;
    centre frequency and sample rate from core:frequency (first capture) and core:sample_rate;
  * a raw interleaved I,Q file ``.cu8`` / ``.cs8`` / ``.cs16`` / ``.cf32`` (rtl_433's names; also ``.raw``,
    ``.bin``, ``.data`` with ``format=``), with rate and frequency from options or from an rtl_433-style name
    such as ``g001_433.92M_250k.cu8`` or ``rtl433t_ec3k_868.3M_250k.cu8`` (centre then rate, k/M/G suffixes).

Options (URI query ``file:x.cu8?rate=250k&freq=433.92M`` or keyword arguments to ``from_uri``):
  rate=R      sample rate (raw files; overrides the name)          freq=F   centre frequency (likewise)
  format=FMT  cu8|cs8|cs16|cf32 for raw files (default: extension)   loop=1   rewind at EOF (default: raise)
  verify=0    skip the SigMF core:sha512 check (default: check)      settle=N samples dropped after retune (0)

A file cannot retune: tuning anywhere inside the recorded band [centre - rate/2, centre + rate/2] is accepted
and reports the recorded centre as the frequency actually set; outside it is a TuningError. Asking for another
sample rate reports the recorded rate (and logs a warning). Reading past the end raises EndOfRecording unless
``loop=1``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from station.errors import DataError, EndOfRecording, UsageError
from station.receivers.base import FORMAT_DTYPES, NATIVE_FORMATS, Receiver, ReceiverInfo
from station.units import format_hz, parse_hz, parse_positive_hz
from station.redact import shown

log = logging.getLogger(__name__)

#: raw file extension -> native format
RAW_EXTENSIONS = {".cu8": "cu8", ".cs8": "cs8", ".cs16": "cs16", ".cf32": "cf32", ".ci8": "cs8", ".ci16": "cs16",
                  ".cfile": "cf32"}
#: extensions that are raw I,Q but say nothing about the format (``format=`` required)
UNTYPED_EXTENSIONS = (".raw", ".bin", ".data", ".iq", ".dat")

_NAME_TOKEN = re.compile(r"^(\d+(?:\.\d+)?)([kKmMgG])$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_rtl433_name(name: str) -> tuple[float | None, float | None]:
    """(centre_hz, rate_hz) from an rtl_433-style file name, None for what the name does not say.

    The name is split on ``_``; tokens that are a number with a k/M/G suffix are candidates. The last two are
    centre and rate (``g001_433.92M_250k.cu8`` -> (433.92e6, 250e3)). A single candidate is taken as the
    centre when >= 10 MHz, else as the rate.
    """
    stem = Path(name).name
    for ext in (*RAW_EXTENSIONS, *UNTYPED_EXTENSIONS):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    values = [parse_hz(t) for t in stem.split("_") if _NAME_TOKEN.match(t)]
    if len(values) >= 2:
        return values[-2], values[-1]
    if len(values) == 1:
        return (values[0], None) if values[0] >= 10e6 else (None, values[0])
    return None, None


def _parse_bool(value, key: str, uri: str) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise UsageError(f"option {key}={shown(value)} must be 1/0/true/false", where=uri)


def split_file_uri(uri: str) -> tuple[Path, dict[str, str]]:
    """``file:PATH?k=v&...`` or ``file://PATH`` -> (path, options)."""
    rest = uri.split(":", 1)[1] if ":" in uri else uri
    if rest.startswith("//"):
        rest = rest[2:]
        if rest.startswith("localhost/"):
            rest = rest[len("localhost"):]
    path, _, query = rest.partition("?")
    if not path:
        raise UsageError(f"file URI {shown(uri)} names no file; expected file:PATH")
    opts = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    return Path(os.path.expanduser(path)), opts


class FileReceiver(Receiver):
    """Replay of a SigMF pair or a raw I,Q file. See the module docstring for URIs and options."""

    _KNOWN_OPTIONS = {"rate", "freq", "format", "loop", "verify", "settle", "settle_samples"}

    def __init__(self, uri: str, path: Path, *, native_format: str, sample_rate_hz: float, center_freq_hz: float,
                 data_offset_bytes: int, n_samples: int, hw: str, loop: bool, settle_samples: int,
                 gain_db: float | None = None, start_utc=None):
        super().__init__(uri, settle_samples=settle_samples)
        self.path = path
        self.loop = loop
        self.n_samples = n_samples
        self.start_utc = start_utc  # tz-aware UTC of the first sample when the recording says (SigMF)
        self._native = native_format
        self._dtype = np.dtype(FORMAT_DTYPES[native_format]).newbyteorder("<")
        self._bytes_per_sample = 2 * self._dtype.itemsize
        self._offset = data_offset_bytes
        self._rec_center_hz = center_freq_hz
        self._rec_rate_hz = sample_rate_hz
        self._rec_gain_db = gain_db
        self._pos = 0  # next sample index
        self._warned_rate = False
        try:
            self._f = open(path, "rb")
        except OSError as exc:
            raise DataError(f"cannot open recording: {exc.strerror}", where=str(path)) from None
        self._center_freq_hz = center_freq_hz
        self._sample_rate_hz = sample_rate_hz
        self._gain_db = gain_db
        self._info = ReceiverInfo(
            uri=uri, driver="file", hw=hw, tuner="file",
            tuning_range_hz=(center_freq_hz - sample_rate_hz / 2, center_freq_hz + sample_rate_hz / 2),
            gains_db=(), native_format=native_format, frequency_uncertainty_ppm=0.0,
        )

    # ---- opening ---------------------------------------------------------------------------------------
    @classmethod
    def check_uri(cls, uri: str, **options) -> tuple[float, float]:
        """Open the recording's metadata and data file as :meth:`from_uri` does (no samples are read)."""
        rx = cls.from_uri(uri, **options)
        try:
            return rx.info.tuning_range_hz
        finally:
            rx.close()

    @classmethod
    def from_uri(cls, uri: str, **options) -> FileReceiver:
        path, opts = split_file_uri(uri)
        opts.update({k: v for k, v in options.items() if v is not None})
        if "settle_samples" in opts:
            opts.setdefault("settle", opts.pop("settle_samples"))
        unknown = set(opts) - cls._KNOWN_OPTIONS
        if unknown:
            raise UsageError(f"unknown file option(s) {', '.join(sorted(unknown))}; known: "
                             f"rate, freq, format, loop, verify, settle", where=uri)
        loop = _parse_bool(opts.get("loop", False), "loop", uri)
        verify = _parse_bool(opts.get("verify", True), "verify", uri)
        try:
            settle = int(opts.get("settle", 0))
        except ValueError:
            raise UsageError(f"option settle={shown(opts['settle'])} must be an integer number of samples",
                             where=uri) from None
        from station.formats import sigmf

        if sigmf.is_sigmf_path(path):
            if opts.get("format"):
                raise UsageError("option format= applies to raw files; SigMF says its core:datatype", where=uri)
            rec = sigmf.read_meta(path, verify_sha512=verify)
            center = rec.center_freq_hz
            if "freq" in opts:
                center = parse_hz(opts["freq"], what=f"freq option of {uri}")
            if center is None:
                raise DataError("recording has no core:frequency in its captures; give it as ?freq=F",
                                where=f"{rec.meta_path}:captures")
            rate = rec.sample_rate_hz
            if "rate" in opts:
                rate = parse_positive_hz(opts["rate"], what=f"rate option of {uri}")
            if len({c.frequency_hz for c in rec.captures}) > 1:
                log.warning("%s: %d captures at different frequencies; replaying all as %s", rec.meta_path,
                            len(rec.captures), format_hz(center))
            gain = rec.global_extra.get("specmon:gain_db")
            return cls(uri, rec.data_path, native_format=rec.native_format, sample_rate_hz=rate,
                       center_freq_hz=float(center), data_offset_bytes=rec.captures[0].header_bytes
                       if rec.captures else 0, n_samples=rec.n_samples,
                       hw=rec.hw or f"SigMF recording {rec.meta_path.name}", loop=loop, settle_samples=settle,
                       gain_db=gain if isinstance(gain, (int, float)) else None, start_utc=rec.start_utc)

        try:
            st = path.stat()
        except FileNotFoundError:
            raise DataError("recording not found", where=str(path)) from None
        if not path.is_file():
            raise DataError("recording is not a regular file", where=str(path))
        fmt = opts.get("format")
        suffix = path.suffix.lower()
        if fmt:
            if fmt not in NATIVE_FORMATS:
                raise DataError(f"unsupported sample format {shown(fmt)}; supported: {', '.join(NATIVE_FORMATS)}",
                                where=uri)
        elif suffix in RAW_EXTENSIONS:
            fmt = RAW_EXTENSIONS[suffix]
        else:
            raise DataError(
                f"unsupported recording type {suffix or '(no extension)'!r}; expected a SigMF pair "
                f"(.sigmf-meta/.sigmf-data) or raw {', '.join(RAW_EXTENSIONS)} (or format=cu8|cs8|cs16|cf32)",
                where=str(path),
            )
        name_center, name_rate = parse_rtl433_name(path.name)
        center = parse_hz(opts["freq"], what=f"freq option of {uri}") if "freq" in opts else name_center
        rate = parse_positive_hz(opts["rate"], what=f"rate option of {uri}") if "rate" in opts else name_rate
        missing = [k for k, v in (("freq", center), ("rate", rate)) if v is None]
        if missing:
            raise UsageError(f"raw recording {path.name} does not say its {' and '.join(missing)}: name it like "
                             f"g001_433.92M_250k.{fmt} or add ?{'&'.join(m + '=...' for m in missing)}", where=uri)
        bps = 2 * np.dtype(FORMAT_DTYPES[fmt]).itemsize
        if st.st_size == 0:
            raise DataError("recording is empty (0 bytes)", where=str(path))
        if st.st_size % bps:
            raise DataError(f"recording is truncated: {st.st_size} bytes is not a whole number of {bps}-byte "
                            f"{fmt} samples", where=str(path))
        return cls(uri, path, native_format=fmt, sample_rate_hz=rate, center_freq_hz=center, data_offset_bytes=0,
                   n_samples=st.st_size // bps, hw=f"raw {fmt} recording {path.name}", loop=loop,
                   settle_samples=settle)

    # ---- receiver interface ----------------------------------------------------------------------------
    @property
    def info(self) -> ReceiverInfo:
        return self._info

    @property
    def position(self) -> int:
        """Index of the next sample to be read."""
        return self._pos

    def seek(self, sample_index: int) -> None:
        """Move to a sample index (0 <= index < n_samples)."""
        if not 0 <= sample_index < self.n_samples:
            raise ValueError(f"sample index {sample_index} outside 0..{self.n_samples - 1}")
        self._pos = int(sample_index)

    def _set_center_freq(self, freq_hz: float) -> float:
        return self._rec_center_hz

    def _set_sample_rate(self, rate_hz: float) -> float:
        if abs(rate_hz - self._rec_rate_hz) > 1e-6 * self._rec_rate_hz and not self._warned_rate:
            self._warned_rate = True
            log.warning("%s: recording is at %s S/s; cannot replay at %s S/s", self.uri, format_hz(self._rec_rate_hz),
                        format_hz(rate_hz))
        return self._rec_rate_hz

    def _set_gain(self, gain_db: float | None) -> float | None:
        return self._rec_gain_db

    @property
    def samples_left(self) -> int:
        """Samples before the end of the recording (without looping)."""
        return self.n_samples - self._pos

    def _read_raw(self, n_samples: int) -> np.ndarray:
        if not self.loop and n_samples > self.samples_left:
            # nothing is consumed: the caller may still read the samples_left that remain
            raise EndOfRecording(
                f"end of recording after {self.n_samples} samples ({n_samples} asked for, {self.samples_left} "
                f"left; add ?loop=1 to replay in a loop)", where=self.uri)
        out = np.empty(2 * n_samples, dtype=self._dtype)
        got = 0
        while got < n_samples:
            if self._pos >= self.n_samples:
                self._pos = 0
            take = min(n_samples - got, self.n_samples - self._pos)
            self._f.seek(self._offset + self._pos * self._bytes_per_sample)
            view = out[2 * got: 2 * (got + take)]
            nbytes = self._f.readinto(memoryview(view).cast("B"))
            if nbytes != take * self._bytes_per_sample:
                raise DataError(f"recording shrank while reading: expected {take * self._bytes_per_sample} bytes at "
                                f"sample {self._pos}, got {nbytes}", where=str(self.path))
            got += take
            self._pos += take
        return out if self._dtype.isnative else out.astype(self._dtype.newbyteorder("="))

    def close(self) -> None:
        f = getattr(self, "_f", None)
        if f is not None and not f.closed:
            f.close()


__all__ = ["FileReceiver", "parse_rtl433_name", "split_file_uri"]
