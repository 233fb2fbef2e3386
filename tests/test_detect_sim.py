"""The detector on the simulated city (sim://city, docs/DESIGN.md): the 433.92 MHz ISM key fob (20 ms bursts
every 2 s) and sensor (50 ms every 1 s) are found with their duty cycles; the sensor's IQ image is marked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors.artifacts import artifact_kind
from detectors.energy import DetectorParams, EmissionDetector
from dsp.psd import psd_spectrum
from station.receivers import open_receiver


@pytest.fixture(scope="module")
def ism_spectrum():
    rx = open_receiver("sim://city")
    try:
        rx.set_sample_rate(1e6)
        rx.set_center_freq(433.92e6)
        raw = rx.read_raw(2_000_000)  # 2 s
        fs, fc, fmt = rx.sample_rate_hz, rx.center_freq_hz, rx.info.native_format
    finally:
        rx.close()
    return psd_spectrum(raw, fs, fc, datetime(2026, 3, 1, tzinfo=UTC), fmt=fmt, nfft=4096, keep_frames=True)


def test_ism_bursts_found_with_their_duty_cycle(ism_spectrum):
    em = EmissionDetector(DetectorParams(keep_artifacts=False)).detect(ism_spectrum)
    by_khz = {round(e.center_hz / 1e3): e for e in em}
    sensor = min(em, key=lambda e: abs(e.center_hz - 433.870e6))
    fob = min(em, key=lambda e: abs(e.center_hz - 433.920e6))
    assert abs(sensor.center_hz - 433.870e6) < 2e3 and abs(fob.center_hz - 433.920e6) < 2e3, by_khz
    assert sensor.n_bursts == 2 and 0.03 <= sensor.occupancy <= 0.09  # 2 x 50 ms in 2 s
    assert fob.n_bursts == 1 and 0.005 <= fob.occupancy <= 0.03  # 1 x 20 ms in 2 s
    assert 5e3 < sensor.bandwidth_hz < 20e3 and 8e3 < fob.bandwidth_hz < 40e3


def test_ism_image_is_marked(ism_spectrum):
    em = EmissionDetector().detect(ism_spectrum)
    images = [e for e in em if artifact_kind(e.artifact_reason) == "iq_image"]
    # the sensor at -50 kHz has its image at +50 kHz (433.970 MHz), 25-40 dB down
    assert any(abs(e.center_hz - 433.970e6) < 3e3 for e in images)
    assert not any(abs(e.center_hz - 433.970e6) < 3e3 and not e.artifact for e in em)
