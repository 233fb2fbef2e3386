"""Tracking emissions across sweeps: one transmitter keeps one identity.

Each sweep's emissions are associated with the live tracks by centre frequency: an emission matches a track
when their centres are closer than ``max(min_tolerance_hz, tolerance_fraction * max(bandwidths))`` (a
narrowband emission must land near the track; a broadcast station may wander within its channel). Pairs are
taken nearest first (greedy on distance), one emission per track. Unmatched emissions open new tracks with
ids ``trk-<centre kHz>-<serial>`` that never change. Tracks not seen for ``max_age_s`` are retired.

The state is plain JSON-serialisable data (:meth:`Tracker.to_state` / :meth:`Tracker.from_state`) so the
station can persist it and continue after a restart with the same identities.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from detectors.records import Emission, Track

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class TrackerParams:
    """Parameters of :class:`Tracker`.

    Parameters
    ----------
    min_tolerance_hz : float
        Smallest association distance between a track and an emission (Hz, > 0).
    tolerance_fraction : float
        Association distance as a fraction of the wider of the two bandwidths, when above
        ``min_tolerance_hz`` (fraction, >= 0).
    max_age_s : float
        A track unseen this long is retired (s, > 0).
    smoothing : float
        Weight of the new centre and bandwidth in the running (exponential) estimate, in (0, 1].
    include_artifacts : bool
        Track artifacts too (default False).
    """

    min_tolerance_hz: float = 2500.0
    tolerance_fraction: float = 0.5
    max_age_s: float = 86400.0
    smoothing: float = 0.2
    include_artifacts: bool = False

    def __post_init__(self):
        if self.min_tolerance_hz <= 0 or self.tolerance_fraction < 0 or self.max_age_s <= 0:
            raise ValueError("min_tolerance_hz and max_age_s must be > 0 and tolerance_fraction >= 0")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing must be in (0, 1], got {self.smoothing}")


def _db(x: float) -> float:
    return 10.0 * math.log10(max(x, 1e-300))


class Tracker:
    """Follows emissions over sweeps. ``update(emissions, when) -> list[Track]`` (one track per emission)."""

    def __init__(self, params: TrackerParams | None = None):
        self.params = params or TrackerParams()
        self._tracks: dict[str, Track] = {}
        self._sum_power_lin: dict[str, float] = {}
        self._serial = 0

    @property
    def tracks(self) -> list[Track]:
        """Live tracks, ordered by centre frequency."""
        return sorted(self._tracks.values(), key=lambda t: t.center_hz)

    def _tolerance(self, track: Track, e: Emission) -> float:
        p = self.params
        return max(p.min_tolerance_hz, p.tolerance_fraction * max(track.bandwidth_hz, e.bandwidth_hz))

    def update(
        self,
        emissions: list[Emission],
        when: datetime,
        covered_hz: tuple[float, float] | None = None,
    ) -> list[Track]:
        """Associate one sweep's ``emissions`` (at ``when``, tz-aware UTC) with the tracks.

        ``covered_hz`` = (lo, hi) of the sweep: tracks inside it count a revisit (``n_revisits``) even when
        not detected (for occupancy); None = the span of the emissions. Returns the track of each emission,
        in the order given (artifacts get no track unless ``include_artifacts``: they are skipped from the
        returned list too).
        """
        if when.tzinfo is None:
            raise ValueError("when must be timezone-aware (UTC)")
        p = self.params
        todo = [e for e in emissions if p.include_artifacts or not e.artifact]
        live = list(self._tracks.values())
        pairs = []
        for i, e in enumerate(todo):
            for t in live:
                d = abs(t.center_hz - e.center_hz)
                if d <= self._tolerance(t, e):
                    pairs.append((d, i, t.track_id))
        pairs.sort()
        match: dict[int, str] = {}
        used: set[str] = set()
        for _d, i, tid in pairs:
            if i in match or tid in used:
                continue
            match[i] = tid
            used.add(tid)
        if covered_hz is None and todo:
            covered_hz = (min(e.f_lo_hz for e in todo), max(e.f_hi_hz for e in todo))
        # revisits: every live track inside the covered span was looked at once more
        if covered_hz is not None:
            lo, hi = covered_hz
            for tid, t in list(self._tracks.items()):
                if lo <= t.center_hz <= hi and tid not in used:
                    self._tracks[tid] = dataclasses.replace(t, n_revisits=t.n_revisits + 1)
        out: list[Track] = []
        for i, e in enumerate(todo):
            tid = match.get(i)
            if tid is None:
                self._serial += 1
                tid = f"trk-{int(round(e.center_hz / 1e3)):d}k-{self._serial:04d}"
                t = Track(
                    track_id=tid,
                    center_hz=e.center_hz,
                    bandwidth_hz=e.bandwidth_hz,
                    first_seen=e.first_seen,
                    last_seen=e.last_seen,
                    n_obs=1,
                    n_revisits=1,
                    max_power_dbfs=e.power_dbfs,
                    mean_power_dbfs=e.power_dbfs,
                    last=e,
                )
                self._sum_power_lin[tid] = 10 ** (e.power_dbfs / 10)
            else:
                old = self._tracks[tid]
                a = p.smoothing
                self._sum_power_lin[tid] += 10 ** (e.power_dbfs / 10)
                n_obs = old.n_obs + 1
                t = Track(
                    track_id=tid,
                    center_hz=(1 - a) * old.center_hz + a * e.center_hz,
                    bandwidth_hz=(1 - a) * old.bandwidth_hz + a * e.bandwidth_hz,
                    first_seen=min(old.first_seen, e.first_seen),
                    last_seen=max(old.last_seen, e.last_seen),
                    n_obs=n_obs,
                    n_revisits=old.n_revisits + 1,
                    max_power_dbfs=max(old.max_power_dbfs, e.power_dbfs),
                    mean_power_dbfs=_db(self._sum_power_lin[tid] / n_obs),
                    last=e,
                )
            self._tracks[tid] = t
            out.append(t)
        # retire tracks unseen for max_age_s
        for tid, t in list(self._tracks.items()):
            if (when - t.last_seen).total_seconds() > p.max_age_s:
                del self._tracks[tid]
                self._sum_power_lin.pop(tid, None)
        return out

    # ---- persistence -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """JSON-serialisable state (plain dicts, lists, numbers, ISO 8601 strings)."""
        return {
            "version": STATE_VERSION,
            "serial": self._serial,
            "tracks": [
                {
                    "track_id": t.track_id,
                    "center_hz": t.center_hz,
                    "bandwidth_hz": t.bandwidth_hz,
                    "first_seen": t.first_seen.isoformat(),
                    "last_seen": t.last_seen.isoformat(),
                    "n_obs": t.n_obs,
                    "n_revisits": t.n_revisits,
                    "max_power_dbfs": t.max_power_dbfs,
                    "mean_power_dbfs": t.mean_power_dbfs,
                    "sum_power_lin": self._sum_power_lin.get(t.track_id, 0.0),
                    "last": emission_to_dict(t.last),
                }
                for t in self.tracks
            ],
        }

    @classmethod
    def from_state(cls, state: dict, params: TrackerParams | None = None) -> Tracker:
        """Rebuild a tracker from :meth:`to_state` output. ValueError naming the key on bad state."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"tracker state: expected a dict with version {STATE_VERSION}")
        tr = cls(params)
        i = -1
        try:
            tr._serial = int(state["serial"])
            for i, d in enumerate(state["tracks"]):
                t = Track(
                    track_id=str(d["track_id"]),
                    center_hz=float(d["center_hz"]),
                    bandwidth_hz=float(d["bandwidth_hz"]),
                    first_seen=datetime.fromisoformat(d["first_seen"]),
                    last_seen=datetime.fromisoformat(d["last_seen"]),
                    n_obs=int(d["n_obs"]),
                    n_revisits=int(d["n_revisits"]),
                    max_power_dbfs=float(d["max_power_dbfs"]),
                    mean_power_dbfs=float(d["mean_power_dbfs"]),
                    last=emission_from_dict(d["last"]),
                )
                tr._tracks[t.track_id] = t
                tr._sum_power_lin[t.track_id] = float(d.get("sum_power_lin", 10 ** (t.mean_power_dbfs / 10) * t.n_obs))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"tracker state: bad or missing key ({exc}) in tracks[{i}]") from exc
        return tr


_TIME_FIELDS = ("first_seen", "last_seen")


def emission_to_dict(e: Emission) -> dict:
    """Emission as a JSON-safe dict (times as ISO 8601 strings, floats as floats)."""
    d = {}
    for f in dataclasses.fields(Emission):
        v = getattr(e, f.name)
        if f.name in _TIME_FIELDS:
            v = v.isoformat()
        elif isinstance(v, (np.floating, np.integer)):
            v = v.item()
        d[f.name] = v
    return d


def emission_from_dict(d: dict) -> Emission:
    """Inverse of :func:`emission_to_dict`."""
    kw = {}
    for f in dataclasses.fields(Emission):
        if f.name not in d:
            if f.default is dataclasses.MISSING:
                raise KeyError(f.name)
            continue
        v = d[f.name]
        kw[f.name] = datetime.fromisoformat(v) if f.name in _TIME_FIELDS else v
    return Emission(**kw)
