"""Frequency-channel occupancy in the ITU-R SM.1880 sense: for each channel and integration period, the
number of revisits (spectra that covered the channel) and the number in which the channel power exceeded
the threshold. Counts are kept, so any longer period is recomputed by summing them.

The threshold is either a fixed channel power (``threshold_dbfs``, as SM.1880 lets the administration set
it) or, by default, derived per revisit from the noise floor under the channel and the design ``pfa``: the
channel's noise power times the Gamma-law threshold for that many bins and averaged frames
(:mod:`detectors.stats`). The record keeps the mean threshold used (dBFS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from detectors import stats
from detectors.noise import NoiseFloor, NoiseFloorEstimator, NoiseFloorParams, spectrum_rel_var
from detectors.records import OccupancyRecord
from dsp.spectrum import Spectrum


@dataclass(frozen=True, slots=True)
class OccupancyParams:
    """Parameters of :class:`OccupancyCounter`.

    Parameters
    ----------
    channels_hz : tuple of float
        Channel centres (Hz); at least one.
    channel_width_hz : float
        Width of every channel (Hz, > 0).
    period_s : float
        Integration period (s, > 0); periods are aligned to multiples of period_s since the epoch.
    threshold_dbfs : float or None
        Fixed channel-power threshold (dBFS), or None for the threshold derived from ``pfa``.
    pfa : float
        False-alarm probability per channel and revisit, in (0, 0.5).
    """

    channels_hz: tuple[float, ...]
    channel_width_hz: float
    period_s: float = 900.0
    threshold_dbfs: float | None = None
    pfa: float = 1e-3

    def __post_init__(self):
        if not self.channels_hz:
            raise ValueError("channels_hz must list at least one channel centre")
        if self.channel_width_hz <= 0 or self.period_s <= 0:
            raise ValueError("channel_width_hz and period_s must be > 0")
        if not 0.0 < self.pfa < 0.5:
            raise ValueError(f"pfa must be in (0, 0.5), got {self.pfa}")

    @classmethod
    def raster(cls, f_lo_hz: float, f_hi_hz: float, channel_width_hz: float, **kw) -> OccupancyParams:
        """Channels of ``channel_width_hz`` tiling [f_lo_hz, f_hi_hz) (centres at lo + (k + 1/2) width)."""
        n = int(np.floor((f_hi_hz - f_lo_hz) / channel_width_hz + 1e-9))
        centres = tuple(float(f_lo_hz + (k + 0.5) * channel_width_hz) for k in range(n))
        return cls(channels_hz=centres, channel_width_hz=channel_width_hz, **kw)


class OccupancyCounter:
    """Accumulates revisits per channel and period. ``update(spectrum)`` then ``records()``/``flush()``; the open
    periods persist through :meth:`to_state` / :meth:`from_state` (plain JSON data)."""

    def __init__(self, params: OccupancyParams, noise: NoiseFloorParams | None = None):
        self.params = params
        self._floor = NoiseFloorEstimator(noise)
        self._centres = np.asarray(params.channels_hz, dtype=float)
        # (period_start) -> arrays revisits, above, sum of linear thresholds
        self._acc: dict[datetime, list[np.ndarray]] = {}

    def _period_start(self, when: datetime) -> datetime:
        ts = when.timestamp()
        start = np.floor(ts / self.params.period_s) * self.params.period_s
        return datetime.fromtimestamp(float(start), tz=when.tzinfo)

    def channel_powers(self, spectrum: Spectrum, floor: NoiseFloor | None = None):
        """(covered (n_ch,) bool, power_dbfs (n_ch,), threshold_dbfs (n_ch,)) of each channel in ``spectrum``."""
        p = self.params
        f = spectrum.freqs_hz
        lo = np.searchsorted(f, self._centres - p.channel_width_hz / 2)
        hi = np.searchsorted(f, self._centres + p.channel_width_hz / 2)
        covered = (self._centres - p.channel_width_hz / 2 >= spectrum.f_lo_hz) & (
            self._centres + p.channel_width_hz / 2 <= spectrum.f_hi_hz
        ) & (hi > lo)
        x = 10.0 ** (spectrum.psd_dbfs_hz / 10.0)
        csum = np.concatenate(([0.0], np.cumsum(x)))
        power = (csum[hi] - csum[lo]) * spectrum.bin_hz
        if p.threshold_dbfs is not None:
            thr = np.full(self._centres.shape, 10 ** (p.threshold_dbfs / 10))
        else:
            floor = floor or self._floor.estimate(spectrum)
            fsum = np.concatenate(([0.0], np.cumsum(floor.floor_lin)))
            noise = (fsum[hi] - fsum[lo]) * spectrum.bin_hz
            thr = np.zeros(self._centres.shape)
            for m in np.unique(hi - lo):
                if m <= 0:
                    continue
                t = stats.gamma_threshold(spectrum_rel_var(spectrum, int(m)) + floor.floor_rel_var, p.pfa)
                sel = (hi - lo) == m
                thr[sel] = noise[sel] * t
        with np.errstate(divide="ignore"):
            return covered, 10 * np.log10(np.maximum(power, 1e-300)), 10 * np.log10(np.maximum(thr, 1e-300))

    def update(self, spectrum: Spectrum, floor: NoiseFloor | None = None) -> None:
        """Count one revisit of every channel ``spectrum`` covers, in the period of ``spectrum.start_utc``."""
        covered, power_db, thr_db = self.channel_powers(spectrum, floor)
        key = self._period_start(spectrum.start_utc)
        acc = self._acc.get(key)
        if acc is None:
            n = self._centres.size
            acc = self._acc[key] = [np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n)]
        acc[0] += covered
        acc[1] += covered & (power_db > thr_db)
        acc[2] += np.where(covered, 10 ** (thr_db / 10), 0.0)

    def records(self) -> list[OccupancyRecord]:
        """Records of all periods so far (channels with at least one revisit), oldest period first."""
        out = []
        p = self.params
        for start in sorted(self._acc):
            rev, above, thr_sum = self._acc[start]
            end = start + timedelta(seconds=p.period_s)
            for k in np.flatnonzero(rev):
                out.append(
                    OccupancyRecord(
                        channel_hz=float(self._centres[k]),
                        channel_width_hz=p.channel_width_hz,
                        period_start=start,
                        period_end=end,
                        revisits=int(rev[k]),
                        revisits_above=int(above[k]),
                        threshold_dbfs=float(10 * np.log10(thr_sum[k] / rev[k])),
                    )
                )
        return out

    def flush(self, before: datetime) -> list[OccupancyRecord]:
        """Records of the periods that ended at or before ``before``; they are forgotten afterwards."""
        done = [s for s in self._acc if s + timedelta(seconds=self.params.period_s) <= before]
        keep = {s: v for s, v in self._acc.items() if s not in done}
        self._acc = {s: self._acc[s] for s in done}
        out = self.records()
        self._acc = keep
        return out


    # ---- persistence -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """JSON-serialisable counts of the periods not yet flushed (so a restart continues the period)."""
        p = self.params
        return {
            "channels_hz": [float(c) for c in p.channels_hz],
            "channel_width_hz": p.channel_width_hz,
            "period_s": p.period_s,
            "periods": {start.isoformat(): [acc[0].tolist(), acc[1].tolist(), acc[2].tolist()]
                        for start, acc in self._acc.items()},
        }

    @classmethod
    def from_state(cls, state: dict, params: OccupancyParams, noise: NoiseFloorParams | None = None) -> OccupancyCounter:
        """A counter for ``params`` continuing the periods of :meth:`to_state` output (the thresholds and pfa come
        from ``params``: they are settings, not counts). ValueError when the channel plan changed or the
        counts are malformed."""
        counter = cls(params, noise)
        counter.load_state(state)
        return counter

    def load_state(self, state: dict) -> None:
        """Restore :meth:`to_state` output. ValueError when the channel plan changed or the counts are malformed."""
        p = self.params
        try:
            same = (list(state["channels_hz"]) == list(p.channels_hz) and state["channel_width_hz"] == p.channel_width_hz
                    and state["period_s"] == p.period_s)
            if not same:
                raise ValueError("the channel plan changed since the state was saved")
            n = len(p.channels_hz)
            acc = {}
            for start, (rev, above, thr) in state["periods"].items():
                arrays = [np.asarray(rev, np.int64), np.asarray(above, np.int64), np.asarray(thr, np.float64)]
                if any(a.shape != (n,) for a in arrays):
                    raise ValueError(f"occupancy state: period {start}: counts do not match {n} channels")
                acc[datetime.fromisoformat(start)] = arrays
        except (KeyError, TypeError) as exc:
            raise ValueError(f"occupancy state: bad or missing key ({exc})") from exc
        self._acc = acc


def combine(records: list[OccupancyRecord], start: datetime, end: datetime) -> list[OccupancyRecord]:
    """Occupancy over [start, end) recomputed from shorter periods' counts, one record per channel."""
    by_ch: dict[tuple[float, float], list[OccupancyRecord]] = {}
    for r in records:
        if r.period_start >= start and r.period_end <= end:
            by_ch.setdefault((r.channel_hz, r.channel_width_hz), []).append(r)
    out = []
    for (ch, w), rs in sorted(by_ch.items()):
        rev = sum(r.revisits for r in rs)
        thr = 10 * np.log10(sum(10 ** (r.threshold_dbfs / 10) * r.revisits for r in rs) / rev)
        out.append(OccupancyRecord(ch, w, start, end, rev, sum(r.revisits_above for r in rs), float(thr)))
    return out
