"""Calibrated levels: dBm at the antenna port, field strength in dBuV/m, and the level uncertainty budget.

    power_dbm          = level_dbfs - conversion_db(frequency, gain)            (profile, docs/CALIBRATION.md)
    field_dbuv_m       = power_dbm + 107 + antenna_factor_db_m                  (50 ohm: 0 dBm = 107 dBuV)
    u_level (k=1)      = sqrt(u_cal^2 + u_meas^2)
    u_field (k=1)      = sqrt(u_level^2 + u_af^2)
    U (expanded, k=2)  = 2 u

``u_cal`` is the profile's uncertainty at that frequency and gain (:meth:`CalibrationProfile.conversion`),
an independent systematic term; ``u_meas`` is the measurement's own budget from detectors/uncertainty.py
(``level_budget``: periodogram noise and SNR for one observation; a canonical measurement's
``power_dbfs.budget`` for a case: its random part shrinks with observations, the calibration's does not).
The expanded uncertainty follows :attr:`detectors.uncertainty.Budget.expanded`. Pure functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from detectors.uncertainty import Budget, MeasurementSettings, level_budget
from station.calibration.profile import CalibrationProfile

#: dBuV across 50 ohm of 0 dBm: 10*log10(50 ohm * 1 mW) + 120 = 106.99
DBUV_PER_DBM_50OHM = 107.0
#: coverage factor of the expanded uncertainties reported (about 95 % for a normal distribution)
COVERAGE_K = 2.0
#: standard uncertainty of a reading whose own budget is not known (dB)
U_READING_FLOOR_DB = 0.1


@dataclass(frozen=True, slots=True)
class AntennaLevel:
    """One level at the antenna port with its uncertainty and calibration state.

    Parameters
    ----------
    power_dbm : float or None
        Channel power at the antenna port (dBm); None when the gain applied is unknown (automatic gain on a
        receiver that does not report it).
    u95_db : float or None
        Expanded uncertainty (k = 2, about 95 %) of ``power_dbm`` in dB.
    field_dbuv_m : float or None
        Field strength (dBuV/m) with the band's antenna factor; None without one.
    field_u95_db : float or None
        Expanded uncertainty of ``field_dbuv_m`` (dB).
    u_cal_db, u_meas_db : float
        Standard uncertainties (k = 1) of the calibration and of the measurement itself (dB).
    calibration : str
        'calibrated on DATE', 'nominal (uncalibrated)', or 'outside calibrated range' / 'automatic gain'.
    status : str
        'calibrated', 'nominal', 'outside' or 'unknown_gain'.
    """

    power_dbm: float | None
    u95_db: float | None
    field_dbuv_m: float | None
    field_u95_db: float | None
    u_cal_db: float
    u_meas_db: float
    calibration: str
    status: str

    def describe(self) -> str:
        """e.g. '-72.3 dBm +/- 1.2 dB (k=2), 41.5 dBuV/m +/- 2.0 dB, calibrated on 2026-03-01'."""
        if self.power_dbm is None:
            return f"level in dBm unknown ({self.calibration})"
        text = f"{self.power_dbm:.1f} dBm \u00b1 {self.u95_db:.1f} dB (k=2)"
        if self.field_dbuv_m is not None:
            text += f", {self.field_dbuv_m:.1f} dB\u00b5V/m \u00b1 {self.field_u95_db:.1f} dB"
        return f"{text}, {self.calibration}"


def field_strength_dbuv_m(power_dbm: float, antenna_factor_db_m: float) -> float:
    """Field strength (dBuV/m) of ``power_dbm`` at a 50 ohm antenna port with antenna factor AF (dB/m):
    E = P_dBm + 107 + AF."""
    return float(power_dbm) + DBUV_PER_DBM_50OHM + float(antenna_factor_db_m)


def antenna_level(
    level_dbfs: float,
    frequency_hz: float,
    gain_db: float | None,
    profile: CalibrationProfile,
    *,
    budget: Budget | None = None,
    antenna_factor_db_m: float | None = None,
    antenna_factor_u_db: float = 0.0,
) -> AntennaLevel:
    """The level ``level_dbfs`` (a channel power read at ``frequency_hz`` with gain ``gain_db``) at the
    antenna port in dBm, with field strength when an antenna factor (dB/m, with its standard uncertainty)
    is given. ``budget`` is the measurement's own uncertainty (detectors.uncertainty: ``level_budget`` of one
    observation, or a canonical measurement's ``power_dbfs.budget``); the calibration's is added to it as an
    independent systematic term. ``gain_db`` None (automatic gain, not reported) gives no dBm value."""
    meas = budget if budget is not None else Budget(U_READING_FLOOR_DB)
    if gain_db is None or level_dbfs is None or not math.isfinite(float(level_dbfs)):
        why = "automatic gain: level not calibrated" if gain_db is None else "no level"
        return AntennaLevel(None, None, None, None, math.nan, meas.standard, why, "unknown_gain")
    conv = profile.conversion(frequency_hz, gain_db)
    p = float(level_dbfs) - conv.conversion_db
    total = meas.with_systematic(conv.u_db)
    label = profile.label() if conv.status != "outside" else f"outside calibrated range ({profile.label()})"
    field = field_u = None
    if antenna_factor_db_m is not None:
        field = field_strength_dbuv_m(p, antenna_factor_db_m)
        field_u = total.with_systematic(float(antenna_factor_u_db)).expanded
    return AntennaLevel(p, total.expanded, field, field_u, conv.u_db, meas.standard, label, conv.status)


@dataclass(frozen=True, slots=True)
class LevelContext:
    """How the levels of one band sweep convert to the antenna port: what points and exports need.

    Parameters
    ----------
    profile : CalibrationProfile
        The station's profile (the nominal one when the station was never calibrated).
    gain_db : float or None
        Gain actually applied during the sweep (None: automatic gain the receiver does not report).
    antenna_factor_db_m : float or None
        The band's antenna factor (dB/m) from the config; None: no field strength.
    antenna_factor_u_db : float
        Standard uncertainty (k = 1) of the antenna factor (dB).
    settings : MeasurementSettings or None
        The sweep's DSP settings for the per-observation level budget (detectors.uncertainty).
    """

    profile: CalibrationProfile
    gain_db: float | None
    antenna_factor_db_m: float | None = None
    antenna_factor_u_db: float = 0.0
    settings: MeasurementSettings | None = None

    def level(self, power_dbfs: float, frequency_hz: float, *, bandwidth_hz: float | None = None,
              snr_db: float | None = None, budget: Budget | None = None) -> AntennaLevel:
        """:func:`antenna_level` of one reading; without ``budget`` the single-observation level budget is
        computed from ``bandwidth_hz``, ``snr_db`` and the settings when all are known."""
        if budget is None and self.settings is not None and bandwidth_hz is not None and snr_db is not None \
                and math.isfinite(snr_db) and bandwidth_hz > 0:
            budget = level_budget(float(bandwidth_hz), float(snr_db), self.settings)
        return antenna_level(power_dbfs, frequency_hz, self.gain_db, self.profile, budget=budget,
                             antenna_factor_db_m=self.antenna_factor_db_m,
                             antenna_factor_u_db=self.antenna_factor_u_db)


def load_station_profile(path) -> CalibrationProfile:
    """The profile a station's receiver uses: the file given (``[receiver] calibration``) or the nominal one."""
    from station.calibration.profile import load_profile, nominal_profile

    return nominal_profile() if path is None else load_profile(path)


