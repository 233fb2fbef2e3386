"""rtl_tcp client (station/receivers/rtltcp.py) and server (station/rtltcp_server.py, ``specmon rtltcp-serve``)
talking over loopback, and the client's handling of unreachable, silent, dropping and non-rtl_tcp peers."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from station.errors import ReceiverUnavailable, TuningError, UsageError
from station.receivers import open_receiver
from station.receivers.base import Receiver, ReceiverInfo
from station.receivers.rtltcp import COMMANDS, RtlTcpReceiver, pack_command, parse_header
from station.rtltcp_server import RtlTcpServer
from station.formats.sigmf import complex_to_native

RATE = 250e3
CENTER = 433.92e6
OFFSET = -62.5e3  # bin -1024 of a 4096-point FFT at 250 kS/s


@pytest.fixture
def tone_file(tmp_path):
    n = 1 << 17
    rng = np.random.default_rng(7)
    t = np.arange(n) / RATE
    x = 0.4 * np.exp(2j * np.pi * OFFSET * t) + 0.02 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    path = tmp_path / "tone_433.92M_250k.cu8"
    complex_to_native(x.astype(np.complex64), "cu8").tofile(path)
    return path


def serve(receiver: Receiver, **kw) -> tuple[RtlTcpServer, threading.Thread]:
    server = RtlTcpServer(receiver, "127.0.0.1", 0, **kw)
    server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def stop(server, thread):
    server.shutdown()
    thread.join(timeout=5)
    assert not thread.is_alive()


def peak_offset_hz(x: np.ndarray, rate: float, nfft: int = 4096) -> float:
    frames = x[: len(x) // nfft * nfft].reshape(-1, nfft)
    p = np.mean(np.abs(np.fft.fft(frames * np.hanning(nfft), axis=1)) ** 2, axis=0)
    return float(np.fft.fftfreq(nfft, 1 / rate)[int(np.argmax(p))])


def test_client_and_server_over_loopback_show_the_tone(tone_file):
    source = open_receiver(f"file:{tone_file}?loop=1")
    server, thread = serve(source)
    try:
        with open_receiver(f"rtltcp://127.0.0.1:{server.port}?settle=0") as rx:
            assert isinstance(rx, RtlTcpReceiver)
            assert rx.info.tuner == "R820T" and rx.info.native_format == "cu8"
            assert rx.set_sample_rate(250e3) == pytest.approx(250e3, abs=0.01)
            assert rx.set_center_freq(CENTER) == CENTER
            assert rx.set_gain(28.3) == 28.0  # nearest R820T step
            rx.set_ppm(-3)
            x = rx.read(4096 * 16)
        assert x.dtype == np.complex64
        assert peak_offset_hz(x, RATE) == pytest.approx(OFFSET, abs=RATE / 4096)
        assert ("set_freq", int(CENTER)) in server.commands_applied
        assert ("set_sample_rate", 250000) in server.commands_applied
        assert ("set_gain_mode", 1) in server.commands_applied
        assert ("set_gain", 280) in server.commands_applied
        assert ("set_freq_correction", (-3) & 0xFFFFFFFF) in server.commands_applied
    finally:
        stop(server, thread)
        source.close()


def test_server_is_paced_at_the_sample_rate(tone_file):
    source = open_receiver(f"file:{tone_file}?loop=1")
    server, thread = serve(source, chunk_samples=5000)
    try:
        with open_receiver(f"rtltcp://127.0.0.1:{server.port}?settle=0") as rx:
            rx.read_raw(5000)  # the first chunk goes out at once
            t0 = time.monotonic()
            rx.read_raw(50000)  # 0.2 s of samples at 250 kS/s
            elapsed = time.monotonic() - t0
        assert 0.12 < elapsed < 2.0
    finally:
        stop(server, thread)
        source.close()


class RecordingReceiver(Receiver):
    """A receiver that records what the server asks of it and returns mid-scale cu8 samples."""

    def __init__(self):
        super().__init__("test://recording", settle_samples=0)
        self.calls: list[tuple] = []
        self._sample_rate_hz = 1e6

    @property
    def info(self):
        return ReceiverInfo(uri=self.uri, driver="test", hw="test", tuner="E4000", tuning_range_hz=(52e6, 2200e6),
                            gains_db=(), native_format="cu8", frequency_uncertainty_ppm=0.0)

    def _set_center_freq(self, f):
        self.calls.append(("freq", f))
        return f

    def _set_sample_rate(self, r):
        self.calls.append(("rate", r))
        return r

    def _set_gain(self, g):
        self.calls.append(("gain", g))
        return g

    def _set_ppm(self, ppm):
        self.calls.append(("ppm", ppm))

    def _read_raw(self, n):
        return np.full(2 * n, 128, np.uint8)


def test_server_applies_commands_and_survives_refused_ones():
    rec = RecordingReceiver()
    server, thread = serve(rec, pace=False)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
            header = s.recv(12, socket.MSG_WAITALL)
            tuner, n_gains = parse_header(header, "test")
            assert (tuner, n_gains) == (1, 14)  # E4000 and its 14 gain steps
            s.sendall(pack_command(COMMANDS["set_freq"], 10_000_000))  # below E4000's range: refused, logged
            s.sendall(pack_command(COMMANDS["set_freq"], 100_000_000))
            s.sendall(pack_command(COMMANDS["set_freq_correction"], -12))
            s.sendall(pack_command(COMMANDS["set_gain_by_index"], 2))  # E4000 step 2 = 4.0 dB
            s.sendall(pack_command(COMMANDS["set_gain_mode"], 0))
            s.sendall(pack_command(COMMANDS["set_bias_tee"], 1) + bytes([0x7F, 0, 0, 0, 1]))  # no-op + unknown
            deadline = time.monotonic() + 5
            while len(rec.calls) < 4 and time.monotonic() < deadline:
                s.recv(65536)
        assert rec.calls == [("freq", 100e6), ("ppm", -12), ("gain", 4.0), ("gain", None)]
    finally:
        stop(server, thread)


def test_serving_clients_one_after_another(tone_file):
    source = open_receiver(f"file:{tone_file}?loop=1")
    server, thread = serve(source, pace=False)
    try:
        for _ in range(2):
            with open_receiver(f"rtltcp://127.0.0.1:{server.port}?settle=0") as rx:
                assert rx.read_raw(1000).shape == (2000,)
        deadline = time.monotonic() + 5
        while server.clients_served < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.clients_served == 2
    finally:
        stop(server, thread)
        source.close()


# ---- client against misbehaving peers ----------------------------------------------------------------------
def fake_server(handler, connections: int = 1):
    """A listening socket whose accepted connections are passed to handler(conn, index) in a thread."""
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]

    def run():
        with lsock:
            for i in range(connections):
                conn, _ = lsock.accept()
                with conn:
                    handler(conn, i)

    threading.Thread(target=run, daemon=True).start()
    return port


HEADER = struct.pack(">4sII", b"RTL0", 5, 29)


def test_unreachable_host_is_one_clear_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ReceiverUnavailable, match=rf"rtltcp://127\.0\.0\.1:{port}: cannot connect to rtl_tcp server"):
        open_receiver(f"rtltcp://127.0.0.1:{port}")


def test_unresolvable_host():
    with pytest.raises(ReceiverUnavailable, match="cannot resolve host 'no-such-host.invalid'"):
        open_receiver("rtltcp://no-such-host.invalid:1234?timeout=2")


def test_peer_that_is_not_rtl_tcp():
    port = fake_server(lambda conn, i: conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"))
    with pytest.raises(ReceiverUnavailable, match=r"peer is not an rtl_tcp server: expected .*b'RTL0', got b'HTTP/1.1 400'"):
        open_receiver(f"rtltcp://127.0.0.1:{port}?timeout=2")


def test_silent_peer_times_out():
    done = threading.Event()
    port = fake_server(lambda conn, i: done.wait(5))
    try:
        with pytest.raises(ReceiverUnavailable, match=r"no rtl_tcp header from the peer within 0\.3 s"):
            open_receiver(f"rtltcp://127.0.0.1:{port}?timeout=0.3")
    finally:
        done.set()


def test_reconnects_after_a_dropped_connection_and_resends_settings(monkeypatch):
    monkeypatch.setattr(RtlTcpReceiver, "backoff_initial_s", 0.01)
    received: list[bytes] = [b"", b""]
    finished = threading.Event()

    def handler(conn, i):
        conn.sendall(HEADER)
        conn.settimeout(0.3)
        if i == 0:
            try:
                while len(received[0]) < 10:  # the two commands sent before the read
                    received[0] += conn.recv(1024)
            except socket.timeout:
                pass
            conn.sendall(bytes(range(100)))  # 50 samples, then the connection drops
            return
        conn.sendall(np.full(4000, 7, np.uint8).tobytes())
        try:
            while chunk := conn.recv(1024):
                received[1] += chunk
        except (socket.timeout, OSError):
            pass
        finished.set()

    port = fake_server(handler, connections=2)
    with open_receiver(f"rtltcp://127.0.0.1:{port}?settle=0&timeout=2") as rx:
        rx.set_sample_rate(1.024e6)
        rx.set_center_freq(145.5e6)
        raw = rx.read_raw(1000)
        assert rx.reconnects == 1
    # the block is restarted after the reconnect: contiguous samples from the new connection only
    assert np.all(raw == 7)
    assert finished.wait(5)
    expected = pack_command(COMMANDS["set_sample_rate"], 1_024_000) + pack_command(COMMANDS["set_freq"], 145_500_000)
    assert received[0] == expected
    assert received[1].startswith(expected)


def test_gives_up_after_the_retries():
    def handler(conn, i):
        conn.sendall(HEADER + b"\x80" * 10)

    port = fake_server(handler, connections=1)
    RtlTcpReceiver.backoff_initial_s, saved = 0.01, RtlTcpReceiver.backoff_initial_s
    try:
        with open_receiver(f"rtltcp://127.0.0.1:{port}?settle=0&timeout=1&retries=2") as rx:
            with pytest.raises(ReceiverUnavailable, match=r"connection lost .* and 2 reconnect attempts failed"):
                rx.read_raw(1000)
    finally:
        RtlTcpReceiver.backoff_initial_s = saved


def test_read_timeout_on_a_stalled_stream(monkeypatch):
    monkeypatch.setattr(RtlTcpReceiver, "backoff_initial_s", 0.01)
    done = threading.Event()

    def handler(conn, i):
        conn.sendall(HEADER)
        done.wait(5)

    port = fake_server(handler, connections=1)
    try:
        with open_receiver(f"rtltcp://127.0.0.1:{port}?settle=0&timeout=0.2&retries=1") as rx:
            with pytest.raises(ReceiverUnavailable, match=r"connection lost \(no samples for 0\.2 s\)"):
                rx.read_raw(10)
    finally:
        done.set()


def test_client_rejects_bad_settings_and_uris():
    port = fake_server(lambda conn, i: (conn.sendall(HEADER), time.sleep(0.5)))
    with open_receiver(f"rtltcp://127.0.0.1:{port}") as rx:
        with pytest.raises(TuningError, match="sample rate 500000 S/s is not one the RTL2832U can give"):
            rx.set_sample_rate(500e3)
        with pytest.raises(TuningError, match="outside the tuning range 24.000-1766.000 MHz"):
            rx.set_center_freq(2.4e9)
    with pytest.raises(UsageError, match="names no host"):
        open_receiver("rtltcp://:1234")
    with pytest.raises(UsageError, match="unknown rtltcp option"):
        open_receiver("rtltcp://127.0.0.1:1?speed=1")


# ---- the CLI ---------------------------------------------------------------------------------------------
def _specmon(*args, **kw):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "station", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **kw)


def test_rtltcp_serve_command_warns_off_loopback_and_serves(tone_file):
    proc = _specmon("rtltcp-serve", "--source", f"file:{tone_file}", "--port", "0", "--host", "0.0.0.0",
                    "--max-clients", "1")
    try:
        line = proc.stdout.readline()
        assert "listening on 0.0.0.0:" in line, line + proc.stderr.read()
        port = int(line.split("listening on 0.0.0.0:")[1].split()[0])
        with open_receiver(f"rtltcp://127.0.0.1:{port}?settle=0") as rx:
            rx.set_sample_rate(250e3)
            x = rx.read(4096 * 8)
        assert peak_offset_hz(x, RATE) == pytest.approx(OFFSET, abs=RATE / 4096)
        assert proc.wait(timeout=20) == 0
        assert "rtl_tcp has no authentication" in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_rtltcp_serve_bad_arguments():
    proc = _specmon("rtltcp-serve", "--source", "nosuch://x", "--port", "0")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "unknown receiver URI scheme 'nosuch'" in err
    proc = _specmon("rtltcp-serve", "--source", "file:/nonexistent/x_100M_250k.cu8", "--port", "70000")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "--port 70000 is not a TCP port" in err


def test_simulated_city_over_rtl_tcp_shows_the_fm_station_at_its_offset():
    """fm-vov1 (90.000 MHz, -45 dBm, ~200 kHz WBFM) seen through the client tuned to 90.3 MHz: -300 kHz."""
    source = open_receiver("sim://city")
    source.set_sample_rate(1.024e6)
    source.set_center_freq(100e6)
    server, thread = serve(source)
    try:
        with open_receiver(f"rtltcp://127.0.0.1:{server.port}") as rx:
            rx.set_sample_rate(1.024e6)
            rx.set_center_freq(90.3e6)
            rx.set_gain(None)
            x = rx.read(1 << 17)
        assert source.center_freq_hz == 90.3e6 and source.sample_rate_hz == 1.024e6
    finally:
        stop(server, thread)
        source.close()
    nfft = 4096
    frames = x.reshape(-1, nfft)
    p = np.mean(np.abs(np.fft.fftshift(np.fft.fft(frames * np.hanning(nfft), axis=1), axes=1)) ** 2, axis=0)
    f = np.fft.fftshift(np.fft.fftfreq(nfft, 1 / 1.024e6))
    station = (f > -400e3) & (f < -200e3)
    empty = (f > 100e3) & (f < 300e3)  # 90.4-90.6 MHz: nothing on air in the city
    assert 10 * np.log10(p[station].sum() / p[empty].sum()) > 15
    off_dc = np.abs(f) > 10e3
    assert -400e3 < f[off_dc][np.argmax(p[off_dc])] < -200e3
