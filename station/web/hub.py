"""What the sweep loop hands the web app: :class:`LiveHub` keeps the latest stitched spectrum of each band
(peak-decimated to a few hundred points, with its emissions and their classes), a short waterfall history per
band, and the latest station health. The sweep loop only calls :meth:`LiveHub.publish_sweep` and
:meth:`LiveHub.publish_health` (a few numpy reductions and a lock, well under a millisecond); everything
else (JSON, sockets, the case store) happens in the web server's own thread.

Snapshots are immutable once published: readers take a reference under the lock and never see a half-built
one. The hub never raises into the sweep loop (a web bug must not stop a station).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import numpy as np

log = logging.getLogger("specmon.web")

#: waterfall rows kept per band for a page that opens now (the page keeps scrolling on its own after that)
WATERFALL_ROWS = 60


@dataclass(frozen=True, slots=True)
class EmissionMark:
    """One emission of a sweep as the Now page marks it (frequencies in Hz, levels in dBFS)."""

    center_hz: float
    f_lo_hz: float
    f_hi_hz: float
    bandwidth_hz: float
    power_dbfs: float
    peak_dbfs: float
    snr_db: float
    klass: str
    licences: tuple[str, ...]
    track_id: str | None
    note: str

    def to_json(self, levels=None) -> dict:
        """``levels``: the sweep's :class:`~station.calibration.LevelContext`; adds the level at the antenna port
        (``power_dbm`` +/- ``power_dbm_u95``, ``field_dbuv_m`` +/- ``field_dbuv_m_u95`` where the band has an
        antenna factor) and ``calibration`` ('calibrated on DATE' / 'nominal (uncalibrated)' / why not), the
        numbers the emission's InfluxDB point carries. Computed here, in the web thread, not in the sweep loop."""
        out = {"center_hz": round(self.center_hz, 1), "f_lo_hz": round(self.f_lo_hz, 1),
               "f_hi_hz": round(self.f_hi_hz, 1), "bandwidth_hz": round(self.bandwidth_hz, 1),
               "power_dbfs": _r(self.power_dbfs), "peak_dbfs": _r(self.peak_dbfs), "snr_db": _r(self.snr_db),
               "class": self.klass, "licences": list(self.licences), "track_id": self.track_id, "note": self.note}
        out.update(emission_level(levels, self.power_dbfs, self.center_hz, self.bandwidth_hz, self.snr_db))
        return out


def emission_level(levels, power_dbfs: float, center_hz: float, bandwidth_hz: float, snr_db: float) -> dict:
    """``power_dbm``, ``power_dbm_u95``, ``field_dbuv_m``, ``field_dbuv_m_u95``, ``calibration`` of one reading
    (all None but ``calibration`` when the level cannot be given in dBm: no level context, automatic gain)."""
    out = {"power_dbm": None, "power_dbm_u95": None, "field_dbuv_m": None, "field_dbuv_m_u95": None,
           "calibration": None}
    if levels is None:
        return out
    try:
        lvl = levels.level(power_dbfs, center_hz, bandwidth_hz=bandwidth_hz, snr_db=snr_db)
    except (ValueError, TypeError, ArithmeticError) as exc:
        log.debug("web: no level for %.0f Hz: %s", center_hz, exc)
        return out
    out["calibration"] = lvl.calibration
    if lvl.power_dbm is not None and np.isfinite(lvl.power_dbm):
        out.update(power_dbm=_r(lvl.power_dbm), power_dbm_u95=_r(lvl.u95_db), field_dbuv_m=_r(lvl.field_dbuv_m),
                   field_dbuv_m_u95=_r(lvl.field_u95_db))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class BandSnapshot:
    """The latest sweep of one band, decimated for a browser.

    ``levels_dbfs_hz[i]`` is the highest PSD (dBFS/Hz) of the bins in block i, whose centre is
    ``f0_hz + i * df_hz`` (peak-preserving: a narrow emission never vanishes between two points)."""

    band: str
    seq: int  # the hub's publication counter when it was published
    sweep_no: int
    time_utc: datetime
    f_lo_hz: float
    f_hi_hz: float
    f0_hz: float
    df_hz: float
    levels_dbfs_hz: np.ndarray  # float32, read-only
    noise_dbfs_hz: float | None
    rbw_hz: float
    n_bins: int  # bins of the full stitched spectrum
    emissions: tuple[EmissionMark, ...]
    duration_s: float
    revisit_s: float | None
    levels: object | None = None  # the sweep's LevelContext (dBFS -> dBm at the antenna port)

    def to_json(self, *, waterfall: list | None = None) -> dict:
        out = {
            "band": self.band, "seq": self.seq, "sweep": self.sweep_no, "time_utc": _iso(self.time_utc),
            "f_lo_hz": self.f_lo_hz, "f_hi_hz": self.f_hi_hz, "f0_hz": self.f0_hz, "df_hz": self.df_hz,
            "n_bins": self.n_bins, "rbw_hz": self.rbw_hz, "noise_dbfs_hz": _r(self.noise_dbfs_hz),
            "level_unit": "dBFS/Hz", "levels": [round(float(x), 1) for x in self.levels_dbfs_hz],
            "emissions": [e.to_json(self.levels) for e in self.emissions], "duration_s": _r(self.duration_s, 3),
            "revisit_s": _r(self.revisit_s, 2),
        }
        if waterfall is not None:
            out["waterfall"] = waterfall
        return out


