"""station.formats.sweepio and the sweep/import/plot CLI: rtl_power byte compatibility, real logs, round trips, errors."""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from station.cli import main
from station.errors import DataError, UsageError
from station.sweep import SweepPlan, run_sweep
from station.formats.sweepio import (
    format_rtl_power,
    iter_csv_sweeps,
    parse_tz,
    read_json_lines,
    read_npz,
    read_sweeps,
    write_json_lines,
    write_npz,
)

from .conftest import shared_file
from .sweep_fakes import InstantReceiver

ROW_RE = re.compile(r"^\d{4}-\d{2}-\d{2}, \d{2}:\d{2}:\d{2}, \d+, \d+, \d+\.\d{2}, \d+(, -?\d+\.\d{2})+$")


def swept(tones=((100.3e6, 0.1),), **kw):
    rx = InstantReceiver(tones=list(tones), noise_rms=0.01)
    return run_sweep(rx, SweepPlan.make([(100e6, 103e6)], 10e3, 2.4e6, 0.01, **kw))[0].spectrum


def test_rtl_power_rows_have_rtl_power_layout():
    s = swept()
    text = format_rtl_power(s)
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == s.hop_centers_hz.shape[0]
    total = 0
    for line in lines:
        assert ROW_RE.match(line), line
        f = line.split(", ")
        low, high, step = int(f[2]), int(f[3]), float(f[4])
        values = f[6:]
        assert values[-1] == values[-2]  # rtl_power repeats the last bin
        assert len(values) - 1 == round((high - low) / step)
        total += len(values) - 1
    assert total == s.n_bins
    t = s.start_utc
    assert lines[0].startswith(f"{t:%Y-%m-%d, %H:%M:%S}, ")


def test_written_csv_reads_back_to_the_same_values(tmp_path):
    s = swept()
    path = tmp_path / "x.csv"
    path.write_text(format_rtl_power(s))
    [back] = read_sweeps(path)
    assert back.meta["format"] == "rtl_power"
    np.testing.assert_allclose(back.freqs_hz, s.freqs_hz, atol=1.0)
    np.testing.assert_allclose(back.psd_dbfs_hz, s.psd_dbfs_hz, atol=0.006)  # %.2f rounding
    assert back.start_utc == s.start_utc.replace(microsecond=0)
    assert back.bin_hz == pytest.approx(s.bin_hz)


@pytest.mark.parametrize(
    "name",
    ["rtlpower_gsm900_890-900M_78kHz_30sweeps.csv", "rtlpower_1380-1390M_78kHz_30sweeps.csv",
     "rtlpower_80-1000M_1MHz_7sweeps.csv"],
)
def test_real_rtl_power_file_reexports_byte_for_byte(name):
    path = shared_file(f"sweeps/{name}")
    spectra = read_sweeps(path)
    assert "".join(format_rtl_power(s) for s in spectra) == path.read_text()


def test_real_gsm900_known_values():
    path = shared_file("sweeps/rtlpower_gsm900_890-900M_78kHz_30sweeps.csv")
    spectra = read_sweeps(path)
    assert len(spectra) == 30
    s = spectra[0]
    assert s.n_bins == 128 and s.bin_hz == 78125.0 and s.meta["rows"] == 8
    assert s.start_utc == datetime(2022, 8, 11, 11, 38, 20, tzinfo=UTC)
    assert spectra[-1].start_utc.strftime("%H:%M:%S") == "11:39:18"
    # first row: "890000000, 891250000, 78125.00, 1024, -25.98, -25.92, ..."
    assert s.freqs_hz[0] == 890e6 and s.freqs_hz[1] == 890078125.0
    assert s.psd_dbfs_hz[0] + 10 * np.log10(78125) == pytest.approx(-25.98)
    per_bin = s.psd_dbfs_hz + 10 * np.log10(s.bin_hz)
    assert s.freqs_hz[np.argmax(per_bin)] == pytest.approx(892.8125e6)  # the line at 892.81 MHz
    assert s.n_frames == 1024


