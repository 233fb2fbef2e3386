"""Parse and format the quantities users type: frequencies/rates ("433.92M", "250k", "2.4e6"), durations
("10", "1.5s", "250ms", "2m"), gains ("auto", "28.0").

Every parser raises :class:`station.errors.UsageError` with a one-line message that names the value and, when
given, where it came from (``what="--center-freq"``, ``what="rate option of file:x.cu8"``).
"""

from __future__ import annotations

import math
import re

from station.errors import UsageError
from station.redact import shown

#: the largest frequency/rate any input may give (Hz): 3 THz, the top of the ITU RR allocation table
MAX_HZ = 3e12
#: the longest duration any input may give (s): 10 years
MAX_DURATION_S = 10 * 365.25 * 86400.0


def _float(value: object) -> float:
    """float(value), with an integer too large for a float (OverflowError) as +/-inf."""
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf

_HZ_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}
_HZ_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<suffix>[kKmMgG]?)\s*(?:hz|Hz|HZ|sps|S/s)?\s*$"
)
_DURATION_SUFFIX = {"": 1.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "m": 60.0, "min": 60.0, "h": 3600.0}
_DURATION_RE = re.compile(r"^\s*(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<suffix>ms|us|min|s|m|h)?\s*$")


def parse_hz(text: str | float | int, *, what: str = "frequency") -> float:
    """Parse a frequency or sample rate in Hz.

    Accepts plain numbers (``"433920000"``, ``"2.4e6"``) and SI suffixes k/M/G, case-insensitive, optional
    unit ``Hz``: ``parse_hz("433.92M") -> 433920000.0``, ``parse_hz("250k") -> 250000.0``. Note that ``m`` means
    mega here (radio usage; there are no millihertz). Numbers pass through. Negative values are allowed (offsets);
    callers that need a positive value check it. Raises UsageError naming ``what`` and the bad text.
    """
    if isinstance(text, bool):
        raise UsageError(f"{what}: expected a frequency like 433.92M or 250k, got {shown(text)}")
    if isinstance(text, (int, float)):
        value = _float(text)
    else:
        m = _HZ_RE.match(str(text))
        if not m:
            raise UsageError(f"{what}: cannot parse {shown(text)} as a frequency; expected a number with an optional "
                             f"k/M/G suffix, e.g. 433.92M, 250k, 2.4e6")
        value = float(m.group("num")) * _HZ_SUFFIX[m.group("suffix").lower()]
    if not math.isfinite(value):
        raise UsageError(f"{what}: frequency {shown(text)} is not finite")
    if abs(value) > MAX_HZ:
        raise UsageError(f"{what}: frequency {shown(text)} is beyond {MAX_HZ:g} Hz")
    return value


def parse_positive_hz(text: str | float | int, *, what: str = "frequency") -> float:
    """:func:`parse_hz` that also requires a value > 0 (a centre frequency, a sample rate)."""
    value = parse_hz(text, what=what)
    if value <= 0:
        raise UsageError(f"{what}: must be positive, got {shown(text)}")
    return value


def parse_duration_s(text: str | float | int, *, what: str = "duration") -> float:
    """Parse a duration in seconds: ``"10"``, ``"1.5s"``, ``"250ms"``, ``"2m"``/``"2min"`` (minutes), ``"1h"``.

    Must be positive and finite. Raises UsageError naming ``what``.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = _float(text)
    else:
        m = _DURATION_RE.match(str(text))
        if not m:
            raise UsageError(f"{what}: cannot parse {shown(text)} as a duration; expected e.g. 10, 1.5s, 250ms, 2min")
        value = float(m.group("num")) * _DURATION_SUFFIX[m.group("suffix") or ""]
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{what}: must be a positive duration, got {shown(text)}")
    if value > MAX_DURATION_S:
        raise UsageError(f"{what}: {shown(text)} is longer than 10 years")
    return value


def parse_gain_db(text: str | float | int | None, *, what: str = "gain") -> float | None:
    """Parse a receiver gain: ``"auto"`` (or None) -> None (automatic gain), else a number of dB."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = _float(text)
        if not math.isfinite(value):
            raise UsageError(f"{what}: gain {shown(text)} is not finite")
        return value
    s = str(text).strip().lower()
    if s in ("auto", "agc", ""):
        return None
    try:
        value = float(s.removesuffix("db").strip())
    except ValueError:
        raise UsageError(f"{what}: expected 'auto' or a gain in dB like 28.0, got {shown(text)}") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: gain {shown(text)} is not finite")
    return value


def format_hz(value_hz: float) -> str:
    """Format Hz compactly in the same k/M/G form :func:`parse_hz` reads: 433920000 -> "433.92M"."""
    v = float(value_hz)
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.9g}{suffix}"
    return f"{v:.9g}"


__all__ = ["format_hz", "parse_duration_s", "parse_gain_db", "parse_hz", "parse_positive_hz"]
