"""Signal generators of the simulator: one class per modulation, listed in :data:`GENERATORS`.

A generator renders its transmitter into a complex64 block at a given offset from the tuned centre. Every
generator is a pure function of the simulator time: the samples of time t do not depend on which read,
hop or retune produced them (message knots, OOK bits and OFDM symbols come from seeded counter-based
random streams keyed by the transmitter and the time index), so reads can be split any way and a
transmitter seen again after a hop continues its own programme.

Amplitude: ``amp`` is the RMS amplitude (sqrt of mean power, full scale 1.0) while transmitting; for OOK it
is the carrier amplitude during a mark.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from station.sim import kernels
from station.sim.response import frontend_response_db
from station.sim.scenario import ReceiverModel, Transmitter

_EMPTY_ENV = np.zeros(0, np.float32)


@dataclass(frozen=True, slots=True)
class Block:
    """Where a block of ``n`` samples sits on the simulator clock.

    Sample i is at t = seg_start_s + (n0 + i) / rate_hz seconds; n0 counts samples since the current sample
    rate was set (a "segment"). :func:`carrier_cycles` gives a carrier's phase at sample 0 from it.
    """

    n: int
    rate_hz: float
    seg_start_s: float
    n0: int

    @property
    def t0_s(self) -> float:
        return self.seg_start_s + self.n0 / self.rate_hz

    def sub(self, i0: int, i1: int) -> Block:
        return Block(n=i1 - i0, rate_hz=self.rate_hz, seg_start_s=self.seg_start_s, n0=self.n0 + i0)


def carrier_cycles(offset_hz: float, block: Block) -> float:
    """Phase (cycles, in [0, 1)) of a carrier at ``offset_hz`` at the block's first sample."""
    a = math.fmod(offset_hz * block.seg_start_s, 1.0)
    b = math.fmod(offset_hz / block.rate_hz * block.n0, 1.0)
    c = a + b
    return c - math.floor(c)


def stream_key(seed: int, tx_id: str, stream: str) -> int:
    """A stable 63-bit key for one random stream of one transmitter under one seed."""
    h = zlib.crc32(f"{tx_id}\0{stream}".encode())
    return ((int(seed) & 0xFFFFFFFF) << 31) ^ (h << 1) ^ 0x5DEECE66D