def decimate_peak(freqs_hz: np.ndarray, levels: np.ndarray, points: int) -> tuple[float, float, np.ndarray]:
    """Peak-preserving decimation of a spectrum to at most ``points`` blocks of equal bin count.

    Returns ``(f0_hz, df_hz, block_max)``: block i holds bins [i*k, (i+1)*k) and is centred at f0 + i*df.
    Non-finite levels are ignored (a block of only NaN gives -inf)."""
    levels = np.asarray(levels, dtype=np.float32)
    freqs_hz = np.asarray(freqs_hz, dtype=np.float64)
    n = levels.size
    if n == 0:
        return 0.0, 0.0, np.zeros(0, np.float32)
    k = max(1, -(-n // max(1, int(points))))
    m = n // k
    clean = np.where(np.isfinite(levels), levels, -np.inf).astype(np.float32)
    if m == 0:
        return float(freqs_hz.mean()), 0.0, np.array([clean.max()], np.float32)
    blocks = clean[: m * k].reshape(m, k).max(axis=1)
    centres = freqs_hz[: m * k].reshape(m, k).mean(axis=1)
    df = float((centres[-1] - centres[0]) / (m - 1)) if m > 1 else 0.0
    out = np.ascontiguousarray(blocks, dtype=np.float32)
    out.flags.writeable = False
    return float(centres[0]), df, out


class LiveHub:
    """Latest spectrum per band, waterfall rows and health, shared between the sweep loop and the web thread.

    ``points``: live spectrum points per band (``[web] spectrum_points``)."""

    def __init__(self, points: int = 1024, *, waterfall_rows: int = WATERFALL_ROWS):
        self.points = int(points)
        self._lock = threading.Lock()
        self._seq = 0
        self._bands: dict[str, BandSnapshot] = {}
        self._waterfall: dict[str, deque] = {}
        self._rows = int(waterfall_rows)
        self._health: dict = {}
        self._receivers: tuple[dict, ...] = ()
        self._health_seq = 0
        self._health_mono = 0.0
        self.started_utc = datetime.now(timezone.utc)
        #: called (from the publishing thread) after each publication; the server sets it to wake its loop
        self.listener: Callable[[], None] | None = None
        self.publish_s = 0.0  # time the sweep loop spent publishing (for the benchmark)

    # ---- the sweep loop's side ------------------------------------------------------------------------------
    def publish_sweep(self, report) -> None:
        """Take the band's latest sweep from a :class:`~station.pipeline.records.SweepReport` (with its
        spectrum). Never raises."""
        t0 = time.perf_counter()
        try:
            snap = self._snapshot(report)
        except Exception:  # a web bug must never stop the station
            log.exception("web: could not take the spectrum of %s", getattr(report, "band", "?"))
            return
        if snap is None:
            return
        with self._lock:
            self._seq += 1
            snap = _with_seq(snap, self._seq)
            self._bands[snap.band] = snap
            rows = self._waterfall.setdefault(snap.band, deque(maxlen=self._rows))
            if rows and len(rows[-1][2]) != snap.levels_dbfs_hz.size:
                rows.clear()  # the band's plan changed (reload): old rows no longer line up
            rows.append((snap.seq, _iso(snap.time_utc), snap.levels_dbfs_hz))
        self.publish_s += time.perf_counter() - t0
        self._notify()

    def publish_health(self, health: dict, receivers: list[dict] | tuple = ()) -> None:
        """The station-wide health dict (vocabulary ``station_health``) and one dict per receiver."""
        with self._lock:
            self._health = dict(health)
            self._receivers = tuple(dict(r) for r in receivers)
            self._health_seq += 1
            self._health_mono = time.monotonic()
        self._notify()

    def _notify(self) -> None:
        cb = self.listener
        if cb is not None:
            try:
                cb()
            except Exception as exc:  # the server's loop is closing
                log.debug("web: notify failed: %s", exc)

    def _snapshot(self, report) -> BandSnapshot | None:
        spec = getattr(report, "spectrum", None)
        if spec is None:
            return None
        f0, df, levels = decimate_peak(spec.freqs_hz, spec.psd_dbfs_hz, self.points)
        marks = []
        for j in report.results:
            e = j.emission
            r = j.result
            marks.append(EmissionMark(
                center_hz=float(e.center_hz), f_lo_hz=float(e.f_lo_hz), f_hi_hz=float(e.f_hi_hz),
                bandwidth_hz=float(e.bandwidth_hz), power_dbfs=float(e.power_dbfs), peak_dbfs=float(e.peak_dbfs),
                snr_db=float(e.snr_db), klass=j.klass, licences=tuple(r.licences) if r is not None else (),
                track_id=j.track_id, note=(r.reason if r is not None else j.note) or ""))
        return BandSnapshot(
            band=report.band, seq=0, sweep_no=int(report.sweep_no), time_utc=report.end_utc,
            f_lo_hz=float(spec.f_lo_hz), f_hi_hz=float(spec.f_hi_hz), f0_hz=f0, df_hz=df, levels_dbfs_hz=levels,
            noise_dbfs_hz=report.noise_median_dbfs_hz, rbw_hz=float(spec.enbw_hz), n_bins=int(spec.n_bins),
            emissions=tuple(marks), duration_s=float(report.duration_s), revisit_s=report.revisit_s,
            levels=getattr(report, "levels", None))

    # ---- the web thread's side --------------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    @property
    def health_seq(self) -> int:
        return self._health_seq

    def bands(self) -> dict[str, BandSnapshot]:
        with self._lock:
            return dict(self._bands)

    def band(self, name: str) -> BandSnapshot | None:
        with self._lock:
            return self._bands.get(name)

    def waterfall(self, name: str) -> list:
        """``[[seq, time_utc, levels], ...]`` oldest first (levels rounded to 0.1 dB)."""
        with self._lock:
            rows = list(self._waterfall.get(name, ()))
        return [[s, t, [round(float(x), 1) for x in lv]] for s, t, lv in rows]

    def health(self) -> tuple[dict, tuple[dict, ...], float]:
        """(station health, receivers, age of that health in s)."""
        with self._lock:
            age = time.monotonic() - self._health_mono if self._health_mono else float("inf")
            return dict(self._health), self._receivers, age


def _with_seq(snap: BandSnapshot, seq: int) -> BandSnapshot:
    from dataclasses import replace

    return replace(snap, seq=seq)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _r(x, nd: int = 1):
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None
