"""Listenable audio from a case's IQ evidence: which demodulator fits the emission, and the WAV file.

The mode (:func:`choose_mode`) comes from the emission's ITU designator when a register row at its frequency
gives one (third symbol E = telephony: A3E -> AM; F3E -> narrow-band FM, or broadcast FM above 100 kHz), else
from the signal itself, measured only where the emission was on the air (the SigMF annotation):

- occupied bandwidth 100-300 kHz: broadcast FM (``wbfm``);
- bandwidth below 100 kHz (voice channels, and an over-deviating voice transmitter 40 kHz wide): envelope variation (std/mean of |x| in the channel) above 0.2 -> AM (a constant
  envelope is angle modulation); for angle modulation the discriminator's kurtosis tells analogue from digital:
  voice and programme audio have a peaked or Gaussian distribution (kurtosis >= 2.4), multi-level FSK (DMR,
  dPMR, P25) piles up on its few deviation levels (kurtosis ~1.6-2.2), and is not turned into audio;
- anything wider (OFDM, wide digital): no audio.

The WAV (:func:`write_wav`) is 16-bit PCM mono at the demodulator's audio rate (about 16 kHz), scaled so its
99.9th-percentile magnitude sits at -6 dBFS (speech peaks are not clipped), with the scale recorded so levels
can be traced back (FS per unit for AM, Hz of deviation per unit for FM).
"""

from __future__ import annotations

