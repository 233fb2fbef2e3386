"""Artifacts by their physics (issue 12): IQ images only about the centre of the hop holding both and judged
on density, products attributed to their parent (intermod, clipping, skirt, keyed splatter), adjacent channels
of a channel plan split whatever their level difference."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from detectors.artifacts import ArtifactClassifier, ArtifactParams, Timing, artifact_kind, fold_hz
from detectors.channels import ChannelRaster
from detectors.energy import DetectorParams, EmissionDetector
from tests.detect_helpers import analytic_spectrum, band_noise, iq_spectrum, noise_iq, tone

FS = 250e3
N = 125_000
CENTER = 433.92e6
NOISE_DENSITY = 1e-3 / FS


def _snr_power(snr_db: float, bw_hz: float) -> float:
    return 10 ** (snr_db / 10) * NOISE_DENSITY * bw_hz


def _by_offset(em, center=CENTER):
    return {round((e.center_hz - center) / 1e3): e for e in em}


def test_kind_and_folding():
    assert artifact_kind("iq_image: mirror of x") == "iq_image"
    assert artifact_kind(None) is None
    assert fold_hz(235.2e3, 250e3) == pytest.approx(-14.8e3)
    assert fold_hz(-392e3, 250e3) == pytest.approx(108e3)


# ---- images -------------------------------------------------------------------------------------------------
def _stitched_spectrum(psd_lin, n_per_hop, bin_hz=1000.0, f0=100e6):
    """A stitched analytic spectrum of hops of ``n_per_hop`` bins each (each hop's centre in its middle)."""
    import dataclasses

    n = psd_lin.shape[0]
    sp = analytic_spectrum(psd_lin, fs=bin_hz * n, center=f0 + n // 2 * bin_hz)
    f = sp.freqs_hz
    starts = range(0, n, n_per_hop)
    centers = np.array([f[a + n_per_hop // 2] for a in starts])
    edges = np.array([[f[a] - bin_hz / 2, f[min(a + n_per_hop, n) - 1] + bin_hz / 2] for a in starts])
    return dataclasses.replace(sp, hop_centers_hz=centers, hop_edges_hz=edges, sample_rate_hz=bin_hz * n_per_hop / 0.75)


def test_image_only_about_the_centre_of_the_hop_that_holds_both():
    n_hop = 1024
    psd = np.full(3 * n_hop, 1e-9)
    src = n_hop // 2 - 100  # hop 0, 100 bins below its centre
    psd[src - 3 : src + 4] = 1e-9 * 10 ** 5.0  # 50 dB over the floor, 7 bins
    own_img = n_hop // 2 + 100  # its true image in hop 0: 30 dB weaker
    psd[own_img - 3 : own_img + 4] = 1e-9 * 10 ** 2.0
    # a transmitter in hop 2 at the mirror of the source about hop 1's centre (the old test mirrored about
    # every hop centre of the band and dropped it)
    c1 = n_hop + n_hop // 2
    other = 2 * c1 - src
    assert 2 * n_hop <= other < 3 * n_hop
    psd[other - 3 : other + 4] = 1e-9 * 10 ** 2.0
    sp = _stitched_spectrum(psd, n_hop)
    em = EmissionDetector().detect(sp)
    f = sp.freqs_hz
    got = {int(np.argmin(np.abs(f - e.center_hz))): e for e in em}
    assert set(got) >= {src, own_img, other}
    assert artifact_kind(got[own_img].artifact_reason) == "iq_image"
    assert "hop that holds both" in got[own_img].artifact_reason
    assert got[other].artifact is False, got[other].artifact_reason
    assert got[src].artifact is False


def test_cw_over_the_mirror_of_a_wide_block_is_not_its_image():
    """A CW line 20 dB over the floor at the mirror of a 100 kHz block whose total power is 30 dB above the line
    but whose density at the mirror is not 20 dB over the line's: the density test keeps the CW."""
    x = noise_iq(31, N) + band_noise(32, N, FS, 60e3, 100e3, _snr_power(15, 100e3))
    x = x + 10 ** (-30 / 20) * np.conj(x)  # the receiver's real image of the block, 30 dB down
    x = x + tone(N, FS, -40e3, _snr_power(20, FS / 1024))
    em = EmissionDetector().detect(iq_spectrum(x.astype(np.complex64), nfft=1024))
    cw = [e for e in em if abs(e.peak_hz - (CENTER - 40e3)) < 1e3]
    assert len(cw) == 1 and not cw[0].artifact, cw[0].artifact_reason
    block = [e for e in em if e.bandwidth_hz > 50e3 and e.center_hz > CENTER]
    assert len(block) == 1 and not block[0].artifact


def test_real_image_of_a_strong_narrow_emission_is_marked():
    x = noise_iq(33, N) + band_noise(34, N, FS, 70e3, 8e3, _snr_power(45, 8e3))
    x = x + 10 ** (-30 / 20) * np.conj(x)
    em = _by_offset(EmissionDetector().detect(iq_spectrum(x.astype(np.complex64), nfft=1024)))
    assert not em[70].artifact
    assert artifact_kind(em[-70].artifact_reason) == "iq_image"
    assert "433.990" in em[-70].artifact_reason  # the source is named


# ---- products -----------------------------------------------------------------------------------------------
def test_intermod_product_is_attributed_to_both_parents_and_an_off_product_tone_is_not():
    p = _snr_power(40, 300)  # -19 dBFS: far from clipping
    weak = _snr_power(15, 300)
    x = noise_iq(35, N) + tone(N, FS, 20e3, p) + tone(N, FS, 35e3, p)
    x = x + tone(N, FS, 5e3, weak)  # 2 x 20 - 35 = 5 kHz
    x = x + tone(N, FS, -61e3, weak)  # a transmitter of its own at no product frequency
    em = _by_offset(EmissionDetector().detect(iq_spectrum(x, nfft=1024)))
    assert artifact_kind(em[5].artifact_reason) == "intermod"
    assert "433.940000 MHz" in em[5].artifact_reason and "433.955000 MHz" in em[5].artifact_reason
    assert not em[-61].artifact
    assert not em[20].artifact and not em[35].artifact


def test_clipping_harmonic_folded_by_the_sample_rate_names_its_parent():
    # a parent near full scale (-3 dBFS) at +95 kHz: its -3x harmonic is at -285 kHz, folded to -35 kHz
    x = noise_iq(36, N) + tone(N, FS, 95e3, 10 ** (-3 / 10)) + tone(N, FS, -35e3, _snr_power(20, 300))
    x = x + tone(N, FS, 52e3, _snr_power(20, 300))  # same level, at no harmonic: a transmitter
    em = _by_offset(EmissionDetector().detect(iq_spectrum(x, nfft=1024)))
    assert artifact_kind(em[-35].artifact_reason) == "clipping"
    assert "434.015000 MHz" in em[-35].artifact_reason and "-3" in em[-35].artifact_reason
    assert not em[52].artifact


def test_clipping_needs_a_parent_near_full_scale():
    x = noise_iq(37, N) + tone(N, FS, 95e3, _snr_power(40, 300)) + tone(N, FS, -35e3, _snr_power(20, 300))
    em = _by_offset(EmissionDetector().detect(iq_spectrum(x, nfft=1024)))
    assert not em[-35].artifact  # the parent is far below full scale: no clipping


def _em(center, bw, peak_dbfs, power_dbfs=None):
    return SimpleNamespace(center_hz=center, peak_hz=center, f_lo_hz=center - bw / 2, f_hi_hz=center + bw / 2,
                           bandwidth_hz=bw, power_dbfs=peak_dbfs + 5 if power_dbfs is None else power_dbfs,
                           peak_dbfs=peak_dbfs)


def test_skirt_has_no_valley_and_a_neighbour_with_its_own_maximum_is_not_a_skirt():
    bin_hz = 1000.0
    n = 1024
    f = 100e6 + (np.arange(n) - n // 2) * bin_hz
    psd_db = np.full(n, -100.0)
    psd_db[500:600] = -50.0  # the parent, 100 kHz
    k = np.arange(600, 660)
    psd_db[600:660] = -50.0 - 1.0 * (k - 599)  # its skirt falls 1 dB per bin into the noise
    psd_db[700:706] = -80.0  # a weak transmitter of its own, past a stretch of noise
    floor = np.full(n, -100.0)
    parent = _em(f[550], 100e3, -50.0)
    skirt = _em(f[630], 8e3, -76.0)
    skirt.peak_hz = f[625]
    own = _em(f[703], 6e3, -80.0)
    cls = ArtifactClassifier()
    r = cls.reasons([parent, skirt, own], np.array([100e6]), bin_hz, f, floor, [slice(0, n)], psd_dbfs_hz=psd_db,
                    sample_rate_hz=n * bin_hz)
    assert r[0] is None
    assert artifact_kind(r[1]) == "skirt" and "100.038000 MHz" in r[1], r[1]
    assert r[2] is None


def test_weak_line_keyed_with_a_much_stronger_burst_is_splatter():
    bin_hz = 1000.0
    n = 256
    f = 100e6 + (np.arange(n) - n // 2) * bin_hz
    burst, line, other = _em(f[60], 10e3, -10.0), _em(f[200], 2e3, -40.0), _em(f[230], 2e3, -40.0)
    timing = [Timing(0.3, 0.10, 0.40, True), Timing(0.31, 0.105, 0.398, True), Timing(0.6, 0.5, 0.9, True)]
    r = ArtifactClassifier().reasons([burst, line, other], np.array([f[0] - 10e3]), bin_hz, timing=timing)
    assert r[0] is None
    assert artifact_kind(r[1]) == "splatter" and "99.932000 MHz" in r[1]
    assert r[2] is None


# ---- adjacent channels --------------------------------------------------------------------------------------
RASTER = ChannelRaster(centers_hz=tuple(CENTER + k * 12.5e3 for k in range(-8, 9)), width_hz=12.5e3)


@pytest.mark.parametrize("diff_db", [0.0, 4.0, 10.0])
def test_adjacent_channels_of_the_plan_are_two_emissions_whatever_their_level_difference(diff_db):
    x = noise_iq(40, N) + band_noise(41, N, FS, 25e3, 11e3, _snr_power(30, 11e3))
    x = x + band_noise(42, N, FS, 37.5e3, 11e3, _snr_power(30 - diff_db, 11e3))
    sp = iq_spectrum(x, nfft=2048)
    em = EmissionDetector(DetectorParams(channels=RASTER)).detect(sp)
    real = [e for e in em if not e.artifact]
    assert [round((e.center_hz - CENTER) / 1e3, 1) for e in real] == pytest.approx([25.0, 37.5], abs=0.5)
    assert all(e.bandwidth_hz < 12.5e3 for e in real)


def test_one_wide_emission_over_two_channels_is_not_split():
    x = noise_iq(43, N) + band_noise(44, N, FS, 31.25e3, 22e3, _snr_power(30, 22e3))
    em = EmissionDetector(DetectorParams(channels=RASTER)).detect(iq_spectrum(x, nfft=2048))
    real = [e for e in em if not e.artifact]
    assert len(real) == 1 and real[0].bandwidth_hz == pytest.approx(0.99 * 22e3, rel=0.1)


def test_overlapping_occupancy_raster_never_splits():
    r = ChannelRaster(centers_hz=(87.6e6, 87.7e6, 87.8e6), width_hz=200e3)
    assert r.boundaries_hz().size == 0
    with pytest.raises(ValueError):
        ChannelRaster(centers_hz=(2.0, 1.0), width_hz=1.0)


def test_station_detector_gets_the_bands_channel_plan():
    from station.config import BandConfig, ChannelPlan
    from station.pipeline.factories import make_detector

    plan = ChannelPlan(centers_hz=(450.025e6, 450.0125e6), width_hz=12.5e3)
    band = BandConfig("uhf", 450e6, 451e6, 2e3, 0.05, 10.0, 1, "rtl", channels=plan)
    raster = make_detector(band).params.channels
    assert raster is not None and raster.centers_hz == (450.0125e6, 450.025e6)
    assert make_detector(BandConfig("x", 450e6, 451e6, 2e3, 0.05, 10.0, 1, "rtl")).params.channels is None


def test_gated_excess_tells_a_keyed_line_from_a_continuous_one():
    """A line there only while a burst is on is keyed to it; a line there while the burst is off too (a
    carrier or receiver spur at a product frequency) is not its product, even under a broadband rise."""
    import numpy as np

    from detectors.bursts import Blocks, gated_excess

    rng = np.random.default_rng(3)
    n_blocks, n_bins = 60, 64
    on = np.zeros(n_blocks, dtype=bool)
    on[20:40] = True
    lin = rng.gamma(25.0, 1.0 / 25.0, size=(n_blocks, n_bins))
    lin[on] *= 2.0  # the burst's key clicks lift the whole block
    keyed, steady = slice(10, 13), slice(40, 43)
    lin[on, keyed] += 1.0 * 2.0
    lin[:, steady] += 1.0 * np.where(on, 2.0, 1.0)[:, None]
    blocks = Blocks(lin=lin, t0_s=np.arange(n_blocks) * 0.01, t1_s=np.arange(1, n_blocks + 1) * 0.01,
                    frames_per_block=5)
    floor = np.ones(n_bins)
    g = gated_excess(blocks, keyed, floor, on)
    assert g.keyed() and not g.present_while_off()
    g = gated_excess(blocks, steady, floor, on)
    assert g.present_while_off() and not g.keyed()
    assert gated_excess(blocks, keyed, floor, np.ones(n_blocks, dtype=bool)) is None  # no off-blocks: no test
