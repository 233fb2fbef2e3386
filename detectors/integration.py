"""Evidence over revisits: integrating a band's spectra over sweeps, and when a track's readings are enough.

Two pieces, both pure (records in, records out):

* :class:`RevisitIntegrator` averages the linear PSD of ``n_revisits`` consecutive band sweeps of the same
  grid into one :class:`Spectrum` whose ``n_frames`` is the sum of theirs. The detector's thresholds follow
  ``n_frames`` (the Gamma law of an averaged periodogram, :mod:`detectors.stats`), so the integrated spectrum
  is tested at the same per-test false-alarm probability with the degrees of freedom it really has: a
  continuous transmitter gains about 5 log10(n) dB of detectability (energy detector, low SNR). Blocks are
  disjoint (sweeps 1..n, n+1..2n, ...): each integrated spectrum is a new, independent test, and one more
  test per ``n`` sweeps is what integration adds to the false-alarm count.

* :func:`reading_pfa` and :class:`Confirmation`: a case opens on stated confidence, not on one reading. A
  track's first reading starts a window of ``window`` revisits; it is *confirmed* when its readings in that
  window reach ``k``, the smallest count that noise alone reaches with probability at most ``case_pfa``
  (binomial tail of the per-revisit false-reading probability ``p`` of one track's frequency window, the first
  reading excluded since it created the track). The count only grows within a window, so peeking at every
  revisit adds no chance: a track made by noise is confirmed with probability <= ``case_pfa``. A window that
  ends unconfirmed is forgotten and the next reading starts a new one. docs/DETECTION.md derives ``p``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from functools import lru_cache

import numpy as np
from scipy import special as _special

from dsp.spectrum import Spectrum


class RevisitIntegrator:
    """Averages ``n_revisits`` consecutive band sweeps (same bins) into one spectrum.

    ``add(spectrum)`` returns the integrated spectrum when the block is complete (and starts the next block),
    else None. A sweep with other bins (a new plan) or a non-"mean" average restarts the block. The
    integrated spectrum keeps the last sweep's hops (artifact tests), has no per-frame spectra (bursts are the
    per-sweep detector's), spans the block's start to end time and says ``meta['integrated_revisits']``."""

    def __init__(self, n_revisits: int):
        if int(n_revisits) < 2:
            raise ValueError(f"n_revisits must be >= 2, got {n_revisits}")
        self.n_revisits = int(n_revisits)
        self._sum: np.ndarray | None = None
        self._freqs: np.ndarray | None = None
        self._count = 0
        self._frames = 0
        self._start = None
        self._maxhold: np.ndarray | None = None

    @property
    def pending(self) -> int:
        """Sweeps in the block being integrated."""
        return self._count

    def reset(self) -> None:
        self._sum = self._freqs = self._maxhold = None
        self._count = self._frames = 0
        self._start = None

    def add(self, spectrum: Spectrum) -> Spectrum | None:
        if spectrum.average != "mean":
            self.reset()
            return None
        same = (self._freqs is not None and self._freqs.shape == spectrum.freqs_hz.shape
                and np.array_equal(self._freqs, spectrum.freqs_hz))
        if not same:
            self.reset()
            self._freqs = np.array(spectrum.freqs_hz, dtype=np.float64)
            self._sum = np.zeros(spectrum.n_bins, dtype=np.float64)
            self._start = spectrum.start_utc
        self._sum += 10.0 ** (np.asarray(spectrum.psd_dbfs_hz, dtype=np.float64) / 10.0)
        if spectrum.maxhold_dbfs_hz is not None:
            m = np.asarray(spectrum.maxhold_dbfs_hz, dtype=np.float64)
            self._maxhold = m.copy() if self._maxhold is None else np.maximum(self._maxhold, m)
        self._count += 1
        self._frames += int(spectrum.n_frames)
        if self._count < self.n_revisits:
            return None
        psd = 10.0 * np.log10(np.maximum(self._sum / self._count, 1e-300))
        meta = dict(spectrum.meta or {})
        meta["integrated_revisits"] = self._count
        out = replace(spectrum, psd_dbfs_hz=psd, n_frames=self._frames, start_utc=self._start,
                      maxhold_dbfs_hz=self._maxhold, frames_dbfs_hz=None, frame_times_s=None, above_counts=None,
                      above_threshold_dbfs_hz=None, dwell_s=spectrum.dwell_s * self._count, meta=meta)
        self.reset()
        return out


def reading_pfa(pfa: float, n_widths: int, window_bins: float, tests_per_revisit: float = 1.0) -> float:
    """Probability that noise alone gives at least one detection inside one track's association window in one
    revisit: ``n_widths`` matched-width tests at each of ``window_bins`` positions, each at ``pfa``, done
    ``tests_per_revisit`` times per revisit (1 + 1/n with integration over n revisits). Union bound form
    1 - (1 - pfa)^tests, an upper bound for the correlated tests of neighbouring widths and positions."""
    if not 0.0 < pfa < 1.0:
        raise ValueError(f"pfa must be in (0, 1), got {pfa}")
    n = max(1.0, float(n_widths)) * max(1.0, float(window_bins)) * max(1.0, float(tests_per_revisit))
    return float(-math.expm1(n * math.log1p(-pfa)))


@lru_cache(maxsize=1024)
def required_readings(p_reading: float, window: int, case_pfa: float) -> int:
    """Smallest number of readings ``k`` in a window of ``window`` revisits (the first reading, which made the
    track, included) such that noise alone gives ``k - 1`` or more further readings in the other
    ``window - 1`` revisits with probability <= ``case_pfa``. At least 2 (one reading never opens a case);
    ``window + 1`` when even a reading at every revisit would not be enough (the window is too short)."""
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    for k in range(2, window + 1):
        if float(_special.bdtrc(k - 2, window - 1, p_reading)) <= case_pfa:  # binomial sf(k - 2)
            return k
    return window + 1


def reading_log_pvalue(snr_db: float, n_bins: float, rel_var_of) -> float:
    """Natural log of the probability that noise alone reads at least ``snr_db`` over ``n_bins`` bins: the
    mean PSD-over-floor ratio of the bins is Gamma distributed with mean 1 and relative variance
    ``rel_var_of(n_bins)`` (the detector's own law, :mod:`detectors.stats`); the reading is 1 + SNR."""
    rv = max(float(rel_var_of(max(1, int(round(n_bins))))), 1e-12)
    x = 1.0 + 10.0 ** (float(snr_db) / 10.0)
    q = float(_special.gammaincc(1.0 / rv, x / rv))  # Gamma(1/rv, scale rv) survival function
    return math.log(q) if q > 0.0 else -math.inf


def _log_product_tail(log_t: float, k: int) -> float:
    """log P(U_1 ... U_k <= t) for independent uniforms, = log(t * sum_{i<k} (-ln t)^i / i!)."""
    if log_t >= 0.0:
        return 0.0
    if not math.isfinite(log_t):
        return -math.inf
    y = -log_t
    terms = [i * math.log(y) - math.lgamma(i + 1) for i in range(k)]
    m = max(terms)
    return log_t + m + math.log(sum(math.exp(v - m) for v in terms))


class Confirmation:
    """One track's sequential confirmation (see the module docstring). ``look(hit, ...)`` once per revisit that
    covered the track; ``confirmed`` stays True once reached.

    Two bounds on the probability that noise alone made the window's readings, each at ``case_pfa / 2`` (so
    their union is at ``case_pfa``):

    * count: ``hits >= required`` (:func:`required_readings`), whatever the readings' strengths;
    * strength: the readings' own p-values (:func:`reading_log_pvalue` times the tests of one association
      window, capped at 1), the first one divided by the per-revisit false-reading probability (it made the
      track, so it is conditioned on being a reading), combined as a product of uniforms (Fisher) and times
      the number of ways the later readings can fall among the window's revisits. A transmitter 30 dB over
      the floor is confirmed by its second reading; one at the detection threshold needs the count.
    """

    __slots__ = ("window", "hits", "looks", "confirmed", "log_t")

    def __init__(self, window: int, hits: int = 0, looks: int = 0, confirmed: bool = False, log_t: float = 0.0):
        self.window = int(window)
        self.hits, self.looks, self.confirmed = int(hits), int(looks), bool(confirmed)
        self.log_t = float(log_t)

    def look(self, hit: bool, required: int, log_p: float = 0.0, log_p_reading: float = 0.0,
             case_pfa: float = 0.0) -> bool:
        """Count one revisit. ``hit``: the track had a reading, whose p-value (multiplicity included) is
        ``exp(log_p)``; ``log_p_reading``: log of the per-revisit false-reading probability; ``required``:
        readings the count bound needs. Returns ``confirmed``."""
        if self.confirmed:
            return True
        if self.looks == 0 and not hit:
            return False  # no window open: a miss before any reading counts nothing
        if self.looks >= self.window:  # the window ended unconfirmed: forget it, a reading opens a new one
            self.hits = self.looks = 0
            self.log_t = 0.0
            if not hit:
                return False
        self.looks += 1
        if hit:
            lp = min(0.0, float(log_p))
            self.log_t += min(0.0, lp - log_p_reading) if self.hits == 0 else lp
            self.hits += 1
        if self.hits >= required:
            self.confirmed = True
        elif self.hits >= 2 and case_pfa > 0.0:
            ways = math.lgamma(self.window) - math.lgamma(self.hits) - math.lgamma(self.window - self.hits + 1)
            if ways + _log_product_tail(self.log_t, self.hits) <= math.log(case_pfa / 2.0):
                self.confirmed = True
        return self.confirmed

    def to_state(self) -> list:
        return [self.window, self.hits, self.looks, int(self.confirmed), self.log_t]

    @classmethod
    def from_state(cls, state) -> Confirmation:
        try:
            w, h, n, c, lt = state
            return cls(int(w), int(h), int(n), bool(c), float(lt))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"confirmation state: expected [window, hits, looks, confirmed, log_t], got {state!r}") from exc
