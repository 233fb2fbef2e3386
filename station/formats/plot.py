"""Spectrum and waterfall pictures (PNG, matplotlib Agg, no pyplot global state), labelled in MHz and dBFS.

:func:`spectrum_figure` / :func:`save_spectrum_png` draw one spectrum (evidence snapshots reuse them);
:func:`sweeps_figure` / :func:`save_sweeps_png` draw a waterfall of many sweeps above the mean, max-hold and
latest spectrum. Levels are dBFS within one RBW (``Spectrum.power_dbfs()``): what a spectrum analyser shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.spectrum import Spectrum


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _rbw_label(s: Spectrum) -> str:
    rbw = s.enbw_hz
    return f"{rbw / 1e3:.3g} kHz" if rbw >= 1e3 else f"{rbw:.3g} Hz"


def _level_label(s: Spectrum) -> str:
    fmt = s.meta.get("format") if isinstance(s.meta, dict) else None
    if fmt:
        return f"dB per {_rbw_label(s)} bin ({fmt})"
    return f"dBFS in {_rbw_label(s)} RBW"


def spectrum_figure(
    spectrum: Spectrum,
    *,
    title: str = "",
    markers_hz: Sequence[float] = (),
    f_lo_hz: float | None = None,
    f_hi_hz: float | None = None,
    show_maxhold: bool = True,
):
    """A matplotlib Figure of one spectrum (x: MHz, y: dBFS per RBW), optionally zoomed and with vertical
    markers (e.g. an emission's centre and the licensed frequency)."""
    fig = _new_figure(10, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    f_mhz = spectrum.freqs_hz / 1e6
    offset = 10.0 * np.log10(spectrum.enbw_hz)
    if show_maxhold and spectrum.maxhold_dbfs_hz is not None:
        ax.plot(f_mhz, spectrum.maxhold_dbfs_hz + offset, lw=0.6, color="tab:orange", label="max hold")
    ax.plot(f_mhz, spectrum.power_dbfs(), lw=0.8, color="tab:blue", label=spectrum.average)
    for m in markers_hz:
        ax.axvline(m / 1e6, color="tab:red", lw=0.8, ls="--")
    lo = spectrum.f_lo_hz if f_lo_hz is None else f_lo_hz
    hi = spectrum.f_hi_hz if f_hi_hz is None else f_hi_hz
    ax.set_xlim(lo / 1e6, hi / 1e6)
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel(_level_label(spectrum))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    t = spectrum.start_utc.strftime("%Y-%m-%d %H:%M:%S UTC")
    ax.set_title(title or f"{t}  {spectrum.source}", fontsize="medium")
    return fig


def save_spectrum_png(spectrum: Spectrum, path: str | Path, **kwargs) -> Path:
    """Write :func:`spectrum_figure` as a PNG at ``path``; returns the path."""
    fig = spectrum_figure(spectrum, **kwargs)
    fig.savefig(path, format="png")
    return Path(path)


def waterfall_matrix(spectra: Sequence[Spectrum]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(freqs_hz (n_bins,), times_s (n_sweeps,), levels_dbfs (n_sweeps, n_bins)) on the first sweep's grid
    widened to the union of all sweeps (linear interpolation; NaN where a sweep has no data)."""
    lo = min(s.freqs_hz[0] for s in spectra)
    hi = max(s.freqs_hz[-1] for s in spectra)
    step = min(s.bin_hz for s in spectra)
    n = int(min(8192, max(2, round((hi - lo) / step) + 1)))
    freqs = np.linspace(lo, hi, n)
    t0 = spectra[0].start_utc
    times = np.array([(s.start_utc - t0).total_seconds() for s in spectra])
    levels = np.full((len(spectra), n), np.nan)
    for i, s in enumerate(spectra):
        levels[i] = np.interp(freqs, s.freqs_hz, s.power_dbfs(), left=np.nan, right=np.nan)
    return freqs, times, levels


#: the waterfall has at most this many rows; longer logs are averaged into equal clock-time rows (and say so)
MAX_ROWS = 1200


@dataclass(frozen=True, slots=True)
class Waterfall:
    """Sweeps binned into clock-time rows: ``levels[r]`` is the mean power (dB) of the sweeps that started in row
    r (NaN where none did: a gap in the log stays a gap), on the ``freqs_hz`` grid."""

    freqs_hz: np.ndarray
    start: object  # datetime of the first sweep
    end: object  # datetime of the last sweep
    levels: np.ndarray  # (rows, bins)
    mean_db: np.ndarray
    max_db: np.ndarray
    latest: np.ndarray
    n_sweeps: int
    row_s: float  # clock time per row

    @property
    def decimated(self) -> bool:
        return self.n_sweeps > self.levels.shape[0]

    def note(self) -> str:
        span_h = (self.end - self.start).total_seconds() / 3600
        if not self.decimated:
            return f"{self.n_sweeps} sweeps over {span_h:.1f} h, one row each"
        return (f"{self.n_sweeps} sweeps over {span_h:.1f} h shown as {self.levels.shape[0]} rows of "
                f"{_duration(self.row_s)} (mean power of the sweeps in each; gaps blank)")


def _duration(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.1f} min" if s < 7200 else f"{s / 3600:.1f} h")


def waterfall_rows(spectra: Sequence[Spectrum], max_rows: int = MAX_ROWS) -> Waterfall:
    """Bin ``spectra`` (in time order) into at most ``max_rows`` rows of equal clock time, accumulating linear
    power row by row (memory: rows x bins, whatever the number of sweeps)."""
    lo = min(s.freqs_hz[0] for s in spectra)
    hi = max(s.freqs_hz[-1] for s in spectra)
    step = min(s.bin_hz for s in spectra)
    n = int(min(8192, max(2, round((hi - lo) / step) + 1)))
    freqs = np.linspace(lo, hi, n)
    t0, t1 = spectra[0].start_utc, spectra[-1].start_utc
    span = max(1e-9, (t1 - t0).total_seconds())
    n_rows = len(spectra) if len(spectra) <= max_rows else int(max_rows)
    row_s = span / max(1, n_rows - 1) if len(spectra) <= max_rows else span / n_rows
    acc = np.zeros((n_rows, n))
    cnt = np.zeros((n_rows, n))
    total = np.zeros(n)
    total_n = np.zeros(n)
    mx = np.full(n, -np.inf)
    latest = None
    for k, sp in enumerate(spectra):
        lv = np.interp(freqs, sp.freqs_hz, sp.power_dbfs(), left=np.nan, right=np.nan)
        ok = np.isfinite(lv)
        lin = np.where(ok, 10 ** (np.where(ok, lv, 0) / 10), 0.0)
        r = k if len(spectra) <= max_rows else min(n_rows - 1, int((sp.start_utc - t0).total_seconds() / row_s))
        acc[r] += lin
        cnt[r] += ok
        total += lin
        total_n += ok
        mx = np.where(ok, np.maximum(mx, np.where(ok, lv, -np.inf)), mx)
        latest = lv
    with np.errstate(all="ignore"):
        levels = np.where(cnt > 0, 10 * np.log10(acc / np.maximum(cnt, 1)), np.nan)
        mean_db = np.where(total_n > 0, 10 * np.log10(total / np.maximum(total_n, 1)), np.nan)
    mx[~np.isfinite(mx)] = np.nan
    return Waterfall(freqs, t0, t1, levels, mean_db, mx, latest, len(spectra), row_s)


def sweeps_figure(spectra: Sequence[Spectrum], *, title: str = "", max_rows: int = MAX_ROWS):
    """Waterfall (clock time down, MHz across, colour dBFS) above the mean / max / latest spectrum; one sweep
    draws a spectrum only. More sweeps than ``max_rows`` are averaged into equal clock-time rows, and the title
    says so (:meth:`Waterfall.note`)."""
    if not spectra:
        raise ValueError("no spectra to plot")
    if len(spectra) == 1:
        return spectrum_figure(spectra[0], title=title)
    import matplotlib.dates as mdates

    wf = waterfall_rows(spectra, max_rows)
    freqs, levels = wf.freqs_hz, wf.levels
    fig = _new_figure(11, 8)
    gs = fig.add_gridspec(2, 1, height_ratios=[2, 1])
    ax_w = fig.add_subplot(gs[0])
    ax_s = fig.add_subplot(gs[1], sharex=ax_w)
    finite = levels[np.isfinite(levels)]
    vmin, vmax = (np.percentile(finite, 2), np.percentile(finite, 99.8)) if finite.size else (0, 1)
    t_top = mdates.date2num(wf.start)
    t_bottom = mdates.date2num(wf.end) if wf.end > wf.start else t_top + 1 / 86400
    extent = (freqs[0] / 1e6, freqs[-1] / 1e6, t_bottom, t_top)
    im = ax_w.imshow(levels, aspect="auto", extent=extent, vmin=vmin, vmax=vmax, cmap="viridis",
                     interpolation="nearest")
    ax_w.yaxis_date(tz="UTC")
    locator = mdates.AutoDateLocator(tz="UTC")
    ax_w.yaxis.set_major_locator(locator)
    ax_w.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))
    cb = fig.colorbar(im, ax=ax_w)
    cb.set_label(_level_label(spectra[0]))
    ax_w.set_ylabel("time (UTC)")
    ax_s.plot(freqs / 1e6, wf.max_db, lw=0.6, color="tab:orange", label="max over sweeps")
    ax_s.plot(freqs / 1e6, wf.mean_db, lw=0.8, color="tab:blue", label="mean over sweeps")
    ax_s.plot(freqs / 1e6, wf.latest, lw=0.5, color="tab:gray", alpha=0.7, label="latest")
    ax_s.set_xlabel("frequency (MHz)")
    ax_s.set_ylabel(_level_label(spectra[0]))
    ax_s.grid(True, alpha=0.3)
    ax_s.legend(loc="upper right", fontsize="small")
    head = title or f"{spectra[0].source}"
    ax_w.set_title(f"{head}\n{wf.note()}", fontsize="medium")
    fig.specmon_note = wf.note()
    return fig


def save_sweeps_png(spectra: Sequence[Spectrum], path: str | Path, *, title: str = "",
                    max_rows: int = MAX_ROWS) -> str:
    """Write :func:`sweeps_figure` as a PNG at ``path``; returns what was drawn (the waterfall's note)."""
    fig = sweeps_figure(spectra, title=title, max_rows=max_rows)
    fig.savefig(path, format="png")
    return getattr(fig, "specmon_note", "1 sweep")


def iq_spectrogram_figure(raw, fmt: str, sample_rate_hz: float, center_hz: float, *, f_lo_hz: float, f_hi_hz: float,
                          title: str = "", marks_hz: Sequence[float] = (), rbw_hz: float = 1000.0,
                          max_rows: int = 400, start_s: float = 0.0):
    """Spectrogram (time down, frequency across in MHz, dBFS/Hz colour) of an IQ recording between ``f_lo_hz``
    and ``f_hi_hz`` (absolute). ``raw``: native components of ``fmt``; frames of about ``rbw_hz`` resolution
    (Hann, 50 % overlap), averaged in groups to at most ``max_rows`` rows; ``marks_hz``: dashed vertical lines
    (the emission's occupied-band edges); ``start_s``: time of the first sample on the time axis."""
    from dsp.psd import to_db, welch
    from dsp.windows import enbw_bins

    nfft = int(2 ** round(np.log2(max(16.0, enbw_bins("hann") * sample_rate_hz / rbw_hz))))
    r = welch(raw, sample_rate_hz, fmt=fmt, nfft=nfft, overlap=0.5, keep_frames=True)
    frames = r.frames_lin
    group = max(1, int(np.ceil(frames.shape[0] / max_rows)))
    rows = frames.shape[0] // group
    img = frames[: rows * group].reshape(rows, group, nfft).mean(axis=1) if rows else frames
    freqs = center_hz + r.offsets_hz
    sel = (freqs >= f_lo_hz) & (freqs <= f_hi_hz)
    if sel.sum() < 2:
        sel[:] = True
    img_db = to_db(img[:, sel])
    t = r.frame_times_s[: rows * group : group] + start_s if rows else r.frame_times_s + start_s
    f_mhz = freqs[sel] / 1e6
    fig = _new_figure(8.0, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    t_end = t[-1] + group * nfft / 2 / sample_rate_hz if t.size else start_s
    lo, hi = np.percentile(img_db, [5, 99.9])
    mesh = ax.imshow(img_db, aspect="auto", origin="upper", interpolation="nearest", cmap="viridis",
                     extent=(f_mhz[0], f_mhz[-1], t_end, t[0] if t.size else start_s), vmin=lo - 3, vmax=hi)
    for m in marks_hz:
        ax.axvline(m / 1e6, color="white", lw=0.8, ls="--")
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ax.set_xlabel("frequency (MHz)")
    ax.set_ylabel("time (s)")
    ax.set_title(title, fontsize="small")
    fig.colorbar(mesh, ax=ax, label=f"dBFS/Hz ({r.offsets_hz[1] - r.offsets_hz[0]:.0f} Hz bins)")
    return fig
