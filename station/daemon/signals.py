"""The station's conversation with its supervisor: systemd notifications (the sd_notify protocol, written
here: no libsystemd needed) and the POSIX signal handlers (SIGTERM/SIGINT stop, SIGHUP reload), installed
only by :func:`install_signal_handlers`, called from the CLI's main."""

from __future__ import annotations

import logging
import os
import signal
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station.daemon.loop import Daemon

log = logging.getLogger("specmon.daemon")


class SystemdNotifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=...``, ``STOPPING=1`` to ``$NOTIFY_SOCKET`` when set.

    ``watchdog_interval_s`` is half of ``$WATCHDOG_USEC`` (None without a watchdog). Failures are ignored
    (a notification must never break the station)."""

    def __init__(self, environ: dict | None = None):
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        ok_pid = pid is None or pid == str(os.getpid())
        self.watchdog_interval_s = int(usec) / 2e6 if usec and usec.isdigit() and ok_pid else None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(lines).encode(), addr)
            return True
        except OSError as exc:
            log.debug("sd_notify to %s failed: %s", self.address, exc)
            return False

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def install_signal_handlers(daemon: Daemon) -> None:
    """SIGTERM/SIGINT -> stop, SIGHUP -> reload. Call from the main thread of the main program only."""

    def on_stop(signum, frame):
        if daemon.stopping and signum == signal.SIGINT:  # a second Ctrl-C: stop waiting for the flush
            raise KeyboardInterrupt
        daemon.request_stop(signal.Signals(signum).name)  # only sets events: safe inside a handler

    def on_hup(signum, frame):
        daemon.request_reload()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, on_hup)
