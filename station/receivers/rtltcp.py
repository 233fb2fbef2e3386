"""``rtltcp://host[:port][?options]``: a client of the standard rtl_tcp network protocol (librtlsdr's rtl_tcp,
``specmon rtltcp-serve``, OpenWebRX/SDR++ servers that speak it).

Protocol (all integers big-endian):
  * on connect the server sends a 12-byte header: ``b"RTL0"``, uint32 tuner type (:data:`TUNER_NAMES`), uint32
    number of gain steps;
  * then an endless stream of interleaved unsigned 8-bit I,Q samples (cu8);
  * the client sends 5-byte commands: uint8 command + uint32 parameter (:data:`COMMANDS`). The server never
    answers a command, so the client reports what it asked for (the frequency and the RTL2832U's real rate,
    the nearest gain step of the tuner named in the header).

Options (query or keyword arguments): ``timeout=S`` connect/read timeout in seconds (default 5),
``retries=N`` reconnect attempts after a dropped connection (default 5; backoff 0.5, 1, 2, 4, 8 s, capped at
10 s), ``settle=N`` samples discarded after each retune (default 16384).

After a retune the bytes already queued in the socket are stale; they are drained and then ``settle`` samples
are dropped. A connection that drops mid-read is re-opened with backoff, every setting re-sent, and the read
restarted from scratch (so a returned block is always contiguous). Unreachable host, refused connection and
a peer that is not rtl_tcp (bad magic) are ReceiverUnavailable errors naming the URI.
"""

from __future__ import annotations

import math

import logging
import select
import socket
import struct
import time
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from station.errors import ReceiverError, ReceiverUnavailable, UsageError
from station.receivers._rtl2832 import (
    TUNER_GAINS_TENTHS_DB,
    TUNER_NAMES,
    TUNER_RANGES_HZ,
    check_sample_rate,
    nearest_gain_tenths,
    real_sample_rate_hz,
    tuner_gains_db,
)
from station.receivers.base import Receiver, ReceiverInfo
from station.redact import shown

log = logging.getLogger(__name__)

DEFAULT_PORT = 1234
HEADER_MAGIC = b"RTL0"
HEADER_FORMAT = ">4sII"  # magic, tuner type, gain count
COMMAND_FORMAT = ">BI"

#: rtl_tcp command numbers
COMMANDS = {
    "set_freq": 0x01,
    "set_sample_rate": 0x02,
    "set_gain_mode": 0x03,  # 0 automatic, 1 manual
    "set_gain": 0x04,  # tenths of dB
    "set_freq_correction": 0x05,  # ppm (int32 as uint32)
    "set_if_gain": 0x06,  # (stage << 16) | gain tenths
    "set_test_mode": 0x07,
    "set_agc_mode": 0x08,  # RTL2832 digital AGC
    "set_direct_sampling": 0x09,
    "set_offset_tuning": 0x0A,
    "set_rtl_xtal": 0x0B,
    "set_tuner_xtal": 0x0C,
    "set_gain_by_index": 0x0D,
    "set_bias_tee": 0x0E,
}


def pack_command(cmd: int, param: int) -> bytes:
    """A 5-byte rtl_tcp command; negative parameters (ppm) are sent as their 32-bit two's complement."""
    return struct.pack(COMMAND_FORMAT, cmd, int(param) & 0xFFFFFFFF)


def parse_header(header: bytes, where: str) -> tuple[int, int]:
    """(tuner type, gain count) from the 12-byte header; ReceiverUnavailable when it is not rtl_tcp's."""
    if len(header) != 12 or header[:4] != HEADER_MAGIC:
        raise ReceiverUnavailable(
            f"peer is not an rtl_tcp server: expected the 12-byte header starting with b'RTL0', got {shown(header[:12])}",
            where=where,
        )
    _, tuner, n_gains = struct.unpack(HEADER_FORMAT, header)
    return tuner, n_gains


