"""Calibrated levels: dBm at the antenna port, field strength in dBuV/m, and the level uncertainty budget.

    power_dbm          = level_dbfs - conversion_db(frequency, gain)            (profile, docs/CALIBRATION.md)
    field_dbuv_m       = power_dbm + 107 + antenna_factor_db_m                  (50 ohm: 0 dBm = 107 dBuV)
    u_level (k=1)      = sqrt(u_cal^2 + u_meas^2)
    u_field (k=1)      = sqrt(u_level^2 + u_af^2)
    U (expanded, k=2)  = 2 u

``u_cal`` is the profile's uncertainty at that frequency and gain (:meth:`CalibrationProfile.conversion`);
``u_meas`` is the measurement's own scatter: for one observation :func:`level_measurement_u_db` (noise and
averaging), for a case the larger of that and the observed spread over its observations divided by
sqrt(count) (the canonical measurement of detectors/uncertainty.py passes it in). Pure functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from station.calibration.profile import CalibrationProfile

#: dBuV across 50 ohm of 0 dBm: 10*log10(50 ohm * 1 mW) + 120 = 106.99
DBUV_PER_DBM_50OHM = 107.0
#: coverage factor of the expanded uncertainties reported (about 95 % for a normal distribution)
COVERAGE_K = 2.0
#: standard uncertainty floor of one channel-power reading (dB): window/bin edge effects, 8-bit quantisation
U_READING_FLOOR_DB = 0.1
_DB_PER_NEPER_POWER = 10.0 / math.log(10.0)  # 4.343 dB per unit relative power change


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


def level_measurement_u_db(snr_db: float | None, bandwidth_hz: float, dwell_s: float) -> float:
    """Standard uncertainty (dB, k=1) of one channel-power reading from noise and averaging.

    The reading averages about B*T independent samples of signal plus noise over the occupied band B (Hz)
    and the dwell T (s); the relative standard deviation of the noise-subtracted power is then
    (1 + 1/snr) / sqrt(B*T) (snr linear; noise adds to the variance and its subtraction is exact only on
    average). In dB: 4.34 x that, with a floor of :data:`U_READING_FLOOR_DB`. An unknown SNR counts as 10 dB.
    """
    snr = 10.0 ** ((10.0 if snr_db is None or not math.isfinite(snr_db) else float(snr_db)) / 10.0)
    bt = max(float(bandwidth_hz) * float(dwell_s), 1.0)
    rel = (1.0 + 1.0 / max(snr, 1e-3)) / math.sqrt(bt)
    return math.hypot(_DB_PER_NEPER_POWER * rel, U_READING_FLOOR_DB)


def antenna_level(
    level_dbfs: float,
    frequency_hz: float,
    gain_db: float | None,
    profile: CalibrationProfile,
    *,
    u_meas_db: float = U_READING_FLOOR_DB,
    antenna_factor_db_m: float | None = None,
    antenna_factor_u_db: float = 0.0,
) -> AntennaLevel:
    """The level ``level_dbfs`` (a channel power read at ``frequency_hz`` with gain ``gain_db``) at the
    antenna port in dBm, with field strength when an antenna factor (dB/m, with its standard uncertainty)
    is given. ``gain_db`` None (automatic gain, not reported) gives no dBm value."""
    if gain_db is None or level_dbfs is None or not math.isfinite(float(level_dbfs)):
        why = "automatic gain: level not calibrated" if gain_db is None else "no level"
        return AntennaLevel(None, None, None, None, math.nan, float(u_meas_db), why, "unknown_gain")
    conv = profile.conversion(frequency_hz, gain_db)
    p = float(level_dbfs) - conv.conversion_db
    u = math.hypot(conv.u_db, float(u_meas_db))
    label = profile.label() if conv.status != "outside" else f"outside calibrated range ({profile.label()})"
    field = field_u = None
    if antenna_factor_db_m is not None:
        field = field_strength_dbuv_m(p, antenna_factor_db_m)
        field_u = COVERAGE_K * math.hypot(u, float(antenna_factor_u_db))
    return AntennaLevel(p, COVERAGE_K * u, field, field_u, conv.u_db, float(u_meas_db), label, conv.status)


__all__ = ["AntennaLevel", "COVERAGE_K", "DBUV_PER_DBM_50OHM", "antenna_level", "field_strength_dbuv_m",
           "level_measurement_u_db"]
