"""An rtl_tcp server backed by any :class:`~station.receivers.base.Receiver` (``sim://``, ``file:``, even a
real ``rtlsdr://`` dongle), so that GQRX, SDR#, SDR++, OpenWebRX or specmon's own ``rtltcp://`` client can
listen to it.

Protocol: see :mod:`station.receivers.rtltcp`. The server sends the 12-byte ``RTL0`` header (tuner type and
gain count: those of the receiver's tuner when it names an RTL tuner, else R820T's), then cu8 samples paced at
the receiver's sample rate, and applies the client's 5-byte commands (frequency, sample rate, gain mode, gain,
gain by index, ppm, AGC) to the receiver. rtl_tcp cannot report errors: a command the receiver refuses
(a frequency outside its range) is logged and ignored, as librtlsdr's rtl_tcp does.

One client at a time; further clients wait in the listen backlog until the current one disconnects. A client
that does not read for ``send_timeout_s`` (default 10 s) is dropped so the next one gets the slot. State is
bounded: the last :data:`COMMAND_HISTORY` commands are kept (with counters of all), and warnings about bad
commands are rate-limited (at most :data:`WARNINGS_PER_WINDOW` per :data:`WARNING_WINDOW_S`, then one summary).
rtl_tcp has no authentication, so bind to loopback unless the network is trusted.
"""

from __future__ import annotations

import logging
import socket
from collections import deque
import struct
import threading
import time

import numpy as np

from station.errors import EndOfRecording, ReceiverError, SpecmonError
from station.receivers._rtl2832 import TUNER_GAINS_TENTHS_DB, TUNER_NAMES
from station.receivers.base import Receiver
from station.receivers.rtltcp import COMMANDS, HEADER_FORMAT, HEADER_MAGIC

log = logging.getLogger(__name__)

_NAMES_BY_CMD = {v: k for k, v in COMMANDS.items()}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: applied commands kept for logs and tests (older ones are counted, not kept)
COMMAND_HISTORY = 256
#: warnings about refused/unknown commands: at most this many per window, then one line saying how many were held
WARNINGS_PER_WINDOW = 10
WARNING_WINDOW_S = 60.0


class _RateLimitedWarnings:
    """At most ``per_window`` warnings per ``window_s``; the rest are counted and summarised once per window."""

    def __init__(self, per_window: int = WARNINGS_PER_WINDOW, window_s: float = WARNING_WINDOW_S,
                 clock=time.monotonic):
        self.per_window, self.window_s, self.clock = per_window, window_s, clock
        self.window_start = float("-inf")
        self.in_window = 0
        self.suppressed = 0  # in the current window
        self.suppressed_total = 0

    def warning(self, msg: str, *args) -> None:
        now = self.clock()
        if now - self.window_start >= self.window_s:
            if self.suppressed:
                log.warning("rtl_tcp client: %d more warnings suppressed in the last %.0f s", self.suppressed,
                            self.window_s)
            self.window_start, self.in_window, self.suppressed = now, 0, 0
        if self.in_window < self.per_window:
            self.in_window += 1
            log.warning(msg, *args)
        else:
            self.suppressed += 1
            self.suppressed_total += 1


def tuner_type_for(receiver: Receiver) -> int:
    """rtl_tcp tuner number for the receiver's tuner name (R820T when it is not an RTL tuner)."""
    name = receiver.info.tuner.upper()
    for number, tuner in TUNER_NAMES.items():
        if number and tuner.upper() == name:
            return number
    return 5