class RtlTcpReceiver(Receiver):
    """rtl_tcp client. Open with :meth:`from_uri` (``rtltcp://host:1234``)."""

    _KNOWN_OPTIONS = {"timeout", "retries", "settle", "settle_samples"}
    #: first reconnect delay (s); doubles per attempt up to 10 s
    backoff_initial_s = 0.5

    def __init__(self, uri: str, host: str, port: int, *, timeout_s: float = 5.0, retries: int = 5,
                 settle_samples: int = 16384):
        super().__init__(uri, settle_samples=settle_samples)
        self.host, self.port = host, port
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self._sock: socket.socket | None = None
        self.tuner_type = 0
        self.n_gains = 0
        self._agc = False
        self._gain_mode_sent = False
        self.reconnects = 0  # connections re-opened after a drop (for health reporting)
        self._connect()

    @classmethod
    def check_uri(cls, uri: str, **options) -> tuple[float, float]:
        """Parse the URI (no connection); the widest range any tuner gives (the server's tuner is known once
        connected)."""
        cls._parse(uri, **options)
        return (min(lo for lo, _ in TUNER_RANGES_HZ.values()), max(hi for _, hi in TUNER_RANGES_HZ.values()))

    @classmethod
    def from_uri(cls, uri: str, **options) -> RtlTcpReceiver:
        host, port, kw = cls._parse(uri, **options)
        return cls(uri, host, port, **kw)

    @classmethod
    def _parse(cls, uri: str, **options) -> tuple[str, int, dict]:
        if not uri.partition(":")[2].startswith("//"):
            raise UsageError("malformed rtltcp URI: expected rtltcp://HOST[:PORT]", where=uri)
        parts = urlsplit(uri)
        opts = dict(parse_qsl(parts.query, keep_blank_values=True))
        opts.update({k: v for k, v in options.items() if v is not None})
        unknown = set(opts) - cls._KNOWN_OPTIONS
        if unknown:
            raise UsageError(f"unknown rtltcp option(s) {', '.join(sorted(unknown))}; known: timeout, retries, settle",
                             where=uri)
        if not parts.hostname:
            raise UsageError(f"rtltcp URI {shown(uri)} names no host; expected rtltcp://HOST[:PORT]")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise UsageError(f"rtltcp URI {shown(uri)} has an invalid port") from None
        try:
            timeout_s = float(opts.get("timeout", 5.0))
            retries = int(opts.get("retries", 5))
            settle = int(opts.get("settle", opts.get("settle_samples", 16384)))
        except ValueError as exc:
            raise UsageError(f"bad rtltcp option value: {exc}", where=uri) from None
        if timeout_s <= 0 or retries < 0 or settle < 0:
            raise UsageError("rtltcp options need timeout > 0, retries >= 0, settle >= 0", where=uri)
        if not math.isfinite(timeout_s):
            raise UsageError("rtltcp option timeout must be finite", where=uri)
        return parts.hostname, port, {"timeout_s": timeout_s, "retries": retries, "settle_samples": settle}

    # ---- connection ------------------------------------------------------------------------------------
    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except socket.timeout:
            raise ReceiverUnavailable(f"rtl_tcp host did not answer within {self.timeout_s:g} s", where=self.uri) from None
        except socket.gaierror as exc:
            raise ReceiverUnavailable(f"cannot resolve host {shown(self.host)}: {exc.strerror}", where=self.uri) from None
        except OSError as exc:
            raise ReceiverUnavailable(f"cannot connect to rtl_tcp server: {exc.strerror or exc}", where=self.uri) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            header = self._recv_exact(sock, 12)
        except (socket.timeout, OSError, ConnectionError) as exc:
            sock.close()
            raise ReceiverUnavailable(f"no rtl_tcp header from the peer within {self.timeout_s:g} s ({exc})",
                                      where=self.uri) from None
        try:
            self.tuner_type, self.n_gains = parse_header(header, self.uri)
        except ReceiverUnavailable:
            sock.close()
            raise
        self._sock = sock
        log.info("%s: connected, tuner %s, %d gain steps", self.uri, TUNER_NAMES.get(self.tuner_type, "?"),
                 self.n_gains)

    @staticmethod
    def _recv_exact(sock: socket.socket, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = sock.recv_into(view[got:])
            if k == 0:
                raise ConnectionError("connection closed by the server")
            got += k
        return bytes(buf)

    def _send(self, name: str, param: int) -> None:
        if self._sock is None:
            raise ReceiverError("connection is closed", where=self.uri)
        cmd = pack_command(COMMANDS[name], param)
        try:
            self._sock.sendall(cmd)
        except OSError as exc:
            self._reconnect(f"sending {name} failed ({exc})")  # re-sends the settings made so far
            self._sock.sendall(cmd)

    def _resend_settings(self) -> None:
        sock = self._sock
        cmds = []
        if self._sample_rate_hz:
            cmds.append(pack_command(COMMANDS["set_sample_rate"], round(self._requested_rate)))
        if self._center_freq_hz:
            cmds.append(pack_command(COMMANDS["set_freq"], round(self._center_freq_hz)))
        if self._ppm:
            cmds.append(pack_command(COMMANDS["set_freq_correction"], self._ppm))
        if self._gain_mode_sent:
            cmds.append(pack_command(COMMANDS["set_gain_mode"], 0 if self._gain_db is None else 1))
            if self._gain_db is not None:
                cmds.append(pack_command(COMMANDS["set_gain"], round(self._gain_db * 10)))
        if self._agc:
            cmds.append(pack_command(COMMANDS["set_agc_mode"], 1))
        if cmds:
            sock.sendall(b"".join(cmds))

    def _reconnect(self, reason: str) -> None:
        """Re-open a dropped connection with exponential backoff and re-send every setting."""
        self._close_socket()
        delay = self.backoff_initial_s
        last: Exception | None = None
        for attempt in range(1, self.retries + 1):
            log.warning("%s: %s; reconnecting (attempt %d of %d) in %.1f s", self.uri, reason, attempt, self.retries,
                        delay)
            time.sleep(delay)
            try:
                self._connect()
                self._resend_settings()
            except (ReceiverUnavailable, OSError) as exc:
                self._close_socket()
                last = exc
                delay = min(delay * 2, 10.0)
                continue
            self.reconnects += 1
            self._discard = self.settle_samples
            return
        raise ReceiverUnavailable(f"connection lost ({reason}) and {self.retries} reconnect attempts failed"
                                  + (f": {last}" if last else ""), where=self.uri)

    def _close_socket(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _drain(self) -> None:
        """Drop the bytes already queued in the socket (stale samples from before a retune), keeping I/Q pairs
        aligned."""
        sock = self._sock
        if sock is None:
            return
        dropped = 0
        buf = bytearray(1 << 16)
        try:
            while select.select([sock], [], [], 0)[0]:
                k = sock.recv_into(buf)
                if k == 0:
                    break
                dropped += k
            if dropped % 2:
                self._recv_exact(sock, 1)
        except OSError:
            pass  # the next read notices and reconnects

    # ---- receiver interface ----------------------------------------------------------------------------
    @property
    def info(self) -> ReceiverInfo:
        name = TUNER_NAMES.get(self.tuner_type, f"tuner type {self.tuner_type}")
        return ReceiverInfo(
            uri=self.uri, driver="rtltcp", hw=f"rtl_tcp server {self.host}:{self.port} ({name} tuner)", tuner=name,
            tuning_range_hz=TUNER_RANGES_HZ.get(self.tuner_type, TUNER_RANGES_HZ[0]),
            gains_db=tuner_gains_db(self.tuner_type), native_format="cu8", frequency_uncertainty_ppm=50.0,
        )

    _requested_rate = 0.0

    def _set_center_freq(self, freq_hz: float) -> float:
        f = int(round(freq_hz))
        self._send("set_freq", f)
        self._drain()
        return float(f)

    def _set_sample_rate(self, rate_hz: float) -> float:
        check_sample_rate(rate_hz, self.uri)
        self._requested_rate = rate_hz
        self._send("set_sample_rate", int(round(rate_hz)))
        self._drain()
        return real_sample_rate_hz(round(rate_hz))

    def _set_gain(self, gain_db: float | None) -> float | None:
        self._gain_mode_sent = True
        if gain_db is None:
            self._send("set_gain_mode", 0)
            return None
        tenths = nearest_gain_tenths(gain_db, self.tuner_type)
        self._send("set_gain_mode", 1)
        self._send("set_gain", tenths)
        return tenths / 10 if TUNER_GAINS_TENTHS_DB.get(self.tuner_type) else gain_db

    def _set_ppm(self, ppm: int) -> None:
        self._send("set_freq_correction", ppm)

    def set_agc(self, enabled: bool) -> None:
        """The RTL2832U's digital AGC (distinct from the tuner's automatic gain)."""
        self._agc = bool(enabled)
        self._send("set_agc_mode", 1 if enabled else 0)

    def _read_raw(self, n_samples: int) -> np.ndarray:
        n_bytes = 2 * n_samples
        out = np.empty(n_bytes, dtype=np.uint8)
        view = memoryview(out)
        while True:
            if self._sock is None:
                raise ReceiverError("connection is closed", where=self.uri)
            got = 0
            try:
                while got < n_bytes:
                    k = self._sock.recv_into(view[got:])
                    if k == 0:
                        raise ConnectionError("connection closed by the server")
                    got += k
                return out
            except socket.timeout:
                reason = f"no samples for {self.timeout_s:g} s"
            except (ConnectionError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            # restart the whole block after the reconnect so the returned samples are contiguous
            self._reconnect(reason)
            if self._discard:
                drop, self._discard = self._discard, 0
                self._skip(drop)

    def _skip(self, n_samples: int) -> None:
        self._read_raw(n_samples)

    def close(self) -> None:
        self._close_socket()


__all__ = ["COMMANDS", "DEFAULT_PORT", "RtlTcpReceiver", "pack_command", "parse_header"]
