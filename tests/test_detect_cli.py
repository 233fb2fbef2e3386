"""``specmon detect``: JSON and table output on recordings, sweep logs, and one-line errors for bad input."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from station.cli import main
from tests.conftest import shared_file
from tests.detect_helpers import noise_iq, tone

FS = 250e3


def write_cu8(path, x: np.ndarray) -> None:
    raw = np.empty(2 * x.size)
    raw[0::2], raw[1::2] = x.real, x.imag
    np.clip(np.round(raw * 127.5 + 127.5), 0, 255).astype(np.uint8).tofile(path)


@pytest.fixture
def recording(tmp_path):
    n = int(0.4 * FS)
    x = noise_iq(1, n, power=3e-3) + tone(n, FS, 40e3, 3e-3)
    on = np.zeros(n, np.float32)
    on[int(0.1 * FS): int(0.12 * FS)] = 1  # a 20 ms burst at -60 kHz
    x = x + on * tone(n, FS, -60e3, 1e-2)
    path = tmp_path / "g001_433.92M_250k.cu8"
    write_cu8(path, x)
    return path


def test_json_output_has_the_documented_fields(recording, capsys):
    assert main(["detect", str(recording), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["spectrum"]["center_hz"] == 433.92e6 and doc["spectrum"]["sample_rate_hz"] == FS
    em = doc["emissions"]
    assert len(em) == 2
    for e in em:
        for key in ("center_hz", "bandwidth_hz", "power_dbfs", "snr_db", "occupancy", "first_seen", "last_seen",
                    "artifact"):
            assert key in e
        assert datetime.fromisoformat(e["first_seen"]).utcoffset().total_seconds() == 0
    burst, cw = em
    assert burst["center_hz"] == pytest.approx(433.86e6, abs=500)
    assert burst["occupancy"] < 0.1 and burst["n_bursts"] == 1
    assert cw["center_hz"] == pytest.approx(433.96e6, abs=300) and cw["occupancy"] == 1.0


def test_table_output(recording, capsys):
    assert main(["detect", str(recording), "--nfft", "512"]) == 0
    out = capsys.readouterr().out
    assert "2 emission(s)" in out and "centre MHz" in out
    assert any(line.split()[0].startswith(("433.959", "433.960")) for line in out.splitlines()[2:])


def test_raw_file_without_rate_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "capture.cu8"
    write_cu8(path, noise_iq(2, 4096))
    assert main(["detect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "capture.cu8" in err and "rate" in err and len(err.strip().splitlines()) == 1
    # given on the command line it works
    assert main(["detect", str(path), "--sample-rate", "250k", "--center-freq", "433.92M", "--nfft", "256"]) == 0


@pytest.mark.parametrize("argv,code,words", [
    (["--pfa", "2"], 2, "--pfa"),
    (["--nfft", "4"], 2, "--nfft"),
    (["--overlap", "0.95"], 2, "--overlap"),
])
def test_bad_arguments(recording, capsys, argv, code, words):
    assert main(["detect", str(recording), *argv]) == code
    assert words in capsys.readouterr().err


def test_missing_and_truncated_files_are_data_errors(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "nope_433.92M_250k.cu8")]) == 4
    assert "not found" in capsys.readouterr().err
    bad = tmp_path / "odd_433.92M_250k.cu8"
    bad.write_bytes(b"\x80" * 4097)
    assert main(["detect", str(bad)]) == 4
    assert "truncated" in capsys.readouterr().err
    short = tmp_path / "short_433.92M_250k.cu8"
    short.write_bytes(b"\x80" * 200)
    assert main(["detect", str(short)]) == 4
    assert "fewer than one FFT frame" in capsys.readouterr().err


def test_sweep_log_is_tracked_across_sweeps(capsys):
    path = shared_file("sweeps/rtlpower_1380-1390M_78kHz_30sweeps.csv")
    assert main(["detect", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["spectrum"]["n_sweeps"] == 30
    strongest = max(doc["emissions"], key=lambda e: e["snr_db"])
    # the README's strongest line, 1382.42 MHz, seen in every sweep
    assert strongest["center_hz"] == pytest.approx(1382.42e6, abs=100e3)
    assert strongest["n_obs"] == 30 and strongest["occupancy"] == 1.0
    assert strongest["track_id"].startswith("trk-1382")


def test_min_snr_option_drops_weaker_emissions(capsys):
    """--min-snr keeps only emissions at or over the given in-band SNR (the detector's Pfa stays the gate)."""
    import json

    from station.cli import main
    from tests.conftest import shared_file

    path = shared_file("iq/rtl433t_valeo-carkey_433.92M_250k.cu8")
    assert main(["detect", str(path), "--json", "--keep-artifacts"]) == 0
    every = json.loads(capsys.readouterr().out)["emissions"]
    assert main(["detect", str(path), "--json", "--keep-artifacts", "--min-snr", "6"]) == 0
    strong = json.loads(capsys.readouterr().out)["emissions"]
    assert 0 < len(strong) < len(every)
    assert all(e["snr_db"] >= 6 for e in strong)