class RtlTcpServer:
    """Serve ``receiver`` over rtl_tcp on ``host:port`` (port 0 = any free port; see :attr:`address`).

    Args:
        receiver: an open receiver, already tuned (centre frequency and sample rate set).
        chunk_samples: samples per network write.
        pace: send at the receiver's sample rate (True) or as fast as the client reads (False, tests only).
        send_timeout_s: drop a client that has not accepted data for this long.
    """

    def __init__(self, receiver: Receiver, host: str = "127.0.0.1", port: int = 1234, *, chunk_samples: int = 16384,
                 pace: bool = True, send_timeout_s: float = 10.0):
        if receiver.sample_rate_hz <= 0:
            raise ValueError("set the receiver's sample rate before serving it")
        self.receiver = receiver
        self.host, self.port = host, int(port)
        self.chunk_samples = int(chunk_samples)
        self.pace = pace
        self.send_timeout_s = send_timeout_s
        self.tuner_type = tuner_type_for(receiver)
        self._gains_tenths = TUNER_GAINS_TENTHS_DB[self.tuner_type]
        self._lock = threading.Lock()  # receiver access: streaming loop vs command thread
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._manual_gain = receiver.gain_db is not None
        self._pace_reset = True
        self.clients_served = 0
        #: the last COMMAND_HISTORY (command name, parameter) applied, for logs and tests; counters of all
        self.commands_applied: deque[tuple[str, int]] = deque(maxlen=COMMAND_HISTORY)
        self.commands_total = 0
        self.commands_refused = 0
        self.clients_dropped = 0  # clients that stopped reading for send_timeout_s
        self._warn = _RateLimitedWarnings()

    # ---- lifecycle -------------------------------------------------------------------------------------
    def bind(self) -> tuple[str, int]:
        """Open the listening socket; returns the (host, port) actually bound. Raises OSError when busy."""
        infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
        self._listener = socket.create_server((self.host, self.port), family=family, backlog=4)
        self._listener.settimeout(0.25)
        self.port = self._listener.getsockname()[1]
        return self.host, self.port

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def serve_forever(self, *, max_clients: int | None = None) -> None:
        """Accept clients one after another until :meth:`shutdown` (or ``max_clients`` have been served)."""
        if self._listener is None:
            self.bind()
        try:
            while not self._stop.is_set():
                if max_clients is not None and self.clients_served >= max_clients:
                    break
                try:
                    conn, peer = self._listener.accept()
                except socket.timeout:
                    continue
                except OSError:
                    if self._stop.is_set():
                        break
                    raise
                self.clients_served += 1
                try:
                    self._serve_client(conn, peer)
                finally:
                    conn.close()
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def shutdown(self) -> None:
        """Stop accepting and end the current client's stream (returns at once; serve_forever ends soon)."""
        self._stop.set()

    # ---- one client ------------------------------------------------------------------------------------
    def _serve_client(self, conn: socket.socket, peer) -> None:
        log.info("rtl_tcp client %s connected", peer[:2])
        conn.settimeout(self.send_timeout_s)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        gone = threading.Event()
        header = struct.pack(HEADER_FORMAT, HEADER_MAGIC, self.tuner_type, len(self._gains_tenths))
        try:
            conn.sendall(header)
        except OSError:
            return
        reader = threading.Thread(target=self._command_loop, args=(conn, gone), name="rtltcp-commands", daemon=True)
        reader.start()
        self._pace_reset = True
        t0 = sent = 0
        try:
            while not (self._stop.is_set() or gone.is_set()):
                with self._lock:
                    try:
                        chunk = self._read_cu8(self.chunk_samples)
                    except EndOfRecording as exc:
                        log.info("%s; closing the client", exc)
                        break
                    except ReceiverError as exc:
                        log.error("receiver failed: %s; closing the client", exc)
                        break
                    rate = self.receiver.sample_rate_hz
                    if self._pace_reset:
                        self._pace_reset, t0, sent = False, time.monotonic(), 0
                if self.pace:
                    target = t0 + sent / rate
                    now = time.monotonic()
                    if target > now:
                        time.sleep(target - now)
                    elif now - target > 1.0:  # fell behind (slow source): do not burst to catch up
                        t0, sent = now, 0
                try:
                    conn.sendall(chunk)
                except socket.timeout:
                    self.clients_dropped += 1
                    log.warning("rtl_tcp client %s did not read for %.0f s; dropping it so the next one can connect",
                                peer[:2], self.send_timeout_s)
                    break
                except OSError:
                    break
                sent += self.chunk_samples
        finally:
            gone.set()
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            reader.join(timeout=2.0)
            log.info("rtl_tcp client %s disconnected", peer[:2])

    def _read_cu8(self, n: int) -> bytes:
        r = self.receiver
        if r.info.native_format == "cu8":
            return r.read_raw(n).tobytes()
        from station.formats.sigmf import complex_to_native

        return complex_to_native(r.read(n), "cu8").tobytes()

    def _command_loop(self, conn: socket.socket, gone: threading.Event) -> None:
        buf = b""
        while not gone.is_set():
            try:
                data = conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while len(buf) >= 5:
                cmd, param = struct.unpack(">BI", buf[:5])
                buf = buf[5:]
                self.apply_command(cmd, param)
        gone.set()

    def apply_command(self, cmd: int, param: int) -> None:
        """Apply one rtl_tcp command to the receiver; refused values are logged, never fatal."""
        name = _NAMES_BY_CMD.get(cmd, f"0x{cmd:02x}")
        r = self.receiver
        try:
            with self._lock:
                if cmd == COMMANDS["set_freq"]:
                    r.set_center_freq(float(param))
                elif cmd == COMMANDS["set_sample_rate"]:
                    r.set_sample_rate(float(param))
                    self._pace_reset = True
                elif cmd == COMMANDS["set_gain_mode"]:
                    self._manual_gain = bool(param)
                    if not param:
                        r.set_gain(None)
                elif cmd == COMMANDS["set_gain"]:
                    r.set_gain(np.int32(np.uint32(param).view(np.int32)) / 10.0)
                elif cmd == COMMANDS["set_gain_by_index"]:
                    if param < len(self._gains_tenths):
                        r.set_gain(self._gains_tenths[param] / 10.0)
                    else:
                        self.commands_refused += 1
                        self._warn.warning("rtl_tcp client: gain index %d out of range 0..%d", param,
                                           len(self._gains_tenths) - 1)
                        return
                elif cmd == COMMANDS["set_freq_correction"]:
                    r.set_ppm(int(np.uint32(param).view(np.int32)))
                elif cmd in COMMANDS.values():
                    log.debug("rtl_tcp client: %s(%d) has no effect on %s", name, param, r.uri)
                else:
                    self.commands_refused += 1
                    self._warn.warning("rtl_tcp client sent unknown command 0x%02x (param %d); ignored", cmd, param)
                    return
            self.commands_applied.append((name, param))
            self.commands_total += 1
            log.debug("rtl_tcp client: %s(%d)", name, param)
        except SpecmonError as exc:
            self.commands_refused += 1
            self._warn.warning("rtl_tcp client: %s(%d) refused: %s", name, param, exc)


__all__ = ["LOOPBACK_HOSTS", "RtlTcpServer", "tuner_type_for"]
