"""ITU Radio Regulations Appendix 1 emission designators (e.g. ``16K0F3E``, ``180KF8EHF``, ``6M25C7W``).

A full designator is the necessary bandwidth (4 characters: three digits and a unit letter H/K/M/G standing
where the decimal point goes) followed by the class of emission (3 symbols) and, optionally, 2 more symbols:

    necessary bandwidth   ``400H`` = 400 Hz, ``2K40`` = 2.40 kHz, ``16K0`` = 16.0 kHz, ``6M25`` = 6.25 MHz,
                          ``H002`` = 0.002 Hz. The first character is neither ``0`` nor K/M/G.
    1st symbol            type of modulation of the main carrier (N A H R J B C F G D P K L M Q V W X)
    2nd symbol            nature of the signal(s) modulating the main carrier (0 1 2 3 7 8 9 X)
    3rd symbol            type of information to be transmitted (N A B C D E F W X)
    4th symbol, optional  details of signal(s) (A B C D E F G H J K L M N W X)
    5th symbol, optional  nature of multiplexing (N C F T W X)

:func:`parse_designator` returns a frozen :class:`Designator`; malformed text raises ``ValueError`` naming the
bad character and its position (1-based), e.g. ``emission designator '16X0F3E': character 3 'X' ...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from station.redact import shown

#: bandwidth unit letter -> multiplier to Hz
_UNIT_HZ = {"H": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}

#: 1st symbol: type of modulation of the main carrier
MODULATION = {
    "N": "emission of an unmodulated carrier",
    "A": "amplitude modulation, double-sideband",
    "H": "amplitude modulation, single-sideband, full carrier",
    "R": "amplitude modulation, single-sideband, reduced or variable carrier",
    "J": "amplitude modulation, single-sideband, suppressed carrier",
    "B": "amplitude modulation, independent sidebands",
    "C": "amplitude modulation, vestigial sideband",
    "F": "frequency modulation",
    "G": "phase modulation",
    "D": "amplitude and angle modulation, simultaneously or in a pre-established sequence",
    "P": "sequence of unmodulated pulses",
    "K": "pulses modulated in amplitude",
    "L": "pulses modulated in width/duration",
    "M": "pulses modulated in position/phase",
    "Q": "pulses with the carrier angle-modulated during the pulse",
    "V": "pulses, combination of the foregoing or produced by other means",
    "W": "combination of amplitude, angle and pulse modulation",
    "X": "cases not otherwise covered",
}

#: 2nd symbol: nature of the signal(s) modulating the main carrier
SIGNAL = {
    "0": "no modulating signal",
    "1": "a single channel of quantized or digital information without a modulating sub-carrier",
    "2": "a single channel of quantized or digital information with a modulating sub-carrier",
    "3": "a single channel of analogue information",
    "7": "two or more channels of quantized or digital information",
    "8": "two or more channels of analogue information",
    "9": "composite system of quantized/digital and analogue channels",
    "X": "cases not otherwise covered",
}

#: 3rd symbol: type of information to be transmitted
INFORMATION = {
    "N": "no information transmitted",
    "A": "telegraphy for aural reception",
    "B": "telegraphy for automatic reception",
    "C": "facsimile",
    "D": "data transmission, telemetry, telecommand",
    "E": "telephony (including sound broadcasting)",
    "F": "television (video)",
    "W": "combination of the above",
    "X": "cases not otherwise covered",
}

#: 4th symbol (optional): details of signal(s)
DETAILS = {
    "A": "two-condition code, elements of differing numbers and/or durations",
    "B": "two-condition code, elements of the same number and duration, without error correction",
    "C": "two-condition code, elements of the same number and duration, with error correction",
    "D": "four-condition code, each condition a signal element",
    "E": "multi-condition code, each condition a signal element",
    "F": "multi-condition code, each condition or combination a character",
    "G": "sound of broadcasting quality (monophonic)",
    "H": "sound of broadcasting quality (stereophonic or quadraphonic)",
    "J": "sound of commercial quality",
    "K": "sound of commercial quality with frequency inversion or band-splitting",
    "L": "sound of commercial quality with separate FM signals to control the level",
    "M": "monochrome",
    "N": "colour",
    "W": "combination of the above",
    "X": "cases not otherwise covered",
}

#: 5th symbol (optional): nature of multiplexing
MULTIPLEXING = {
    "N": "none",
    "C": "code-division multiplex",
    "F": "frequency-division multiplex",
    "T": "time-division multiplex",
    "W": "combination of frequency- and time-division multiplexing",
    "X": "other types of multiplexing",
}

_SYMBOL_TABLES = (
    ("type of modulation", MODULATION),
    ("nature of modulating signal", SIGNAL),
    ("type of information", INFORMATION),
    ("details of signal", DETAILS),
    ("nature of multiplexing", MULTIPLEXING),
)


@dataclass(frozen=True, slots=True)
class Designator:
    """A parsed emission designator. ``necessary_bandwidth_hz`` is None when only the class was given."""

    text: str  # normalised (upper case, no spaces)
    necessary_bandwidth_hz: float | None
    modulation: str  # 1st symbol
    signal: str  # 2nd symbol
    information: str  # 3rd symbol
    details: str | None = None  # 4th symbol
    multiplexing: str | None = None  # 5th symbol

    @property
    def emission_class(self) -> str:
        """The 3-5 symbol class of emission without the bandwidth, e.g. ``F3E``."""
        return self.modulation + self.signal + self.information + (self.details or "") + (self.multiplexing or "")

    def describe(self) -> str:
        """The class in words, e.g. ``frequency modulation; a single channel of analogue information; ...``."""
        parts = [MODULATION[self.modulation], SIGNAL[self.signal], INFORMATION[self.information]]
        if self.details:
            parts.append(DETAILS[self.details])
        if self.multiplexing:
            parts.append(MULTIPLEXING[self.multiplexing])
        return "; ".join(parts)


def _fail(text: str, pos: int, char: str, why: str) -> ValueError:
    return ValueError(f"emission designator {shown(text)}: character {pos} {shown(char)} {why}")


def parse_bandwidth(code: str, *, text: str | None = None, offset: int = 0) -> float:
    """Necessary bandwidth in Hz from its 4-character code (``16K0`` -> 16000.0, ``H002`` -> 0.002).

    ``text``/``offset`` only shape the error message when the code is part of a longer designator.
    """
    whole = text if text is not None else code
    if len(code) != 4:
        raise ValueError(f"emission designator {shown(whole)}: bandwidth {shown(code)} must be 4 characters (e.g. '16K0')")
    unit_pos = [i for i, c in enumerate(code) if c in _UNIT_HZ]
    for i, c in enumerate(code):
        if c not in _UNIT_HZ and not c.isdigit():
            raise _fail(whole, offset + i + 1, c, "is not a digit or a unit letter H, K, M, G in the bandwidth")
    if len(unit_pos) != 1:
        if not unit_pos:
            raise ValueError(f"emission designator {shown(whole)}: bandwidth {shown(code)} has no unit letter H, K, M or G")
        i = unit_pos[1]
        raise _fail(whole, offset + i + 1, code[i], "is a second unit letter in the bandwidth")
    i = unit_pos[0]
    if code[0] == "0":
        raise _fail(whole, offset + 1, "0", "cannot start the bandwidth (Appendix 1: first character not zero)")
    if i == 0 and code[0] != "H":
        raise _fail(whole, offset + 1, code[0], "cannot start the bandwidth (only H may stand first: 'H002')")
    value = float(code[:i] + "." + code[i + 1 :]) if i < 3 else float(code[:3])
    hz = value * _UNIT_HZ[code[i]]
    if hz <= 0:
        raise ValueError(f"emission designator {shown(whole)}: bandwidth {shown(code)} is zero")
    return hz


def parse_designator(text: str, *, require_bandwidth: bool = False) -> Designator:
    """Parse ``16K0F3E``, ``180KF8EHF``, ``2K40J3E``; also a bare class ``F3E`` unless ``require_bandwidth``.

    Raises ValueError naming the bad character and its 1-based position.
    """
    if not isinstance(text, str):
        raise TypeError(f"emission designator must be a string, got {type(text).__name__}")
    norm = text.strip().upper()
    if not norm:
        raise ValueError("emission designator is empty")
    # a bandwidth starts with a digit, or is 'H' + three digits (0.001-0.999 Hz); a bare class starts with a letter
    has_bw = norm[0].isdigit() or (norm[0] == "H" and norm[1:4].isdigit() and len(norm[1:4]) == 3)
    if not has_bw and norm[0] in "KMG" and len(norm) >= 7:
        raise _fail(norm, 1, norm[0], "cannot start the bandwidth (Appendix 1: the first character is a digit)")
    if has_bw:
        if len(norm) < 7 or len(norm) > 9:
            raise ValueError(
                f"emission designator {shown(text)} has {len(norm)} characters; expected 7 to 9 "
                "(4 bandwidth + 3 class + up to 2 optional symbols, e.g. '16K0F3E' or '180KF8EHF')"
            )
        bandwidth_hz: float | None = parse_bandwidth(norm[:4], text=norm)
        symbols, offset = norm[4:], 4
    else:
        if require_bandwidth:
            raise ValueError(f"emission designator {shown(text)} has no necessary bandwidth (e.g. '16K0F3E')")
        if len(norm) > 5:
            raise ValueError(f"emission designator {shown(text)}: expected a bandwidth like '16K0' before the class")
        bandwidth_hz, symbols, offset = None, norm, 0
    if len(symbols) < 3:
        raise ValueError(f"emission designator {shown(text)}: class of emission needs 3 symbols, got {shown(symbols)}")
    for i, c in enumerate(symbols):
        name, table = _SYMBOL_TABLES[i]
        if c not in table:
            raise _fail(norm, offset + i + 1, c, f"is not a valid {name} symbol (one of {''.join(table)})")
    return Designator(
        text=norm,
        necessary_bandwidth_hz=bandwidth_hz,
        modulation=symbols[0],
        signal=symbols[1],
        information=symbols[2],
        details=symbols[3] if len(symbols) > 3 else None,
        multiplexing=symbols[4] if len(symbols) > 4 else None,
    )


def format_bandwidth(hz: float) -> str:
    """The 4-character bandwidth code for ``hz`` (3 significant figures), e.g. 16000 -> ``16K0``, 0.002 -> ``H002``."""
    if not hz > 0 or not math.isfinite(hz):
        raise ValueError(f"bandwidth must be positive, got {hz}")
    v = float(f"{hz:.3g}")
    if v >= 999.5e9:
        raise ValueError(f"bandwidth {hz} Hz is above 999 GHz")
    if v < 1.0:
        return f"H{round(v * 1000):03d}"
    for letter, scale in (("H", 1.0), ("K", 1e3), ("M", 1e6), ("G", 1e9)):
        value = v / scale
        if value < 999.5:
            break
    digits = f"{value:.3g}"
    if "e" in digits:
        digits = f"{value:.0f}"
    whole, _, frac = digits.partition(".")
    return whole + letter + (frac + "000")[: 3 - len(whole)]