class KnotSource:
    """Knot values a_i (see :mod:`station.sim.kernels`) in zero-sum groups of ``group`` knots.

    kind "gauss": N(0, scale^2) minus the group mean; kind "4fsk": a balanced shuffle of
    {-3, -1, +1, +3} * scale (each level group/4 times).
    """

    def __init__(self, key: int, kind: str, scale: float, group: int = 16384):
        self.key = key
        self.kind = kind
        self.scale = float(scale)
        self.group = int(group)
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _group(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        hit = self._cache.get(g)
        if hit is not None:
            return hit
        rng = np.random.default_rng([self.key, g & 0xFFFFFFFFFFFF, 1 if g < 0 else 0])
        if self.kind == "4fsk":
            levels = np.repeat(np.array([-3.0, -1.0, 1.0, 3.0]), self.group // 4)
            a = rng.permutation(levels) * self.scale
        else:
            a = rng.standard_normal(self.group) * self.scale
            a -= a.mean()
        prefix = np.concatenate(([0.0], np.cumsum(a)[:-1]))
        # two groups: a window spans at most two (a hop or an IQ recording is far shorter than a group) and the
        # simulated time only moves forward; a group is cheap to redo (seeded), 20 sources x 4 groups held ~20 MB
        if len(self._cache) >= 2:
            self._cache.pop(next(iter(self._cache)))
        self._cache[g] = (a, prefix)
        return a, prefix

    def window(self, k_first: int, k_last: int) -> tuple[np.ndarray, np.ndarray]:
        """Knots and in-group prefix sums for knot indices k_first..k_last inclusive, each (m,) float64."""
        g0, g1 = k_first // self.group, k_last // self.group
        parts_a, parts_p = [], []
        for g in range(g0, g1 + 1):
            a, p = self._group(g)
            lo = max(k_first - g * self.group, 0)
            hi = min(k_last - g * self.group, self.group - 1) + 1
            parts_a.append(a[lo:hi])
            parts_p.append(p[lo:hi])
        if len(parts_a) == 1:
            return parts_a[0], parts_p[0]
        return np.concatenate(parts_a), np.concatenate(parts_p)


def _knot_coords(rate_knots: float, block: Block) -> tuple[int, int, float, float]:
    """(k_first, k_last, u0 relative to k_first, du) for a knot spline over ``block``."""
    u0 = block.seg_start_s * rate_knots + block.n0 * (rate_knots / block.rate_hz)
    du = rate_knots / block.rate_hz
    k_first = int(math.floor(u0)) - 3
    k_last = int(math.floor(u0 + du * block.n)) + 1
    return k_first, k_last, u0 - k_first, du


class Generator:
    """Base: ``render(out, block, amp, offset_hz, env)`` adds the signal into ``out`` (complex64, (n,)).

    ``amp`` includes the front-end response at the signal's centre, ``frontend_response_db(offset)``, unless
    the generator sets ``SHAPES_FRONTEND`` and applies the response across its own spectrum (wideband OFDM).
    ``span_response_db`` is the resulting change of the signal's mean power (for the ground truth).
    """

    SHAPES_FRONTEND = False

    def __init__(self, tx: Transmitter, seed: int, tab: np.ndarray, model: ReceiverModel | None = None):
        self.tx = tx
        self.seed = seed
        self.tab = tab
        self.model = model if model is not None else ReceiverModel()

    def span_response_db(self, offset_hz: float, rate_hz: float) -> float:
        """Mean-power change (dB) of this signal through the front end when centred at ``offset_hz``."""
        return float(frontend_response_db(offset_hz, rate_hz, self.model))

    def render(self, out: np.ndarray, block: Block, amp: float, offset_hz: float, env: np.ndarray | None) -> None:
        raise NotImplementedError


class CW(Generator):
    def render(self, out, block, amp, offset_hz, env):
        kernels.add_tone(out, amp, carrier_cycles(offset_hz, block), offset_hz / block.rate_hz,
                         _EMPTY_ENV if env is None else env, self.tab)


class FM(Generator):
    """Constant-envelope FM with a band-limited Gaussian message (voice / programme audio).

    Knot rate and deviation are chosen from the occupied bandwidth B: NBFM voice r = 0.52 B, rms deviation
    0.19 B; WBFM r = 0.3 B (audio), rms deviation 0.19 B (plus the 19 kHz pilot at 7.5 kHz deviation when
    stereo). These constants put the 99 % power bandwidth at B within 5 % (tests/test_sim_signals.py).
    """

    def __init__(self, tx, seed, tab, model=None):
        super().__init__(tx, seed, tab, model)
        bw = tx.bandwidth_hz
        if tx.modulation == "wbfm":
            self.rate_knots, dev_rms = 0.30 * bw, 0.19 * bw
        else:
            self.rate_knots, dev_rms = 0.52 * bw, 0.19 * bw
        self.knots = KnotSource(stream_key(seed, tx.id, "audio"), "gauss", dev_rms / 0.69)
        self.pilot_beta_cyc = (7500.0 / 19000.0) / (2 * math.pi) if tx.stereo else 0.0

    def render(self, out, block, amp, offset_hz, env):
        k_first, k_last, u0, du = _knot_coords(self.rate_knots, block)
        a, p = self.knots.window(k_first, k_last)
        kernels.add_fm(out, amp, carrier_cycles(offset_hz, block), offset_hz / block.rate_hz, a, p, u0, du,
                       1.0 / self.rate_knots, self.pilot_beta_cyc, carrier_cycles(19000.0, block),
                       19000.0 / block.rate_hz, _EMPTY_ENV if env is None else env, self.tab)


class FSK4(FM):
    """4FSK digital voice (DMR-like): symbols {-3,-1,+1,+3} x 1080 Hz at 4800 symbols/s for B = 7.6 kHz,
    with B-spline (Gaussian-like) frequency shaping, which smooths the peaks; the deviation is therefore set
    above DMR's 648 Hz steps so the 99 % bandwidth is B. Symbol rate and deviation scale with B / 7.6 kHz."""

    def __init__(self, tx, seed, tab, model=None):
        Generator.__init__(self, tx, seed, tab, model)
        k = tx.bandwidth_hz / 7600.0
        self.rate_knots = 4800.0 * k
        self.knots = KnotSource(stream_key(seed, tx.id, "symbols"), "4fsk", 1080.0 * k, group=4800 * 4)
        self.pilot_beta_cyc = 0.0


class AM(Generator):
    """Double-sideband AM with carrier (A3E): envelope 1 + 0.8 * audio, audio a unit-rms-ish Gaussian spline
    with knot rate r = 1.1 B (99 % bandwidth ~B); amplitude normalised so the mean power is amp^2."""

    DEPTH = 0.8
    KNOT_RMS = 0.5

    def __init__(self, tx, seed, tab, model=None):
        super().__init__(tx, seed, tab, model)
        self.rate_knots = 1.1 * tx.bandwidth_hz
        self.knots = KnotSource(stream_key(seed, tx.id, "audio"), "gauss", self.KNOT_RMS)
        # mean of (1 + d*audio)^2 with audio rms = KNOT_RMS * 0.69 (B-spline smoothing of white knots)
        self.norm = 1.0 / math.sqrt(1.0 + (self.DEPTH * self.KNOT_RMS * 0.69) ** 2)

    def render(self, out, block, amp, offset_hz, env):
        k_first, k_last, u0, du = _knot_coords(self.rate_knots, block)
        a, _ = self.knots.window(k_first, k_last)
        kernels.add_am(out, amp * self.norm, self.DEPTH, carrier_cycles(offset_hz, block), offset_hz / block.rate_hz,
                       a, u0, du, _EMPTY_ENV if env is None else env, self.tab)


class OOK(Generator):
    """On-off keyed pulse-width code inside each burst of the schedule: bit rate B / 16, marks of 3/4 or 1/4
    of a bit, raised-cosine edges of 1/B (99 % bandwidth ~1.1 B). ``amp`` is the carrier amplitude during a
    mark; the mean power over a burst is about half of it (-3 dB)."""

    def __init__(self, tx, seed, tab, model=None):
        super().__init__(tx, seed, tab, model)
        self.bit_rate = tx.bandwidth_hz / 16.0
        self.ramp_s = 1.0 / tx.bandwidth_hz
        self.key = stream_key(seed, tx.id, "bits")

    def render_burst(self, out, block, amp, offset_hz, tau0_s, burst_index):
        kernels.add_ook(out, amp, carrier_cycles(offset_hz, block), offset_hz / block.rate_hz, tau0_s,
                        1.0 / block.rate_hz, self.bit_rate, self.ramp_s, self.key,
                        burst_index & 0x7FFFFFFFFFFFFFFF, self.tab)

    def render(self, out, block, amp, offset_hz, env):  # pragma: no cover - the engine calls render_burst
        raise TypeError("OOK is rendered per burst (render_burst)")


class OFDM(Generator):
    """OFDM-like block (DAB-like): K QPSK carriers spaced ~1 kHz filling B, a cyclic prefix of 1/4 symbol.

    At a given sample rate the FFT size is N = round(rate / 1 kHz), spacing rate / N, K = B / spacing;
    64 random symbols are pre-computed per rate and a seeded stream picks one per symbol period.
    The front-end response is applied per carrier (the block is wide enough to span the roll-off), and
    carriers outside the sampled span are left out instead of folding back into it.
    """

    N_TABLE = 64
    SHAPES_FRONTEND = True

    def __init__(self, tx, seed, tab, model=None):
        super().__init__(tx, seed, tab, model)
        self.key = stream_key(seed, tx.id, "ofdm")
        self._tables: dict[tuple[float, int], tuple[np.ndarray, int]] = {}

    def _layout(self, rate_hz: float) -> tuple[int, float, int]:
        nfft = max(16, int(round(rate_hz / 1000.0)))
        spacing = rate_hz / nfft
        k = min(nfft - 2, max(2, int(round(self.tx.bandwidth_hz / spacing))))
        return nfft, spacing, k

    def _weights(self, rate_hz: float, offset_hz: float) -> np.ndarray:
        """Amplitude weight of each carrier at a centre offset: front-end response, 0 outside the span."""
        nfft, spacing, k = self._layout(rate_hz)
        f = offset_hz + (np.arange(k) - k // 2) * spacing
        w = 10 ** (frontend_response_db(f, rate_hz, self.model) / 20)
        w[np.abs(f) >= rate_hz / 2] = 0.0
        return w

    def span_response_db(self, offset_hz: float, rate_hz: float) -> float:
        w = self._weights(rate_hz, offset_hz)
        return float(10 * np.log10(max(np.mean(w**2), 1e-30)))

    def _table(self, rate_hz: float, offset_hz: float) -> tuple[np.ndarray, int]:
        nfft, spacing, k = self._layout(rate_hz)
        key = (rate_hz, int(round(offset_hz / spacing)))
        hit = self._tables.get(key)
        if hit is not None:
            return hit
        rng = np.random.default_rng([self.key, int(rate_hz)])
        qpsk = (rng.integers(0, 2, (self.N_TABLE, k)) * 2 - 1) + 1j * (rng.integers(0, 2, (self.N_TABLE, k)) * 2 - 1)
        bins = np.arange(k) - k // 2  # carriers centred on the block's centre; DC carrier kept (unlike DAB)
        grid = np.zeros((self.N_TABLE, nfft), complex)
        grid[:, bins % nfft] = qpsk * self._weights(rate_hz, key[1] * spacing)
        sym = np.fft.ifft(grid, axis=1) * (nfft / np.sqrt(2.0 * k))  # unit mean power before weighting
        cp = nfft // 4
        table = np.concatenate([sym[:, -cp:], sym], axis=1).astype(np.complex64)
        if len(self._tables) >= 8:
            self._tables.pop(next(iter(self._tables)))
        self._tables[key] = (table, nfft + cp)
        return table, nfft + cp

    def render(self, out, block, amp, offset_hz, env):
        table, sym_len = self._table(block.rate_hz, offset_hz)
        first = block.n0 // sym_len
        last = (block.n0 + block.n - 1) // sym_len
        ids = _symbol_ids(self.key, first, last, self.N_TABLE)  # per symbol index: independent of read sizes
        kernels.add_table_signal(out, amp, carrier_cycles(offset_hz, block), offset_hz / block.rate_hz, table,
                                 sym_len, block.n0, ids, _EMPTY_ENV if env is None else env, self.tab)


def _symbol_ids(key: int, first: int, last: int, n_table: int) -> np.ndarray:
    """Table row of each symbol index first..last: a counter-based hash, independent of read boundaries."""
    idx = np.arange(first, last + 1, dtype=np.uint64)
    x = idx * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(key & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    return (x % np.uint64(n_table)).astype(np.int64)


#: modulation name -> generator class (a test checks every scenario modulation has one)
GENERATORS: dict[str, type[Generator]] = {
    "cw": CW,
    "am": AM,
    "nbfm": FM,
    "wbfm": FM,
    "4fsk": FSK4,
    "ofdm": OFDM,
    "ook": OOK,
}

__all__ = ["GENERATORS", "Block", "Generator", "KnotSource", "carrier_cycles", "stream_key"]
