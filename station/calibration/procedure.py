"""``specmon calibrate``: measure a receiver's calibration profile against a known reference.

The reference is a signal generator (or a comb) delivering a carrier of a stated level (dBm at the
receiver's antenna port, with its standard uncertainty) at each frequency of a stated list. For each
frequency the receiver is tuned so that the carrier sits ``offset_hz`` from the centre (in the flat part of
the baseband passband, away from the DC spike, its IQ image falling on the other side), and for each gain
setting the carrier's power is measured through the normal receiver path (``read_raw``, the Welch PSD of
dsp/psd.py): the PSD is integrated over a few bins around the carrier and the noise in those bins, taken
from the surrounding bins, is subtracted. The read is cut into segments whose scatter gives the Type A
uncertainty. A node is rejected (and left empty in the profile) when the samples clip, the carrier is less
than :data:`MIN_SNR_DB` above the noise, or no carrier is found near the expected frequency.

    conversion_db = measured level (dBFS) - reference level (dBm)
    u (k=1)       = sqrt(u_reference^2 + u_typeA^2)

The profile is written with status ``calibrated`` and the date; :func:`merge_profiles` joins runs made at
different generator levels (a high level for low gains, a low one for high gains).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from dsp.convert import to_complex64
from dsp.psd import welch
from station.calibration.profile import CalibrationProfile

#: a node needs the carrier this far above the noise in its integration band (dB)
MIN_SNR_DB = 25.0
#: fraction of clipped samples (either component at full scale) above which a reading is refused
MAX_CLIP_FRACTION = 1e-5
#: bins either side of the carrier's peak integrated into its power (Hann: main lobe +/- 2 bins)
HALF_WIDTH_BINS = 6
#: segments the read is cut into for the Type A (scatter) uncertainty
SEGMENTS = 8
#: floor of the Type A standard uncertainty (dB): 8 segments estimate a scatter only roughly, and a weak
#: carrier near the 8-bit quantisation step reads up to ~0.07 dB off at 25 dB SNR (measured on the simulator)
U_TYPE_A_FLOOR_DB = 0.05


@dataclass(frozen=True, slots=True)
class Reference:
    """The known reference: a carrier of ``level_dbm`` at the antenna port at each of ``frequencies_hz``.

    Parameters
    ----------
    level_dbm : float
        Carrier level at the receiver's antenna port (dBm), cable loss already accounted for.
    frequencies_hz : tuple of float
        Frequencies at which the generator is set (Hz), ascending.
    u_db : float
        Standard uncertainty (k = 1) of the stated level (dB): generator level accuracy, cable, mismatch.
    description : str
        What the reference is (model, serial, certificate), stored in the profile.
    """

    level_dbm: float
    frequencies_hz: tuple[float, ...]
    u_db: float = 0.5
    description: str = "signal generator"

    def __post_init__(self):
        f = tuple(float(x) for x in self.frequencies_hz)
        if not f or any(not (x > 0 and math.isfinite(x)) for x in f) or any(b <= a for a, b in zip(f, f[1:])):
            raise ValueError("reference frequencies must be positive and strictly ascending")
        if not (math.isfinite(self.level_dbm) and math.isfinite(self.u_db) and self.u_db >= 0):
            raise ValueError("reference level and its uncertainty must be finite (u >= 0)")
        object.__setattr__(self, "frequencies_hz", f)


@dataclass(frozen=True, slots=True)
class ToneReading:
    """One carrier measured at one frequency and gain.

    Parameters
    ----------
    frequency_hz, gain_db : float
        Where the generator was set and the gain the receiver applied.
    level_dbfs : float
        Carrier power (dBFS), noise subtracted; NaN when nothing was found.
    u_a_db : float
        Type A standard uncertainty of ``level_dbfs`` (scatter of the segments / sqrt(segments)), dB.
    snr_db : float
        Carrier over the noise in its integration band (dB).
    clip_fraction : float
        Fraction of samples with a component at full scale.
    found_hz : float
        Frequency of the carrier's peak (Hz, receiver's view).
    accepted : bool
        True when the reading enters the profile.
    why : str
        Why a reading was refused ('' when accepted).
    """

    frequency_hz: float
    gain_db: float
    level_dbfs: float
    u_a_db: float
    snr_db: float
    clip_fraction: float
    found_hz: float
    accepted: bool
    why: str


def _clip_fraction(raw: np.ndarray, fmt: str) -> float:
    if fmt == "cu8":
        return float(np.mean((raw == 0) | (raw == 255)))
    x = to_complex64(raw, fmt)
    return float(np.mean(np.maximum(np.abs(x.real), np.abs(x.imag)) >= 0.999))


def measure_tone(receiver, frequency_hz: float, *, offset_hz: float, n_samples: int, nfft: int,
                 search_hz: float) -> ToneReading:
    """Measure the carrier expected at ``frequency_hz`` with the receiver as tuned and gained now.

    The receiver must already be tuned to ``frequency_hz - offset_hz``; ``search_hz`` is how far (Hz) from
    the expected offset the carrier may be (the receiver's frequency error)."""
    gain = receiver.gain_db
    fmt = receiver.info.native_format
    rate = receiver.sample_rate_hz
    receiver.read_raw(max(receiver.settle_samples, nfft))  # the gain just changed: let it settle
    raw = receiver.read_raw(int(n_samples))
    clip = _clip_fraction(raw, fmt)
    x = to_complex64(raw, fmt)
    seg_len = x.size // SEGMENTS
    levels, snrs, peaks = [], [], []
    for s in range(SEGMENTS):
        psd = welch(x[s * seg_len:(s + 1) * seg_len], rate, nfft=nfft, window="hann", overlap=0.5, remove_dc=True)
        lin, off, bin_hz = psd.mean_lin, psd.offsets_hz, psd.bin_hz
        near = np.flatnonzero(np.abs(off - offset_hz) <= search_hz)
        k = int(near[np.argmax(lin[near])])
        a, b = k - HALF_WIDTH_BINS, k + HALF_WIDTH_BINS + 1
        ring = np.r_[max(0, k - 40 * HALF_WIDTH_BINS):max(0, k - 3 * HALF_WIDTH_BINS),
                     min(lin.size, k + 3 * HALF_WIDTH_BINS + 1):min(lin.size, k + 40 * HALF_WIDTH_BINS + 1)]
        noise_bin = float(np.mean(lin[ring])) if ring.size else 0.0
        noise = noise_bin * (b - a) * bin_hz
        sig = float(np.sum(lin[max(a, 0):min(b, lin.size)])) * bin_hz - noise
        levels.append(sig)
        snrs.append(sig / noise if noise > 0 else math.inf)
        peaks.append(receiver.center_freq_hz + float(off[k]))
    levels_arr = np.array(levels)
    found = float(np.median(peaks))
    if np.any(levels_arr <= 0):
        return ToneReading(frequency_hz, gain, math.nan, math.nan, -math.inf, clip, found, False,
                           "no carrier above the noise")
    db = 10.0 * np.log10(levels_arr)
    level = float(10.0 * np.log10(levels_arr.mean()))
    u_a = max(float(np.std(db, ddof=1)) / math.sqrt(SEGMENTS), U_TYPE_A_FLOOR_DB)
    snr_db = float(10.0 * np.log10(np.mean(snrs)))
    why = ""
    if clip > MAX_CLIP_FRACTION:
        why = f"clipping ({clip:.1e} of samples at full scale): lower the level or the gain"
    elif snr_db < MIN_SNR_DB:
        why = f"carrier only {snr_db:.1f} dB above the noise (< {MIN_SNR_DB:.0f} dB): raise the level or the gain"
    elif np.ptp(peaks) > 4 * rate / nfft:
        why = "no steady carrier near the expected frequency"
    return ToneReading(frequency_hz, gain, level, u_a, snr_db, clip, found, not why, why)


def calibrate(
    receiver,
    reference: Reference,
    gains_db: Sequence[float],
    *,
    duration_s: float = 0.2,
    offset_hz: float | None = None,
    nfft: int | None = None,
    search_ppm: float = 100.0,
    prompt: Callable[[float], None] | None = None,
    progress: Callable[[ToneReading], None] | None = None,
    now: datetime | None = None,
) -> tuple[CalibrationProfile, list[ToneReading]]:
    """Measure a calibrated profile: each reference frequency x each gain in ``gains_db``.

    ``prompt(frequency_hz)`` is called before each frequency (to ask the operator to set the generator);
    ``progress(reading)`` after each reading. The receiver's sample rate is used as set. Returns the profile
    (nodes that failed are empty) and every reading. Raises ValueError when no node could be measured."""
    rate = receiver.sample_rate_hz
    if offset_hz is None:
        offset_hz = rate / 8.0
    if nfft is None:  # ~150 Hz bins: a narrow integration band, little noise under the carrier
        nfft = 1 << max(8, int(round(math.log2(rate / 150.0))))
    n_samples = max(int(duration_s * rate), SEGMENTS * 4 * nfft)
    gains = sorted({float(g) for g in gains_db})
    readings: list[ToneReading] = []
    conv = np.full((len(gains), len(reference.frequencies_hz)), np.nan)
    unc = np.full_like(conv, np.nan)
    applied = []
    for j, f in enumerate(reference.frequencies_hz):
        if prompt is not None:
            prompt(f)
        receiver.set_center_freq(f - offset_hz)
        search = max(search_ppm * 1e-6 * f, 4 * rate / nfft)
        search = min(search, 0.45 * abs(offset_hz))
        for i, g in enumerate(gains):
            receiver.set_gain(g)
            r = measure_tone(receiver, f, offset_hz=offset_hz, n_samples=n_samples, nfft=nfft, search_hz=search)
            applied.append((g, receiver.gain_db))
            readings.append(r)
            if progress is not None:
                progress(r)
            if r.accepted:
                conv[i, j] = r.level_dbfs - reference.level_dbm
                unc[i, j] = math.hypot(reference.u_db, r.u_a_db)
    if np.isnan(conv).all():
        raise ValueError("no frequency/gain could be measured: every reading clipped or was too weak "
                         "(see the readings); change the generator level")
    # the gains the receiver really applied (a tuner snaps to its own steps)
    real = [next(a for g0, a in applied if g0 == g) for g in gains]
    info = receiver.info
    prof = CalibrationProfile(
        status="calibrated",
        receiver=info.hw,
        tuner=info.tuner,
        frequencies_hz=np.array(reference.frequencies_hz),
        gains_db=np.array(real, dtype=np.float64),
        conversion_db=conv,
        u_db=unc,
        date=(now or datetime.now(timezone.utc)).astimezone(timezone.utc),
        reference=(f"{reference.description}: {reference.level_dbm:g} dBm at the antenna port "
                   f"(u {reference.u_db:g} dB, k=1), carrier {offset_hz / 1e3:g} kHz off the tuned centre"),
        sample_rate_hz=rate,
    )
    return prof, readings


def merge_profiles(old: CalibrationProfile, new: CalibrationProfile) -> CalibrationProfile:
    """``old`` and ``new`` on the union of their grids; ``new``'s nodes win where both have one. The result
    takes ``new``'s date, receiver and reference (``old``'s reference is kept in the notes)."""
    f = np.union1d(old.frequencies_hz, new.frequencies_hz)
    g = np.union1d(np.round(old.gains_db, 2), np.round(new.gains_db, 2))
    conv = np.full((g.size, f.size), np.nan)
    unc = np.full_like(conv, np.nan)
    for prof in (old, new):
        if prof.is_nominal:
            raise ValueError("only calibrated profiles are merged, not a nominal one")
        gi = np.searchsorted(g, np.round(prof.gains_db, 2))
        fi = np.searchsorted(f, prof.frequencies_hz)
        for a, ga in enumerate(gi):
            for b, fb in enumerate(fi):
                if not math.isnan(prof.conversion_db[a, b]):
                    conv[ga, fb] = prof.conversion_db[a, b]
                    unc[ga, fb] = prof.u_db[a, b]
    notes = "; ".join(x for x in (new.notes, f"merged with an earlier run: {old.reference}") if x)
    return CalibrationProfile(status="calibrated", receiver=new.receiver, tuner=new.tuner, frequencies_hz=f,
                              gains_db=g, conversion_db=conv, u_db=unc, date=new.date, reference=new.reference,
                              notes=notes, sample_rate_hz=new.sample_rate_hz)


__all__ = ["MIN_SNR_DB", "Reference", "ToneReading", "calibrate", "measure_tone", "merge_profiles"]
