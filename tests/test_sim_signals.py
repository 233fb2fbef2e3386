"""Signal generators, schedules and kernels of the simulator (station/sim/signals.py, schedule.py, kernels.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal as ss

from station.receivers.sim import SimReceiver
from station.sim import kernels
from station.sim.scenario import Transmitter
from station.sim.schedule import SLOTS_PER_CYCLE, Schedule
from station.sim.signals import GENERATORS, OOK, Block, KnotSource
from tests.conftest import PROJECT_ROOT

RATE = 2.4e6
TAB = kernels.expj_table()


def tx_of(modulation: str, bandwidth_hz: float, **kw) -> Transmitter:
    return Transmitter(id=f"t-{modulation}", frequency_hz=100e6, modulation=modulation, power_dbm=-60.0,
                       bandwidth_hz=bandwidth_hz, **kw)


def render(tx: Transmitter, n: int, n0: int = 0, seg_start_s: float = 0.0, offset_hz: float = 0.0, seed: int = 1):
    gen = GENERATORS[tx.modulation](tx, seed, TAB)
    out = np.zeros(n, np.complex64)
    block = Block(n, RATE, seg_start_s, n0)
    if isinstance(gen, OOK):
        gen.render_burst(out, block, 1.0, offset_hz, block.t0_s, 0)
    else:
        gen.render(out, block, 1.0, offset_hz, None)
    return out


def obw99_hz(x: np.ndarray) -> float:
    f, p = ss.welch(x, RATE, nperseg=1 << 14, return_onesided=False)
    order = np.argsort(f)
    f, c = f[order], np.cumsum(p[order]) / p.sum()
    return float(f[np.searchsorted(c, 0.995)] - f[np.searchsorted(c, 0.005)])


@pytest.mark.parametrize(("modulation", "bw"), [("nbfm", 11e3), ("nbfm", 40e3), ("wbfm", 200e3), ("wbfm", 180e3),
                                                ("4fsk", 7.6e3), ("am", 6e3), ("ofdm", 1.536e6), ("ook", 20e3)])
def test_occupied_bandwidth_and_power_match_the_nominal(modulation, bw):
    tx = tx_of(modulation, bw, stereo=(modulation == "wbfm" and bw == 200e3))
    x = render(tx, 1 << 19)
    ratio = obw99_hz(x) / bw
    assert ratio == pytest.approx(1.0, abs=0.15 if modulation == "ook" else 0.08), ratio
    power = float(np.mean(np.abs(x) ** 2))
    assert power == pytest.approx(0.5 if modulation == "ook" else 1.0, rel=0.05)


@pytest.mark.parametrize("modulation", ["cw", "am", "nbfm", "wbfm", "4fsk", "ofdm", "ook"])
def test_signal_is_a_function_of_time_not_of_read_boundaries(modulation):
    tx = tx_of(modulation, 0.0 if modulation == "cw" else {"ofdm": 1.536e6, "wbfm": 200e3}.get(modulation, 11e3))
    n0 = 123_457
    whole = render(tx, 60_000, n0=n0, offset_hz=37e3)
    parts = np.concatenate([render(tx, 10_001, n0=n0, offset_hz=37e3),
                            render(tx, 49_999, n0=n0 + 10_001, offset_hz=37e3)])
    np.testing.assert_allclose(parts, whole, atol=2e-4)
    assert np.mean(np.abs(whole) ** 2) > 0.1


def test_fm_phase_is_continuous_across_knot_groups():
    tx = tx_of("nbfm", 11e3)
    gen = GENERATORS["nbfm"](tx, 1, TAB)
    group_s = gen.knots.group / gen.rate_knots
    start = int((group_s - 0.01) * RATE)  # a block centred on the boundary between knot groups 0 and 1
    x = render(tx, int(0.02 * RATE), n0=start)
    dphi = np.angle(x[1:] * np.conj(x[:-1]))
    # instantaneous frequency stays within a few rms deviations everywhere, boundary included
    assert np.max(np.abs(dphi)) * RATE / (2 * np.pi) < 6 * 0.19 * 11e3
    a, p = KnotSource(99, "gauss", 1.0, group=64).window(0, 200)
    assert p[64] == 0.0 and p[128] == 0.0 and abs(a[:64].sum()) < 1e-9
    levels, _ = KnotSource(99, "4fsk", 1.0, group=64).window(0, 63)
    assert sorted(set(levels)) == [-3.0, -1.0, 1.0, 3.0] and levels.sum() == 0.0


def test_kernels_match_numpy_references():
    n = 5000
    cps = 0.0123
    out = np.zeros(n, np.complex64)
    kernels.add_tone(out, 0.5, 0.25, cps, np.zeros(0, np.float32), TAB)
    ref = 0.5 * np.exp(2j * np.pi * (0.25 + cps * np.arange(n)))
    np.testing.assert_allclose(out, ref, atol=2e-6)
    out_py = np.zeros(n, np.complex64)
    kernels.add_tone.py_func(out_py, 0.5, 0.25, cps, np.zeros(0, np.float32), TAB)
    np.testing.assert_allclose(out_py, out, atol=1e-6)
    # FM with constant knots is a tone at the knot value (Hz): phase = integral of the spline = a * t
    knots = np.full(400, 1500.0)
    prefix = np.concatenate(([0.0], np.cumsum(knots)[:-1]))
    r = 4000.0
    out = np.zeros(n, np.complex64)
    kernels.add_fm(out, 1.0, 0.0, 0.0, knots, prefix, 3.0, r / RATE, 1 / r, 0.0, 0.0, 0.0,
                   np.zeros(0, np.float32), TAB)
    t = np.arange(n) / RATE
    # at u = 3 (sample 0) the integral so far is 23/24 + 12/24 + 1/24 = 1.5 knots * 1500 / r cycles
    ref = np.exp(2j * np.pi * (1.5 * 1500.0 / r + 1500.0 * t))
    np.testing.assert_allclose(out, ref, atol=2e-5)
    # random knots: the per-interval quartic (Horner) equals the docstring formula evaluated with numpy
    a, p = KnotSource(7, "gauss", 900.0, group=256).window(0, 600)
    u0, du = 3.3, 0.0371
    out = np.zeros(n, np.complex64)
    kernels.add_fm(out, 1.0, 0.1, 0.002, a, p, u0, du, 1 / r, 0.0, 0.0, 0.0, np.zeros(0, np.float32), TAB)
    phase = 0.1 + 0.002 * np.arange(n) + kernels.add_fm_reference(a, p, u0 + du * np.arange(n)) / r
    np.testing.assert_allclose(out, np.exp(2j * np.pi * phase), atol=2e-5)
    env = kernels.gate_envelope(1000, 1e-3, np.array([0.2]), np.array([0.6]), 0.02)
    assert env[100] == 0.0 and env[400] == 1.0 and env[900] == 0.0 and 0.4 < env[200] < 0.6
    np.testing.assert_allclose(env, kernels.gate_envelope.py_func(1000, 1e-3, np.array([0.2]), np.array([0.6]),
                                                                  0.02))


def test_burst_schedule_intervals():
    tx = tx_of("ook", 20e3, burst_period_s=2.0, burst_s=0.02, burst_phase_s=0.35)
    ivs = Schedule(tx, 0).intervals(0.0, 7.0)
    assert [(iv.index, iv.start_s, iv.end_s) for iv in ivs] == [
        (k, pytest.approx(0.35 + 2 * k), pytest.approx(0.37 + 2 * k)) for k in range(4)]
    assert Schedule(tx, 0).on_fraction(0.0, 100.0) == pytest.approx(0.01)


def test_slot_schedule_has_the_exact_duty_in_every_cycle_and_depends_on_seed():
    tx = tx_of("nbfm", 11e3, duty_cycle=0.3, slot_s=2.0)
    sched = Schedule(tx, 4)
    cycle_s = SLOTS_PER_CYCLE * 2.0
    for c in range(5):
        t0 = sched.slot_shift_s + c * cycle_s
        assert sched.on_fraction(t0, t0 + cycle_s) == pytest.approx(0.3)
    other = Schedule(tx, 5)
    assert [iv.index for iv in sched.intervals(0, 400)] != [iv.index for iv in other.intervals(0, 400)]
    # dwell windows at arbitrary times find it on in ~30 % of cases
    rng = np.random.default_rng(0)
    times = rng.uniform(0, 2000, 4000)
    hits = np.mean([bool(sched.intervals(t, t + 0.01)) for t in times])
    assert hits == pytest.approx(0.3, abs=0.03)


OOK_SCENARIO = """
[receiver]
retune_junk_samples = 0
ppm_error = 0
[[transmitters]]
id = "fob"
frequency_hz = 433_920_000
modulation = "ook"
power_dbm = -50
bandwidth_hz = 20_000
burst_period_s = 0.1
burst_s = 0.02
burst_phase_s = 0.03
[[transmitters]]
id = "voice"
frequency_hz = 433_500_000
modulation = "cw"
power_dbm = -60
duty_cycle = 0.3
slot_s = 0.05
"""


def ook_receiver(tmp_path, *, seed: int, settle_samples: int) -> SimReceiver:
    """A simulated receiver on OOK_SCENARIO at 1.2 MS/s."""
    path = tmp_path / "ook.toml"
    path.write_text(OOK_SCENARIO)
    rx = SimReceiver.from_uri(f"sim:{path}", seed=seed, settle_samples=settle_samples)
    rx.set_sample_rate(1.2e6)
    return rx


def cu8_to_iq(raw: np.ndarray) -> np.ndarray:
    """Interleaved cu8 bytes (as float64) to complex samples, byte b -> (b - 127.5) / 127.5."""
    return ((raw[0::2] - 127.5) + 1j * (raw[1::2] - 127.5)) / 127.5


def test_bursts_follow_their_schedule_in_the_receiver_output(tmp_path):
    rx = ook_receiver(tmp_path, seed=2, settle_samples=0)
    rx.set_center_freq(433.92e6)
    rx.set_gain(29.7)
    t0 = rx.time_s
    raw = rx.read_raw(int(0.5 * 1.2e6)).astype(np.float64)
    x = cu8_to_iq(raw)
    x -= x.mean()  # remove the DC spike
    ms = np.abs(x.reshape(500, 1200)) ** 2  # 1 ms windows
    on = ms.max(axis=1) > 10 ** (-15 / 10)  # marks: -10.3 dBFS; noise peaks ~-30, the 433.5 MHz CW -20
    edges_on = np.flatnonzero(np.diff(on.astype(int)) == 1) + 1
    starts_ms = (t0 * 1000 + edges_on).tolist()
    assert starts_ms == pytest.approx([30, 130, 230, 330, 430], abs=1.5)
    assert on.sum() == pytest.approx(5 * 20, abs=6)  # 20 ms bursts, pulse gaps inside allowed for


def test_duty_cycle_holds_over_dwell_windows_of_a_hopping_sweep(tmp_path):
    rx = ook_receiver(tmp_path, seed=3, settle_samples=2000)
    rx.set_gain(29.7)
    present = []
    for _ in range(300):
        rx.set_center_freq(433.5e6 - 200e3)  # the CW sits at +200 kHz
        raw = rx.read_raw(1200).astype(np.float64)
        x = cu8_to_iq(raw)
        tone = abs(np.mean(x * np.exp(-2j * np.pi * 200e3 * np.arange(1200) / 1.2e6))) ** 2
        present.append(tone > 10 ** (-40 / 10))
        rx.set_center_freq(600e6)  # hop away for a while
        rx.read_raw(int(np.random.default_rng(len(present)).integers(20_000, 60_000)))
    assert np.mean(present) == pytest.approx(0.3, abs=0.08)


MIXED = """
[receiver]
ppm_error = 1.0
retune_junk_samples = 100
[[transmitters]]
id = "cw"
frequency_hz = 145_100_000
modulation = "cw"
power_dbm = -70
[[transmitters]]
id = "fm"
frequency_hz = 145_300_000
modulation = "nbfm"
power_dbm = -72
duty_cycle = 0.5
slot_s = 0.001
[[transmitters]]
id = "am"
frequency_hz = 144_800_000
modulation = "am"
power_dbm = -75
[[transmitters]]
id = "dmr"
frequency_hz = 145_600_000
modulation = "4fsk"
power_dbm = -75
[[transmitters]]
id = "fob"
frequency_hz = 144_600_000
modulation = "ook"
power_dbm = -60
burst_period_s = 0.001
burst_s = 0.0006
[[transmitters]]
id = "dab"
frequency_hz = 145_000_000
modulation = "ofdm"
power_dbm = -80
bandwidth_hz = 200_000
"""

_SUBPROCESS = """
import json, sys, numpy as np
from station.receivers.sim import SimReceiver
rx = SimReceiver.from_uri("sim:" + sys.argv[1], seed=9, settle_samples=0)
rx.set_center_freq(145.1e6)
rx.set_gain(33.8)
a = rx.read_raw(3000)
rx.set_center_freq(145.2e6)
b = rx.read_raw(3000)
print(json.dumps(np.concatenate([a, b]).tolist()))
"""


def test_pure_python_kernels_give_the_same_bytes(tmp_path):
    """The numba kernels and their pure-Python originals (NUMBA_DISABLE_JIT=1) agree on every modulation."""
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED)
    results = []
    for disable in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable, PYTHONWARNINGS="ignore")
        proc = subprocess.run([sys.executable, "-c", _SUBPROCESS, str(path)], capture_output=True, text=True,
                              env=env, cwd=PROJECT_ROOT, timeout=240)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results.append(np.array(json.loads(proc.stdout), dtype=np.int16))
    jit, py = results
    assert jit.shape == (12000,) and np.std(jit) > 1.0
    # and another process (this one) gives the very same bytes: no hidden state, hash seeds or clocks
    rx = SimReceiver.from_uri(f"sim:{path}", seed=9, settle_samples=0)
    rx.set_center_freq(145.1e6)
    rx.set_gain(33.8)
    a = rx.read_raw(3000)
    rx.set_center_freq(145.2e6)
    here = np.concatenate([a, rx.read_raw(3000)]).astype(np.int16)
    assert np.array_equal(here, jit)
    diff = np.abs(jit - py)
    assert diff.max() <= 1 and np.mean(diff > 0) < 0.002