def level_settings(levels: LevelContext | None, results) -> dict:
    """What a case observation keeps of its level conversion (``case_observations.settings_json``): the gain,
    the calibration label and file, the antenna factor, and per judged emission (keyed by its centre, whole Hz)
    the conversion and its u, so reports convert the stored dBFS without the profile at hand."""
    if levels is None:
        return {}
    out: dict = {"gain_db": levels.gain_db, "calibration": levels.profile.label(),
                 "calibration_file": levels.profile.source, "antenna_factor_db_m": levels.antenna_factor_db_m,
                 "antenna_factor_u_db": levels.antenna_factor_u_db}
    if levels.gain_db is not None:
        conv = {}
        for r in results:
            e = getattr(r, "emission", r)
            c = levels.profile.conversion(e.center_hz, levels.gain_db)
            conv[f"{e.center_hz:.0f}"] = [round(c.conversion_db, 4), round(c.u_db, 4), c.status]
        out["level_conversion"] = conv
    return out


def stored_level(settings: dict, center_hz: float, power_dbfs: float, budget: Budget | None = None) -> AntennaLevel | None:
    """The :class:`AntennaLevel` of a stored case observation (see :func:`level_settings`); None when the
    observation kept no conversion (older stores, automatic gain)."""
    conv = (settings or {}).get("level_conversion") or {}
    entry = conv.get(f"{center_hz:.0f}")
    if entry is None and conv:  # the canonical centre is not an observed one: nearest stored conversion
        key = min(conv, key=lambda k: abs(float(k) - center_hz))
        entry = conv[key] if abs(float(key) - center_hz) < 1e6 else None
    if entry is None or power_dbfs is None or not math.isfinite(power_dbfs):
        return None
    c_db, u_cal, status = float(entry[0]), float(entry[1]), str(entry[2])
    meas = budget if budget is not None else Budget(U_READING_FLOOR_DB)
    total = meas.with_systematic(u_cal)
    p = float(power_dbfs) - c_db
    af = settings.get("antenna_factor_db_m")
    field = field_u = None
    if af is not None:
        field = field_strength_dbuv_m(p, af)
        field_u = total.with_systematic(float(settings.get("antenna_factor_u_db") or 0.0)).expanded
    label = str(settings.get("calibration") or "")
    if status == "outside":
        label = f"outside calibrated range ({label})"
    return AntennaLevel(p, total.expanded, field, field_u, u_cal, meas.standard, label, status)


__all__ = ["AntennaLevel", "COVERAGE_K", "DBUV_PER_DBM_50OHM", "LevelContext", "antenna_level",
           "field_strength_dbuv_m", "level_settings", "load_station_profile", "stored_level"]
