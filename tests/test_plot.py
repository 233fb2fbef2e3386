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
    assert "2 sweeps, 144.000-146.0" in capsys.readouterr().out
    assert main(["plot", str(src), "-o", str(out)]) == 0
    assert "holds 2 bands" in capsys.readouterr().err
    assert main(["plot", str(src), "-o", str(out), "--band", "300M:400M"]) == 2
    assert "no band of" in capsys.readouterr().err
