"""Facts about the RTL2832U and its tuners shared by the rtlsdr and rtltcp receivers and the rtl_tcp server.

Private helper (not a receiver, so not in the registry). Tables follow librtlsdr (``librtlsdr.c``):
tuner type numbers as sent in the rtl_tcp header, the gain steps of each tuner in tenths of dB, the tuning
ranges, the sample-rate ranges the RTL2832U resampler accepts and the rate it really produces.
"""

from __future__ import annotations

from station.errors import TuningError

#: rtl_tcp / librtlsdr tuner type number -> name
TUNER_NAMES = {0: "unknown", 1: "E4000", 2: "FC0012", 3: "FC0013", 4: "FC2580", 5: "R820T", 6: "R828D"}

#: tuner type -> supported gains in tenths of dB (librtlsdr ``rtlsdr_get_tuner_gains``)
TUNER_GAINS_TENTHS_DB: dict[int, tuple[int, ...]] = {
    0: (),
    1: (-10, 15, 40, 65, 90, 115, 140, 165, 190, 215, 240, 290, 340, 420),
    2: (-99, -40, 71, 179, 192),
    3: (-99, -73, -65, -63, -60, -58, -54, 58, 61, 63, 65, 67, 68, 70, 71, 179, 181, 182, 184, 186, 188, 191, 197),
    4: (0,),
    5: (0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166, 197, 207, 229, 254, 280, 297, 328, 338, 364, 372, 386, 402,
        421, 434, 439, 445, 480, 496),
    6: (0, 9, 14, 27, 37, 77, 87, 125, 144, 157, 166, 197, 207, 229, 254, 280, 297, 328, 338, 364, 372, 386, 402,
        421, 434, 439, 445, 480, 496),
}

#: tuner type -> (lowest, highest) tunable centre frequency in Hz (datasheet/librtlsdr practice)
TUNER_RANGES_HZ: dict[int, tuple[float, float]] = {
    0: (24e6, 1766e6),
    1: (52e6, 2200e6),
    2: (22e6, 948.6e6),
    3: (22e6, 1100e6),
    4: (146e6, 924e6),
    5: (24e6, 1766e6),
    6: (24e6, 1766e6),
}

#: RTL2832U reference crystal (Hz)
RTL_XTAL_HZ = 28_800_000

#: sample-rate ranges librtlsdr accepts (Hz): (225001..300000] and (900001..3200000]
RATE_RANGES_HZ = ((225_001.0, 300_000.0), (900_001.0, 3_200_000.0))


def tuner_gains_db(tuner_type: int) -> tuple[float, ...]:
    """Supported gains of a tuner in dB (empty for an unknown tuner)."""
    return tuple(g / 10 for g in TUNER_GAINS_TENTHS_DB.get(tuner_type, ()))


def nearest_gain_tenths(gain_db: float, tuner_type: int) -> int:
    """The supported gain nearest ``gain_db``, in tenths of dB (librtlsdr picks the same one)."""
    table = TUNER_GAINS_TENTHS_DB.get(tuner_type) or ()
    if not table:
        return int(round(gain_db * 10))
    return min(table, key=lambda g: abs(g - gain_db * 10))


def check_sample_rate(rate_hz: float, where: str) -> None:
    """Raise TuningError unless the RTL2832U can produce ``rate_hz``."""
    if not any(lo <= rate_hz <= hi for lo, hi in RATE_RANGES_HZ):
        raise TuningError(
            f"sample rate {rate_hz:.0f} S/s is not one the RTL2832U can give "
            f"(225001-300000 or 900001-3200000 S/s; 2.4M is the usual maximum without dropped samples)",
            where=where,
        )


def real_sample_rate_hz(rate_hz: float) -> float:
    """The rate the RTL2832U resampler really produces for a requested rate (librtlsdr's arithmetic)."""
    ratio = int((RTL_XTAL_HZ * (1 << 22)) / rate_hz) & 0x0FFFFFFC
    real_ratio = ratio | ((ratio & 0x08000000) << 1)
    return (RTL_XTAL_HZ * (1 << 22)) / real_ratio


__all__ = [
    "RATE_RANGES_HZ",
    "RTL_XTAL_HZ",
    "TUNER_GAINS_TENTHS_DB",
    "TUNER_NAMES",
    "TUNER_RANGES_HZ",
    "check_sample_rate",
    "nearest_gain_tenths",
    "real_sample_rate_hz",
    "tuner_gains_db",
]
