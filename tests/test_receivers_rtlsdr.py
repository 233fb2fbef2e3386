"""rtlsdr:// receiver (station/receivers/rtlsdr.py).

The real import path is exercised as the machine allows: with pyrtlsdr + pyrtlsdrlib installed and no dongle
it must say "no RTL-SDR dongle found (serials found: none)"; without pyrtlsdr it must say how to install the
extra. The other failure modes (no library, a librtlsdr lacking a symbol, a busy dongle, a serial not found) and
the receiver logic (tuning, gains, chunked USB reads, re-open after a USB failure) run against a fake pyrtlsdr
module that behaves like pyrtlsdr 0.5's RtlSdr class.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types

import numpy as np
import pytest

from station.errors import ReceiverUnavailable, TuningError, UsageError
from station.receivers import open_receiver
from station.receivers.rtlsdr import RtlSdrReceiver


def _real_state() -> str:
    """'missing', 'broken' (library unusable), 'none' (no dongle) or 'present'."""
    if importlib.util.find_spec("rtlsdr") is None:
        return "missing"
    try:
        from rtlsdr import RtlSdr
    except (ImportError, AttributeError, OSError):
        return "broken"
    return "present" if RtlSdr.get_device_serial_addresses() else "none"


def test_real_import_path_gives_the_clear_error():
    state = _real_state()
    if state == "present":
        with open_receiver("rtlsdr://0") as rx:  # a dongle is plugged in: it must open and read
            assert rx.info.driver == "rtlsdr" and rx.read_raw(16384).shape == (32768,)
        return
    expected = {
        "missing": r"rtlsdr://0: pyrtlsdr is not installed; install the extra: pip install 'specmon\[rtlsdr\]'",
        "broken": r"rtlsdr://0: (librtlsdr could not be loaded|the librtlsdr found is unusable)",
        "none": r"rtlsdr://0: no RTL-SDR dongle found \(serials found: none\)",
    }[state]
    with pytest.raises(ReceiverUnavailable, match=expected):
        open_receiver("rtlsdr://0")


def test_cli_without_dongle_exits_with_one_line(tmp_path):
    if _real_state() == "present":
        pytest.skip("an RTL-SDR is plugged in")
    proc = subprocess.run([sys.executable, "-m", "station", "record", "--source", "rtlsdr://0", "--center-freq",
                           "100M", "--sample-rate", "2.4M", "--duration", "1", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 5
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("specmon record: error: rtlsdr://0: "), proc.stderr


def test_real_pyrtlsdr_without_pyrtlsdrlib():
    """The real pyrtlsdr loader with pyrtlsdrlib hidden: it falls back to the system librtlsdr, which is missing
    (library error), Debian's 0.6 (missing symbol) or a working one (then: no dongle / a dongle)."""
    if importlib.util.find_spec("rtlsdr") is None:
        pytest.skip("pyrtlsdr is not installed (the 'missing' case is covered by the test above)")
    code = ("import sys; sys.modules['pyrtlsdrlib'] = None\n"
            "from station.receivers import open_receiver\n"
            "try:\n    open_receiver('rtlsdr://0').close(); print('OPENED')\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    assert out == "OPENED" or out.startswith("ReceiverUnavailable rtlsdr://0: "), out
    assert ("librtlsdr could not be loaded" in out and "pip install 'specmon[rtlsdr]'" in out) or \
        "unusable with pyrtlsdr" in out or "no RTL-SDR dongle found" in out or out == "OPENED", out


def test_missing_pyrtlsdr(monkeypatch):
    monkeypatch.setitem(sys.modules, "rtlsdr", None)  # import rtlsdr -> ModuleNotFoundError
    with pytest.raises(ReceiverUnavailable, match=r"pyrtlsdr is not installed; install the extra: pip install"):
        open_receiver("rtlsdr://0")


@pytest.mark.parametrize("error, pattern", [
    ("ImportError('Error loading librtlsdr. Make sure librtlsdr is in your path')",
     r"librtlsdr could not be loaded \(Error loading librtlsdr.*pyrtlsdrlib"),
    ("AttributeError('/lib/x86_64-linux-gnu/librtlsdr.so.0: undefined symbol: rtlsdr_set_dithering')",
     r"the librtlsdr found is unusable with pyrtlsdr \(.*undefined symbol: rtlsdr_set_dithering\).*specmon\[rtlsdr\]"),
])
def test_unusable_librtlsdr(monkeypatch, tmp_path, error, pattern):
    pkg = tmp_path / "rtlsdr"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(f"raise {error}\n")
    monkeypatch.delitem(sys.modules, "rtlsdr", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ReceiverUnavailable, match=pattern):
        open_receiver("rtlsdr://0")


# ---- a fake pyrtlsdr -------------------------------------------------------------------------------------
class FakeRtlSdr:
    """Mimics pyrtlsdr 0.5's RtlSdr: defaults 102.2 MHz / 1.024 MS/s, gains in tenths, read_bytes buffer."""

    serials: list[str] = ["00000001", "SPECMON2"]
    busy: set[int] = set()
    fail_reads = 0  # the next N read_bytes calls raise (and close, as pyrtlsdr does)
    opened: list[int] = []
    instances: list = []

    @staticmethod
    def get_device_serial_addresses():
        return list(FakeRtlSdr.serials)

    def __init__(self, device_index=0):
        if device_index in FakeRtlSdr.busy:
            raise OSError("<LIBUSB_ERROR_BUSY (-6)> Could not open SDR (device index = %d)" % device_index)
        FakeRtlSdr.opened.append(device_index)
        FakeRtlSdr.instances.append(self)
        self.calls: list[tuple] = []
        self.freq, self.rate, self.gain, self.ppm = 102_200_000, 1_024_000, 0, 0
        self.counter = 0
        self.closed = False

    def get_tuner_type(self):
        return 5

    def get_gains(self):
        return [0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166, 197, 207, 229, 254, 280, 297, 328, 338, 364, 372, 386,
                402, 421, 434, 439, 445, 480, 496]

    def get_center_freq(self):
        return round(self.freq, -3)

    def set_center_freq(self, f):
        self.calls.append(("freq", f))
        self.freq = f

    def get_sample_rate(self):
        return 2_400_000.0 if self.rate == 2_400_000 else self.rate + 0.25

    def set_sample_rate(self, r):
        self.calls.append(("rate", r))
        self.rate = r

    def set_manual_gain_enabled(self, on):
        self.calls.append(("manual", on))

    def set_gain(self, g):
        self.calls.append(("gain", g))
        self.gain = g

    def get_gain(self):
        return self.gain

    def set_freq_correction(self, ppm):
        if ppm == self.ppm:
            raise OSError("LIBUSB_ERROR (-2) Could not set freq. offset")  # librtlsdr's 'unchanged' error
        self.calls.append(("ppm", ppm))
        self.ppm = ppm

    def set_agc_mode(self, on):
        self.calls.append(("agc", on))

    def read_bytes(self, n):
        assert n % 512 == 0, "librtlsdr sync reads must be multiples of 512 bytes"
        if FakeRtlSdr.fail_reads:
            FakeRtlSdr.fail_reads -= 1
            self.closed = True
            raise OSError("<LIBUSB_ERROR_IO (-1)> Could not read %d bytes" % n)
        out = (np.arange(self.counter, self.counter + n) % 256).astype(np.uint8)
        self.counter += n
        return (np.ctypeslib.as_ctypes(out))

    def close(self):
        self.closed = True


@pytest.fixture
def fake(monkeypatch):
    module = types.ModuleType("rtlsdr")
    module.RtlSdr = FakeRtlSdr
    monkeypatch.setitem(sys.modules, "rtlsdr", module)
    monkeypatch.setattr(FakeRtlSdr, "serials", ["00000001", "SPECMON2"])
    monkeypatch.setattr(FakeRtlSdr, "busy", set())
    monkeypatch.setattr(FakeRtlSdr, "fail_reads", 0)
    monkeypatch.setattr(FakeRtlSdr, "opened", [])
    monkeypatch.setattr(FakeRtlSdr, "instances", [])
    return FakeRtlSdr


def test_open_by_index_and_serial(fake):
    with open_receiver("rtlsdr://1") as rx:
        assert isinstance(rx, RtlSdrReceiver)
        assert rx.info.hw == "RTL2832U/R820T serial SPECMON2 (device #1)"
        assert rx.info.tuner == "R820T" and rx.info.tuning_range_hz == (24e6, 1766e6)
        assert rx.info.gains_db[-1] == 49.6
        assert rx.center_freq_hz == 102.2e6 and rx.sample_rate_hz == 1_024_000.25
    with open_receiver("rtlsdr://?serial=SPECMON2") as rx:
        assert rx.index == 1
    with open_receiver("rtlsdr://") as rx:
        assert rx.index == 0
    assert fake.opened == [1, 1, 0]


def test_device_errors_list_the_serials_found(fake):
    with pytest.raises(ReceiverUnavailable, match=r"no RTL-SDR device #2 \(found: #0 serial '00000001', "
                                                   r"#1 serial 'SPECMON2'\)"):
        open_receiver("rtlsdr://2")
    with pytest.raises(ReceiverUnavailable, match=r"no RTL-SDR with serial 'XYZ' \(found: #0 serial '00000001'"):
        open_receiver("rtlsdr://?serial=XYZ")
    fake.busy = {0}
    with pytest.raises(ReceiverUnavailable, match=r"RTL-SDR #0 \(serial '00000001'\) found but cannot be opened "
                                                   r"\(.*BUSY.*\); is another program"):
        open_receiver("rtlsdr://0")
    fake.serials = []
    with pytest.raises(ReceiverUnavailable, match=r"no RTL-SDR dongle found \(serials found: none\)"):
        open_receiver("rtlsdr://0")


def test_bad_uris(fake):
    with pytest.raises(UsageError, match="device index 'abc' is not a number"):
        open_receiver("rtlsdr://abc")
    with pytest.raises(UsageError, match="either a device index or \\?serial="):
        open_receiver("rtlsdr://0?serial=X")
    with pytest.raises(UsageError, match="unknown rtlsdr option"):
        open_receiver("rtlsdr://0?bias=1")


def test_tuning_gain_ppm(fake):
    with open_receiver("rtlsdr://0?settle=0") as rx:
        dev = fake.instances[-1]
        assert rx.set_sample_rate(2.4e6) == 2.4e6
        assert rx.set_center_freq(446.00625e6) == 446_006_250.0  # not pyrtlsdr's kHz-rounded getter
        assert rx.set_gain(30) == 29.7  # nearest R820T step
        assert rx.set_gain(None) is None
        rx.set_ppm(0)  # unchanged: must not reach librtlsdr (which would fail)
        rx.set_ppm(-7)
        assert dev.calls == [("rate", 2400000), ("freq", 446006250), ("manual", True), ("gain", 29.7),
                             ("manual", False), ("ppm", -7)]
        with pytest.raises(TuningError, match="sample rate 500000 S/s is not one the RTL2832U can give"):
            rx.set_sample_rate(500e3)
        with pytest.raises(TuningError, match="outside the tuning range"):
            rx.set_center_freq(10e6)


def test_reads_are_exact_contiguous_and_in_usb_sized_chunks(fake):
    with open_receiver("rtlsdr://0?settle=100") as rx:
        rx.set_center_freq(100e6)
        a = rx.read_raw(1000)  # 100 settling samples dropped first
        b = rx.read_raw(300)
    expected = (np.arange(200, 200 + 2600) % 256).astype(np.uint8)
    assert np.array_equal(np.concatenate([a, b]), expected)


def test_reopens_after_a_usb_failure_and_reapplies_settings(fake):
    with open_receiver("rtlsdr://?serial=SPECMON2&settle=0") as rx:
        rx.set_sample_rate(2.4e6)
        rx.set_center_freq(145.5e6)
        rx.set_gain(20.7)
        fake.fail_reads = 1
        raw = rx.read_raw(1000)
        assert raw.shape == (2000,) and rx.reopens == 1
        new = fake.instances[-1]
        assert new.calls == [("rate", 2400000), ("freq", 145500000), ("manual", True), ("gain", 20.7)]
        fake.fail_reads = 2
        with pytest.raises(ReceiverUnavailable, match="USB read failed again after re-opening the dongle"):
            rx.read_raw(1000)