def test_real_files_variants():
    nospace = read_sweeps(shared_file("sweeps/rtlpower_nospaces_24-27M_1MHz_1sweep.csv"))
    assert len(nospace) == 1 and nospace[0].n_bins == 3
    per_bin = nospace[0].psd_dbfs_hz + 60.0
    np.testing.assert_allclose(per_bin, [-24.14, -24.15, 14.07])
    wide = read_sweeps(shared_file("sweeps/rtlpower_80-1000M_1MHz_7sweeps.csv"))
    assert len(wide) == 7 and all(s.n_bins == 920 for s in wide)
    f_peak = wide[0].freqs_hz[np.argmax(wide[0].psd_dbfs_hz)]
    assert 802e6 <= f_peak <= 811e6 or 925e6 <= f_peak <= 960e6  # LTE-800 or GSM-900 downlink
    fm = read_sweeps(shared_file("sweeps/rtlpower_fm-band_80-100M_9.8kHz_60sweeps_brazil_20210614.csv"))
    assert len(fm) == 60 and fm[0].n_bins == 2048 and np.all(np.diff(fm[0].freqs_hz) > 0)


def test_real_hackrf_sweep_unordered_rows():
    [s] = read_sweeps(shared_file("sweeps/hackrf_sweep_2300-2500M_98kHz_1sweep.csv"))
    assert s.meta["format"] == "hackrf_sweep" and s.meta["rows"] == 40
    assert s.n_bins == 40 * 51 and np.all(np.diff(s.freqs_hz) > 0)
    assert s.f_lo_hz == pytest.approx(2300e6) and s.f_hi_hz == pytest.approx(2500e6, abs=1)
    assert s.start_utc == datetime(2019, 7, 8, 13, 22, 53, 532179, tzinfo=UTC)
    assert s.meta["gaps_hz"] == []
    assert s.nfft == 204 and s.sample_rate_hz == pytest.approx(20e6, rel=1e-6)  # hackrf_sweep's 20 MS/s FFT
    assert s.psd_dbfs_hz[0] + 10 * np.log10(s.bin_hz) == pytest.approx(-58.75)  # first value of the first row


def test_soapy_power_float_columns_gzip_and_tz(tmp_path):
    rows = [
        "2017-03-04, 12:00:00, 88000000.0, 88004000.0, 1000.0, 100, -50.123456, -51.0, -52.0, -53.0",
        "2017-03-04, 12:00:00, 88004000.0, 88008000.0, 1000.0, 100, -60.0, -61.0, -62.0, -63.0",
        "2017-03-04, 12:00:05, 88000000.0, 88004000.0, 1000.0, 100, -40.0, -41.0, -42.0, -43.0",
    ]
    path = tmp_path / "soapy.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(rows) + "\n")
    a, b = read_sweeps(path, tz="+07:00")
    assert a.meta["format"] == "soapy_power" and a.n_bins == 8 and b.n_bins == 4
    assert a.start_utc == datetime(2017, 3, 4, 5, 0, 0, tzinfo=UTC)
    assert a.psd_dbfs_hz[0] == pytest.approx(-50.123456 - 30.0)
    np.testing.assert_allclose(a.freqs_hz[:2], [88000000.0, 88001000.0])
    hn = parse_tz("Asia/Ho_Chi_Minh")
    assert datetime(2017, 1, 1, tzinfo=hn).utcoffset() == timedelta(hours=7)
    with pytest.raises(UsageError, match="unknown time zone"):
        parse_tz("Mars/Olympus")


@pytest.mark.parametrize(
    "line,col,message",
    [
        ("2021-06-14, 14:25:44, 80000000, 82500000, 19531.25", 1, "at least 7 columns"),
        ("2021-13-45, 14:25:44, 80000000, 80002000, 1000.00, 1, -1.0, -1.0, -1.0", 1, "impossible date"),
        ("2021-06-14, 14:2:44, 80000000, 80002000, 1000.00, 1, -1.0, -1.0, -1.0", 13, "bad time"),
        ("2021-06-14, 14:25:44, 80000000, 80002000, 1000.00, 1, -1.0, abc, -1.0", 61, "'abc' is not a number"),
        ("2021-06-14, 14:25:44, 80000000, 80002000, 1000.00, 1, -1.0, -1.0, -1.0, -1.0, -1.0", 55, "imply 2 bins"),
        ("2021-06-14, 14:25:44, 80002000, 80000000, 1000.00, 1, -1.0, -1.0, -1.0", 33, "not above Hz low"),
        ("2021-06-14, 14:25:44, 80000000, 80002000, 0, 1, -1.0, -1.0, -1.0", 43, "Hz step '0'"),
        ("2021-06-14, 14:25:44, 80000000, 80002000, 1000.00, 1, -1.0, -1.0,", 66, "empty dB value"),
    ],
)
def test_malformed_line_names_file_line_col(tmp_path, line, col, message):
    good = "2021-06-14, 14:25:44, 79998000, 80000000, 1000.00, 1, -2.0, -2.0, -2.0"
    path = tmp_path / "bad.csv"
    path.write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError, match=re.escape(f"{path}:2:{col}: ") + ".*" + re.escape(message)):
        read_sweeps(path)
    bad: list[str] = []
    assert len(list(iter_csv_sweeps(path, skip_bad=True, bad_lines=bad))) == 1
    assert len(bad) == 1 and f"{path}:2:" in bad[0]


