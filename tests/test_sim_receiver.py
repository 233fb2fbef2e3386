"""The simulated RTL-SDR through the receiver interface: levels, image, DC spike, ppm, roll-off, settle junk,
gain table, AGC, reproducibility, tuning limits. Spectra are computed here with plain numpy (not dsp/), so
these tests check the simulator against its documented model (docs/SCENARIO.md) independently of the DSP."""

from __future__ import annotations

import numpy as np
import pytest

from station.errors import TuningError
from station.receivers import open_receiver
from station.receivers.sim import SimReceiver
from station.sim import thermal_noise_dbfs_hz, tone_dbfs
from station.sim.engine import R820T_GAINS_DB

RATE = 2.4e6
NFFT = 4800  # 500 Hz bins at 2.4 MS/s: every multiple of 500 Hz is an exact bin
CW_SCENARIO = """
[receiver]
ppm_error = {ppm}
retune_junk_samples = 8192

[[transmitters]]
id = "cw1"
frequency_hz = {freq}
modulation = "cw"
power_dbm = {dbm}
"""


def scenario(tmp_path, freq=100_300_000, dbm=-70.0, ppm=0.0, extra=""):
    path = tmp_path / "cw.toml"
    path.write_text(CW_SCENARIO.format(freq=freq, dbm=dbm, ppm=ppm) + extra)
    return path


def to_complex(raw: np.ndarray) -> np.ndarray:
    x = raw.astype(np.float64)
    return ((x[0::2] - 127.5) + 1j * (x[1::2] - 127.5)) / 127.5


def spectrum(x: np.ndarray, rate: float = RATE, nfft: int = NFFT) -> tuple[np.ndarray, np.ndarray]:
    """(offset Hz, power per bin in dBFS-within-one-bin normalised so a tone's bins sum to its power x ENBW)."""
    frames = x[: len(x) // nfft * nfft].reshape(-1, nfft)
    w = np.hanning(nfft)
    p = np.mean(np.abs(np.fft.fft(frames * w, axis=1)) ** 2, axis=0) / np.sum(w) ** 2
    return np.fft.fftfreq(nfft, 1 / rate), p


def tone_level_dbfs(f: np.ndarray, p: np.ndarray, offset_hz: float) -> float:
    """Level of a tone at ``offset_hz``: the power of the 7 bins around it / Hann ENBW (1.5 bins)."""
    k = int(np.argmin(np.abs(f - offset_hz)))
    idx = np.arange(k - 3, k + 4) % len(p)
    return float(10 * np.log10(p[idx].sum() / 1.5))


def open_cw(tmp_path, **kw) -> SimReceiver:
    rx = open_receiver(f"sim:{scenario(tmp_path, **{k: v for k, v in kw.items() if k in ('freq', 'dbm', 'ppm')})}",
                       seed=kw.get("seed", 3))
    rx.set_sample_rate(RATE)
    return rx


@pytest.mark.parametrize(("gain", "dbm", "offset_hz"), [(29.7, -70.0, 300e3), (49.6, -85.0, -412.5e3), (0.0, -40.0, 50e3)])
def test_cw_lands_in_its_bin_at_the_predicted_level(tmp_path, gain, dbm, offset_hz):
    rx = open_cw(tmp_path, freq=int(100e6 + offset_hz), dbm=dbm)
    rx.set_center_freq(100e6)
    assert rx.set_gain(gain) == gain
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 40)))
    peak = f[np.argmax(np.where(np.abs(f) > 2e3, p, 0))]  # strongest bin away from the DC spike
    assert peak == offset_hz
    predicted = tone_dbfs(dbm, gain, offset_hz, RATE, rx.scenario.receiver)
    assert predicted == pytest.approx(dbm + gain + 10.0)
    assert tone_level_dbfs(f, p, offset_hz) == pytest.approx(predicted, abs=0.5)


def test_image_and_dc_spike_where_the_model_says(tmp_path):
    rx = open_cw(tmp_path, freq=100_300_000, dbm=-70.0)
    rx.set_center_freq(100e6)
    rx.set_gain(29.7)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 40)))
    model = rx.scenario.receiver
    tone = tone_level_dbfs(f, p, 300e3)
    image = tone_level_dbfs(f, p, -300e3)
    dc = tone_level_dbfs(f, p, 0.0)
    assert image == pytest.approx(tone - model.image_rejection_db, abs=1.0)
    assert dc == pytest.approx(model.dc_offset_dbfs, abs=1.0)
    floor = np.median(10 * np.log10(p))
    assert image > floor + 10 and dc > floor + 10
    # nothing else: the strongest bins outside tone, image and DC are near the floor
    mask = np.ones_like(p, bool)
    for off in (300e3, -300e3, 0.0):
        k = int(np.argmin(np.abs(f - off)))
        mask[np.arange(k - 4, k + 5) % len(p)] = False
    assert 10 * np.log10(p[mask].max()) < floor + 12


