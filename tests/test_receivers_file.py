"""file: receiver (station/receivers/file.py): SigMF and raw replay, rtl_433 names, real captures, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from station.errors import DataError, EndOfRecording, TuningError, UsageError
from station.receivers import open_receiver
from station.receivers.file import FileReceiver, parse_rtl433_name
from station.formats.sigmf import complex_to_native, write_recording
from tests.conftest import shared_file

RATE = 250e3
CENTER = 433.92e6
OFFSET = 31.25e3  # an exact bin of a 4096-point FFT at 250 kS/s: 512 bins above the centre


def tone(n: int, offset_hz: float = OFFSET, amplitude: float = 0.5, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    noise = 0.01 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return (amplitude * np.exp(2j * np.pi * offset_hz * t) + noise).astype(np.complex64)


def peak_hz(rx, n: int = 4096 * 8, nfft: int = 4096) -> tuple[float, float]:
    """(RF frequency of the strongest bin, its level in dBFS) from a Hann-windowed averaged FFT."""
    x = rx.read(n).reshape(-1, nfft)
    w = np.hanning(nfft)
    p = np.mean(np.abs(np.fft.fftshift(np.fft.fft(x * w, axis=1), axes=1)) ** 2, axis=0) / np.sum(w) ** 2
    f = rx.center_freq_hz + np.fft.fftshift(np.fft.fftfreq(nfft, 1 / rx.sample_rate_hz))
    i = int(np.argmax(p))
    return float(f[i]), float(10 * np.log10(p[i]))


@pytest.mark.parametrize("datatype", ["cu8", "ci8", "ci16_le", "cf32_le"])
def test_every_sigmf_datatype_replays_the_tone_at_its_frequency(tmp_path, datatype):
    write_recording(tmp_path / "t", tone(40000), datatype=datatype, sample_rate_hz=RATE, center_freq_hz=CENTER)
    with open_receiver(f"file:{tmp_path / 't.sigmf-meta'}") as rx:
        assert isinstance(rx, FileReceiver)
        assert rx.center_freq_hz == CENTER and rx.sample_rate_hz == RATE
        assert rx.info.native_format == {"cu8": "cu8", "ci8": "cs8", "ci16_le": "cs16", "cf32_le": "cf32"}[datatype]
        f, level = peak_hz(rx)
    assert f == pytest.approx(CENTER + OFFSET, abs=RATE / 4096 / 2)
    assert level == pytest.approx(20 * np.log10(0.5), abs=0.3)  # amplitude 0.5 -> -6.02 dBFS


@pytest.mark.parametrize("fmt", ["cu8", "cs8", "cs16", "cf32"])
def test_raw_files_with_rtl433_names(tmp_path, fmt):
    path = tmp_path / f"g001_433.92M_250k.{fmt}"
    complex_to_native(tone(40000), fmt).tofile(path)
    with open_receiver(f"file:{path}") as rx:
        assert (rx.center_freq_hz, rx.sample_rate_hz) == (433.92e6, 250e3)
        f, _ = peak_hz(rx)
    assert f == pytest.approx(CENTER + OFFSET, abs=RATE / 4096 / 2)


def test_rtl433_name_parsing():
    assert parse_rtl433_name("g001_433.92M_250k.cu8") == (433.92e6, 250e3)
    assert parse_rtl433_name("rtl433t_ec3k_868.3M_250k.cu8") == (868.3e6, 250e3)
    assert parse_rtl433_name("dump1090_modes1_1090M_2000k.cu8") == (1090e6, 2000e3)
    assert parse_rtl433_name("rtl433t_cardin-s466_27.195M_250k.cu8") == (27.195e6, 250e3)
    assert parse_rtl433_name("capture_1.024M.cs16") == (None, 1.024e6)
    assert parse_rtl433_name("my_capture.cu8") == (None, None)


def test_options_override_the_name_and_untyped_extension(tmp_path):
    path = tmp_path / "capture.bin"
    complex_to_native(tone(20000, offset_hz=-2 * OFFSET), "cs16").tofile(path)
    with open_receiver(f"file:{path}?format=cs16&rate=250k&freq=100M") as rx:
        assert rx.center_freq_hz == 100e6
        f, _ = peak_hz(rx, n=4096 * 4)
    assert f == pytest.approx(100e6 - 2 * OFFSET, abs=RATE / 4096 / 2)
    # keyword options work like query options
    with open_receiver(f"file:{path}", format="cs16", rate=250e3, freq="100M") as rx:
        assert rx.center_freq_hz == 100e6


def test_tuning_inside_the_band_reports_the_recorded_centre(tmp_path):
    write_recording(tmp_path / "t", tone(5000), datatype="cu8", sample_rate_hz=RATE, center_freq_hz=CENTER)
    with open_receiver(f"file:{tmp_path / 't.sigmf'}") as rx:
        assert rx.set_center_freq(CENTER + 100e3) == CENTER
        assert rx.set_sample_rate(2.4e6) == RATE  # cannot resample: reports the recorded rate
        with pytest.raises(TuningError, match=r"t\.sigmf: centre frequency 434\.100000 MHz is outside"):
            rx.set_center_freq(434.1e6)
        with pytest.raises(TuningError, match="outside the tuning range"):
            rx.set_center_freq(100e6)


def test_end_of_recording_raises_or_loops(tmp_path):
    path = tmp_path / "x_100M_250k.cu8"
    raw = np.arange(2000, dtype=np.uint16).astype(np.uint8)
    raw.tofile(path)
    with open_receiver(f"file:{path}") as rx:
        assert np.array_equal(rx.read_raw(600), raw[:1200])
        with pytest.raises(EndOfRecording, match=r"end of recording after 1000 samples.*loop=1"):
            rx.read_raw(600)
    with open_receiver(f"file:{path}?loop=1") as rx:
        rx.read_raw(600)
        got = rx.read_raw(600)  # 400 to the end, then 200 from the start
        assert np.array_equal(got, np.concatenate([raw[1200:], raw[:400]]))


def test_settle_option_drops_samples_after_retune(tmp_path):
    path = tmp_path / "x_100M_250k.cu8"
    raw = np.arange(2000, dtype=np.uint16).astype(np.uint8)
    raw.tofile(path)
    with open_receiver(f"file:{path}?settle=10") as rx:
        rx.set_center_freq(100e6)
        assert np.array_equal(rx.read_raw(5), raw[20:30])


# ---- real captures from ../shared/data/iq ------------------------------------------------------------------
@pytest.mark.parametrize("name, offset_hz", [
    ("rtl433t_lacrosse-tx7u_433.92M_250k.cu8", 95.7e3),
    ("rtl433t_nexus-th_433.92M_250k.cu8", 77.6e3),
    ("dump1090_modes1_1090M_2000k.cu8", -66e3),
])
def test_real_captures_open_and_show_their_known_line(name, offset_hz):
    path = shared_file(f"iq/{name}")
    with open_receiver(f"file:{path}") as rx:
        assert rx.info.native_format == "cu8"
        center, rate = parse_rtl433_name(name)
        assert (rx.center_freq_hz, rx.sample_rate_hz) == (center, rate)
        x = rx.read(rx.n_samples - rx.n_samples % 4096).reshape(-1, 4096)
    x = x - x.mean()
    maxhold = (np.abs(np.fft.fftshift(np.fft.fft(x * np.hanning(4096), axis=1), axes=1)) ** 2).max(axis=0)
    f = np.fft.fftshift(np.fft.fftfreq(4096, 1 / rate))
    assert f[int(np.argmax(maxhold))] == pytest.approx(offset_hz, abs=2e3)


def test_every_real_capture_reads(shared_data):
    files = sorted((shared_data / "iq").glob("*.cu8"))
    assert files
    for path in files:
        with open_receiver(f"file:{path}") as rx:
            assert rx.n_samples == path.stat().st_size // 2
            raw = rx.read_raw(min(rx.n_samples, 65536))
            assert raw.dtype == np.uint8 and 60 < raw.mean() < 195, path.name


# ---- bad inputs ------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nothere_433.92M_250k\.cu8: recording not found"):
        open_receiver(f"file:{tmp_path / 'nothere_433.92M_250k.cu8'}")
    with pytest.raises(DataError, match="SigMF metadata file not found"):
        open_receiver(f"file:{tmp_path / 'nothere.sigmf-meta'}")


def test_truncated_and_empty_raw_files(tmp_path):
    (tmp_path / "a_100M_250k.cs16").write_bytes(b"\0" * 7)
    with pytest.raises(DataError, match=r"a_100M_250k\.cs16: recording is truncated: 7 bytes"):
        open_receiver(f"file:{tmp_path / 'a_100M_250k.cs16'}")
    (tmp_path / "e_100M_250k.cu8").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        open_receiver(f"file:{tmp_path / 'e_100M_250k.cu8'}")


def test_truncated_sigmf_pair(tmp_path):
    write_recording(tmp_path / "t", tone(1000), datatype="ci16_le", sample_rate_hz=RATE, center_freq_hz=CENTER)
    data = tmp_path / "t.sigmf-data"
    data.write_bytes(data.read_bytes()[:-4])  # whole samples lost: only the checksum can tell
    with pytest.raises(DataError, match=r"t\.sigmf-data: data file does not match core:sha512"):
        open_receiver(f"file:{tmp_path / 't.sigmf-meta'}")
    with open_receiver(f"file:{tmp_path / 't.sigmf-meta'}?verify=0") as rx:  # the user may accept it
        assert rx.n_samples == 999


def test_unsupported_sigmf_datatype(tmp_path):
    (tmp_path / "u.sigmf-meta").write_text('{"global": {"core:datatype": "cu16_le", "core:sample_rate": 1e6}, '
                                           '"captures": [{"core:sample_start": 0, "core:frequency": 1e8}]}')
    (tmp_path / "u.sigmf-data").write_bytes(b"\0" * 16)
    with pytest.raises(DataError, match="unsupported SigMF datatype 'cu16_le'"):
        open_receiver(f"file:{tmp_path / 'u.sigmf-meta'}")


def test_unsupported_raw_format_and_missing_rate(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"\0" * 16)
    with pytest.raises(DataError, match="unsupported recording type '.wav'"):
        open_receiver(f"file:{tmp_path / 'x.wav'}")
    (tmp_path / "x.raw").write_bytes(b"\0" * 16)
    with pytest.raises(DataError, match="unsupported sample format 'cu4'"):
        open_receiver(f"file:{tmp_path / 'x.raw'}?format=cu4")
    (tmp_path / "plain.cu8").write_bytes(b"\0" * 16)
    with pytest.raises(UsageError, match="does not say its freq and rate"):
        open_receiver(f"file:{tmp_path / 'plain.cu8'}")
    with pytest.raises(UsageError, match="unknown file option"):
        open_receiver(f"file:{tmp_path / 'plain.cu8'}?rate=1M&freq=1G&speed=2")
    with pytest.raises(UsageError, match="rate option"):
        open_receiver(f"file:{tmp_path / 'plain.cu8'}?rate=fast&freq=1G")


def test_uri_forms(tmp_path, monkeypatch):
    path = tmp_path / "u_100M_250k.cu8"
    path.write_bytes(b"\x80" * 64)
    for uri in (f"file:{path}", f"file://{path}", f"file://localhost{path}"):
        with open_receiver(uri) as rx:
            assert rx.path == path and rx.n_samples == 32
    monkeypatch.chdir(tmp_path)
    with open_receiver("file:u_100M_250k.cu8") as rx:  # relative to the working directory
        assert rx.n_samples == 32
    with pytest.raises(UsageError, match="names no file"):
        open_receiver("file:")
    with pytest.raises(UsageError, match="option loop='maybe' must be 1/0/true/false"):
        open_receiver(f"file:{path}?loop=maybe")
    with pytest.raises(UsageError, match="format= applies to raw files"):
        write_recording(tmp_path / "s", tone(10), datatype="cu8", sample_rate_hz=RATE, center_freq_hz=CENTER)
        open_receiver(f"file:{tmp_path / 's.sigmf-meta'}?format=cu8")


def test_sigmf_header_bytes_are_skipped(tmp_path):
    raw = np.arange(40, dtype=np.uint8)
    (tmp_path / "h.sigmf-data").write_bytes(b"HEADER!!" + raw.tobytes())
    (tmp_path / "h.sigmf-meta").write_text(
        '{"global": {"core:datatype": "cu8", "core:sample_rate": 250000, "core:version": "1.2.0"}, '
        '"captures": [{"core:sample_start": 0, "core:frequency": 433.92e6, "core:header_bytes": 8}]}')
    with open_receiver(f"file:{tmp_path / 'h.sigmf-meta'}") as rx:
        assert rx.n_samples == 20
        assert np.array_equal(rx.read_raw(20), raw)