import math
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: envelope std/mean above which a narrow emission is taken as AM (noise alone: ~0.52, FM in noise at 10 dB: ~0.3
#: ... 20 dB: ~0.1; AM voice at 80 % depth: ~0.4)
AM_ENVELOPE_CV = 0.2
#: discriminator kurtosis below which angle modulation is taken as digital FSK
DIGITAL_KURTOSIS = 2.4
#: peak (99.9th percentile of |audio|) of the written WAV, in full scale
WAV_PEAK_FS = 0.5


@dataclass(frozen=True, slots=True)
class ModeChoice:
    mode: str | None  # "am", "nbfm", "wbfm" or None (no audio)
    why: str
    envelope_cv: float | None = None
    kurtosis: float | None = None


@dataclass(frozen=True, slots=True)
class VoiceAudio:
    samples: np.ndarray  # int16 PCM
    rate_hz: float
    mode: str
    scale: float  # detector units (FS for AM, Hz for FM) per full-scale WAV unit
    rms_dbfs: float  # of the written PCM
    peak_dbfs: float
    clipped_fraction: float
    why: str


_DESIGNATOR = re.compile(r"^\s*(\d+[HKMG]\d*|\d*[HKMG]\d+)?\s*([A-Z])([0-9X])([A-Z])", re.I)


def mode_from_designator(designator: str, bandwidth_hz: float) -> str | None:
    """"am"/"nbfm"/"wbfm" for an analogue telephony/broadcast designator (A3E, F3E, F8E ...), else None."""
    m = _DESIGNATOR.match(designator or "")
    if not m:
        return None
    first, second, third = m.group(2).upper(), m.group(3).upper(), m.group(4).upper()
    if third != "E" or second not in ("3", "8"):
        return None  # not analogue telephony/broadcast sound
    if first == "A":
        return "am"
    if first in ("F", "G"):
        return "wbfm" if bandwidth_hz > 100e3 else "nbfm"
    return None


def choose_mode(iq: np.ndarray, rate_hz: float, offset_hz: float, bandwidth_hz: float,
                designators: tuple[str, ...] = ()) -> ModeChoice:
    """Pick the demodulator for the emission at ``offset_hz`` (from the tuned centre) in ``iq`` (complex, only
    the part where the emission is on the air), see the module docstring."""
    from dsp.demod import channel_taps, fm_discriminator, mix_decimate

    for d in designators:
        mode = mode_from_designator(d, bandwidth_hz)
        if mode:
            return ModeChoice(mode, f"designator {d} of the register row at this frequency")
    if 100e3 <= bandwidth_hz <= 300e3:
        return ModeChoice("wbfm", f"occupied bandwidth {bandwidth_hz / 1e3:.0f} kHz: broadcast FM")
    if bandwidth_hz >= 100e3:
        return ModeChoice(None, f"occupied bandwidth {bandwidth_hz / 1e3:.0f} kHz is wider than broadcast FM: "
                                "no analogue audio to demodulate")
    half = max(0.6 * bandwidth_hz, 3000.0)
    decim = max(1, int(rate_hz // (2.5 * half)))
    x = np.asarray(iq)
    if x.size < 8 * decim * 64:
        return ModeChoice(None, "too few samples with the emission on the air to judge its modulation")
    ch = mix_decimate(x, rate_hz, offset_hz, decim, channel_taps(rate_hz, half))[64:]
    env = np.abs(ch)
    cv = float(env.std() / env.mean()) if env.mean() > 0 else float("inf")
    if cv > AM_ENVELOPE_CV:
        return ModeChoice("am", f"envelope varies (std/mean {cv:.2f} > {AM_ENVELOPE_CV}): amplitude modulation",
                          envelope_cv=cv)
    f = fm_discriminator(ch, rate_hz / decim).astype(np.float64)[1:]
    f -= f.mean()
    var = float((f * f).mean())
    kurt = float((f ** 4).mean() / var ** 2) if var > 0 else 0.0
    if kurt < DIGITAL_KURTOSIS:
        return ModeChoice(None, f"constant envelope with a few-level frequency distribution (kurtosis {kurt:.2f} < "
                                f"{DIGITAL_KURTOSIS}): digital FSK, not analogue voice", envelope_cv=cv, kurtosis=kurt)
    return ModeChoice("nbfm", f"constant envelope (std/mean {cv:.2f}), analogue-like deviation (kurtosis "
                              f"{kurt:.2f}): narrow-band FM", envelope_cv=cv, kurtosis=kurt)


def voice_audio(iq: np.ndarray, rate_hz: float, offset_hz: float, choice: ModeChoice, *,
                bandwidth_hz: float | None = None, audio_rate_hz: float = 16_000.0) -> VoiceAudio:
    """Demodulate with ``choice.mode`` and scale to 16-bit PCM (see the module docstring)."""
    from dsp.demod import CHANNEL_HALF_HZ, demodulate

    if choice.mode is None:
        raise ValueError(f"no audio: {choice.why}")
    half = CHANNEL_HALF_HZ[choice.mode]
    if bandwidth_hz and choice.mode != "wbfm":
        half = max(half, 0.6 * bandwidth_hz)
    audio, plan = demodulate(iq, rate_hz, offset_hz, choice.mode, audio_rate_hz=audio_rate_hz,
                             channel_half_hz=half)
    if audio.size == 0:
        raise ValueError("the recording is too short to demodulate")
    ref = float(np.percentile(np.abs(audio), 99.9))
    scale = ref / WAV_PEAK_FS if ref > 0 else 1.0
    x = audio / scale
    clipped = float(np.mean(np.abs(x) >= 1.0))
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    f = pcm.astype(np.float64) / 32768.0
    rms = math.sqrt(float(np.mean(f * f)))
    peak = float(np.abs(f).max())
    return VoiceAudio(pcm, plan.audio_rate_hz, choice.mode, scale, 20 * math.log10(rms) if rms > 0 else -math.inf,
                      20 * math.log10(peak) if peak > 0 else -math.inf, clipped, choice.why)


def write_wav(path, audio: VoiceAudio):
    """16-bit PCM mono WAV at the audio's rate (rounded to whole Hz) to a path or a binary file object."""
    with wave.open(path if hasattr(path, "write") else str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(round(audio.rate_hz)))
        w.writeframes(audio.samples.astype("<i2").tobytes())
    return path if hasattr(path, "write") else Path(path)


__all__ = ["ModeChoice", "VoiceAudio", "choose_mode", "mode_from_designator", "voice_audio", "write_wav"]
