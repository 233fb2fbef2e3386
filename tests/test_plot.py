"""station.formats.plot and ``specmon plot``: PNGs of sweep files, labelled in MHz and dBFS."""

from __future__ import annotations

import numpy as np
import pytest

from station.cli import main
from station.formats.plot import save_spectrum_png, spectrum_figure, sweeps_figure, waterfall_matrix
from station.sweep import SweepPlan, run_sweep

from .conftest import shared_file
from .sweep_fakes import InstantReceiver

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def spectra(n=3):
    rx = InstantReceiver(tones=[(100.3e6, 0.1)], noise_rms=0.01)
    plan = SweepPlan.make([(100e6, 103e6)], 10e3, 2.4e6, 0.005)
    return [run_sweep(rx, plan)[0].spectrum for _ in range(n)]


def test_spectrum_figure_labels_and_png(tmp_path):
    s = spectra(1)[0]
    fig = spectrum_figure(s, markers_hz=[100.3e6], f_lo_hz=100.2e6, f_hi_hz=100.4e6)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "frequency (MHz)"
    assert ax.get_ylabel().startswith("dBFS in 7.03 kHz RBW")
    assert ax.get_xlim() == pytest.approx((100.2, 100.4))
    y = ax.lines[1].get_ydata()  # [max hold, average, marker]
    assert np.nanmax(y) == pytest.approx(-20, abs=1.5)  # the plotted level is dBFS per RBW
    out = save_spectrum_png(s, tmp_path / "s.png")
    assert out.read_bytes()[:8] == PNG_MAGIC


def test_waterfall_matrix_and_figure():
    ss = spectra(3)
    freqs, times, levels = waterfall_matrix(ss)
    assert levels.shape == (3, freqs.shape[0]) and times[0] == 0.0 and np.all(np.diff(times) >= 0)
    fig = sweeps_figure(ss)
    assert fig.axes[1].get_xlabel() == "frequency (MHz)"
    assert "dBFS" in fig.axes[2].get_ylabel() or "dBFS" in fig.axes[1].get_ylabel()
    with pytest.raises(ValueError, match="no spectra"):
        sweeps_figure([])


def test_cli_plot_real_file(tmp_path, capsys):
    src = shared_file("sweeps/rtlpower_gsm900_890-900M_78kHz_30sweeps.csv")
    out = tmp_path / "gsm.png"
    assert main(["plot", str(src), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC and out.stat().st_size > 10_000
    assert "30 sweeps" in capsys.readouterr().out
    assert main(["plot", str(src), "-o", str(tmp_path / "nodir" / "x.png")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_cli_plot_multi_band_file(tmp_path, capsys):
    from station.formats.sweepio import format_rtl_power

    rx = InstantReceiver(tones=[(100.3e6, 0.1)], noise_rms=0.01)
    plan = SweepPlan.make([("a", 100e6, 101e6), ("b", 144e6, 146e6)], 10e3, 2.4e6, 0.005)
    src = tmp_path / "two.csv"
    src.write_text("".join(format_rtl_power(b.spectrum) for _ in range(2) for b in run_sweep(rx, plan)))
    out = tmp_path / "b.png"
    assert main(["plot", str(src), "-o", str(out), "--band", "145M:145.5M"]) == 0
    assert "144.000-146.0" in (o := capsys.readouterr().out) and "MHz: 2 sweeps" in o
    assert main(["plot", str(src), "-o", str(out)]) == 0
    assert "holds 2 bands" in capsys.readouterr().err
    assert main(["plot", str(src), "-o", str(out), "--band", "300M:400M"]) == 2
    assert "no band of" in capsys.readouterr().err


def rtl_power_48h(path, *, interval_s=60, hours=48, gap_h=(30.0, 32.0)):
    """A synthetic 48 h rtl_power log of 144-146 MHz (one sweep a minute, 3 hops): noise at -30 dB, a carrier at
    145.5 MHz on the air from hour 10 to hour 20 only, no sweep at all between ``gap_h`` (station down)."""
    from datetime import datetime, timedelta

    rng = np.random.default_rng(7)
    t0 = datetime(2026, 11, 1, 0, 0, 0)
    lines = []
    edges = [(144.0e6, 144.6e6), (144.6e6, 145.2e6), (145.2e6, 146.0e6)]
    step = 25e3
    for k in range(int(hours * 3600 / interval_s)):
        h = k * interval_s / 3600
        if gap_h[0] <= h < gap_h[1]:
            continue
        t = t0 + timedelta(seconds=k * interval_s)
        for lo, hi in edges:
            f = np.arange(lo, hi, step)
            db = -30 + rng.normal(0, 0.5, f.size)
            if 10 <= h < 20:
                db = np.where(np.abs(f - 145.5e6) < step, -5.0, db)
            lines.append(f"{t:%Y-%m-%d}, {t:%H:%M:%S}, {lo:.0f}, {hi:.0f}, {step:.2f}, 4096, "
                         + ", ".join(f"{x:.2f}" for x in db) + "\n")
    path.write_text("".join(lines))
    return path


def test_a_48_hour_log_is_drawn_on_a_clock_axis_decimated_and_says_so(tmp_path, capsys):
    from station.formats.plot import waterfall_rows
    from station.formats.sweepio import read_sweeps

    src = rtl_power_48h(tmp_path / "48h.csv")
    spectra = read_sweeps(src, tz="UTC")
    assert len(spectra) == 48 * 60 - 120  # two hours missing
    wf = waterfall_rows(spectra, 1200)
    assert wf.levels.shape[0] == 1200 and wf.decimated
    assert wf.row_s == pytest.approx((spectra[-1].start_utc - spectra[0].start_utc).total_seconds() / 1200)
    col = int(np.argmin(np.abs(wf.freqs_hz - 145.5e6)))
    row_at = lambda h: int(h * 3600 / wf.row_s)  # noqa: E731
    assert wf.levels[row_at(15), col] > -10 and wf.levels[row_at(25), col] < -25  # on the air only 10-20 h
    assert np.isnan(wf.levels[row_at(31)]).all()  # the gap stays blank, not smeared
    assert "2760 sweeps over 48.0 h shown as 1200 rows of 2.4 min" in wf.note()
    out = tmp_path / "48h.png"
    assert main(["plot", str(src), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2760 sweeps over 48.0 h shown as 1200 rows" in printed and out.read_bytes()[:8] == PNG_MAGIC
    assert main(["plot", str(src), "-o", str(out), "--max-sweeps", "100"]) == 0
    assert "the last 100 of 2760 sweeps" in capsys.readouterr().err
