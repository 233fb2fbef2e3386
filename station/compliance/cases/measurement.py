"""The canonical measurement of a violation CASE: one robust summary over the case's stored observations that
every output reports (PDF table, spectrum image, reason text, CSV/XLSX/GeoJSON, the ``violation`` points).

Each measurand is summarised by :func:`detectors.uncertainty.summarise` (median, robust spread, count, a
budget whose random part shrinks with observations and whose systematic part does not), the same function a
track's :class:`~detectors.uncertainty.MeasurementAccumulator` uses. The per-observation budgets are
recomputed from what each row stored: centre, 99 % bandwidth, channel power, SNR and the DSP settings of its
sweep (``settings_json``: ``rbw_hz``, ``nfft``, ``window``, and since issue 13 ``bin_hz``, ``overlap``,
``n_frames``, ``ppm``; older rows fall back to the window's ENBW for the bin and one frame, i.e. a larger,
conservative budget).

The level at the antenna port is converted per observation first (each row with its own gain and calibration
conversion, ``station.calibration.levels.level_settings``) and then summarised, so a gain change between
sweeps (automatic gain) never mixes dBFS read at different gains; the calibration's standard uncertainty is a
systematic term of each observation's level budget. Pure functions over rows; the store reads the rows
(:meth:`station.compliance.cases.CaseStore.measurement`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

from detectors.uncertainty import (
    Budget,
    Canonical,
    MeasurementSettings,
    OccupiedEdges,
    bandwidth_budget,
    frequency_budget,
    level_budget,
    summarise,
)

#: observations summarised at most (the most recent ones): a case that lives for months keeps a bounded read
CASE_WINDOW = 512
#: dB between 0 dBm and 0 dBuV across 50 ohm (station.calibration.levels.DBUV_PER_DBM_50OHM)
_DBUV_PER_DBM = 107.0


@dataclass(frozen=True, slots=True)
class ObservationRow:
    """What one stored case observation holds for the measurement (``case_observations`` columns)."""

    center_hz: float
    bandwidth_hz: float
    power_dbfs: float
    snr_db: float | None
    settings_json: str


@dataclass(frozen=True, slots=True)
class CaseMeasurement(OccupiedEdges):
    """The canonical measurement of one case.

    Parameters
    ----------
    center_hz, bandwidth_hz, power_dbfs : Canonical
        Median centre (Hz), 99 % occupied bandwidth (Hz) and channel power (dBFS) over the observations, each
        with its robust spread, count and budget (``.u95`` the expanded uncertainty, k = 2).
    power_dbm : Canonical or None
        Channel power at the antenna port (dBm), calibration uncertainty included; None when no observation
        kept a conversion (automatic gain the receiver does not report, or a store from before calibration).
    field_dbuv_m : float or None
        Field strength (dBuV/m) with the band's antenna factor; ``field_u95_db`` its expanded uncertainty.
    snr_db : float or None
        Median SNR (dB).
    n_obs : int
        Observations summarised (at most :data:`CASE_WINDOW`, the most recent).
    gain_db : float or None
        Receiver gain of the latest observation (dB); ``gains_db`` every distinct gain seen.
    calibration : str
        Calibration label of the latest observation ('calibrated on DATE' / 'nominal (uncalibrated)' / '').
    """

    center_hz: Canonical
    bandwidth_hz: Canonical
    power_dbfs: Canonical
    power_dbm: Canonical | None
    field_dbuv_m: float | None
    field_u95_db: float | None
    snr_db: float | None
    n_obs: int
    gain_db: float | None
    gains_db: tuple[float, ...]
    calibration: str


@lru_cache(maxsize=64)
def _parse(settings_json: str) -> dict:
    try:
        d = json.loads(settings_json or "{}")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _num(d: dict, key: str, default: float | None = None) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else default


@lru_cache(maxsize=64)
def _settings_of(settings_json: str) -> MeasurementSettings | None:
    """The DSP settings of a stored observation; None when even the rbw is missing."""
    d = _parse(settings_json)
    rbw = _num(d, "rbw_hz")
    if rbw is None or rbw <= 0:
        return None
    window = str(d.get("window") or "hann")
    nfft = int(_num(d, "nfft", 1024) or 1024)
    bin_hz = _num(d, "bin_hz")
    if bin_hz is None or bin_hz <= 0:
        from dsp.windows import enbw_bins

        try:
            bin_hz = rbw / enbw_bins(window, nfft)
        except (ValueError, KeyError):
            bin_hz = rbw / 1.5
    overlap = _num(d, "overlap", 0.0) or 0.0
    try:
        return MeasurementSettings(bin_hz, rbw, window, max(1, nfft), overlap if 0 <= overlap < 1 else 0.0,
                                   max(1, int(_num(d, "n_frames", 1) or 1)), abs(_num(d, "ppm", 0.0) or 0.0))
    except ValueError:
        return None


def _conversion(d: dict, center_hz: float) -> tuple[float, float, str] | None:
    """(conversion_db = dBFS - dBm, u_db k=1, status) stored for the emission nearest ``center_hz``."""
    conv = d.get("level_conversion") or {}
    if not isinstance(conv, dict) or not conv or d.get("gain_db") is None:
        return None
    try:
        key = min(conv, key=lambda k: abs(float(k) - center_hz))
        if abs(float(key) - center_hz) >= 1e6:
            return None
        c, u, status = conv[key]
        return float(c), float(u), str(status)
    except (ValueError, TypeError):
        return None


def case_measurement(rows: list[ObservationRow]) -> CaseMeasurement | None:
    """The :class:`CaseMeasurement` of a case's observation rows (oldest first); None without a row."""
    rows = [r for r in rows[-CASE_WINDOW:] if math.isfinite(r.center_hz) and math.isfinite(r.power_dbfs)]
    if not rows:
        return None
    fc, bw, pw, dbm, snrs = [], [], [], [], []
    for r in rows:
        s = _settings_of(r.settings_json)
        snr = r.snr_db if r.snr_db is not None and math.isfinite(r.snr_db) else 10.0
        if s is not None:
            bf = frequency_budget(r.center_hz, r.bandwidth_hz, snr, s)
            bb = bandwidth_budget(r.bandwidth_hz, snr, s)
            bl = level_budget(r.bandwidth_hz, snr, s)
        else:  # nothing known about the sweep: the reading alone, no claim of precision beyond it
            bf, bb, bl = Budget(0.0), Budget(0.0), Budget(0.1)
        fc.append((r.center_hz, bf))
        bw.append((r.bandwidth_hz, bb))
        pw.append((r.power_dbfs, bl))
        if r.snr_db is not None and math.isfinite(r.snr_db):
            snrs.append(r.snr_db)
        d = _parse(r.settings_json)
        conv = _conversion(d, r.center_hz)
        if conv is not None:
            dbm.append((r.power_dbfs - conv[0], bl.with_systematic(conv[1]), d))

    def summ(pairs) -> Canonical:
        return summarise([v for v, _ in pairs], [b for _, b in pairs])

    last = _parse(rows[-1].settings_json)
    power_dbm = summ([(v, b) for v, b, _ in dbm]) if dbm else None
    field = field_u = None
    af = _num(last, "antenna_factor_db_m")
    if power_dbm is not None and af is not None:
        field = power_dbm.value + _DBUV_PER_DBM + af
        field_u = power_dbm.budget.with_systematic(_num(last, "antenna_factor_u_db", 0.0) or 0.0).expanded
    gains = tuple(sorted({float(g) for g in (_num(_parse(r.settings_json), "gain_db") for r in rows) if g is not None}))
    snrs.sort()
    return CaseMeasurement(
        center_hz=summ(fc), bandwidth_hz=summ(bw), power_dbfs=summ(pw), power_dbm=power_dbm, field_dbuv_m=field,
        field_u95_db=field_u, snr_db=snrs[len(snrs) // 2] if snrs else None, n_obs=len(rows),
        gain_db=_num(last, "gain_db"), gains_db=gains, calibration=str(last.get("calibration") or ""),
    )


def settings_keys(settings) -> dict:
    """The DSP settings keys an observation stores for its budgets (``settings``: a
    :class:`detectors.uncertainty.MeasurementSettings` or None)."""
    if settings is None:
        return {}
    return {"bin_hz": settings.bin_hz, "overlap": settings.overlap, "n_frames": settings.n_frames, "ppm": settings.ppm}


__all__ = ["CASE_WINDOW", "CaseMeasurement", "ObservationRow", "case_measurement", "settings_keys"]