def test_ppm_error_shifts_the_carrier_and_set_ppm_corrects_it(tmp_path):
    rx = open_cw(tmp_path, freq=400_000_000, dbm=-60.0, ppm=10.0)
    rx.set_center_freq(399.9e6)
    rx.set_gain(20.7)
    # true LO is 10 ppm high: 399.9 MHz * 10e-6 = 3999 Hz, so the carrier appears 3999 Hz below 100 kHz
    x = to_complex(rx.read_raw(1 << 20))
    f = np.fft.fftfreq(len(x), 1 / RATE)
    spec = np.abs(np.fft.fft(x * np.hanning(len(x))))
    peak = f[np.argmax(np.where(np.abs(f) > 2e3, spec, 0))]
    assert peak == pytest.approx(100e3 - 3999.0, abs=2 * RATE / len(x))
    assert rx.info.frequency_uncertainty_ppm == 10.0
    rx.set_ppm(10)
    x = to_complex(rx.read_raw(1 << 20))
    spec = np.abs(np.fft.fft(x * np.hanning(len(x))))
    assert f[np.argmax(np.where(np.abs(f) > 2e3, spec, 0))] == pytest.approx(100e3, abs=2 * RATE / len(x))


def test_front_end_rolls_off_near_the_span_edges(tmp_path):
    rx = open_cw(tmp_path, freq=int(100e6 + 1.1e6), dbm=-70.0)
    rx.set_center_freq(100e6)
    rx.set_gain(29.7)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 40)))
    predicted = tone_dbfs(-70.0, 29.7, 1.1e6, RATE, rx.scenario.receiver)
    # knee at 0.96 MHz, edge 1.2 MHz: x = 0.583, 6 dB * x^2 = 2.04 dB down
    assert predicted == pytest.approx(-70 + 29.7 + 10 - 6 * ((1.1e6 - 0.96e6) / 0.24e6) ** 2)
    assert tone_level_dbfs(f, p, 1.1e6) == pytest.approx(predicted, abs=0.5)
    # the noise floor is shaped the same way (high gain so that thermal noise dominates)
    rx.set_gain(49.6)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 200)))
    mid = np.median(p[(np.abs(f) > 50e3) & (np.abs(f) < 0.8e6) & (np.abs(np.abs(f) - 1.1e6) > 20e3)])
    edge = np.median(p[np.abs(f) > 1.17e6])
    assert 10 * np.log10(mid / edge) > 3.0


def test_thermal_noise_density_follows_gain_and_noise_figure(tmp_path):
    rx = open_cw(tmp_path, freq=500_000_000, dbm=-100.0)
    rx.set_center_freq(100e6)
    rx.set_gain(49.6)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 200)))
    band = (np.abs(f) > 20e3) & (np.abs(f) < 0.7e6)
    measured = 10 * np.log10(np.mean(p[band]) / (1.5 * RATE / NFFT))  # per-bin power / ENBW -> dBFS/Hz
    model = rx.scenario.receiver
    thermal = thermal_noise_dbfs_hz(49.6, model)
    adc = 10 * np.log10(2 * (model.adc_noise_lsb / 127.5) ** 2 + 2 * (1 / 127.5) ** 2 / 12) - 10 * np.log10(RATE)
    expected = 10 * np.log10(10 ** (thermal / 10) + 10 ** (adc / 10))
    assert measured == pytest.approx(expected, abs=0.5)


def test_settle_junk_after_retune(tmp_path):
    rx = SimReceiver.from_uri(f"sim:{scenario(tmp_path)}", seed=1, settle_samples=0)
    rx.set_center_freq(100e6)
    rx.set_gain(29.7)
    rx.read_raw(20000)
    rx.set_center_freq(500e6)  # nothing there
    junk = to_complex(rx.read_raw(8192))
    after = to_complex(rx.read_raw(8192))
    f = np.fft.fftfreq(8192, 1 / RATE)
    k = int(np.argmin(np.abs(f - 300e3)))
    pj = np.abs(np.fft.fft(junk * np.hanning(8192))) ** 2
    pa = np.abs(np.fft.fft(after * np.hanning(8192))) ** 2
    assert 10 * np.log10(pj[k] / np.median(pj)) > 30  # the old station is still in the stale samples
    assert 10 * np.log10(pa[k] / np.median(pa)) < 10
    # with the default settle discard the reader never sees them
    rx2 = SimReceiver.from_uri(f"sim:{scenario(tmp_path)}", seed=1)
    assert rx2.settle_samples == 16384 > rx2.scenario.receiver.retune_junk_samples
    rx2.set_center_freq(100e6)
    rx2.read_raw(20000)
    rx2.set_center_freq(500e6)
    first = to_complex(rx2.read_raw(8192))
    p1 = np.abs(np.fft.fft(first * np.hanning(8192))) ** 2
    assert 10 * np.log10(p1[k] / np.median(p1)) < 10


