"""Issue 14: the rtl_tcp server keeps bounded state (10 MB of valid commands no longer grow its memory), drops
a client that does not read within a timeout so the next one gets the slot, and rate-limits its warnings
(100 kB of garbage no longer logs ~19,000 WARNING lines)."""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
import time

import pytest

from station.receivers import open_receiver
from station.receivers.rtltcp import COMMANDS
from station.rtltcp_server import COMMAND_HISTORY, WARNINGS_PER_WINDOW, RtlTcpServer


def _drain(conn: socket.socket) -> None:
    """Read and discard the sample stream until the socket closes."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


@pytest.fixture
def server():
    rx = open_receiver("sim://city")
    rx.set_sample_rate(250e3)
    rx.set_center_freq(451e6)
    srv = RtlTcpServer(rx, port=0, send_timeout_s=1.0, chunk_samples=4096)
    srv.bind()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    t.join(timeout=5)
    rx.close()


def test_ten_megabytes_of_valid_commands_keep_bounded_state(server):
    cmd = struct.pack(">BI", COMMANDS["set_freq_correction"], 1)
    n = 10_000_000 // 5
    with socket.create_connection(server.address) as c:
        c.recv(12)
        drain = threading.Thread(target=_drain, args=(c,), daemon=True)
        drain.start()
        c.sendall(cmd * n)
        deadline = time.monotonic() + 120
        while server.commands_total < n and time.monotonic() < deadline:
            time.sleep(0.1)
    assert server.commands_total == n
    assert len(server.commands_applied) == COMMAND_HISTORY


def test_a_client_that_never_reads_is_dropped_and_the_next_one_served(server):
    stalled = socket.create_connection(server.address)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        t0 = time.monotonic()
        with socket.create_connection(server.address) as nxt:
            nxt.settimeout(30)
            assert nxt.recv(12)[:4] == b"RTL0"
        assert time.monotonic() - t0 < 30
        assert server.clients_dropped >= 1
    finally:
        stalled.close()


def test_garbage_is_logged_at_a_bounded_rate(server, caplog):
    caplog.set_level(logging.WARNING, logger="station.rtltcp_server")
    garbage = os.urandom(100_000)
    with socket.create_connection(server.address) as c:
        c.recv(12)
        drain = threading.Thread(target=_drain, args=(c,), daemon=True)
        drain.start()
        c.sendall(garbage)
        deadline = time.monotonic() + 30
        while server.commands_total + server.commands_refused < len(garbage) // 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "rtl_tcp client" in r.getMessage()
                and "did not read" not in r.getMessage()]
    assert server.commands_refused > 1000
    assert len(warnings) <= WARNINGS_PER_WINDOW + 1
