"""rtl_power-compatible CSV: the writer, and the importer of rtl_power, soapy_power and hackrf_sweep CSV logs
(plain or gzip) into :class:`~dsp.spectrum.Spectrum` records.

rtl_power CSV (one row per hop, one group of rows per sweep)::

    date, time, Hz low, Hz high, Hz step, samples, dB, dB, ..., dB

rtl_power formats ``%i-%02i-%02i, %02i:%02i:%02i, %i, %i, %.2f, %i, %.2f, ...`` and repeats the last bin's value
once more at the end of every row. Its dB values are ``10*log10`` of the *power per bin* (not a density); the
value at bin k belongs to ``Hz low + k * Hz step``. specmon writes exactly that layout (power per bin = density
x bin width, so a rectangular-window tone reads its dBFS), with these deliberate deviations, documented in
docs/SWEEPS.md: timestamps are UTC (rtl_power writes local time), and the levels are calibrated dBFS.

Importing, per row: ``n values == bins + 1`` is rtl_power (the duplicate is dropped, centres ``low + k*step``);
``n == bins`` with fractional seconds is hackrf_sweep (centres ``low + (k + 0.5)*step``); ``n == bins``
otherwise is soapy_power (centres ``low + k*step``). Levels become densities ``dB - 10*log10(step)`` (dBFS/Hz
only when the file was written by a calibrated tool such as specmon; ``meta['level_reference']`` says so).
A malformed line raises :class:`~station.errors.DataError` at ``file:line:col``.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO

import numpy as np

from dsp.spectrum import Spectrum
from station.errors import DataError, UsageError
from station.formats._text import open_text
from station.redact import shorten, shown
from station.units import MAX_HZ

#: plausible ranges of an imported row: levels (dB; rtl_power's -inf for an all-zero bin is kept, as -300 dB),
#: the samples column, bins per row
MAX_DB = 400.0
MAX_SAMPLES = 2**48
MAX_BINS_PER_ROW = 10_000_000

_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


# ---------------------------------------------------------------------------------------------------------
# time zones
def parse_tz(text: str) -> tzinfo:
    """A time zone from ``UTC``, ``local`` (this machine's zone), ``+07:00``/``-0330`` or an IANA name.

    Raises UsageError naming the text."""
    t = text.strip()
    if t.upper() in ("UTC", "Z", "GMT"):
        return UTC
    if t.lower() == "local":
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    m = _OFFSET_RE.match(t)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(t)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several types for bad keys
        raise UsageError(f"unknown time zone {text!r}; use UTC, local, +HH:MM or an IANA name like Asia/Ho_Chi_Minh")


# ---------------------------------------------------------------------------------------------------------
# rtl_power writer
def _rows_of(spectrum: Spectrum) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first bin index, bin count, values) per hop of the spectrum, values = power per bin (dB)."""
    per_bin_db = spectrum.psd_dbfs_hz + 10.0 * math.log10(spectrum.bin_hz)
    edges = np.asarray(spectrum.hop_edges_hz, dtype=np.float64).reshape(-1, 2)
    f = spectrum.freqs_hz
    rows = []
    for lo, hi in edges:
        sel = np.nonzero((f >= lo) & (f < hi))[0]
        if sel.size:
            rows.append((int(sel[0]), int(sel.size)))
    covered = sorted(i for i0, n in rows for i in range(i0, i0 + n))
    if covered != list(range(f.shape[0])):  # edges missing or overlapping: one row for the whole spectrum
        rows = [(0, int(f.shape[0]))]
    for i0, n in rows:
        yield i0, n, per_bin_db[i0 : i0 + n]


def format_rtl_power(spectrum: Spectrum) -> str:
    """The rtl_power CSV rows (one per hop) of one band sweep, newline-terminated."""
    t = spectrum.start_utc.astimezone(UTC)
    stamp = f"{t.year}-{t.month:02d}-{t.day:02d}, {t.hour:02d}:{t.minute:02d}:{t.second:02d}, "
    frames = spectrum.meta.get("frames_per_hop") if isinstance(spectrum.meta, dict) else None
    out = io.StringIO()
    for h, (i0, n, values) in enumerate(_rows_of(spectrum)):
        low = int(round(spectrum.freqs_hz[i0]))
        high = int(round(spectrum.freqs_hz[i0] + n * spectrum.bin_hz))
        samples = int(frames[h]) if frames and h < len(frames) else int(spectrum.n_frames)
        out.write(stamp)
        out.write(f"{low}, {high}, {spectrum.bin_hz:.2f}, {samples}, ")
        for v in values:
            out.write(f"{v:.2f}, ")
        out.write(f"{values[-1]:.2f}\n")
    return out.getvalue()


def write_rtl_power(spectra: Iterable[Spectrum], fh: IO[str]) -> None:
    """Append the rtl_power CSV rows of every spectrum to the text stream ``fh``."""
    for s in spectra:
        fh.write(format_rtl_power(s))



# ---------------------------------------------------------------------------------------------------------
# importer
@dataclass(frozen=True, slots=True)
class CsvRow:
    """One parsed CSV row: time (UTC), frequency span, bin step and per-bin levels (dB per bin)."""

    time_utc: datetime
    low_hz: float
    high_hz: float
    step_hz: float
    samples: int
    centers_hz: np.ndarray
    values_db: np.ndarray
    dialect: str  # "rtl_power", "soapy_power", "hackrf_sweep"
    line: int



def _columns(line: str) -> list[int]:
    """1-based column where each comma-separated field's text starts (leading spaces skipped)."""
    cols, col = [], 1
    for part in line.split(","):
        cols.append(col + len(part) - len(part.lstrip()))
        col += len(part) + 1
    return cols


def parse_csv_row(line: str, lineno: int, where: str, tz: tzinfo) -> CsvRow:
    """Parse one rtl_power/soapy_power/hackrf_sweep CSV line. DataError ``where:line:col: reason`` if malformed."""
    text = line.rstrip("\r\n")
    parts = [p.strip() for p in text.split(",")]
    loc = f"{where}:{lineno}"

    def err(i: int, reason: str) -> DataError:
        cols = _columns(text)
        return DataError(reason, where=f"{loc}:{cols[min(i, len(cols) - 1)]}")

    if len(parts) < 7:
        raise err(0, f"expected 'date, time, Hz low, Hz high, Hz step, samples, dB, ...' (at least 7 columns), "
                     f"got {len(parts)}")
    d_txt, t_txt = parts[0], parts[1]
    md, mt = _DATE_RE.match(d_txt), _TIME_RE.match(t_txt)
    if not md:
        raise err(0, f"bad date {shown(d_txt)}; expected YYYY-MM-DD")
    if not mt:
        raise err(1, f"bad time {shown(t_txt)}; expected HH:MM:SS[.ffffff]")
    frac = mt.group(4) or ""
    try:
        local = datetime(int(md.group(1)), int(md.group(2)), int(md.group(3)), int(mt.group(1)), int(mt.group(2)),
                         int(mt.group(3)), int((frac + "000000")[:6]) if frac else 0)
    except ValueError as exc:
        raise err(0, f"impossible date/time {d_txt} {t_txt}: {exc}") from None
    time_utc = local.replace(tzinfo=tz).astimezone(UTC)

    def num(i: int, what: str) -> float:
        try:
            return float(parts[i])
        except ValueError:
            raise err(i, f"{what} {shown(parts[i])} is not a number") from None

    low, high, step = num(2, "Hz low"), num(3, "Hz high"), num(4, "Hz step")
    samples_f = num(5, "samples")
    if not (math.isfinite(low) and 0 <= low <= MAX_HZ):
        raise err(2, f"Hz low {shown(parts[2])} must be finite, in 0..{MAX_HZ:g}")
    if not (math.isfinite(high) and 0 <= high <= MAX_HZ):
        raise err(3, f"Hz high {shown(parts[3])} must be finite, in 0..{MAX_HZ:g}")
    if high <= low:
        raise err(3, f"Hz high {shorten(parts[3])} is not above Hz low {shorten(parts[2])}")
    if not (math.isfinite(step) and step > 0):
        raise err(4, f"Hz step {shown(parts[4])} must be a positive number")
    if (high - low) / step > MAX_BINS_PER_ROW:
        raise err(4, f"Hz step {shown(parts[4])} gives more than {MAX_BINS_PER_ROW} bins per row")
    if not (math.isfinite(samples_f) and 0 <= samples_f <= MAX_SAMPLES and samples_f == int(samples_f)):
        raise err(5, f"samples {shown(parts[5])} must be a whole number in 0..{MAX_SAMPLES}")
    try:
        values = np.array(parts[6:], dtype=np.float64)  # fast path: C conversion of the whole row
    except ValueError:
        values = None
    if values is None or np.isnan(values).any() or (values > MAX_DB).any() or (values < -MAX_DB).any():
        for j, txt in enumerate(parts[6:], start=6):  # find the culprit for the message
            if not txt:
                raise err(j, "empty dB value (a trailing comma or a truncated line?)")
            try:
                v = float(txt)
            except ValueError:
                raise err(j, f"dB value {shown(txt)} is not a number") from None
            if math.isnan(v):
                raise err(j, "dB value is NaN")
            if v > MAX_DB or (math.isfinite(v) and v < -MAX_DB):
                raise err(j, f"dB value {shown(txt)} is outside -{MAX_DB:g}..{MAX_DB:g} dB")
    assert values is not None
    n_bins = int(round((high - low) / step))
    n = values.shape[0]
    if n == n_bins + 1 or (n_bins == 0 and n == 2):
        dialect, values = "rtl_power", values[:-1]
        n_bins = n - 1
        centers = low + np.arange(n_bins) * step
    elif n == n_bins:
        if frac:
            dialect = "hackrf_sweep"
            centers = low + (np.arange(n_bins) + 0.5) * step
        else:
            dialect = "soapy_power"
            centers = low + np.arange(n_bins) * step
    else:
        raise err(6, f"row has {n} dB values but Hz low/high/step imply {n_bins} bins "
                     f"({n_bins + 1} with rtl_power's repeated last value)")
    if n_bins < 1:
        raise err(6, f"row has no bins (Hz step {shorten(parts[4])} over Hz low..high {shorten(parts[2])}.."
                     f"{shorten(parts[3])}, {n} dB values)")
    values = np.maximum(values, -300.0)  # rtl_power prints -inf for an all-zero bin
    return CsvRow(time_utc, low, high, step, int(samples_f), centers, values, dialect, lineno)


def _group_to_spectrum(rows: list[CsvRow], path: str, tz_name: str) -> Spectrum:
    rows = sorted(rows, key=lambda r: r.low_hz)
    steps = {round(r.step_hz, 2) for r in rows}
    if len(steps) > 1:
        raise DataError(f"rows of one sweep have different Hz steps {sorted(steps)}",
                        where=f"{path}:{rows[0].line}")
    step = rows[0].step_hz
    freqs = np.concatenate([r.centers_hz for r in rows])
    per_bin = np.concatenate([r.values_db for r in rows])
    # rows from hops that overlap: keep the first value of a duplicated bin (within half a step)
    keep = np.ones(freqs.shape[0], dtype=bool)
    keep[1:] = np.diff(freqs) > step / 2
    dups = int((~keep).sum())
    freqs, per_bin = freqs[keep], per_bin[keep]
    gaps = [(float(a), float(b)) for a, b in zip(freqs[:-1], freqs[1:], strict=True) if b - a > 1.5 * step]
    dialect = rows[0].dialect
    bins_per_row = rows[0].centers_hz.shape[0]
    samples = max(r.samples for r in rows)
    times = [r.time_utc for r in rows]
    n_frames = samples if dialect == "rtl_power" else 1
    # hackrf_sweep's 'samples' column is its FFT size (the row is a quarter of it); rtl_power's and soapy_power's
    # FFT size is not in the file: the bins of one row stand for it (rtl_power's crop is unknown)
    nfft = samples if dialect == "hackrf_sweep" and samples >= bins_per_row else bins_per_row
    dwell = samples / step if dialect == "rtl_power" else 0.0
    specmon_level = "calibrated dBFS when written by specmon, else the tool's uncalibrated dB"
    return Spectrum(
        freqs_hz=freqs,
        psd_dbfs_hz=per_bin - 10.0 * math.log10(step),
        bin_hz=step,
        enbw_hz=step,
        nfft=nfft,
        window="rect",
        overlap=0.0,
        average="mean",
        n_frames=int(n_frames),
        sample_rate_hz=step * nfft,
        start_utc=min(times),
        end_utc=max(times),
        hop_centers_hz=np.array([(r.low_hz + r.high_hz) / 2 for r in rows]),
        hop_edges_hz=np.array([[r.centers_hz[0] - step / 2, r.centers_hz[-1] + step / 2] for r in rows]),
        dwell_s=float(dwell),
        source=str(path),
        meta={
            "format": dialect,
            "first_line": rows[0].line,
            "rows": len(rows),
            "timezone": tz_name,
            "level_reference": f"per-bin dB - 10*log10(bin_hz); {specmon_level}",
            "duplicate_bins_dropped": dups,
            "gaps_hz": gaps,
            "samples": samples,
        },
    )


def _split_contiguous(rows: list[CsvRow]) -> list[list[CsvRow]]:
    """Rows of one sweep sorted by frequency and split where the bin step changes or bins stop abutting (a
    multi-band file such as specmon's writes several bands with one timestamp)."""
    rows = sorted(rows, key=lambda r: r.low_hz)
    runs: list[list[CsvRow]] = [[rows[0]]]
    for r in rows[1:]:
        prev = runs[-1][-1]
        same_step = round(r.step_hz, 2) == round(prev.step_hz, 2)
        if same_step and r.centers_hz[0] - prev.centers_hz[-1] <= 1.5 * r.step_hz:
            runs[-1].append(r)
        else:
            runs.append([r])
    return runs


def iter_csv_sweeps(
    path: str | Path, *, tz: str = "UTC", skip_bad: bool = False, bad_lines: list[str] | None = None
) -> Iterator[Spectrum]:
    """Stream the sweeps of an rtl_power / soapy_power / hackrf_sweep CSV (or .gz) as Spectrum records.

    A sweep is a run of rows whose frequency spans do not repeat (rtl_power writes each hop once per sweep;
    hackrf_sweep rows may come in any order), split into one Spectrum per contiguous band (same step, abutting
    bins): a multi-band file gives one record per band per sweep. ``tz`` names the zone the file's timestamps
    are in (rtl_power and hackrf_sweep write local time; specmon writes UTC). A malformed line raises DataError
    ``file:line:col``; with ``skip_bad`` it is skipped and its message appended to ``bad_lines`` instead.
    Memory: one sweep.
    """
    zone = parse_tz(tz)
    where = str(path)
    group: list[CsvRow] = []
    spans: set[tuple[float, float]] = set()
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = parse_csv_row(line, lineno, where, zone)
            except DataError as exc:
                if not skip_bad:
                    raise
                if bad_lines is not None:
                    bad_lines.append(str(exc))
                continue
            span = (row.low_hz, row.high_hz)
            if span in spans:
                for run in _split_contiguous(group):
                    yield _group_to_spectrum(run, where, tz)
                group, spans = [], set()
            group.append(row)
            spans.add(span)
    if group:
        for run in _split_contiguous(group):
            yield _group_to_spectrum(run, where, tz)