def test_same_seed_identical_bytes_different_seed_different_noise(tmp_path):
    def run(seed: int) -> np.ndarray:
        rx = open_receiver("sim://city", seed=seed)
        out = []
        for centre, gain in ((90e6, 20.7), (152.45e6, None), (433.92e6, 29.7), (223.936e6, 12.5)):
            rx.set_center_freq(centre)
            rx.set_gain(gain)
            out.append(rx.read_raw(50000))
            out.append(rx.read_raw(1000))
        return np.concatenate(out)

    a, b, c = run(5), run(5), run(6)
    assert a.dtype == np.uint8 and a.shape == (2 * 4 * 51000,)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.mean(a != c) > 0.3  # noise differs nearly everywhere, not in a few samples


def test_gain_table_auto_gain_and_clipping(tmp_path):
    rx = open_cw(tmp_path, freq=100_300_000, dbm=-30.0)
    assert rx.info.gains_db == R820T_GAINS_DB and len(R820T_GAINS_DB) == 29
    assert rx.info.gains_db[0] == 0.0 and rx.info.gains_db[-1] == 49.6
    assert rx.set_gain(30.0) == 29.7 and rx.gain_db == 29.7
    assert rx.set_gain(100.0) == 49.6
    rx.set_center_freq(100e6)
    rx.set_gain(49.6)  # -30 dBm + 49.6 + 10 = +29.6 dBFS: hard clipping
    raw = rx.read_raw(100000)
    assert np.mean((raw == 0) | (raw == 255)) > 0.3
    assert rx.set_gain(None) is None
    g = rx.effective_gain_db
    assert g in R820T_GAINS_DB and g <= -20 - (-30 + 10) + 1e-9  # keeps the tone at or below -20 dBFS
    raw = rx.read_raw(100000)
    assert np.mean((raw == 0) | (raw == 255)) == 0.0
    level = tone_level_dbfs(*spectrum(to_complex(raw)), 300e3)
    assert level == pytest.approx(tone_dbfs(-30, g, 300e3, RATE, rx.scenario.receiver), abs=0.5)
    rx.set_center_freq(500e6)  # empty span: AGC goes to full gain
    assert rx.effective_gain_db == 49.6


def test_tuning_range_rates_and_info(tmp_path):
    rx = open_receiver("sim://city")
    assert isinstance(rx, SimReceiver)
    info = rx.info
    assert (info.driver, info.tuner, info.native_format) == ("sim", "R820T", "cu8")
    assert info.tuning_range_hz == (24e6, 1766e6)
    assert rx.center_freq_hz == 100e6 and rx.sample_rate_hz == 2.4e6
    assert rx.set_center_freq(24e6) == 24e6 and rx.set_center_freq(1766e6) == 1766e6
    for bad in (23.9e6, 1766.1e6, 2.4e9):
        with pytest.raises(TuningError, match="outside the tuning range 24.000-1766.000 MHz"):
            rx.set_center_freq(bad)
    with pytest.raises(TuningError, match="sample rate 500000 S/s"):
        rx.set_sample_rate(500e3)
    assert rx.set_sample_rate(250e3) == pytest.approx(250e3, rel=1e-6)
    x = rx.read(1000)
    assert x.dtype == np.complex64 and x.shape == (1000,)
    rx.close()
    rx.close()


def test_clock_advances_by_samples_produced():
    rx = SimReceiver.from_uri("sim://city?settle_samples=1000&start_s=10")
    t0 = rx.time_s
    assert t0 == 10.0
    rx.read_raw(2400)  # + 1000 settle samples
    assert rx.time_s == pytest.approx(10.0 + 3400 / 2.4e6)
    rx.set_sample_rate(1.2e6)
    rx.read_raw(1200)
    assert rx.time_s == pytest.approx(10.0 + 3400 / 2.4e6 + 2200 / 1.2e6)


