"""Energy detector on seeded spectra: no false alarm on noise, one emission one detection, artifacts, bursts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.scenes import receiver_response
from detectors.artifacts import ArtifactParams, artifact_kind
from detectors.energy import DetectorParams, EmissionDetector
from detectors.noise import NoiseFloorEstimator, NoiseFloorParams
from tests.detect_helpers import T0, analytic_spectrum, band_noise, iq_spectrum, noise_iq, noise_spectrum, tone

FS = 250e3
N = 125_000  # 0.5 s
CENTER = 433.92e6
NOISE_DENSITY = 1e-3 / FS


def _snr_power(snr_db: float, bw_hz: float) -> float:
    return 10 ** (snr_db / 10) * NOISE_DENSITY * bw_hz


@pytest.mark.parametrize("seed", range(4))
def test_pure_noise_gives_no_emission(seed):
    assert EmissionDetector().detect(noise_spectrum(seed=seed, nfft=1024, frames=True)) == []


def test_rippled_rolled_off_floor_gives_no_emission_and_is_followed():
    """R820T-like response (1 dB ripple, 12 dB edge roll-off) on an exact PSD: nothing but hop-edge artifacts in
    the roll-off (where the floor's curvature is steepest), floor within 0.1 dB in the passband."""
    n = 2048
    resp = receiver_response((np.arange(n) - n // 2) / n)
    sp = analytic_spectrum(1e-9 * resp, n_frames=5000)
    em = EmissionDetector().detect(sp)
    assert all(artifact_kind(e.artifact_reason) == "hop_edge" for e in em)
    assert all(abs(e.center_hz - 100e6) > 0.4 * 1.024e6 for e in em)
    floor = NoiseFloorEstimator().estimate(sp)
    core = slice(n // 10, n - n // 10)
    assert np.max(np.abs(floor.floor_dbfs_hz[core] - sp.psd_dbfs_hz[core])) < 0.1


def test_tone_and_narrowband_emission_found_and_measured():
    x = noise_iq(1, N) + tone(N, FS, 40e3, _snr_power(15, 300)) + band_noise(2, N, FS, -60e3, 8e3, _snr_power(10, 8e3))
    em = EmissionDetector().detect(iq_spectrum(x, nfft=1024))
    assert len(em) == 2
    nb, cw = em
    assert nb.center_hz == pytest.approx(CENTER - 60e3, abs=FS / 1024)
    assert nb.bandwidth_hz == pytest.approx(0.99 * 8e3, rel=0.1)
    assert nb.snr_db == pytest.approx(10.0, abs=1.0)
    assert cw.peak_hz == pytest.approx(CENTER + 40e3, abs=0.2 * FS / 1024)
    assert cw.occupancy == 1.0 and not cw.artifact


def test_weak_narrowband_emission_below_0_db_is_detected():
    # 8 kHz at -3 dB in-band SNR in 0.5 s: the matched-width test sums ~32 bins
    x = noise_iq(3, N) + band_noise(4, N, FS, 70e3, 8e3, _snr_power(-3, 8e3))
    em = EmissionDetector().detect(iq_spectrum(x, nfft=1024))
    assert len(em) == 1 and em[0].center_hz == pytest.approx(CENTER + 70e3, abs=2e3)


def test_two_adjacent_channels_stay_two():
    # two 8 kHz emissions on 12.5 kHz channels, 30 dB over the noise: two detections, not one
    x = noise_iq(5, N) + band_noise(6, N, FS, 20e3, 8e3, _snr_power(30, 8e3)) + band_noise(
        7, N, FS, 32.5e3, 8e3, _snr_power(25, 8e3))
    em = EmissionDetector().detect(iq_spectrum(x, nfft=2048))
    assert len(em) == 2
    assert [(e.center_hz - CENTER) / 1e3 for e in em] == pytest.approx([20.0, 32.5], abs=0.3)


def test_emission_with_a_notch_stays_one():
    # a 20 kHz block with a 2-bin notch in the middle (e.g. a suppressed carrier) is one emission
    n = 1024
    psd = np.full(n, 1e-9)
    psd[400:480] = 1e-7
    psd[439:441] = 1e-9
    em = EmissionDetector().detect(analytic_spectrum(psd, n_frames=500))
    assert len(em) == 1 and em[0].bandwidth_hz == pytest.approx(0.99 * 80 * 1000, rel=0.05)


def test_wide_emission_does_not_pull_the_floor_up():
    # an OFDM-like block over 60 % of the span, 6 dB over the noise
    x = noise_iq(8, N) + band_noise(9, N, FS, 0.0, 150e3, _snr_power(6, 150e3))
    sp = iq_spectrum(x, nfft=1024)
    det = EmissionDetector()
    floor = det.noise_floor(sp)
    assert np.max(np.abs(floor.floor_dbfs_hz - 10 * np.log10(NOISE_DENSITY))) < 0.5
    em = det.detect(sp)
    assert len(em) == 1 and em[0].bandwidth_hz == pytest.approx(0.99 * 150e3, rel=0.03)


def test_dc_spike_and_iq_image_are_marked_and_can_be_dropped():
    rng = np.random.default_rng(11)
    sig = band_noise(12, N, FS, 50e3, 6e3, _snr_power(45, 6e3))
    x = noise_iq(13, N) + sig
    x = x + 10 ** (-30 / 20) * np.conj(x)  # 30 dB image rejection: image at -50 kHz
    x = x + 10 ** (-55 / 20) * (1 + 0.2 * np.cumsum(rng.standard_normal(N)) / np.sqrt(N))  # DC offset + drift
    sp = iq_spectrum(x.astype(np.complex64), nfft=1024)
    em = EmissionDetector().detect(sp)
    reasons = {round((e.center_hz - CENTER) / 1e3): artifact_kind(e.artifact_reason) for e in em}
    assert reasons.get(50) is None and 50 in reasons
    assert reasons.get(-50) == "iq_image"
    assert reasons.get(0) == "dc_spike"
    kept = EmissionDetector(DetectorParams(keep_artifacts=False)).detect(sp)
    assert [round((e.center_hz - CENTER) / 1e3) for e in kept] == [50]


def test_listed_spur_is_marked():
    x = noise_iq(14, N) + tone(N, FS, -80e3, _snr_power(20, 300))
    params = DetectorParams(artifacts=ArtifactParams(spurs_hz=(CENTER - 80e3,)))
    (e,) = EmissionDetector(params).detect(iq_spectrum(x, nfft=1024))
    assert e.artifact and artifact_kind(e.artifact_reason) == "spur"


def test_short_burst_in_a_long_dwell_is_found():
    # 20 ms burst at 0.6 s in a 1 s dwell, 17 dB diluted in the average: found from the per-frame spectra
    n = int(FS)
    on = np.zeros(n, np.float32)
    on[int(0.6 * FS): int(0.62 * FS)] = 1
    x = noise_iq(15, n) + on * band_noise(16, n, FS, -30e3, 10e3, _snr_power(8, 10e3))
    sp = iq_spectrum(x.astype(np.complex64), nfft=512, frames=True)
    em = EmissionDetector().detect(sp)
    assert len(em) == 1
    (e,) = em
    assert e.center_hz == pytest.approx(CENTER - 30e3, abs=1.5e3)
    assert e.n_bursts == 1
    assert 0.01 <= e.occupancy <= 0.04
    assert (e.first_seen - T0).total_seconds() == pytest.approx(0.6, abs=0.012)
    assert (e.last_seen - T0).total_seconds() == pytest.approx(0.62, abs=0.012)
    # measured while on (blocks overlapping the burst): near its own 8 dB, far above the diluted -9 dB
    assert 4.0 < e.snr_db < 9.0


def test_continuous_and_bursty_emissions_have_their_occupancy():
    n = int(FS)
    t = np.arange(n) / FS
    keyed = ((t % 0.2) < 0.05).astype(np.float32)  # 25 % duty cycle, 5 bursts
    x = noise_iq(17, n) + keyed * band_noise(18, n, FS, 60e3, 5e3, _snr_power(20, 5e3)) + tone(n, FS, -20e3, 1e-4)
    em = EmissionDetector().detect(iq_spectrum(x.astype(np.complex64), nfft=1024, frames=True))
    by = {round((e.center_hz - CENTER) / 1e3): e for e in em}
    assert by[-20].occupancy == 1.0 and by[-20].n_bursts == 1
    assert by[60].occupancy == pytest.approx(0.25, abs=0.05) and by[60].n_bursts == 5


def test_bad_inputs_are_clear_errors():
    sp = noise_spectrum(seed=1, nfft=256, seconds=0.05)
    bad = dataclasses.replace(sp, psd_dbfs_hz=np.where(np.arange(256) == 3, np.nan, sp.psd_dbfs_hz))
    with pytest.raises(ValueError, match="NaN"):
        EmissionDetector().detect(bad)
    with pytest.raises(ValueError, match="pfa"):
        DetectorParams(pfa=0.0)
    with pytest.raises(ValueError, match="excision_pfa"):
        NoiseFloorParams(excision_pfa=0.7)
    with pytest.raises(ValueError, match="edge_rolloff_db"):
        ArtifactParams(edge_rolloff_db=0)


def test_interleaved_sweep_rows_are_revisit_averages():
    """Rows of an interleaved sweep's spectrogram average many frames (meta revisits): a burst in one revisit
    is tested with that row's own statistics, and found."""
    rng = np.random.default_rng(21)
    n, revisits, frames_per_row = 1024, 20, 50
    rows = rng.gamma(frames_per_row, 1e-9 / frames_per_row, (revisits, n))
    rows[7, 300:310] *= 2.0  # a 10-bin burst 3 dB over the floor in one revisit
    sp = analytic_spectrum(rows.mean(axis=0), n_frames=revisits * frames_per_row, window="rect", overlap=0.0,
                           frames_lin=rows, frame_dt=0.1)
    sp = dataclasses.replace(sp, meta={"sweep_mode": "interleaved", "revisits": revisits})
    em = EmissionDetector().detect(sp)
    assert len(em) == 1 and em[0].n_bursts == 1 and em[0].occupancy == pytest.approx(1 / revisits)
    assert 295 <= (em[0].center_hz - sp.freqs_hz[0]) / sp.bin_hz <= 314
    # read as single frames (no meta) the same row is far inside the exponential tail: not found
    assert EmissionDetector().detect(dataclasses.replace(sp, meta={})) == []


def test_touching_bursts_at_different_times_stay_two():
    # two 8 kHz bursts whose spectra touch (8 kHz apart), on the air at different times: split by keying.
    # 2 ms raised-cosine ramps, as real transmitters have (a hard on/off click would splatter over the band)
    n = int(FS)
    t = np.arange(n) / FS

    def keyed(t0, t1, ramp=2e-3):
        up = np.clip((t - t0) / ramp, 0, 1)
        down = np.clip((t1 - t) / ramp, 0, 1)
        return (0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))).astype(np.float32)

    on_a = keyed(0.1, 0.2)
    on_b = keyed(0.5, 0.6)
    x = noise_iq(31, n) + on_a * band_noise(32, n, FS, -10e3, 8e3, _snr_power(25, 8e3)) + on_b * band_noise(
        33, n, FS, -2e3, 8e3, _snr_power(25, 8e3))
    em = EmissionDetector().detect(iq_spectrum(x.astype(np.complex64), nfft=1024, frames=True))
    assert [(e.center_hz - CENTER) / 1e3 for e in em] == pytest.approx([-10.0, -2.0], abs=1.0)
    assert all(e.n_bursts == 1 for e in em)
    assert (em[0].first_seen - T0).total_seconds() == pytest.approx(0.1, abs=0.02)
    assert (em[1].first_seen - T0).total_seconds() == pytest.approx(0.5, abs=0.02)
