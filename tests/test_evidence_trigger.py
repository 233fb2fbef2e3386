"""Evidence IQ triggered on the emission (station.compliance.evidence.record_triggered, dsp.trigger) and the
choice of demodulator for the evidence audio (station.compliance.audio)."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.trigger import band_power_blocks
from station.compliance.audio import choose_mode, mode_from_designator, voice_audio, write_wav
from station.compliance.evidence import record_triggered

RATE = 256_000.0
OFFSET = 40e3
BAND = (OFFSET - 5e3, OFFSET + 5e3)
NOISE_RMS = 0.01  # total noise power 1e-4 FS^2 over 256 kHz


class Stream:
    """cf32 source: white noise plus a tone at OFFSET during the given (start_s, end_s) bursts."""

    def __init__(self, bursts, seed=1):
        self.bursts, self.pos, self.rng, self.reads = bursts, 0, np.random.default_rng(seed), []

    def read_raw(self, n):
        t = (self.pos + np.arange(n)) / RATE
        x = (self.rng.normal(size=n) + 1j * self.rng.normal(size=n)) * NOISE_RMS / np.sqrt(2)
        for t0, t1 in self.bursts:
            on = (t >= t0) & (t < t1)
            x[on] += 0.05 * np.exp(2j * np.pi * OFFSET * t[on])
        self.pos += n
        self.reads.append(n)
        return np.ascontiguousarray(x.astype(np.complex64)).view(np.float32)


def _threshold():
    noise_in_band = NOISE_RMS ** 2 * (BAND[1] - BAND[0]) / RATE
    return noise_in_band * 10 ** 0.6  # 6 dB over the noise in the band


def test_band_power_scaling():
    rng = np.random.default_rng(2)
    n = 256 * 400
    t = np.arange(n) / RATE
    noise = (rng.normal(size=n) + 1j * rng.normal(size=n)) * NOISE_RMS / np.sqrt(2)
    p = band_power_blocks(noise.astype(np.complex64), RATE, *BAND, 2560)
    assert p.mean() == pytest.approx(NOISE_RMS ** 2 * 10e3 / RATE, rel=0.1)
    tone = 0.05 * np.exp(2j * np.pi * OFFSET * t)
    assert band_power_blocks(tone.astype(np.complex64), RATE, *BAND, 2560) == pytest.approx(0.05 ** 2, rel=0.02)
    with pytest.raises(ValueError, match="lower edge"):
        band_power_blocks(tone, RATE, 5.0, 1.0, 256)


def test_burst_is_caught_with_its_pretrigger():
    """A 50 ms burst 1.3 s after the recorder starts: the recording starts 0.1 s before it, holds 1 s, and the
    on-air span is the burst (to a block)."""
    s = Stream([(1.3, 1.35)])
    trig = record_triggered(s.read_raw, "cf32", RATE, BAND, _threshold(), duration_s=1.0, wait_s=4.0,
                            pretrigger_s=0.1, block_s=0.01)
    block = 2560
    assert trig.triggered
    assert trig.n_samples == int(RATE)
    assert trig.waited_s == pytest.approx(1.3, abs=0.011)
    assert trig.start_offset_s == pytest.approx(1.2, abs=0.011)
    assert trig.on_first / RATE == pytest.approx(0.1, abs=0.011)
    assert (trig.on_last - trig.on_first) / RATE == pytest.approx(0.05, abs=0.021)
    assert trig.on_fraction == pytest.approx(0.05, abs=0.021)
    assert sum(len(c) for c in trig.raw) // 2 == trig.n_samples
    assert all(n % 256 == 0 for n in s.reads[:-1]) and s.reads[0] == block


def test_continuous_emission_triggers_at_once_and_silence_is_reported():
    s = Stream([(0.0, 99.0)])
    trig = record_triggered(s.read_raw, "cf32", RATE, BAND, _threshold(), duration_s=1.0, wait_s=4.0,
                            pretrigger_s=0.1, block_s=0.01)
    assert trig.triggered and trig.waited_s == 0.0 and trig.start_offset_s == 0.0
    assert trig.on_fraction == 1.0 and trig.on_first == 0
    quiet = record_triggered(Stream([]).read_raw, "cf32", RATE, BAND, _threshold(), duration_s=0.5, wait_s=0.3,
                             pretrigger_s=0.1, block_s=0.01)
    assert not quiet.triggered and quiet.on_first is None and quiet.n_samples == int(RATE / 2)
    assert quiet.waited_s == pytest.approx(0.3, abs=0.011)


# ---- the demodulator for the audio --------------------------------------------------------------------------
FS = 1.024e6


def _signal(kind, seed=3, n=int(FS / 2)):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    # band-limited Gaussian "voice": white noise through a 3 kHz low pass
    from scipy.signal import firwin, lfilter

    voice = lfilter(firwin(801, 3000, fs=FS), 1, rng.normal(size=n))
    voice /= voice.std()
    if kind == "am":
        x = (1 + 0.4 * voice) * np.exp(2j * np.pi * 100e3 * t)
    elif kind == "nbfm":
        x = np.exp(1j * (2 * np.pi * 100e3 * t + 2 * np.pi * np.cumsum(1500 * voice) / FS))
    else:  # 4FSK at 4800 symbols/s, +/-648 and +/-1944 Hz
        sym = rng.choice([-3, -1, 1, 3], size=n * 4800 // int(FS) + 1)
        f = 648.0 * np.repeat(sym, int(FS) // 4800 + 1)[:n]
        f = np.convolve(f, np.ones(40) / 40, mode="same")
        x = np.exp(1j * (2 * np.pi * 100e3 * t + 2 * np.pi * np.cumsum(f) / FS))
    x = 0.2 * x + (rng.normal(size=n) + 1j * rng.normal(size=n)) * 0.002
    return x.astype(np.complex64)


@pytest.mark.parametrize("kind,expect", [("am", "am"), ("nbfm", "nbfm"), ("fsk4", None)])
def test_mode_from_the_signal(kind, expect):
    choice = choose_mode(_signal(kind), FS, 100e3, 8e3 if kind != "nbfm" else 11e3)
    assert choice.mode == expect, choice.why


def test_mode_from_designator_and_bandwidth():
    assert mode_from_designator("6K00A3E", 6e3) == "am"
    assert mode_from_designator("11K0F3E", 11e3) == "nbfm"
    assert mode_from_designator("180KF8EHF", 180e3) == "wbfm"
    assert mode_from_designator("7K60FXE", 7.6e3) is None  # digital voice
    assert choose_mode(_signal("fsk4"), FS, 100e3, 8e3, designators=("11K0F3E",)).mode == "nbfm"
    assert choose_mode(_signal("nbfm"), FS, 100e3, 180e3).mode == "wbfm"
    assert choose_mode(_signal("nbfm"), FS, 100e3, 1.5e6).mode is None


def test_wav_is_16_bit_mono_not_silent_not_clipped(tmp_path):
    import wave

    x = _signal("nbfm")
    choice = choose_mode(x, FS, 100e3, 11e3)
    audio = voice_audio(x, FS, 100e3, choice, bandwidth_hz=11e3)
    path = write_wav(tmp_path / "a.wav", audio)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert w.getnframes() == audio.samples.size
        assert w.getnframes() / w.getframerate() == pytest.approx(0.5, abs=0.01)
    assert -30 < audio.rms_dbfs < -10 and audio.peak_dbfs < -0.1 and audio.clipped_fraction == 0.0