def test_levels_and_frequencies_hold_after_a_year_of_simulated_time(tmp_path):
    """Phases are computed from the clock in float64 with per-block reduction: no drift after months."""
    path = scenario(tmp_path, freq=100_300_000, dbm=-70.0)
    rx = SimReceiver.from_uri(f"sim:{path}", seed=1, start_s=3.15e7)
    rx.set_center_freq(100e6)
    rx.set_gain(29.7)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 40)))
    assert f[np.argmax(np.where(np.abs(f) > 2e3, p, 0))] == 300e3
    assert tone_level_dbfs(f, p, 300e3) == pytest.approx(-30.3, abs=0.5)
    # FM message phase: the same 99 % bandwidth a year in as at the start
    from scipy import signal as ss

    from station.sim.kernels import expj_table
    from station.sim.signals import FM, Block

    tx = rx.scenario.transmitters[0].__class__(id="fm", frequency_hz=90e6, modulation="wbfm", power_dbm=-50,
                                              bandwidth_hz=200e3)
    for start in (0.0, 3.15e7):
        x = np.zeros(1 << 18, np.complex64)
        FM(tx, 1, expj_table()).render(x, Block(len(x), RATE, start, 0), 1.0, 150e3, None)
        fr, pw = ss.welch(x, RATE, nperseg=1 << 13, return_onesided=False)
        order = np.argsort(fr)
        fr, c = fr[order], np.cumsum(pw[order]) / pw.sum()
        assert fr[np.searchsorted(c, 0.995)] - fr[np.searchsorted(c, 0.005)] == pytest.approx(200e3, rel=0.08)
        assert fr[np.searchsorted(c, 0.5)] == pytest.approx(150e3, abs=10e3)


def test_a_carrier_outside_the_span_does_not_alias_in(tmp_path):
    rx = open_cw(tmp_path, freq=int(100e6 + 1.3e6), dbm=-50.0)  # 1.3 MHz off: outside +/-1.2 MHz
    rx.set_center_freq(100e6)
    rx.set_gain(29.7)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 20)))
    away = np.abs(f) > 5e3
    assert 10 * np.log10(p[away].max() / np.median(p[away])) < 10  # -10 dBFS would stand 60 dB out
    rx.set_center_freq(100.2e6)  # now 1.1 MHz off, inside
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 20)))
    assert f[np.argmax(np.where(np.abs(f) > 5e3, p, 0))] == 1.1e6


def test_ground_truth_matches_what_the_receiver_delivers():
    rx = SimReceiver.from_uri("sim://city", seed=4)
    rx.set_gain(29.7)
    rx.set_center_freq(150.5e6)  # only lmr-taxi (150.125 MHz, NBFM, -70 dBm, 50 % in 2 s slots) in the span
    seen = {"on": 0, "off": 0}
    for _ in range(40):
        truth = rx.on_air(0.05)
        assert [t.tx_id for t in truth] == ["lmr-taxi"]
        taxi = truth[0]
        assert taxi.offset_hz == pytest.approx(-375e3 - 150.5e6 * 0.5e-6, abs=1e-3)  # LO 0.5 ppm high
        assert taxi.level_dbfs == pytest.approx(-70 + 29.7 + 10)
        x = to_complex(rx.read_raw(int(0.05 * RATE)))
        f, p = spectrum(x)
        band = np.abs(f - taxi.offset_hz) < 6e3
        noise = np.median(p) * band.sum()
        measured = 10 * np.log10(max(p[band].sum() / 1.5 - noise, 1e-12))
        if taxi.on_fraction == 1.0:
            seen["on"] += 1
            assert measured == pytest.approx(taxi.level_dbfs, abs=1.0)
        elif taxi.on_fraction == 0.0:
            seen["off"] += 1
            assert measured < taxi.level_dbfs - 30
        rx.read_raw(int(0.2 * RATE))  # let time pass between looks
    assert seen["on"] >= 5 and seen["off"] >= 5