def test_json_lines_and_npz_round_trip(tmp_path):
    s = swept(threshold_dbfs_hz=-90.0, keep_frames=True)
    p = tmp_path / "x.jsonl"
    with open(p, "w") as fh:
        write_json_lines([s, s], fh)
    for back in read_json_lines(p) + read_npz(_npz(tmp_path, s)):
        np.testing.assert_array_equal(back.freqs_hz, s.freqs_hz)
        np.testing.assert_array_equal(back.psd_dbfs_hz, s.psd_dbfs_hz)
        np.testing.assert_array_equal(back.above_counts, s.above_counts)
        np.testing.assert_array_equal(back.frames_dbfs_hz, s.frames_dbfs_hz)
        assert back.start_utc == s.start_utc and back.enbw_hz == s.enbw_hz and back.meta["revisits"] == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "specmon.spectrum"\n')
    with pytest.raises(DataError, match=rf"{re.escape(str(bad))}:1:\d+: invalid JSON"):
        read_sweeps(bad)


def _npz(tmp_path, s):
    p = tmp_path / "x.npz"
    write_npz([s], p)
    return p


def test_cli_sweep_then_import_round_trip(tmp_path, capsys):
    out = tmp_path / "fm.csv"
    rc = main(["sweep", "--source", "sim://city", "--band", "fm=93.5M:94.5M", "--rbw", "10k", "--dwell", "0.02",
               "--sweeps", "2", "-o", str(out)])
    assert rc == 0
    lines = out.read_text().splitlines()
    assert all(ROW_RE.match(line) for line in lines)
    spectra = read_sweeps(out)
    assert len(spectra) == 2
    per_bin = spectra[0].psd_dbfs_hz + 10 * np.log10(spectra[0].bin_hz)
    assert abs(spectra[0].freqs_hz[np.argmax(per_bin)] - 94.0e6) < 100e3  # fm-vov2 at 94.000 MHz
    capsys.readouterr()
    assert main(["import", str(out)]) == 0
    summary = capsys.readouterr().out.splitlines()
    assert len(summary) == 2 and "93.500000-94.50" in summary[0]
    js = tmp_path / "fm.jsonl"
    assert main(["import", str(out), "-o", str(js)]) == 0
    back = read_json_lines(js)
    np.testing.assert_allclose(back[1].psd_dbfs_hz, spectra[1].psd_dbfs_hz)


def test_cli_errors(tmp_path, capsys):
    assert main(["sweep", "--source", "sim://city", "--band", "88M-108M"]) == 2
    assert "--band '88M-108M': expected LO:HI" in capsys.readouterr().err
    assert main(["sweep", "--source", "sim://city", "--band", "88M:108M", "--rbw", "0.01"]) == 2
    assert "needs an FFT larger than" in capsys.readouterr().err
    assert main(["sweep", "--source", "sim://city", "--band", "1M:2M"]) == 5
    assert "outside the receiver's tuning range" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("2021-06-14, 14:25:44, 80000000, 80002000, 1000.00, 1, -1.0, x, -1.0\n")
    assert main(["import", str(bad)]) == 4
    assert f"{bad}:1:61: dB value 'x' is not a number" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.csv")]) == 4
    assert main(["import", "--tz", "Nowhere/Land", str(bad)]) == 2


def test_real_rtlsdr_scanner_rfs(tmp_path):
    spectra = read_sweeps(shared_file("sweeps/rtlsdrscanner_bbc-radio2_88-89M_14sweeps.rfs"))
    assert len(spectra) == 14 and all(s.n_bins == 513 for s in spectra)
    s = spectra[0]
    assert s.meta["format"] == "rtlsdr_scanner" and s.start_utc.strftime("%Y-%m-%d %H:%M") == "2013-12-29 22:06"
    assert np.all(np.diff([x.start_utc for x in spectra]) > timedelta(0))
    assert s.freqs_hz[np.argmax(s.psd_dbfs_hz)] == pytest.approx(88.49e6, abs=10e3)  # the one strong carrier
    bad = tmp_path / "bad.rfs"
    bad.write_text('["RTLSDR Scanner", {"Spectrum": {"1.0": {"88.0": "x"}}}]')
    with pytest.raises(DataError, match="expected {MHz: dB}"):
        read_sweeps(bad)


