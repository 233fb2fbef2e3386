"""station.sweep: the executor drives a receiver through both sweep models and reports per-hop timing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from station.errors import TuningError
from station.sweep import SweepPlan, run_sweep

from .sweep_fakes import InstantReceiver

FS = 2.4e6


def fake_clock(step_s: float):
    """A monotonic clock advancing ``step_s`` per call (deterministic interval handling)."""
    counter = itertools.count()
    return lambda: next(counter) * step_s


def test_dwell_model_levels_and_timing():
    tones = [(100.3e6, 0.1), (101.9e6, 0.03)]
    rx = InstantReceiver(tones=tones, noise_rms=0.01)
    plan = SweepPlan.make([("test", 100e6, 103e6)], 10e3, FS, 0.02)
    [b] = run_sweep(rx, plan)
    s = b.spectrum
    band = plan.bands[0]
    assert b.name == "test" and len(b.hops) == band.n_hops and b.revisits == 1
    assert [h.center_hz for h in b.hops] == list(band.hop_centers_hz) == rx.tuned
    assert all(h.receive_s >= 0 and h.dsp_s > 0 for h in b.hops)
    assert b.duration_s >= b.receive_s + b.dsp_s - 1e-9
    np.testing.assert_array_equal(s.freqs_hz, band.freqs_hz)
    p = s.power_dbfs()
    for f, a in tones:
        i = np.argmin(np.abs(s.freqs_hz - f))
        # the grid is offset by half a bin from round frequencies: allow Hann scalloping (<= 1.43 dB)
        assert -1.45 - 0.1 <= p[i - 1 : i + 2].max() - 20 * np.log10(a) <= 0.1
    # noise: 1e-4 FS^2 plus cu8 quantisation (2 * (1/127.5)^2 / 12) spread over FS
    expected = 10 * np.log10((1e-4 + 2 * (1 / 127.5) ** 2 / 12) / FS)
    assert np.median(s.psd_dbfs_hz) == pytest.approx(expected, abs=0.3)
    assert s.n_frames == 1 + (plan.samples_per_visit(band) - band.nfft) // (band.nfft // 2)
    assert s.meta["sweep_mode"] == "dwell" and s.source == "test://instant"


def test_interleaved_model_counts_revisits():
    rx = InstantReceiver(tones=[(100.5e6, 0.05)], noise_rms=0.01)
    plan = SweepPlan.make(
        [(100e6, 101e6)], 10e3, FS, 0.001, mode="interleaved", interval_s=1.0, threshold_dbfs_hz=-80.0,
        keep_frames=True,
    )
    clock = fake_clock(0.01)
    [b] = run_sweep(rx, plan, clock=clock)
    s = b.spectrum
    assert b.revisits >= 3 and s.meta["revisits"] == b.revisits and s.meta["above_counts_unit"] == "revisits"
    assert len(b.hops) == b.revisits * plan.bands[0].n_hops
    i = np.argmin(np.abs(s.freqs_hz - 100.5e6))
    assert s.above_counts[i] == b.revisits  # a continuous carrier is above in every revisit
    assert np.median(s.above_counts) == 0  # noise (-103 dBFS/Hz) never is
    assert s.frames_dbfs_hz.shape == (b.revisits, s.n_bins) and s.frame_times_s.shape == (b.revisits,)
    assert np.all(np.diff(s.frame_times_s) > 0)
    assert s.dwell_s == pytest.approx(b.revisits * plan.samples_per_visit(plan.bands[0]) / FS)


def test_interleaved_burst_occupancy_fraction():
    """A transmitter on for half the revisits is counted in about half of them."""

    class Blinking(InstantReceiver):
        def _read_raw(self, n):
            visits = getattr(self, "visits", 0)
            self.visits = visits + 1
            self.tones = [(100.5e6, 0.05)] if (visits // 2) % 2 == 0 else []  # 2 hops per pass
            return super()._read_raw(n)

    rx = Blinking(noise_rms=0.01)
    plan = SweepPlan.make([(100e6, 103e6)], 10e3, FS, 0.001, mode="interleaved", interval_s=1.0,
                          threshold_dbfs_hz=-80.0)
    assert plan.bands[0].n_hops == 2
    [b] = run_sweep(rx, plan, clock=fake_clock(0.02))
    i = np.argmin(np.abs(b.spectrum.freqs_hz - 100.5e6))
    assert b.spectrum.above_counts[i] == pytest.approx(b.revisits / 2, abs=1)


def test_band_outside_tuning_range_is_a_tuning_error():
    rx = InstantReceiver(tuning_range_hz=(24e6, 1766e6))
    plan = SweepPlan.make([(10e6, 12e6)], 10e3, FS, 0.01)  # planned without the range: the receiver refuses
    with pytest.raises(TuningError, match="outside the tuning range"):
        run_sweep(rx, plan)


def test_sample_rate_the_receiver_cannot_give():
    class Coarse(InstantReceiver):
        def _set_sample_rate(self, rate_hz):
            return 2.0e6

    rx = Coarse(sample_rate_hz=1e6)
    with pytest.raises(TuningError, match="sample rate 2.4e\\+06 S/s was planned but the receiver set 2e\\+06"):
        run_sweep(rx, SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.01))


def test_plan_validation():
    with pytest.raises(ValueError, match="interval > 0"):
        SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.01, mode="interleaved")
    with pytest.raises(ValueError, match="unknown sweep mode"):
        SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.01, mode="fast")
    with pytest.raises(ValueError, match="at least one band"):
        SweepPlan(bands=(), sample_rate_hz=FS)
    plan = SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.0)
    assert plan.samples_per_visit(plan.bands[0]) == plan.bands[0].nfft


def test_min_and_max_averages():
    rx = InstantReceiver(noise_rms=0.01)
    out = {}
    for avg in ("mean", "max", "min"):
        [b] = run_sweep(rx, SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.01, average=avg))
        out[avg] = np.median(b.spectrum.psd_dbfs_hz)
        assert b.spectrum.average == avg
    assert out["min"] < out["mean"] < out["max"]


class FixedReceiver(InstantReceiver):
    """A receiver that stays at one frequency whatever it is asked (like a recording)."""

    def __init__(self, center_hz, **kw):
        super().__init__(**kw)
        self.fixed = center_hz

    def _set_center_freq(self, freq_hz):
        self.tuned.append(freq_hz)
        return self.fixed


def test_fixed_receiver_swept_on_its_own_grid():
    rx = FixedReceiver(100e6, tones=[(100.1e6, 0.1)], noise_rms=0.01)
    [b] = run_sweep(rx, SweepPlan.make([(99.7e6, 100.4e6)], 10e3, FS, 0.02))
    s = b.spectrum
    assert s.hop_centers_hz.tolist() == [100e6] and len(rx.tuned) == 1
    np.testing.assert_allclose((s.freqs_hz - 100e6) / s.bin_hz % 1.0, 0.0, atol=1e-9)  # on the FFT bins
    assert s.f_lo_hz <= 99.7e6 <= s.freqs_hz[0] and s.freqs_hz[-1] < 100.4e6 <= s.f_hi_hz + s.bin_hz
    i = np.argmax(s.psd_dbfs_hz)
    assert s.freqs_hz[i] == pytest.approx(100.1e6, abs=s.bin_hz / 2)
    assert s.power_dbfs()[i] == pytest.approx(-20, abs=1.5)
    with pytest.raises(TuningError, match="does not fit in the"):
        run_sweep(rx, SweepPlan.make([(99e6, 103e6)], 10e3, FS, 0.02))


def test_real_recording_through_file_receiver():
    """dump1090's capture (1090 MHz, 2 MS/s) has a continuous narrow carrier at -66 kHz (shared data README)."""
    from station.receivers import open_receiver

    from .conftest import shared_file

    path = shared_file("iq/dump1090_modes1_1090M_2000k.cu8")
    with open_receiver(f"file:{path}") as rx:
        plan = SweepPlan.make([(1089.6e6, 1090.4e6)], 5e3, rx.sample_rate_hz, 0.05)
        [b] = run_sweep(rx, plan)
    s = b.spectrum
    assert s.freqs_hz[np.argmax(s.psd_dbfs_hz)] - 1090e6 == pytest.approx(-66e3, abs=2 * s.bin_hz)


def test_short_read_is_a_receiver_error():
    from station.errors import ReceiverError

    class Short(InstantReceiver):
        def read_raw(self, n):
            return super().read_raw(n)[: n]  # half the samples

    with pytest.raises(ReceiverError, match=r"short read: \d+ of \d+ samples at 100\.\d+ MHz"):
        run_sweep(Short(), SweepPlan.make([(100e6, 101e6)], 10e3, FS, 0.01))