def test_benchmark_script_runs_and_reports_the_ratio():
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    proc = subprocess.run([sys.executable, "benchmarks/sim.py", "--dwell", "0.002", "--repeat", "1"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    total = [line for line in proc.stdout.splitlines() if line.startswith("total")]
    assert total and "target >= 10x real time" in total[0]
    assert float(total[0].split()[4]) > 0  # the ratio column


@pytest.mark.parametrize(("freq_hz", "loss_db"), [(30_000_000, 10 * (20 / 26) ** 2), (1_700_000_000, 10 * (400 / 466) ** 2),
                                                  (433_920_000, 0.0)])
def test_tuner_rf_response_near_the_ends_of_the_tuning_range(tmp_path, freq_hz, loss_db):
    from station.sim import rf_response_db

    rx = open_cw(tmp_path, freq=freq_hz, dbm=-70.0)
    rx.set_center_freq(freq_hz - 200e3)
    rx.set_gain(29.7)
    model = rx.scenario.receiver
    assert rf_response_db(freq_hz, model) == pytest.approx(-loss_db)
    predicted = tone_dbfs(-70.0, 29.7, 200e3, RATE, model, frequency_hz=freq_hz)
    assert predicted == pytest.approx(-30.3 - loss_db)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 40)))
    assert tone_level_dbfs(f, p, 200e3) == pytest.approx(predicted, abs=0.5)
    truth = rx.on_air(0.01)
    assert truth[0].level_dbfs == pytest.approx(predicted)


def test_wideband_block_at_the_span_edge_is_shaped_and_does_not_fold_back():
    """dab-12c (1.536 MHz OFDM) centred 0.9 MHz off: carriers past +1.2 MHz are cut, not aliased to -1.2."""
    rx = SimReceiver.from_uri("sim://city", seed=2)
    rx.set_gain(29.7)
    rx.set_center_freq(223.936e6 - 0.9e6)
    truth = rx.on_air(0.1)
    assert [t.tx_id for t in truth] == ["dab-12c"]
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 50)))
    floor = np.median(p[(f < -0.1e6) & (f > -0.6e6)])
    fold = p[(f > -1.15e6) & (f < -0.8e6)]  # where carriers above +1.2 MHz would land if they folded
    assert 10 * np.log10(fold.mean() / floor) < 1.0
    inside = (f > 0.9e6 - 0.7e6) & (f < 1.19e6)
    measured = 10 * np.log10((p[inside] - floor).sum() / 1.5)
    assert measured == pytest.approx(truth[0].level_dbfs, abs=0.5)
    # the part inside the span keeps its level: flat carriers well inside the passband
    assert truth[0].level_dbfs < -65 + 29.7 + 10 - 1.0  # some of the block is outside the span


def test_random_control_sequences_keep_working():
    """Rates, tunings (incl. transmitters at the span edges), gains, ppm and odd read sizes in random order."""
    rng = np.random.default_rng(0)
    rx = SimReceiver.from_uri("sim://city", seed=3, start_s=float(rng.uniform(-50, 1e7)))
    rates = [225001, 1.024e6, 2.4e6, 3.2e6]
    freqs = [t.frequency_hz for t in rx.scenario.transmitters]
    t_prev = rx.time_s
    for _ in range(40):
        if rng.random() < 0.2:
            rx.set_sample_rate(float(rng.choice(rates)))
        centre = float(rng.choice(freqs)) + rng.uniform(-1.6e6, 1.6e6)
        rx.set_center_freq(min(max(centre, 24e6), 1766e6))
        rx.set_gain(None if rng.random() < 0.3 else float(rng.uniform(0, 50)))
        if rng.random() < 0.1:
            rx.set_ppm(int(rng.integers(-50, 50)))
        n = int(rng.integers(1, 50000))
        raw = rx.read_raw(n)
        assert raw.shape == (2 * n,) and raw.dtype == np.uint8
        assert rx.time_s > t_prev
        t_prev = rx.time_s


def test_calibration_ladder_levels():
    rx = SimReceiver.from_uri("sim://cal")
    rx.set_center_freq(100.35e6)  # off-symmetric: no tone sits on another tone's IQ image
    rx.set_gain(20.7)  # -40 dBm -> -9.3 dBFS: the four tones' peaks add up to ~0.38 of full scale, no clipping
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 60)))
    for off, dbm in ((-350e3, -40.0), (-150e3, -60.0), (50e3, -80.0)):
        assert tone_level_dbfs(f, p, off) == pytest.approx(dbm + 20.7 + 10.0, abs=0.5), off
    # -100 dBm -> -69.3 dBFS: ~9 dB above the ADC-limited floor in a 750 Hz (Hann ENBW) bin
    assert 10 * np.log10(p[np.argmin(np.abs(f - 250e3))] / np.median(p)) > 6
    # at 29.7 dB gain the -40 dBm tone alone nearly fills the ADC: the sum clips and the weaker tones compress
    rx.set_gain(29.7)
    f, p = spectrum(to_complex(rx.read_raw(NFFT * 60)))
    assert tone_level_dbfs(f, p, -150e3) < -60.0 + 29.7 + 10.0 - 0.5
