"""Measurement uncertainty of emissions (ITU-R SM.378 / SM.443 / SM.1880 spirit), per observation and per track.

Pure functions and frozen records; no I/O. docs/UNCERTAINTY.md says how each term is computed and why.

Every measurand carries a :class:`Budget` of *standard* uncertainties (k = 1) split by how they behave when
the same emitter is measured again:

* ``random``: changes from one dwell to the next (periodogram noise, the signal's own randomness): it shrinks
  as 1/sqrt(n) over n independent observations;
* ``systematic``: the same at every revisit (the receiver's reference oscillator, ppm; bin quantisation on
  the fixed hop grid; calibration, added by the calibration layer): it does not shrink;
* ``bias``: a one-sided, uncorrected bias bound (the window's resolution widening a 99 % bandwidth, clipped
  noise excess reading a weak emission wide). It is added linearly to the expanded uncertainty (GUM F.2.4.5,
  "SUMU") and does not shrink.

The expanded uncertainty is ``U = sqrt((k_r u_r)^2 + (k u_s)^2) + bias`` with ``k = 2`` (~95 %) and ``k_r``
the Student-t factor for the degrees of freedom of the random part (2 when that part comes from the model).

Typical use::

    settings = MeasurementSettings.from_spectrum(spectrum, ppm=receiver.info.frequency_uncertainty_ppm)
    u = observation_uncertainty(emission, settings)      # ObservationUncertainty
    u.center_hz.expanded                                  # Hz, ~95 %
    acc = MeasurementAccumulator()
    acc.add(emission, u)                                  # once per sweep the track is seen
    acc.miss()                                            # a revisit that did not see it (occupancy)
    m = acc.canonical()                                   # CanonicalMeasurement: medians, spreads, U95s
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from scipy import special

from detectors import stats
from detectors.records import Emission

#: coverage factor of every expanded uncertainty (normal law, ~95 %)
K_EXPANDED = 2.0
#: coverage probability the expanded uncertainties state
COVERAGE = 0.95
#: density of an emission's spectrum at its 99 % edges relative to its mean in-band density (spectral shape
#: assumption of the edge-noise term: 1 for a rectangular spectrum, ~0.08 for a Gaussian one; FM voice,
#: 4FSK and AM voice measured at 0.1-0.3 in the simulator, see docs/UNCERTAINTY.md)
EDGE_DENSITY_FRACTION = 0.15
#: noise bins measured on each side of a region (detectors.energy.DetectorParams.pad_bins) plus the one the
#: edge falls into: bins whose clipped noise excess moves a 99 % edge
EDGE_NOISE_BINS = 4
_CLIPPED_MEAN = 1.0 / math.sqrt(2.0 * math.pi)  # E[max(0, Z)] for a standard normal Z
_DB = 10.0 / math.log(10.0)  # dB per natural log unit (4.343)


#: residual amplitude tilt of an RTL-SDR class receiver across one emission after the sweep's crop and
#: stitching, +/- dB end to end (R820T IF response ripple over the kept half of a hop; a documented bound,
#: not a calibration)
PASSBAND_TILT_DB = 0.5


@dataclass(frozen=True, slots=True)
class Budget:
    """Standard uncertainties (k = 1) of one measurand, in its unit (Hz or dB). See the module docstring.

    Parameters
    ----------
    random : float
        Part that changes between dwells; shrinks as 1/sqrt(n).
    systematic : float
        Part that is the same at every revisit (ppm, quantisation, calibration); never shrinks.
    bias : float
        One-sided bias bound, added linearly to the expanded uncertainty; never shrinks.
    k_random : float
        Coverage factor of the random part (2 from the model; Student-t when estimated from n observations).
    """

    random: float
    systematic: float = 0.0
    bias: float = 0.0
    k_random: float = K_EXPANDED

    @property
    def standard(self) -> float:
        """Combined standard uncertainty (k = 1), bias included as a rectangular bound: sqrt(r^2 + s^2 + b^2/3)."""
        return math.sqrt(self.random ** 2 + self.systematic ** 2 + self.bias ** 2 / 3.0)

    @property
    def expanded(self) -> float:
        """Expanded uncertainty (~95 %): sqrt((k_r u_r)^2 + (2 u_s)^2) + bias."""
        return math.hypot(self.k_random * self.random, K_EXPANDED * self.systematic) + self.bias

    def with_systematic(self, extra: float) -> Budget:
        """The same budget with another independent systematic standard term (e.g. calibration) added."""
        return Budget(self.random, math.hypot(self.systematic, extra), self.bias, self.k_random)


@dataclass(frozen=True, slots=True)
class MeasurementSettings:
    """What the uncertainty of one spectrum's measurements depends on.

    Parameters
    ----------
    bin_hz : float
        Bin spacing (Hz).
    rbw_hz : float
        Resolution bandwidth = the window's ENBW (Hz).
    window : str
        Window name (dsp.windows).
    nfft : int
        FFT length.
    overlap : float
        Frame overlap fraction.
    n_frames : int
        Frames averaged per bin (per hop for a sweep).
    ppm : float
        Receiver reference uncertainty, +/- ppm (a rectangular bound).
    tilt_db : float
        Bound of the receiver's residual amplitude tilt across an emission, +/- dB end to end (a rectangular
        bound; tuner IF response and hop stitching, :data:`PASSBAND_TILT_DB` for RTL-SDR class receivers). A
        tilt weights one side of a wide emission more and moves its power centroid (see frequency_budget).
    """

    bin_hz: float
    rbw_hz: float
    window: str
    nfft: int
    overlap: float
    n_frames: int
    ppm: float = 0.0
    tilt_db: float = PASSBAND_TILT_DB

    def __post_init__(self):
        if not (self.bin_hz > 0 and self.rbw_hz > 0 and self.nfft >= 1 and self.n_frames >= 1):
            raise ValueError(f"bin_hz, rbw_hz > 0 and nfft, n_frames >= 1 needed, got {self.bin_hz}, "
                             f"{self.rbw_hz}, {self.nfft}, {self.n_frames}")
        if self.ppm < 0 or not 0.0 <= self.overlap < 1.0:
            raise ValueError(f"ppm must be >= 0 and overlap in [0, 1), got {self.ppm}, {self.overlap}")
        if not 0.0 <= self.tilt_db <= 20.0:
            raise ValueError(f"tilt_db must be in [0, 20] dB, got {self.tilt_db}")

    @classmethod
    def from_spectrum(cls, spectrum, ppm: float = 0.0) -> MeasurementSettings:
        """Settings of a :class:`dsp.spectrum.Spectrum` ("max"/"min" averages count as one frame)."""
        n_frames = spectrum.n_frames if spectrum.average == "mean" else 1
        return cls(float(spectrum.bin_hz), float(spectrum.enbw_hz), spectrum.window, int(spectrum.nfft),
                   float(spectrum.overlap), max(1, int(n_frames)), abs(float(ppm)))

    def rel_var(self, n_bins: int = 1) -> float:
        """Relative variance of the PSD summed over ``n_bins`` adjacent bins (detectors.stats)."""
        return _rel_var(self.window, self.nfft, self.overlap, self.n_frames, max(1, min(int(n_bins), 4096)))


@lru_cache(maxsize=4096)
def _rel_var(window: str, nfft: int, overlap: float, n_frames: int, n_bins: int) -> float:
    return stats.relative_variance(window, nfft, overlap, n_frames, n_bins)


@lru_cache(maxsize=64)
def _window_rms_width_bins(window: str) -> float:
    """RMS width (in bins) of the window's power response |W(f)|^2 (what a measured spectrum is convolved
    with): sqrt(sum w'^2 / sum w^2) / (2 pi), computed numerically; hann = 1/sqrt(3) = 0.577."""
    import numpy as np

    from dsp.windows import window_coefficients

    n = 4096
    w = window_coefficients(window, n).astype(np.float64)
    # periodic derivative (cyclic), samples per frame -> cycles per frame
    dw = (np.roll(w, -1) - np.roll(w, 1)) / 2.0  # per sample
    # a rectangular window has no finite rms width (sinc^2 tails): its mainlobe half-width, 0.5 bin, stands in
    return max(0.5, float(n * math.sqrt(np.sum(dw * dw) / np.sum(w * w)) / (2.0 * math.pi)))


def _snr_lin(snr_db: float) -> float:
    # a region's measured SNR can be <= 0 dB after noise subtraction; below -20 dB nothing is measurable
    return 10.0 ** (max(float(snr_db), -20.0) / 10.0)


def _bins(width_hz: float, bin_hz: float) -> float:
    return max(1.0, float(width_hz) / float(bin_hz))


# ---------------------------------------------------------------------------------------------------------
# per-observation terms
# ---------------------------------------------------------------------------------------------------------
def frequency_budget(center_hz: float, bandwidth_hz: float, snr_db: float, s: MeasurementSettings) -> Budget:
    """Centre frequency (power centroid over the 99 % band) of one observation.

    random: propagated periodogram noise, ``B * sqrt(v_M / 12) * (1 + 1/SNR)`` with ``v_M`` the relative
    variance of the PSD summed over the M = B/bin bins and B the occupied bandwidth (at least one rbw);
    systematic: the reference, ``ppm * f / sqrt(3)`` (rectangular); bin quantisation of a centroid over few
    bins, ``bin / sqrt(12) / M``; and the receiver's residual amplitude tilt across the emission: a tilt of t dB
    end to end over a flat band B weights it by ``1 + a f`` with ``a = ln(10)/10 * t / B`` and moves the
    centroid by ``a B**2 / 12 = ln(10)/120 * t * B`` (0.0192 t B), rectangular in +/- ``tilt_db`` (a wide
    emission's centre is limited by the receiver's flatness, not by its many bins).
    """
    b = max(float(bandwidth_hz), s.rbw_hz)
    m = _bins(b, s.bin_hz)
    v = s.rel_var(int(round(m)))
    rnd = b * math.sqrt(v / 12.0) * (1.0 + 1.0 / _snr_lin(snr_db))
    ref = s.ppm * 1e-6 * abs(float(center_hz)) / math.sqrt(3.0)
    quant = s.bin_hz / math.sqrt(12.0) / m
    tilt = math.log(10.0) / 120.0 * s.tilt_db * b / math.sqrt(3.0)
    return Budget(rnd, math.sqrt(ref * ref + quant * quant + tilt * tilt))


def bandwidth_budget(bandwidth_hz: float, snr_db: float, s: MeasurementSettings) -> Budget:
    """99 % (beta) occupied bandwidth of one observation.

    Each 0.5 % edge is where the cumulative noise-subtracted power reaches 0.5 % of the total. The noise of
    the ``EDGE_NOISE_BINS`` bins outside an edge moves it by ``sigma_cum / rho`` with ``sigma_cum = N sqrt(v)
    sqrt(n_out)`` and ``rho = g S / B`` the emission's density there (g = EDGE_DENSITY_FRACTION): random
    ``sqrt(2 v n_out) bin / (g SNR)`` for the two edges; the clipped (positive-only) noise excess in those bins
    reads the band wide by ``2 n_out sqrt(v) / sqrt(2 pi) bin / (g SNR)`` (bias); the window's resolution
    widens a band of rms width sigma by ``sqrt(B^2 + (5.15 r bin)^2) - B`` (r: the window's rms width in bins,
    5.15 = the 99 % span of a Gaussian in rms widths) (bias); quantisation of the edges, ``bin / sqrt(6)``
    (systematic: the same hop grid every revisit).
    """
    b = max(float(bandwidth_hz), s.bin_hz)
    v = s.rel_var(1)
    snr = _snr_lin(snr_db)
    g = EDGE_DENSITY_FRACTION
    n_out = EDGE_NOISE_BINS
    rnd = math.sqrt(2.0 * v * n_out) * s.bin_hz / (g * snr)
    clip_bias = 2.0 * n_out * math.sqrt(v) * _CLIPPED_MEAN * s.bin_hz / (g * snr)
    r_hz = _window_rms_width_bins(s.window) * s.bin_hz
    spread = 5.15 * r_hz
    res_bias = max(math.sqrt(b * b + spread * spread) - b, 1.5 * r_hz)
    return Budget(rnd, s.bin_hz / math.sqrt(6.0), min(clip_bias, 4.0 * b) + res_bias)


def xdb_bandwidth_budget(xdb_bandwidth_hz: float, s: MeasurementSettings) -> Budget:
    """x-dB (26 dB) bandwidth of one observation: each edge is interpolated where the PSD crosses the peak
    - 26 dB; the PSD there fluctuates by ``sqrt(v)`` (relative), i.e. about a bin of edge position on a skirt
    falling one decade per bin or less: random ``sqrt(2) bin sqrt(v) * 10 / ln 10`` per-dB slope of 10 dB/bin;
    quantisation ``bin / sqrt(6)``; the window's mainlobe widens the x-dB points by up to one rbw (bias)."""
    v = s.rel_var(1)
    rnd = math.sqrt(2.0) * s.bin_hz * (_DB * math.sqrt(v)) / 10.0 * 10.0  # 10 dB per bin skirt: 1 bin per 10 dB
    return Budget(rnd, s.bin_hz / math.sqrt(6.0), s.rbw_hz)


def level_budget(bandwidth_hz: float, snr_db: float, s: MeasurementSettings, floor_rel_var: float = 0.0) -> Budget:
    """Channel power (dB) of one observation, noise subtracted: ``10 log10(e) sqrt(v_M) (1 + 1/SNR)`` from the
    periodogram over the M bins of the band, and ``10 log10(e) sqrt(floor_rel_var) / SNR`` from the noise
    floor estimate subtracted (random). Calibration terms are added by the calibration layer
    (:meth:`Budget.with_systematic`)."""
    m = _bins(bandwidth_hz, s.bin_hz)
    v = s.rel_var(int(round(m)))
    snr = _snr_lin(snr_db)
    rnd = _DB * math.hypot(math.sqrt(v) * (1.0 + 1.0 / snr), math.sqrt(max(floor_rel_var, 0.0)) / snr)
    return Budget(min(rnd, 20.0))


def occupancy_interval(n_on: int, n_revisits: int, coverage: float = COVERAGE) -> tuple[float, float]:
    """Wilson score interval (lo, hi) of the fraction of revisits an emitter was on (binomial), at
    ``coverage``; (0, 1) with no revisit."""
    if n_revisits <= 0:
        return 0.0, 1.0
    if not 0 <= n_on <= n_revisits:
        raise ValueError(f"n_on must be in [0, n_revisits], got {n_on} of {n_revisits}")
    z = float(special.ndtri(0.5 + coverage / 2.0))
    n = float(n_revisits)
    p = n_on / n
    den = 1.0 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


@dataclass(frozen=True, slots=True)
class ObservationUncertainty:
    """The budgets of one observation (one emission in one sweep). ``xdb_bandwidth_hz`` is None when the
    x-dB bandwidth was not measurable."""

    center_hz: Budget
    bandwidth_hz: Budget
    xdb_bandwidth_hz: Budget | None
    power_db: Budget


def observation_uncertainty(e: Emission, s: MeasurementSettings, floor_rel_var: float = 0.0) -> ObservationUncertainty:
    """Every budget of emission ``e`` measured with settings ``s``."""
    return ObservationUncertainty(
        center_hz=frequency_budget(e.center_hz, e.bandwidth_hz, e.snr_db, s),
        bandwidth_hz=bandwidth_budget(e.bandwidth_hz, e.snr_db, s),
        xdb_bandwidth_hz=None if e.xdb_bandwidth_hz is None else xdb_bandwidth_budget(e.xdb_bandwidth_hz, s),
        power_db=level_budget(e.bandwidth_hz, e.snr_db, s, floor_rel_var),
    )


# ---------------------------------------------------------------------------------------------------------
# the canonical measurement of a track
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Canonical:
    """One measurand summarised over a track's observations.

    Parameters
    ----------
    value : float
        Median of the observations (Hz or dB).
    spread : float | None
        Robust standard deviation of the observations (1.4826 x MAD); None below 3 observations.
    n : int
        Observations summarised.
    budget : Budget
        Uncertainty of ``value``; ``budget.expanded`` is the ~95 % half-width.
    """

    value: float
    spread: float | None
    n: int
    budget: Budget

    @property
    def u95(self) -> float:
        return self.budget.expanded

    @property
    def interval(self) -> tuple[float, float]:
        return self.value - self.u95, self.value + self.u95


class OccupiedEdges:
    """``f_lo_hz`` / ``f_hi_hz``: the edges of the occupied band, ``center_hz`` -/+ half ``bandwidth_hz`` (both
    :class:`Canonical`), for the measurement records that carry those two fields."""

    __slots__ = ()

    @property
    def f_lo_hz(self) -> float:
        return self.center_hz.value - self.bandwidth_hz.value / 2.0

    @property
    def f_hi_hz(self) -> float:
        return self.center_hz.value + self.bandwidth_hz.value / 2.0


@dataclass(frozen=True, slots=True)
class CanonicalMeasurement(OccupiedEdges):
    """The canonical measurement of one emitter over its observations (what every output reports).

    ``bandwidth_hz`` is the 99 % occupied bandwidth, ``power_dbfs`` the channel power, ``occupancy`` the
    fraction of revisits it was seen with its Wilson interval; ``n_obs`` sweeps that saw it of ``n_revisits``
    that looked; ``snr_db`` the median SNR of the observations."""

    center_hz: Canonical
    bandwidth_hz: Canonical
    xdb_bandwidth_hz: Canonical | None
    power_dbfs: Canonical
    snr_db: float
    occupancy: float
    occupancy_interval: tuple[float, float]
    n_obs: int
    n_revisits: int


_FIELDS = ("center_hz", "bandwidth_hz", "xdb_bandwidth_hz", "power_dbfs")
_ROBUST_SE = math.sqrt(math.pi / 2.0)  # standard error of a median / of a mean, normal law (1.2533)


def _median(xs) -> float:
    ys = sorted(xs)
    n = len(ys)
    return ys[n // 2] if n % 2 else 0.5 * (ys[n // 2 - 1] + ys[n // 2])


@lru_cache(maxsize=256)
def _t95(dof: int) -> float:
    return float(special.stdtrit(dof, 0.5 + COVERAGE / 2.0))  # Student t quantile


def summarise(values, budgets) -> Canonical:
    """:class:`Canonical` of observations ``values`` with their per-observation ``budgets``.

    The random part of the median's uncertainty is the larger of the model's (rms of the per-observation
    random terms / sqrt(n)) and the observed one (robust spread / sqrt(n)), both x 1.2533 for a median; the
    observed one has ``n - 1`` degrees of freedom (Student-t coverage factor) and is used from 3 observations.
    Systematic and bias terms are the medians of the observations' (they do not shrink)."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n == 0 or n != len(budgets):
        raise ValueError(f"summarise needs as many budgets as values (> 0), got {n} and {len(budgets)}")
    med = _median(vals)
    rnd_model = math.sqrt(sum(b.random ** 2 for b in budgets) / n) / math.sqrt(n)
    syst = _median([b.systematic for b in budgets])
    bias = _median([b.bias for b in budgets])
    if n == 1:
        return Canonical(med, None, 1, Budget(budgets[0].random, budgets[0].systematic, budgets[0].bias))
    factor = _ROBUST_SE if n >= 3 else 1.0
    spread = None
    k_r = K_EXPANDED
    rnd = rnd_model * factor
    if n >= 3:
        spread = 1.4826 * _median([abs(v - med) for v in vals])
        observed = spread * factor / math.sqrt(n)
        if observed > rnd:
            rnd, k_r = observed, _t95(n - 1)
    return Canonical(med, spread, n, Budget(rnd, syst, bias, k_r))


class MeasurementAccumulator:
    """Per-track accumulator of observations: ``add(emission, uncertainty)`` once per sweep that saw it,
    ``miss()`` once per sweep that covered it without seeing it, ``canonical()`` the summary.

    Keeps the last ``window`` observations of each measurand (bounded memory for tracks that live for
    months); counts cover the whole life of the track. State is JSON-safe (:meth:`to_state`)."""

    def __init__(self, window: int = 64):
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = int(window)
        self.n_obs = 0
        self.n_revisits = 0
        self._obs: dict[str, deque] = {f: deque(maxlen=self.window) for f in _FIELDS}
        self._snr: deque = deque(maxlen=self.window)

    def add(self, e: Emission, u: ObservationUncertainty) -> None:
        self.n_obs += 1
        self.n_revisits += 1
        self._obs["center_hz"].append((e.center_hz, u.center_hz))
        self._obs["bandwidth_hz"].append((e.bandwidth_hz, u.bandwidth_hz))
        if e.xdb_bandwidth_hz is not None and u.xdb_bandwidth_hz is not None:
            self._obs["xdb_bandwidth_hz"].append((e.xdb_bandwidth_hz, u.xdb_bandwidth_hz))
        self._obs["power_dbfs"].append((e.power_dbfs, u.power_db))
        self._snr.append(float(e.snr_db))

    def miss(self) -> None:
        self.n_revisits += 1

    def canonical(self) -> CanonicalMeasurement:
        if self.n_obs == 0:
            raise ValueError("no observation yet")
        out = {}
        for f in _FIELDS:
            obs = self._obs[f]
            out[f] = summarise([v for v, _ in obs], [b for _, b in obs]) if obs else None
        n_on = min(self.n_obs, self.n_revisits)
        return CanonicalMeasurement(
            center_hz=out["center_hz"], bandwidth_hz=out["bandwidth_hz"], xdb_bandwidth_hz=out["xdb_bandwidth_hz"],
            power_dbfs=out["power_dbfs"], snr_db=_median(self._snr),
            occupancy=n_on / self.n_revisits if self.n_revisits else 0.0,
            occupancy_interval=occupancy_interval(n_on, self.n_revisits),
            n_obs=self.n_obs, n_revisits=self.n_revisits,
        )

    # ---- persistence -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        def b(x: Budget) -> list:
            return [x.random, x.systematic, x.bias, x.k_random]

        return {
            "window": self.window, "n_obs": self.n_obs, "n_revisits": self.n_revisits, "snr": list(self._snr),
            "obs": {f: [[v, b(u)] for v, u in self._obs[f]] for f in _FIELDS},
        }

    @classmethod
    def from_state(cls, state: dict) -> MeasurementAccumulator:
        """Inverse of :meth:`to_state`; ValueError naming the key on bad state."""
        try:
            acc = cls(int(state["window"]))
            acc.n_obs, acc.n_revisits = int(state["n_obs"]), int(state["n_revisits"])
            acc._snr.extend(float(x) for x in state["snr"])
            for f in _FIELDS:
                acc._obs[f].extend((float(v), Budget(*map(float, u))) for v, u in state["obs"][f])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"measurement accumulator state: bad or missing key ({exc})") from exc
        return acc
