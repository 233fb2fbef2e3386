"""The simulated RTL-SDR: a scenario seen through the dongle model, on the simulator's own sample clock.

Signal chain for each block (documented with the numbers in docs/SCENARIO.md):

1. True LO = set centre * (1 + (ppm_error - ppm_correction) * 1e-6); each transmitter sits at
   offset = frequency - true LO. Only transmitters whose centre lies in the sampled span are generated.
2. Level: a transmitter of P dBm at gain G dB has P + G - fullscale_dbm + H(offset) + R(frequency) dBFS
   (the OFDM block applies H per carrier instead), with the baseband response H(f) = 0 dB for
   |f| <= passband_fraction * rate/2, falling as -edge_rolloff_db * x^2 beyond (x = 0 at the knee, 1 at
   rate/2), and the tuner's RF response R, 0 dB between rf_low_knee_hz and rf_high_knee_hz, falling to
   -rf_edge_rolloff_db at 24 / 1766 MHz.
3. Noise: thermal noise (-174 dBm/Hz + noise_figure_db at the antenna, times the gain) plus the ADC noise
   (adc_noise_lsb), both shaped by H(f) (the RTL2832U decimation filter follows the ADC).
4. IQ imbalance: z + nu * conj(z), |nu| = -image_rejection_db: an image of everything, mirrored about DC.
5. DC offset (dc_offset_dbfs, after the gain, so independent of it) and 8-bit quantisation with clipping:
   byte = clip(floor(127.5 * z + 128), 0, 255).
6. After a retune (or rate change) the first retune_junk_samples samples are stale: rendered at the previous
   tuning, as librtlsdr's USB buffers deliver them.

The clock: sample i of the current rate segment is at seg_start_s + i / rate seconds; it advances only by
samples produced (including junk and discarded settling samples), so schedules are consistent across reads,
hops and retunes. Pure computation: no I/O, no wall clock.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass

import numpy as np

from station.sim import kernels
from station.sim.scenario import ReceiverModel, Scenario, Transmitter
from station.sim.response import frontend_response_db, rf_response_db
from station.sim.schedule import Schedule
from station.sim.signals import GENERATORS, OOK, Block, Generator

#: R820T gain steps (dB), as librtlsdr reports them
R820T_GAINS_DB: tuple[float, ...] = (
    0.0, 0.9, 1.4, 2.7, 3.7, 7.7, 8.7, 12.5, 14.4, 15.7, 16.6, 19.7, 20.7, 22.9, 25.4, 28.0, 29.7, 32.8, 33.8,
    36.4, 37.2, 38.6, 40.2, 42.1, 43.4, 43.9, 44.5, 48.0, 49.6,
)

THERMAL_DBM_HZ = -174.0  # kT at 290 K
REFERENCE_HZ = 28.8e6  # the R820T's reference crystal: its harmonics are fixed-RF spurs
NOISE_TABLE_LEN = 1 << 20
NOISE_CHUNK = 8192
BLOCK_MAX = 1 << 18  # samples rendered per pass (bounds memory for large reads)
_RESPONSE_CHUNK = 1 << 16  # noise-table bins shaped per pass
VOICE_RAMP_S = 0.005  # key-up/key-down ramp of slot-scheduled transmitters
BURST_RAMP_S = 0.0001  # edge ramp of burst-scheduled non-OOK transmitters


def tone_dbfs(power_dbm: float, gain_db: float, offset_hz: float, rate_hz: float, model: ReceiverModel,
              frequency_hz: float | None = None) -> float:
    """Predicted level (dBFS) of a carrier of ``power_dbm`` at the antenna (the documented dBm->dBFS model):
    power + gain - fullscale_dbm + H(offset) [+ R(frequency_hz), the tuner's RF response, when given]."""
    rf = 0.0 if frequency_hz is None else rf_response_db(frequency_hz, model)
    return power_dbm + gain_db - model.fullscale_dbm + float(frontend_response_db(offset_hz, rate_hz, model)) + rf


def thermal_noise_dbfs_hz(gain_db: float, model: ReceiverModel) -> float:
    """Thermal noise density in the flat passband (dBFS/Hz) at ``gain_db``."""
    return THERMAL_DBM_HZ + model.noise_figure_db + gain_db - model.fullscale_dbm


@dataclass(frozen=True, slots=True)
class OnAir:
    """Ground truth: one transmitter inside the tuned span during a time window (for tests and demos)."""

    tx_id: str
    modulation: str
    frequency_hz: float  # true RF frequency
    apparent_hz: float  # where the receiver shows it: set centre + (frequency - true LO)
    offset_hz: float  # apparent_hz - set centre (Hz)
    bandwidth_hz: float
    level_dbfs: float  # mean power in the span while transmitting, at the gain in use (OOK: during a mark)
    on_fraction: float  # fraction of the window on the air


@functools.lru_cache(maxsize=4)
def _noise_table(seed: int, rate_hz: float, passband_fraction: float, edge_rolloff_db: float) -> np.ndarray:
    """Seeded complex64 noise, NOISE_TABLE_LEN samples, unit power density in the flat passband, shaped by the
    front-end response. Cached (read-only) across simulators: building one costs ~0.1 s."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, int(rate_hz), 0x7461626C])
    n = NOISE_TABLE_LEN
    # built in place (the same values as ifft(fft(re + 1j*im) * sqrt(0.5) * 10**(H(fftfreq)/20))) so the
    # scratch is one complex128 table, not five: this transient set the station's peak RSS
    spec = np.empty(n, np.complex128)
    spec.real = rng.standard_normal(n)
    spec.imag = rng.standard_normal(n)
    np.fft.fft(spec, out=spec)
    spec *= math.sqrt(0.5)
    model = ReceiverModel(passband_fraction=passband_fraction, edge_rolloff_db=edge_rolloff_db)
    val = 1.0 / (n * (1.0 / rate_hz))  # as np.fft.fftfreq(n, 1 / rate_hz) computes it
    n_pos = (n - 1) // 2 + 1
    for i0 in range(0, n, _RESPONSE_CHUNK):
        k = np.arange(i0, min(n, i0 + _RESPONSE_CHUNK))
        k[k >= n_pos] -= n
        spec[i0 : i0 + k.size] *= 10 ** (frontend_response_db(k * val, rate_hz, model) / 20)
    np.fft.ifft(spec, out=spec)
    table = spec.astype(np.complex64)
    table.flags.writeable = False
    return table


class Simulator:
    """A tunable simulated RTL-SDR producing cu8 bytes.

    Control calls and reads are serialised by a lock, so an rtl_tcp server may retune from its command
    thread while its streaming thread reads (a read in progress finishes at the tuning it started with).
    """

    def __init__(self, scenario: Scenario, *, seed: int = 0, start_s: float = 0.0):
        unresolved = [tx.id for tx in scenario.transmitters if math.isnan(tx.power_dbm)]
        if unresolved:
            raise ValueError(f"transmitters {', '.join(unresolved)} give eirp_dbm: simulate them as one station "
                             f"sees them (station.sim.scenario.seen_from) before building a Simulator")
        self.scenario = scenario
        self.model = scenario.receiver
        self.seed = int(seed)
        self._lock = threading.RLock()
        self._tab = kernels.expj_table()
        self._gens: dict[str, Generator] = {}
        self._scheds: dict[str, Schedule] = {}
        self._noise_rng = np.random.default_rng([self.seed & 0xFFFFFFFF, 0x6E6F6973])
        img = 10 ** (-self.model.image_rejection_db / 20)
        ph = math.radians(self.model.image_phase_deg)
        self._nu = (img * math.cos(ph), img * math.sin(ph))
        dc = 10 ** (self.model.dc_offset_dbfs / 20)
        self._dc = (dc * math.cos(0.7), dc * math.sin(0.7))
        self.center_hz = 100e6
        self.rate_hz = 2.4e6
        self.manual_gain_db: float | None = None
        self.ppm_correction = 0.0
        self._seg_start_s = float(start_s)
        self._n = 0
        self._junk_left = 0
        self._junk_center_hz = self.center_hz
        self._auto_gain_db = self._agc_gain(self.center_hz)

    # ---- clock and state ---------------------------------------------------------------------------------
    @property
    def time_s(self) -> float:
        """Simulator time (s) of the next sample to be produced."""
        return self._seg_start_s + self._n / self.rate_hz

    @property
    def gain_db(self) -> float:
        """The gain actually applied (dB): the manual gain, or the automatic gain's current choice."""
        return self.manual_gain_db if self.manual_gain_db is not None else self._auto_gain_db

    def true_lo_hz(self, center_hz: float | None = None) -> float:
        """The LO frequency really produced for a set centre (crystal error minus the ppm correction)."""
        c = self.center_hz if center_hz is None else center_hz
        return c * (1.0 + (self.model.ppm_error - self.ppm_correction) * 1e-6)

    def tune(self, center_hz: float) -> None:
        with self._lock:
            self._junk_center_hz = self.center_hz
            self._junk_left = self.model.retune_junk_samples
            self.center_hz = float(center_hz)
            self._auto_gain_db = self._agc_gain(self.center_hz)

    def set_rate(self, rate_hz: float) -> None:
        with self._lock:
            self._seg_start_s = self.time_s
            self._n = 0
            self.rate_hz = float(rate_hz)
            self._junk_center_hz = self.center_hz
            self._junk_left = self.model.retune_junk_samples
            self._auto_gain_db = self._agc_gain(self.center_hz)

    def skip(self, seconds: float) -> None:
        """Let ``seconds`` of simulator time pass unread (a station idle between sweeps while the dongle
        streams on): the clock advances by whole samples and nothing is rendered; a pending retune's stale
        samples are used up as they would be."""
        s = float(seconds)
        if not (math.isfinite(s) and s >= 0):
            raise ValueError(f"skip needs a finite time >= 0 s, got {seconds}")
        with self._lock:
            n = int(round(s * self.rate_hz))
            self._n += n
            self._junk_left = max(0, self._junk_left - n)

    def set_gain(self, gain_db: float | None) -> None:
        with self._lock:
            self.manual_gain_db = None if gain_db is None else float(gain_db)
            self._auto_gain_db = self._agc_gain(self.center_hz)

    def set_ppm(self, ppm: float) -> None:
        with self._lock:
            self.ppm_correction = float(ppm)

    # ---- what is in the span --------------------------------------------------------------------------------
    def in_span(self, center_hz: float | None = None) -> list[tuple[Transmitter, float]]:
        """(transmitter, offset Hz from the true LO) for transmitters whose centre lies inside the sampled span
        (|offset| < rate/2). Sidebands of a wide one that reach past the span edge fold to the other edge,
        attenuated by the roll-off, as through the RTL2832U's imperfect decimation filter."""
        lo = self.true_lo_hz(center_hz)
        half = self.rate_hz / 2.0
        out = []
        for tx in self.scenario.transmitters:
            off = tx.frequency_hz - lo
            if abs(off) < half:
                out.append((tx, off))
        return out

    def on_air(self, t0_s: float, t1_s: float, center_hz: float | None = None) -> list[OnAir]:
        """Which transmitters the receiver sees at ``center_hz`` (default: the current tuning) during the
        simulator-time window [t0_s, t1_s), with their predicted levels at the gain in use. Sorted by
        apparent frequency; transmitters off for the whole window are included with on_fraction 0."""
        with self._lock:
            centre = self.center_hz if center_hz is None else float(center_hz)
            gain = self.manual_gain_db if self.manual_gain_db is not None else self._agc_gain(centre)
            out = []
            for tx, off in self.in_span(centre):
                gen = self._generator(tx)
                level = (tone_dbfs(tx.power_dbm, gain, 0.0, self.rate_hz, self.model, tx.frequency_hz)
                         + gen.span_response_db(off, self.rate_hz))
                out.append(OnAir(tx_id=tx.id, modulation=tx.modulation, frequency_hz=tx.frequency_hz,
                                 apparent_hz=centre + off, offset_hz=off, bandwidth_hz=tx.bandwidth_hz,
                                 level_dbfs=level, on_fraction=self._scheds[tx.id].on_fraction(t0_s, t1_s)))
            return sorted(out, key=lambda o: o.apparent_hz)

    def _agc_gain(self, center_hz: float) -> float:
        """Highest R820T gain keeping all in-span transmitters (as if all on) + noise below agc_target_dbfs."""
        m = self.model
        p_mw = 10 ** ((THERMAL_DBM_HZ + m.noise_figure_db + 10 * math.log10(self.rate_hz)) / 10)
        for tx, off in self.in_span(center_hz):
            h = float(frontend_response_db(off, self.rate_hz, m)) + rf_response_db(tx.frequency_hz, m)
            p_mw += 10 ** ((tx.power_dbm + h) / 10)
        total_dbm = 10 * math.log10(p_mw)
        best = R820T_GAINS_DB[0]
        for g in R820T_GAINS_DB:
            if total_dbm + g - m.fullscale_dbm <= m.agc_target_dbfs:
                best = g
        return best

    # ---- generation -------------------------------------------------------------------------------------------
    def _generator(self, tx: Transmitter) -> Generator:
        gen = self._gens.get(tx.id)
        if gen is None:
            gen = self._gens[tx.id] = GENERATORS[tx.modulation](tx, self.seed, self._tab, self.model)
            self._scheds[tx.id] = Schedule(tx, self.seed)
        return gen

    def _noise(self, rate_hz: float) -> np.ndarray:
        """A unit-power (in the flat passband) complex64 noise table for a rate, shaped by the front end."""
        m = self.model
        return _noise_table(self.seed, float(rate_hz), m.passband_fraction, m.edge_rolloff_db)

    def _render_signals(self, out: np.ndarray, block: Block, center_hz: float, gain_db: float) -> None:
        """Add every in-span transmitter's signal, at its level and on its schedule, into ``out``."""
        for tx, off in self.in_span(center_hz):
            gen = self._generator(tx)
            h_off = 0.0 if gen.SHAPES_FRONTEND else off  # OFDM applies the response per carrier itself
            amp = 10 ** (tone_dbfs(tx.power_dbm, gain_db, h_off, block.rate_hz, self.model, tx.frequency_hz) / 20)
            sched = self._scheds[tx.id]
            if sched.always_on and not isinstance(gen, OOK):
                gen.render(out, block, amp, off, None)
            else:
                self._render_scheduled(out, block, gen, sched, amp, off)

    @staticmethod
    def _render_scheduled(out, block: Block, gen: Generator, sched: Schedule, amp: float, off: float) -> None:
        """Render the parts of ``block`` where the schedule keys the transmitter: OOK bursts through the pulse
        code (its own edges), anything else through a raised-cosine gate (5 ms for slots, 0.1 ms for bursts)."""
        dt = 1.0 / block.rate_hz
        t0 = block.t0_s
        ramp = BURST_RAMP_S if sched.tx.burst_period_s > 0 else VOICE_RAMP_S
        for iv in sched.intervals(t0 - ramp, t0 + block.n * dt + ramp):
            a = iv.start_s - t0  # seconds after the block start; -inf/+inf for a continuous OOK
            b = iv.end_s - t0
            if isinstance(gen, OOK):
                i0 = 0 if a == -math.inf else max(0, int(math.ceil(a / dt)))
                i1 = block.n if b == math.inf else min(block.n, int(math.ceil(b / dt)))
                if i1 > i0:
                    sub = block.sub(i0, i1)
                    tau0 = sub.t0_s - (0.0 if iv.start_s == -math.inf else iv.start_s)
                    gen.render_burst(out[i0:i1], sub, amp, off, tau0, iv.index)
                continue
            i0 = max(0, int(math.floor((a - ramp) / dt)))
            i1 = min(block.n, int(math.ceil((b + ramp) / dt)) + 1)
            if i1 <= i0:
                continue
            starts = np.array([max(a, -10.0) - i0 * dt])
            ends = np.array([min(b, block.n * dt + 10.0) - i0 * dt])
            env = kernels.gate_envelope(i1 - i0, dt, starts, ends, ramp)
            gen.render(out[i0:i1], block.sub(i0, i1), amp, off, env)

    def _render_spurs(self, out: np.ndarray, block: Block, center_hz: float, gain_db: float) -> None:
        """The receiver's own lines: baseband spurs at fixed offsets from the LO (any tuning) and the harmonics
        of the tuner's 28.8 MHz reference at fixed RF frequencies (attenuated like an antenna signal)."""
        m = self.model
        tones = [(off, 10 ** (m.baseband_spur_dbfs / 20)) for off in m.baseband_spurs_hz]
        if m.reference_spur_dbm is not None:
            lo = self.true_lo_hz(center_hz)
            half = block.rate_hz / 2
            k0, k1 = math.ceil((lo - half) / REFERENCE_HZ), math.floor((lo + half) / REFERENCE_HZ)
            for k in range(max(1, k0), k1 + 1):
                off = k * REFERENCE_HZ - lo
                if abs(off) < half:
                    tones.append((off, 10 ** (tone_dbfs(m.reference_spur_dbm, gain_db, off, block.rate_hz, m,
                                                        k * REFERENCE_HZ) / 20)))
        if not tones:
            return
        t = (block.n0 + np.arange(block.n, dtype=np.float64)) / block.rate_hz
        for off, amp in tones:
            out += (amp * np.exp(2j * np.pi * off * t)).astype(np.complex64)

    def _produce(self, n: int, center_hz: float, out_u8: np.ndarray) -> None:
        """Render ``n`` samples at ``center_hz`` into ``out_u8`` (2n,) and advance the clock."""
        rate = self.rate_hz
        gain = self.gain_db
        m = self.model
        block = Block(n=n, rate_hz=rate, seg_start_s=self._seg_start_s, n0=self._n)
        sig = np.zeros(n, np.complex64)
        self._render_signals(sig, block, center_hz, gain)
        self._render_spurs(sig, block, center_hz, gain)
        table = self._noise(rate)
        n_chunks = (n + NOISE_CHUNK - 1) // NOISE_CHUNK
        offsets = self._noise_rng.integers(0, NOISE_TABLE_LEN - NOISE_CHUNK, n_chunks)
        thermal_power = 10 ** ((thermal_noise_dbfs_hz(gain, m) + 10 * math.log10(rate)) / 10)
        adc_power = 2.0 * (m.adc_noise_lsb / 127.5) ** 2
        kernels.finish_cu8(sig, table, offsets, math.sqrt(thermal_power + adc_power), NOISE_CHUNK,
                           self._nu[0], self._nu[1], self._dc[0], self._dc[1], out_u8)
        self._n += n

    def read_cu8(self, n: int) -> np.ndarray:
        """The next ``n`` samples as interleaved cu8, shape (2n,), uint8."""
        out = np.empty(2 * n, np.uint8)
        done = 0
        with self._lock:
            while done < n:
                k = min(BLOCK_MAX, n - done)
                center = self.center_hz
                if self._junk_left > 0:
                    k = min(k, self._junk_left)
                    center = self._junk_center_hz
                    self._junk_left -= k
                self._produce(k, center, out[2 * done: 2 * (done + k)])
                done += k
        return out


__all__ = ["R820T_GAINS_DB", "OnAir", "Simulator", "frontend_response_db", "rf_response_db", "thermal_noise_dbfs_hz",
           "tone_dbfs"]
