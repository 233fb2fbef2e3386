"""``specmon record`` (station/commands/record.py) and the unit parsers it uses (station/units.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from station.cli import main
from station.errors import UsageError
from station.receivers import open_receiver
from station.formats.sigmf import read_meta
from station.units import format_hz, parse_duration_s, parse_gain_db, parse_hz, parse_positive_hz
from tests.conftest import shared_file


# ---- units -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, hz", [
    ("433.92M", 433_920_000.0), ("250k", 250_000.0), ("2.4e6", 2_400_000.0), ("1.2G", 1.2e9), ("100", 100.0),
    ("868.3 MHz", 868_300_000.0), ("250kHz", 250_000.0), ("-62.5k", -62_500.0), (".5M", 500_000.0), (90e6, 90e6),
])
def test_parse_hz(text, hz):
    assert parse_hz(text) == pytest.approx(hz, rel=1e-15)


@pytest.mark.parametrize("text", ["", "M", "433.92X", "1.2.3M", "fast", "nan", "1e999", "12 M Hz x"])
def test_parse_hz_rejects(text):
    with pytest.raises(UsageError, match="--center-freq"):
        parse_hz(text, what="--center-freq")


def test_other_parsers():
    assert parse_positive_hz("1M") == 1e6
    with pytest.raises(UsageError, match="must be positive"):
        parse_positive_hz("-1M", what="--sample-rate")
    assert [parse_duration_s(t) for t in ("10", "1.5s", "250ms", "2min", "2m", "1h")] == [10, 1.5, 0.25, 120, 120,
                                                                                          3600]
    for bad in ("0", "-1", "soon", "5 parsecs"):
        with pytest.raises(UsageError, match="--duration"):
            parse_duration_s(bad, what="--duration")
    assert parse_gain_db("auto") is None and parse_gain_db(None) is None
    assert parse_gain_db("28.0") == 28.0 and parse_gain_db("49.6dB") == 49.6
    with pytest.raises(UsageError, match="'auto' or a gain in dB"):
        parse_gain_db("loud")
    assert format_hz(433_920_000) == "433.92M" and format_hz(250_000) == "250k" and format_hz(12) == "12"
    assert parse_hz(format_hz(446_006_250)) == 446_006_250


# ---- record ----------------------------------------------------------------------------------------------
def test_record_from_a_real_capture(tmp_path, capsys):
    src = shared_file("iq/rtl433t_nexus-th_433.92M_250k.cu8")
    out = tmp_path / "nexus"
    before = datetime.now(timezone.utc)
    rc = main(["record", "--source", f"file:{src}", "--center-freq", "433.92M", "--sample-rate", "250k",
               "--duration", "0.5", "--lat", "21.0285", "--lon", "105.8542", "--description", "test", str(out)])
    assert rc == 0
    assert "wrote" in capsys.readouterr().out
    rec = read_meta(out, verify_sha512=True)
    assert rec.datatype == "cu8" and rec.n_samples == 125000 and rec.sample_rate_hz == 250e3
    assert rec.center_freq_hz == 433.92e6
    assert before - timedelta(seconds=1) <= rec.start_utc <= datetime.now(timezone.utc)
    assert (rec.geolocation.lat_deg, rec.geolocation.lon_deg) == (21.0285, 105.8542)
    assert rec.hw == "raw cu8 recording rtl433t_nexus-th_433.92M_250k.cu8"
    assert rec.description == "test"
    # the samples are the capture's first 0.5 s, byte for byte
    assert (tmp_path / "nexus.sigmf-data").read_bytes() == src.read_bytes()[: 2 * 125000]


def test_record_converts_datatype_and_replays(tmp_path):
    src = tmp_path / "tone_100M_250k.cu8"
    t = np.arange(50000) / 250e3
    x = 0.5 * np.exp(2j * np.pi * 25e3 * t)
    from station.formats.sigmf import complex_to_native

    complex_to_native(x.astype(np.complex64), "cu8").tofile(src)
    assert main(["record", "--source", f"file:{src}", "--center-freq", "100M", "--sample-rate", "250k",
                 "--duration", "100ms", "--datatype", "ci16_le", str(tmp_path / "conv")]) == 0
    with open_receiver(f"file:{tmp_path / 'conv.sigmf-meta'}") as rx:
        assert rx.info.native_format == "cs16" and rx.n_samples == 25000
        y = rx.read(25000)
    assert np.max(np.abs(y - x[:25000])) < 1 / 127.5  # only the original 8-bit rounding


def test_record_from_the_simulator_with_gain(tmp_path):
    out = tmp_path / "sim"
    assert main(["record", "--source", "sim://city", "--center-freq", "446.00625M", "--sample-rate", "1.024M",
                 "--duration", "50ms", "--gain", "28", str(out)]) == 0
    rec = read_meta(out, verify_sha512=True)
    assert rec.n_samples == 51200 and rec.center_freq_hz == 446.00625e6
    doc = json.loads((tmp_path / "sim.sigmf-meta").read_text())
    assert doc["global"]["specmon:gain_db"] == 28.0
    assert doc["global"]["specmon:source"] == "sim://city"
    assert doc["global"]["core:hw"]


def test_record_geolocation_from_config(tmp_path):
    src = shared_file("iq/rtl433t_nexus-th_433.92M_250k.cu8")
    from pathlib import Path

    import station
    from station.config import load_config

    cfg_path = Path(station.__file__).parent / "data" / "demo.toml"
    st = load_config(cfg_path).station
    assert main(["record", "--source", f"file:{src}", "--center-freq", "433.92M", "--sample-rate", "250k",
                 "--duration", "10ms", "--config", str(cfg_path), str(tmp_path / "c")]) == 0
    geo = read_meta(tmp_path / "c").geolocation
    assert (geo.lat_deg, geo.lon_deg) == (st.latitude, st.longitude)


def test_record_keeps_the_samples_when_the_source_ends_early(tmp_path, capsys):
    src = tmp_path / "short_100M_250k.cu8"
    src.write_bytes(b"\x80" * 2000)  # 1000 samples = 4 ms
    rc = main(["record", "--source", f"file:{src}", "--center-freq", "100M", "--sample-rate", "250k",
               "--duration", "1", str(tmp_path / "short")])
    assert rc == 5
    assert read_meta(tmp_path / "short", verify_sha512=True).n_samples == 1000


@pytest.mark.parametrize("args, code, message", [
    (["--source", "nosuch://0"], 2, "unknown receiver URI scheme 'nosuch'"),
    (["--source", "file:/nonexistent/a_100M_250k.cu8"], 4, "/nonexistent/a_100M_250k.cu8: recording not found"),
    (["--center-freq", "433.92X"], 2, "--center-freq: cannot parse '433.92X'"),
    (["--center-freq", "2.4G", "--source", "sim://city"], 5, "outside the tuning range 24.000-1766.000 MHz"),
    (["--center-freq", "434.2M"], 5, "centre frequency 434.200000 MHz is outside the tuning range"),
    (["--duration", "0"], 2, "--duration: must be a positive duration"),
    (["--lat", "21"], 2, "--lat and --lon go together"),
    (["--lat", "95", "--lon", "0"], 2, "latitude 95.0 is outside"),
    (["--gain", "loud"], 2, "--gain: expected 'auto'"),
])
def test_record_bad_input_is_one_line_and_nonzero(tmp_path, capsys, args, code, message):
    src = tmp_path / "s_433.92M_250k.cu8"
    src.write_bytes(b"\x80" * 20000)
    base = {"--source": f"file:{src}", "--center-freq": "433.92M", "--sample-rate": "250k", "--duration": "0.01"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    argv = ["record"] + [x for kv in base.items() for x in kv] + [str(tmp_path / "out")]
    assert main(argv) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out.sigmf-meta").exists()


def test_record_refuses_to_overwrite_without_force(tmp_path, capsys):
    src = tmp_path / "s_433.92M_250k.cu8"
    src.write_bytes(b"\x80" * 20000)
    argv = ["record", "--source", f"file:{src}", "--center-freq", "433.92M", "--sample-rate", "250k",
            "--duration", "0.01", str(tmp_path / "o")]
    assert main(argv) == 0
    assert main(argv) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert main(argv[:-1] + ["--force", argv[-1]]) == 0
