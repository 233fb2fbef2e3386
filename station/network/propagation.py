"""Radio propagation models for the simulated network and the localisation prior. Pure, no I/O.

Two models, both stated in docs/NETWORK.md:

* ``log-distance``: ``L(d) = FSPL(1 m, f) + 10 n log10(d / 1 m)`` dB, ``FSPL(1 m, f) = 20 log10(4 pi f / c)``
  (free space up to 1 m, exponent ``n`` beyond: 2 free space, 2.7-3.5 urban, 3-5 dense urban/indoor).
* ``hata-urban``: Okumura-Hata for a small/medium city (COST 231 report, valid 150-1500 MHz, 1-20 km,
  base antenna 30-200 m, mobile 1-10 m); used outside that range it is an extrapolation and said so in the
  docs. Its distance slope ``(44.9 - 6.55 log10 h_b) / 10`` (about 3.5 for a 30 m mast) is a log-distance
  exponent, so the localiser's log-distance model with an unknown exponent covers it.

Shadowing is log-normal: a zero-mean Gaussian in dB with standard deviation ``shadowing_db``, drawn once per
(seed, station, transmitter) pair from a hash of the three, so every process that simulates the same station
sees the same value (slow fading: constant in time).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

SPEED_OF_LIGHT_M_S = 299_792_458.0

MODELS = ("log-distance", "hata-urban")


def fspl_1m_db(frequency_hz: float) -> float:
    """Free-space path loss over 1 m (dB): 20 log10(4 pi f / c); 15.9 dB at 150 MHz."""
    if not frequency_hz > 0:
        raise ValueError(f"frequency must be > 0 Hz, got {frequency_hz!r}")
    return 20.0 * math.log10(4.0 * math.pi * frequency_hz / SPEED_OF_LIGHT_M_S)


def log_distance_db(distance_m, frequency_hz: float, exponent: float, min_distance_m: float = 1.0):
    """Log-distance path loss (dB) at ``distance_m`` (array or scalar; shorter distances clamp to the minimum)."""
    d = np.maximum(np.asarray(distance_m, dtype=np.float64), min_distance_m)
    return fspl_1m_db(frequency_hz) + 10.0 * exponent * np.log10(d)


def hata_urban_db(distance_m, frequency_hz: float, base_height_m: float, mobile_height_m: float):
    """Okumura-Hata median path loss (dB), small/medium city, at ``distance_m`` (array or scalar, metres).

    ``base_height_m`` is the higher antenna (transmitter mast), ``mobile_height_m`` the lower (monitoring
    station). Distances below 100 m clamp to 100 m (the formula has no near field)."""
    if base_height_m <= 0 or mobile_height_m <= 0:
        raise ValueError("antenna heights must be > 0 m")
    f_mhz = frequency_hz / 1e6
    d_km = np.maximum(np.asarray(distance_m, dtype=np.float64), 100.0) / 1000.0
    hb = max(base_height_m, mobile_height_m)
    hm = min(base_height_m, mobile_height_m)
    a_hm = (1.1 * math.log10(f_mhz) - 0.7) * hm - (1.56 * math.log10(f_mhz) - 0.8)
    return (69.55 + 26.16 * math.log10(f_mhz) - 13.82 * math.log10(hb) - a_hm
            + (44.9 - 6.55 * math.log10(hb)) * np.log10(d_km))


def path_loss_db(model: str, distance_m, frequency_hz: float, *, exponent: float = 3.0,
                 tx_height_m: float = 30.0, rx_height_m: float = 10.0):
    """Path loss (dB) of ``model`` (one of :data:`MODELS`)."""
    if model == "log-distance":
        return log_distance_db(distance_m, frequency_hz, exponent)
    if model == "hata-urban":
        return hata_urban_db(distance_m, frequency_hz, tx_height_m, rx_height_m)
    raise ValueError(f"unknown propagation model {model!r}; known: {', '.join(MODELS)}")


def shadowing_db(seed: int, station: str, transmitter: str, sd_db: float) -> float:
    """Log-normal shadowing (dB) of one station-transmitter pair: N(0, sd_db), a pure function of the three
    keys (SHA-256 seeded), identical in every process."""
    if sd_db <= 0:
        return 0.0
    digest = hashlib.sha256(f"{int(seed)}\x00{station}\x00{transmitter}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return float(rng.normal(0.0, sd_db))


__all__ = [
    "MODELS",
    "SPEED_OF_LIGHT_M_S",
    "fspl_1m_db",
    "hata_urban_db",
    "log_distance_db",
    "path_loss_db",
    "shadowing_db",
]