def test_multi_band_csv_imports_one_record_per_band(tmp_path):
    rx = InstantReceiver(tones=[(100.3e6, 0.1), (145.5e6, 0.1)], noise_rms=0.01)
    plan = SweepPlan.make([("a", 100e6, 103e6), ("b", 144e6, 146e6)], 10e3, 2.4e6, 0.005)
    path = tmp_path / "two.csv"
    for _ in range(2):
        with open(path, "a") as fh:
            fh.write("".join(format_rtl_power(b.spectrum) for b in run_sweep(rx, plan)))
    spectra = read_sweeps(path)
    assert [round(s.f_lo_hz / 1e6) for s in spectra] == [100, 144, 100, 144]
    assert [s.n_bins for s in spectra] == [b.n_bins for b in plan.bands] * 2


def test_rtl_power_round_trip_random_plans(tmp_path):
    """Random bands, rates, rbw and levels: the written CSV reads back to the same bins and values."""
    from dsp.sweep import StitchInfo, plan_band, stitch
    from dsp.psd import welch

    rng = np.random.default_rng(5)
    t0 = datetime(2026, 5, 1, 3, 4, 5, tzinfo=UTC)
    for case in range(12):
        rate = float(rng.choice([1.024e6, 2.048e6, 2.4e6]))
        lo = float(rng.uniform(30e6, 1500e6))
        plan = plan_band(lo, lo + float(rng.uniform(50e3, 8e6)), float(rng.uniform(2e3, 60e3)), rate,
                         crop=float(rng.uniform(0, 0.5)))
        level = 10 ** rng.uniform(-9, -3)
        hops = [welch((rng.normal(size=4 * plan.nfft) + 1j * rng.normal(size=4 * plan.nfft)) * level, rate,
                      nfft=plan.nfft, remove_dc=False) for _ in range(plan.n_hops)]
        s = stitch(plan, hops, StitchInfo(t0, t0, 0.01))
        path = tmp_path / f"r{case}.csv"
        path.write_text(format_rtl_power(s))
        [back] = read_sweeps(path)
        assert back.n_bins == s.n_bins, case
        np.testing.assert_allclose(back.freqs_hz, s.freqs_hz, atol=1.0 + 0.005 * s.n_bins)
        np.testing.assert_allclose(back.psd_dbfs_hz, s.psd_dbfs_hz, atol=0.006)


def test_cli_import_skip_bad_and_gzip_output(tmp_path, capsys):
    src = tmp_path / "log.csv"
    good = "2021-06-14, 14:25:44, 79998000, 80000000, 1000.00, 1, -2.0, -2.0, -2.0"
    src.write_text(good + "\n" + "2021-06-14, 14:25:4" + "\n" + good.replace("14:25:44", "14:25:54") + "\n")
    out = tmp_path / "out.csv.gz"
    assert main(["import", "--skip-bad", str(src), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"skipped: {src}:2:" in err and "2 sweeps from 1 file(s)" in err
    with gzip.open(out, "rt") as fh:
        assert fh.read().count("\n") == 2
    assert len(read_sweeps(out)) == 2


def test_cli_sweep_recording_until_its_end(tmp_path):
    """A file: source keeps its own rate and centre; --sweeps 0 stops cleanly when the recording runs out."""
    src = shared_file("iq/dump1090_modes1_1090M_2000k.cu8")
    out = tmp_path / "adsb.csv"
    assert main(["sweep", "--source", f"file:{src}", "--band", "1089.6M:1090.4M", "--rbw", "5k", "--dwell", "0.05",
                 "--sweeps", "0", "-o", str(out)]) == 0
    spectra = read_sweeps(out)
    assert len(spectra) == 3  # 356868 samples = 3 visits of 100352 (+ settling)
    s = spectra[0]
    assert s.freqs_hz[np.argmax(s.psd_dbfs_hz)] - 1090e6 == pytest.approx(-66e3, abs=2 * s.bin_hz)
