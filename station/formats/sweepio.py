"""Sweep files: rtl_power-compatible CSV, JSON Lines and npz writers; importer for rtl_power, soapy_power and
hackrf_sweep CSV logs (plain or gzip) into :class:`~dsp.spectrum.Spectrum` records.

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

import gzip
import io
import json
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

FORMATS = ("rtl_power", "json", "npz")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")
JSON_KIND = "specmon.spectrum"
JSON_VERSION = 1


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
# JSON Lines and npz
_ARRAYS = ("freqs_hz", "psd_dbfs_hz", "hop_centers_hz", "hop_edges_hz", "maxhold_dbfs_hz", "frames_dbfs_hz",
           "frame_times_s", "above_counts", "above_threshold_dbfs_hz")
_SCALARS = ("bin_hz", "enbw_hz", "nfft", "window", "overlap", "average", "n_frames", "sample_rate_hz", "dwell_s",
            "source")


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def spectrum_to_dict(s: Spectrum) -> dict:
    """A JSON-ready dict of a Spectrum (arrays as lists, times ISO 8601 UTC); :func:`spectrum_from_dict` inverts it."""
    d = {"kind": JSON_KIND, "version": JSON_VERSION}
    d["start_utc"] = s.start_utc.astimezone(UTC).isoformat()
    d["end_utc"] = s.end_utc.astimezone(UTC).isoformat()
    for k in _SCALARS:
        d[k] = _jsonable(getattr(s, k))
    for k in _ARRAYS:
        v = getattr(s, k)
        d[k] = None if v is None else _jsonable(np.asarray(v))
    d["meta"] = _jsonable(dict(s.meta))
    return d


def spectrum_from_dict(d: dict, *, where: str = "") -> Spectrum:
    """Inverse of :func:`spectrum_to_dict`; DataError at ``where`` for a missing key or wrong kind."""
    if not isinstance(d, dict) or d.get("kind") != JSON_KIND:
        raise DataError(f"not a specmon spectrum record (kind {d.get('kind') if isinstance(d, dict) else None!r})",
                        where=where or None)
    try:
        arrays = {}
        for k in _ARRAYS:
            v = d.get(k)
            dtype = np.int64 if k == "above_counts" else (np.float32 if k == "frames_dbfs_hz" else np.float64)
            arrays[k] = None if v is None else np.asarray(v, dtype=dtype)
        arrays["hop_edges_hz"] = arrays["hop_edges_hz"].reshape(-1, 2)
        return Spectrum(
            **arrays,
            bin_hz=float(d["bin_hz"]), enbw_hz=float(d["enbw_hz"]), nfft=int(d["nfft"]), window=str(d["window"]),
            overlap=float(d["overlap"]), average=str(d["average"]), n_frames=int(d["n_frames"]),
            sample_rate_hz=float(d["sample_rate_hz"]), dwell_s=float(d["dwell_s"]), source=str(d.get("source", "")),
            start_utc=datetime.fromisoformat(d["start_utc"]), end_utc=datetime.fromisoformat(d["end_utc"]),
            meta=dict(d.get("meta") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"bad spectrum record: {exc.__class__.__name__}: {exc}", where=where or None) from None


def write_json_lines(spectra: Iterable[Spectrum], fh: IO[str]) -> None:
    """One JSON object per spectrum per line (JSON Lines)."""
    for s in spectra:
        fh.write(json.dumps(spectrum_to_dict(s), separators=(",", ":"), allow_nan=True))
        fh.write("\n")


def read_json_lines(path: str | Path) -> list[Spectrum]:
    """Read a JSON Lines file written by :func:`write_json_lines`; DataError at file:line on a bad line."""
    out = []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", where=f"{where}:{exc.colno}") from None
            out.append(spectrum_from_dict(d, where=where))
    return out


def write_npz(spectra: Iterable[Spectrum], path: str | Path) -> None:
    """Write spectra to a compressed npz: per sweep i, keys ``i.<field>`` (arrays) and ``i.header`` (JSON)."""
    payload: dict[str, np.ndarray] = {}
    n = 0
    for i, s in enumerate(spectra):
        d = spectrum_to_dict(s)
        header = {k: v for k, v in d.items() if k not in _ARRAYS}
        payload[f"{i}.header"] = np.array(json.dumps(header))
        for k in _ARRAYS:
            v = getattr(s, k)
            if v is not None:
                payload[f"{i}.{k}"] = np.asarray(v)
        n = i + 1
    payload["count"] = np.array(n)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **payload)


def read_npz(path: str | Path) -> list[Spectrum]:
    """Read spectra written by :func:`write_npz`; DataError naming the file for anything else."""
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read npz: {exc}", where=str(path)) from None
    with z:
        if "count" not in z.files:
            raise DataError("not a specmon npz (no 'count' entry)", where=str(path))
        out = []
        for i in range(int(z["count"])):
            header = json.loads(str(z[f"{i}.header"]))
            for k in _ARRAYS:
                header[k] = z[f"{i}.{k}"] if f"{i}.{k}" in z.files else None
            out.append(spectrum_from_dict(header, where=f"{path}:{i}"))
    return out


def write_spectra(spectra: Iterable[Spectrum], path: str | Path | None, fmt: str, *, append: bool = False) -> None:
    """Write spectra in ``fmt`` (rtl_power, json, npz) to ``path`` (None = stdout for the text formats)."""
    import sys

    if fmt not in FORMATS:
        raise UsageError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "npz":
        if path is None:
            raise UsageError("--format npz needs --output FILE")
        write_npz(list(spectra), path)
        return
    writer = write_rtl_power if fmt == "rtl_power" else write_json_lines
    if path is None:
        writer(spectra, sys.stdout)
        sys.stdout.flush()
        return
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, ("at" if append else "wt"), encoding="utf-8", newline="\n") as fh:
        writer(spectra, fh)


def format_for_path(path: str | Path | None, default: str = "rtl_power") -> str:
    """Output format implied by a file name: .npz -> npz, .json/.jsonl -> json, else ``default``."""
    if path is None:
        return default
    name = str(path).lower().removesuffix(".gz")
    if name.endswith(".npz"):
        return "npz"
    if name.endswith((".json", ".jsonl")):
        return "json"
    return default


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


def _open_text(path: str | Path) -> IO[str]:
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        raise DataError(f"cannot open: {exc.strerror or exc}", where=str(path)) from None
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", errors="replace", newline=None)
    return open(p, encoding="utf-8", errors="replace", newline=None)


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
        raise err(0, f"bad date {d_txt!r}; expected YYYY-MM-DD")
    if not mt:
        raise err(1, f"bad time {t_txt!r}; expected HH:MM:SS[.ffffff]")
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
            raise err(i, f"{what} {parts[i]!r} is not a number") from None

    low, high, step = num(2, "Hz low"), num(3, "Hz high"), num(4, "Hz step")
    samples_f = num(5, "samples")
    if not (math.isfinite(low) and math.isfinite(high) and low >= 0):
        raise err(2, f"Hz low/high {parts[2]}/{parts[3]} must be finite and non-negative")
    if high <= low:
        raise err(3, f"Hz high {parts[3]} is not above Hz low {parts[2]}")
    if not (math.isfinite(step) and step > 0):
        raise err(4, f"Hz step {parts[4]!r} must be a positive number")
    try:
        values = np.array(parts[6:], dtype=np.float64)  # fast path: C conversion of the whole row
    except ValueError:
        values = None
    if values is None or np.isnan(values).any():
        for j, txt in enumerate(parts[6:], start=6):  # find the culprit for the message
            if not txt:
                raise err(j, "empty dB value (a trailing comma or a truncated line?)")
            try:
                v = float(txt)
            except ValueError:
                raise err(j, f"dB value {txt!r} is not a number") from None
            if math.isnan(v):
                raise err(j, "dB value is NaN")
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
    with _open_text(path) as fh:
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


def read_rfs(path: str | Path) -> list[Spectrum]:
    """Read an RTLSDR-Scanner ``.rfs`` scan (JSON ``["RTLSDR Scanner", {..., "Spectrum": {unix_time: {MHz: dB}}}]``)
    into one Spectrum per sweep (ascending time). Levels are the scanner's uncalibrated dB per bin (its matplotlib
    PSD plus calibration), stored like CSV imports: ``psd_dbfs_hz = dB - 10*log10(bin_hz)``. DataError naming the
    file for anything malformed."""
    where = str(path)
    try:
        with _open_text(path) as fh:
            doc = json.load(fh)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", where=f"{where}:{exc.lineno}:{exc.colno}") from None
    if not (isinstance(doc, list) and len(doc) == 2 and doc[0] == "RTLSDR Scanner" and isinstance(doc[1], dict)):
        raise DataError("not an RTLSDR-Scanner file (expected [\"RTLSDR Scanner\", {...}])", where=where)
    body = doc[1]
    sweeps = body.get("Spectrum")
    if not isinstance(sweeps, dict) or not sweeps:
        raise DataError("RTLSDR-Scanner file has no 'Spectrum' sweeps", where=where)
    out = []
    for stamp, points in sorted(sweeps.items(), key=lambda kv: float(kv[0])):
        try:
            t = datetime.fromtimestamp(float(stamp), tz=UTC)
            pairs = sorted((float(f) * 1e6, float(v)) for f, v in points.items())
        except (TypeError, ValueError, AttributeError, OverflowError):
            raise DataError(
                f"sweep {stamp!r}: expected {{MHz: dB}} with numeric keys and values", where=where
            ) from None
        if len(pairs) < 2:
            raise DataError(f"sweep {stamp!r} has {len(pairs)} points; need at least 2", where=where)
        freqs = np.array([p[0] for p in pairs])
        values = np.maximum(np.array([p[1] for p in pairs]), -300.0)
        keep = np.ones(freqs.shape[0], dtype=bool)
        keep[1:] = np.diff(freqs) > 0
        freqs, values = freqs[keep], values[keep]
        step = float(np.median(np.diff(freqs)))
        nfft = int(body.get("Nfft") or freqs.shape[0])
        out.append(Spectrum(
            freqs_hz=freqs, psd_dbfs_hz=values - 10.0 * math.log10(step), bin_hz=step, enbw_hz=step, nfft=nfft,
            window="rect", overlap=0.0, average="mean", n_frames=1, sample_rate_hz=step * nfft, start_utc=t,
            end_utc=t + timedelta(seconds=float(body.get("Dwell") or 0.0)),
            hop_centers_hz=np.array([(freqs[0] + freqs[-1]) / 2]),
            hop_edges_hz=np.array([[freqs[0] - step / 2, freqs[-1] + step / 2]]),
            dwell_s=float(body.get("Dwell") or 0.0), source=where,
            meta={"format": "rtlsdr_scanner", "level_reference": "RTLSDR-Scanner dB per bin (uncalibrated)",
                  "device": str(body.get("Device", "")), "description": str(body.get("Description", "")),
                  "gain_db": body.get("Gain"), "version": body.get("Version")},
        ))
    return out


def read_sweeps(path: str | Path, *, tz: str = "UTC", skip_bad: bool = False) -> list[Spectrum]:
    """Every sweep in a sweep file: CSV (rtl_power/soapy_power/hackrf_sweep, plain or gzip), specmon JSON Lines,
    specmon npz or RTLSDR-Scanner .rfs, chosen by content. DataError for unreadable or malformed files."""
    p = Path(path)
    if not p.is_file():
        raise DataError("no such file", where=str(path))
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        return read_npz(p)
    with _open_text(p) as fh:
        first = fh.readline()
    if first.lstrip().startswith("{"):
        return read_json_lines(p)
    if first.lstrip().startswith("["):
        return read_rfs(p)
    return list(iter_csv_sweeps(p, tz=tz, skip_bad=skip_bad))
