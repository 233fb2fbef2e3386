"""Compare emissions with the licence register: licensed, exempt, unlicensed, off-frequency, excess
bandwidth, expired, not yet valid.

:class:`ComplianceParams` holds the checker's thresholds; :class:`ComplianceChecker` judges a batch of
emissions in numpy against the register's :class:`~station.compliance.records.Assignment` rows and
:class:`~station.compliance.records.ExemptBand` table, finding the candidate assignments with two
:class:`~station.compliance.frequency_index.FrequencyIndex` (in area and out of area), and returns one
:class:`~station.compliance.records.ComplianceResult` per emission (artifacts are skipped). The checker is
kept in one module on purpose: the vectorised judging (``_check``) and the reason builders (``_licensed``,
``_violation``, ...) apply the same rules below, one to arrays of pairs and one in words for the inspector,
and share the checker's per-assignment arrays and caches; split apart, a rule change would have to be made
in two places that no longer sit side by side.

Rules (docs/REGISTER.md, "Compliance"):
  * An assignment's channel is ``centre +/- B/2`` where B is the necessary bandwidth of its emission designator
    (or its channel width when no designator), widened by the frequency tolerance T (Hz, or ppm of centre).
    A block assignment (lower/upper edges) is the block widened by T.
  * An assignment is *considered* for an emission when the emission's centre lies in that widened channel,
    its site is within its service radius + the station's monitoring range of the station (a site without
    coordinates is a nationwide/area licence and is always considered).
  * Per considered assignment, in order: licence not valid at the time (status or valid_from/valid_to) ->
    expired / not_yet_valid; |centre offset| > T + measurement margin -> off_frequency (block: the occupied
    band leaves the block); occupied bandwidth > factor * B + margin -> excess_bandwidth; else licensed.
  * The emission is licensed when any considered assignment licenses it. Otherwise it is exempt when its
    occupied band lies inside a licence-exempt band within that band's bandwidth limit. Otherwise the
    nearest considered assignment gives the class; with none, it is unlicensed.
  * off_frequency is *indicative* when the receiver's own frequency uncertainty exceeds the tolerance, or when
    the offset minus that uncertainty is within the tolerance (the receiver error alone could explain it).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from functools import lru_cache
from dataclasses import dataclass, replace
from datetime import datetime, timezone

import numpy as np

from detectors.records import Emission, Track
from station.compliance.frequency_index import FrequencyIndex, _group_key
from station.compliance.records import Assignment, ComplianceClass, ComplianceResult, ExemptBand

_EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class ComplianceParams:
    """Tunable thresholds of the checker.

    Parameters
    ----------
    excess_bandwidth_factor : float, ratio >= 1
        An occupied bandwidth above ``factor`` x the necessary bandwidth (+ ``excess_bandwidth_margin_hz``)
        is excess bandwidth.
    excess_bandwidth_margin_hz : float, Hz >= 0
        Added to ``factor`` x the necessary bandwidth before excess bandwidth.
    measurement_margin_hz : float, Hz >= 0
        Centroid accuracy added to the frequency tolerance before off_frequency.
    measurement_margin_fraction : float, fraction of the occupied bandwidth >= 0
        ... or this fraction of the emission's occupied bandwidth, if larger.
    band_edge_margin_fraction : float, fraction of the occupied bandwidth >= 0
        An emission may overrun an exempt band's edge by this fraction of its occupied bandwidth (99 % edges
        measured at ~1 kHz RBW are coarse; PMR446 channel 1 sits on the band edge).
    near_hz : float, Hz >= 0
        Assignments this close to an unlicensed emission are named for context.
    max_named : int, >= 1
        Licences named per result.
    judge_artifacts : bool
        Artifacts (DC spike, image, spur) are skipped unless True.
    """

    excess_bandwidth_factor: float = 1.5
    excess_bandwidth_margin_hz: float = 0.0
    measurement_margin_hz: float = 300.0
    measurement_margin_fraction: float = 0.05
    band_edge_margin_fraction: float = 0.2
    near_hz: float = 50_000.0
    max_named: int = 5
    judge_artifacts: bool = False

    def __post_init__(self):
        if self.excess_bandwidth_factor < 1.0:
            raise ValueError(f"excess_bandwidth_factor must be >= 1, got {self.excess_bandwidth_factor}")
        for name in ("excess_bandwidth_margin_hz", "measurement_margin_hz", "measurement_margin_fraction",
                     "band_edge_margin_fraction", "near_hz"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_named < 1:
            raise ValueError(f"max_named must be >= 1, got {self.max_named}")


def haversine_m(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) from one point to arrays of points (degrees)."""
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - math.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


# per-pair class codes (order = preference when several assignments are considered)
_LICENSED, _EXCESS, _OFF, _NOT_YET, _EXPIRED = 0, 1, 2, 3, 4
_CODE_CLASS = {
    _LICENSED: ComplianceClass.LICENSED,
    _EXCESS: ComplianceClass.EXCESS_BANDWIDTH,
    _OFF: ComplianceClass.OFF_FREQUENCY,
    _NOT_YET: ComplianceClass.NOT_YET_VALID,
    _EXPIRED: ComplianceClass.EXPIRED,
}
_NO_TIME_LO = -(2**62)
_NO_TIME_HI = 2**62


def _ns(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError(f"time {when.isoformat()} must be timezone-aware (UTC)")
    return int(when.timestamp() * 1e9)


def _mhz(hz: float) -> str:
    return f"{hz / 1e6:.6f} MHz"


def _khz(hz: float) -> str:
    return f"{hz / 1e3:.2f} kHz"


@lru_cache(maxsize=65536)
def _date(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d") if when else "-"


class ComplianceChecker:
    """Judge emissions against a register at one station.

    Parameters
    ----------
    register : sequence of Assignment
        The licence register's assignments.
    exempt_bands : sequence of ExemptBand
        Licence-exempt bands.
    station_position : (float, float) or None, degrees (latitude, longitude; WGS84)
        Where the station is; None: every assignment is considered in area.
    monitoring_range_m : float, m >= 0
        How far the station hears: an assignment is in area when its site lies within its service radius +
        this range of the station.
    receiver_uncertainty_ppm : float, ppm >= 0
        The receiver's own frequency uncertainty (an off_frequency it could explain is *indicative*).
    params : ComplianceParams or None
        Thresholds; None: the defaults.
    """

    def __init__(
        self,
        register: Sequence[Assignment],
        exempt_bands: Sequence[ExemptBand] = (),
        station_position: tuple[float, float] | None = None,
        monitoring_range_m: float = 30_000.0,
        receiver_uncertainty_ppm: float = 0.0,
        params: ComplianceParams | None = None,
    ):
        if monitoring_range_m < 0:
            raise ValueError(f"monitoring_range_m must be >= 0, got {monitoring_range_m}")
        if receiver_uncertainty_ppm < 0:
            raise ValueError(f"receiver_uncertainty_ppm must be >= 0, got {receiver_uncertainty_ppm}")
        self.assignments: tuple[Assignment, ...] = tuple(register)
        self.exempt_bands: tuple[ExemptBand, ...] = tuple(sorted(exempt_bands, key=lambda b: b.f_lo_hz))
        self.station_position = station_position
        self.monitoring_range_m = float(monitoring_range_m)
        self.receiver_uncertainty_ppm = float(receiver_uncertainty_ppm)
        self.params = params or ComplianceParams()
        self._u95 = None
        a = self.assignments
        n = len(a)
        self._center = np.fromiter((x.center_hz for x in a), np.float64, n)
        self._bw = np.fromiter((x.bandwidth_hz for x in a), np.float64, n)
        self._tol = np.fromiter((x.frequency_tolerance_hz for x in a), np.float64, n)
        self._block = np.fromiter((x.block for x in a), np.bool_, n)
        self._lo = self._center - self._bw / 2 - self._tol
        self._hi = self._center + self._bw / 2 + self._tol
        self._from_ns = np.fromiter((_ns(x.valid_from) if x.valid_from else _NO_TIME_LO for x in a), np.int64, n)
        self._to_ns = np.fromiter((_ns(x.valid_to) if x.valid_to else _NO_TIME_HI for x in a), np.int64, n)
        status = [x.status for x in a]
        self._status_expired = np.array([s in ("expired", "cancelled", "suspended") for s in status], np.bool_)
        self._status_pending = np.array([s == "pending" for s in status], np.bool_)
        lat = np.array([np.nan if x.latitude_deg is None else x.latitude_deg for x in a], np.float64)
        lon = np.array([np.nan if x.longitude_deg is None else x.longitude_deg for x in a], np.float64)
        radius = np.array([0.0 if x.radius_m is None else x.radius_m for x in a], np.float64)
        if station_position is None or n == 0:
            self._distance_m = np.full(n, np.nan)
            self._in_area = np.ones(n, np.bool_)
        else:
            self._distance_m = haversine_m(station_position[0], station_position[1], lat, lon)
            self._in_area = np.isnan(self._distance_m) | (self._distance_m <= radius + self.monitoring_range_m)
        # two indexes: assignments that apply at this station (judged), and the others (named in reasons only)
        self._in_idx = np.flatnonzero(self._in_area)
        self._out_idx = np.flatnonzero(~self._in_area)
        self._index_in = FrequencyIndex(self._lo[self._in_idx], self._hi[self._in_idx])
        self._index_out = FrequencyIndex(self._lo[self._out_idx], self._hi[self._out_idx])
        self._licence = [x.licence for x in a]
        self._labels: dict[int, str] = {}  # id(assignment) -> label, filled on use
        self._notes: dict[int, str] = {}  # index of an out-of-area assignment -> reason fragment
        self._distance_km = (self._distance_m / 1e3).tolist()
        order = np.argsort(self._center[self._in_idx], kind="stable")
        self._area_sorted = (self._center[self._in_idx][order], self._in_idx[order])
        self._ex_lo = np.array([b.f_lo_hz for b in self.exempt_bands], np.float64)
        self._ex_hi = np.array([b.f_hi_hz for b in self.exempt_bands], np.float64)
        self._ex_maxbw = np.array(
            [np.inf if b.max_bandwidth_hz is None else b.max_bandwidth_hz for b in self.exempt_bands], np.float64
        )

    # ---- lookups -----------------------------------------------------------------------------------------
    def assignments_near(self, f_lo_hz: float, f_hi_hz: float, *, in_area_only: bool = True) -> list[Assignment]:
        """Assignments whose (tolerance-widened) channel overlaps ``[f_lo_hz, f_hi_hz]``, by frequency."""
        idx = self._in_idx[self._index_in.overlapping(f_lo_hz, f_hi_hz)]
        if not in_area_only:
            idx = np.concatenate([idx, self._out_idx[self._index_out.overlapping(f_lo_hz, f_hi_hz)]])
        idx = idx[np.argsort(self._center[idx], kind="stable")]
        return [self.assignments[i] for i in idx]

    def exempt_band_at(self, freq_hz: float) -> ExemptBand | None:
        for band in self.exempt_bands:
            if band.f_lo_hz <= freq_hz <= band.f_hi_hz:
                return band
        return None

    # ---- judging -----------------------------------------------------------------------------------------
    def check(self, emissions: Sequence[Emission | Track], when: datetime | None = None, *,
              u95: Sequence[tuple[float, float] | None] | None = None) -> list[ComplianceResult]:
        """One result per emission (or per Track: its latest emission, with its ``track_id``), in input order.

        ``when``: the UTC time licences must be valid at; default each emission's ``last_seen``. Artifacts are
        skipped unless ``params.judge_artifacts``. ``u95``: per emission (same order, None entries allowed) the
        expanded (~95 %) uncertainties ``(centre_hz, bandwidth_hz)`` of its measurement
        (detectors/uncertainty.py); they replace the fixed measurement margins: a channel or exempt band is
        considered within tolerance plus the centre's uncertainty, and an off-frequency, excess-bandwidth or
        exempt-nonconforming finding is *indicative* unless it exceeds its limit by more than the uncertainty.
        """
        self._u95 = list(u95) if u95 is not None else None
        # the batch allocates a few acyclic objects per emission: pausing the cyclic collector meanwhile avoids
        # full collections over the (large, long-lived) register; it is restored as it was
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._check(emissions, when)
        finally:
            if was_enabled:
                gc.enable()

    def _check(self, emissions: Sequence[Emission | Track], when: datetime | None) -> list[ComplianceResult]:
        items: list[tuple[Emission, str | None]] = []
        u_in = self._u95 if self._u95 is not None and len(self._u95) == len(emissions) else None
        u_items: list[tuple[float, float] | None] = []
        for idx, e in enumerate(emissions):
            if isinstance(e, Track):
                em, tid = e.last, e.track_id
            elif isinstance(e, Emission):
                em, tid = e, None
            else:
                raise TypeError(f"check() takes Emission or Track records, got {type(e).__name__}")
            if em.artifact and not self.params.judge_artifacts:
                continue
            items.append((em, tid))
            u_items.append(u_in[idx] if u_in is not None else None)
        m = len(items)
        if m == 0:
            return []
        p = self.params
        ems = [x[0] for x in items]
        e_c = np.fromiter((e.center_hz for e in ems), np.float64, m)
        e_lo = np.fromiter((e.f_lo_hz for e in ems), np.float64, m)
        e_hi = np.fromiter((e.f_hi_hz for e in ems), np.float64, m)
        e_bw = np.fromiter((e.bandwidth_hz for e in ems), np.float64, m)
        bad = ~(np.isfinite(e_c) & np.isfinite(e_lo) & np.isfinite(e_hi) & np.isfinite(e_bw)) | (e_hi < e_lo)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            e = ems[k]
            raise ValueError(
                f"emission {k} has non-finite or inverted frequencies: center_hz={e.center_hz}, "
                f"f_lo_hz={e.f_lo_hz}, f_hi_hz={e.f_hi_hz}, bandwidth_hz={e.bandwidth_hz}"
            )
        if when is None:
            when_ns = np.fromiter((_ns(e.last_seen) for e in ems), np.int64, m)
        else:
            when_ns = np.full(m, _ns(when), np.int64)

        # candidate pairs: assignments whose (tolerance-widened) channel overlaps the occupied band or centre
        qi, ai = self._index_in.query(np.minimum(e_lo, e_c), np.maximum(e_hi, e_c))
        ai = self._in_idx[ai]
        offset = e_c[qi] - self._center[ai]
        abs_off = np.abs(offset)
        margin_e = np.maximum(p.measurement_margin_hz, p.measurement_margin_fraction * e_bw)  # per emission
        u_c = np.array([u[0] if u is not None else np.nan for u in u_items], np.float64)
        u_b = np.array([u[1] if u is not None else np.nan for u in u_items], np.float64)
        has_u = np.isfinite(u_c) & np.isfinite(u_b)
        margin_e = np.where(has_u, np.nan_to_num(u_c), margin_e)  # the measurement's own uncertainty when known
        u_bw = np.where(has_u, np.nan_to_num(u_b), 0.0)
        widen = np.where(has_u, margin_e, 0.0)[qi]
        # the centre lies in the channel (within the centre's uncertainty when known)
        considered = (e_c[qi] >= self._lo[ai] - widen) & (e_c[qi] <= self._hi[ai] + widen)
        t = when_ns[qi]
        expired = self._status_expired[ai] | (t > self._to_ns[ai])
        not_yet = ~expired & (self._status_pending[ai] | (t < self._from_ns[ai]))
        tol = self._tol[ai]
        blk = self._block[ai]
        ch_lo, ch_hi = self._lo[ai], self._hi[ai]
        # with a known uncertainty the point estimate decides and the uncertainty makes it indicative (below);
        # without one the fixed margin is added to the tolerance as before
        # A measurement whose uncertainty exceeds the limit itself cannot judge that limit (a 10 Hz DAB tolerance
        # against a +/-17 kHz centroid): there only an offset beyond limit + U is a finding, and an asserted one.
        mg = np.where(has_u, 0.0, margin_e)[qi]
        u_bi = u_bw[qi]
        mg_chan = mg + np.where(widen > tol, widen, 0.0)  # widen: the centre's U95 where known, else 0
        off_block = blk & ((e_lo[qi] < ch_lo - mg) | (e_hi[qi] > ch_hi + mg))
        off_chan = ~blk & (abs_off > tol + mg_chan)
        bw_ref = self._bw[ai]
        bw_limit = bw_ref * p.excess_bandwidth_factor + p.excess_bandwidth_margin_hz
        excess = (bw_ref > 0) & (e_bw[qi] > bw_limit + np.where(u_bi > bw_limit, u_bi, 0.0))
        code = np.full(qi.shape[0], _LICENSED, np.int64)
        # a block wider than the emission is 'off' only when the band leaves the block; a too-wide emission
        # that leaves the block is excess bandwidth
        code[excess] = _EXCESS
        code[(off_chan | off_block) & ~(blk & excess)] = _OFF
        code[not_yet] = _NOT_YET
        code[expired] = _EXPIRED
        # per emission: considered pairs first, licensed first, then nearest (ties: the milder class)
        order = np.argsort(_group_key(qi, ~considered, code != _LICENSED, abs_off + code * 1e-3), kind="stable")
        ai_s = ai[order].tolist()
        code_s = code[order].tolist()
        bounds = np.searchsorted(qi[order], np.arange(m + 1)).tolist()
        n_cons = np.bincount(qi[considered], minlength=m).tolist()
        n_lic = np.bincount(qi[considered & (code == _LICENSED)], minlength=m).tolist()
        nearest, nearest_d = self._nearest_in_area(e_c)

        uncertainty_hz = (self.receiver_uncertainty_ppm * e_c * 1e-6).tolist()
        ex_idx = self._exempt_lookup(e_c, np.where(has_u, margin_e, 0.0))
        ex_ok = np.zeros(m, np.bool_)
        if self.exempt_bands:
            j = np.maximum(ex_idx, 0)
            edge = np.maximum(margin_e, p.band_edge_margin_fraction * e_bw)
            ex_ok = (
                (ex_idx >= 0)
                & (e_lo >= self._ex_lo[j] - edge)
                & (e_hi <= self._ex_hi[j] + edge)
                & (e_bw <= self._ex_maxbw[j])
            )
        # out-of-area assignments at the centre frequency of the emissions not licensed: count and nearest
        n_oa, oa_first = self._out_of_area(e_c, n_lic)
        ex_idx, ex_ok, margins = ex_idx.tolist(), ex_ok.tolist(), margin_e.tolist()
        u_bw_l, has_u_l = u_bw.tolist(), has_u.tolist()
        table, lic_of = self.assignments, self._licence
        max_named = p.max_named
        results: list[ComplianceResult] = []
        for k, (em, tid) in enumerate(items):
            s, e = bounds[k], bounds[k + 1]
            if s == e:
                named = licences = ()
            else:
                rows = ai_s[s : min(e, s + max_named)]
                named = tuple([table[i] for i in rows])
                licences = tuple(dict.fromkeys([lic_of[i] for i in rows]))
            oa_note = self._area_note(oa_first[k], n_oa[k]) if n_oa[k] else ""
            if n_lic[k]:
                results.append(self._licensed(em, tid, named, n_lic[k], licences))
            elif ex_ok[k]:
                results.append(self._exempt(em, tid, self.exempt_bands[ex_idx[k]], licences, named))
            elif n_cons[k]:
                results.append(self._violation(em, tid, code_s[s], named, licences, uncertainty_hz[k], margins[k],
                                               ex_idx[k], oa_note, u_bw_l[k], has_u_l[k]))
            elif ex_idx[k] >= 0:
                results.append(self._nonconforming(em, tid, self.exempt_bands[ex_idx[k]], licences, named,
                                                   margins[k] if has_u_l[k] else 0.0, u_bw_l[k], oa_note))
            else:
                near = nearest[k]
                results.append(self._unlicensed(em, tid, licences, named, ex_idx[k], oa_note,
                                                table[near] if near >= 0 else None, nearest_d[k]))
            if oa_note and results[-1].reason_args is not None:
                j = oa_first[k]
                results[-1] = replace(results[-1], reason_args={**results[-1].reason_args, "out_of_area": {
                    "licence": self._licence[j], "km": self._distance_km[j], "more": n_oa[k] - 1}})
        return results

    def _out_of_area(self, e_c: np.ndarray, n_lic: list[int]) -> tuple[list[int], list[int]]:
        """For emissions not licensed: how many out-of-area channels contain the centre, and the nearest."""
        m = e_c.shape[0]
        n_oa, first = [0] * m, [-1] * m
        todo = np.flatnonzero(np.asarray(n_lic) == 0)
        if todo.size == 0 or self._out_idx.size == 0:
            return n_oa, first
        qi, ai = self._index_out.query(e_c[todo], e_c[todo])
        if qi.size == 0:
            return n_oa, first
        ai = self._out_idx[ai]
        o = np.argsort(_group_key(qi, None, None, np.abs(e_c[todo][qi] - self._center[ai])), kind="stable")
        qs = qi[o]
        starts = np.flatnonzero(np.r_[True, qs[1:] != qs[:-1]])
        counts = np.diff(np.r_[starts, qs.size])
        for q, j, c in zip(todo[qs[starts]].tolist(), ai[o][starts].tolist(), counts.tolist()):
            n_oa[q], first[q] = c, j
        return n_oa, first

    def _nearest_in_area(self, e_c: np.ndarray) -> tuple[list[int], list[float]]:
        """Per emission the nearest in-area assignment centre within ``params.near_hz`` (-1 none), distance."""
        centres, idx = self._area_sorted
        m = e_c.shape[0]
        if centres.shape[0] == 0:
            return [-1] * m, [math.inf] * m
        pos = np.searchsorted(centres, e_c)
        left = np.clip(pos - 1, 0, centres.shape[0] - 1)
        right = np.clip(pos, 0, centres.shape[0] - 1)
        dl, dr = np.abs(e_c - centres[left]), np.abs(centres[right] - e_c)
        pick = np.where(dl <= dr, left, right)
        dist = np.minimum(dl, dr)
        out = np.where(dist <= self.params.near_hz, idx[pick], -1)
        return out.tolist(), dist.tolist()

    def _exempt_lookup(self, e_c: np.ndarray, u_c: np.ndarray | None = None) -> np.ndarray:
        """Index of the narrowest exempt band containing the emission's centre (within ``u_c``, its centre's
        uncertainty, when given) (-1 none); shape (m,)."""
        out = np.full(e_c.shape[0], -1, np.int64)
        u = np.zeros_like(e_c) if u_c is None else u_c
        for j in np.argsort(-(self._ex_hi - self._ex_lo), kind="stable"):  # widest first, narrowest wins
            out[(e_c >= self._ex_lo[j] - u) & (e_c <= self._ex_hi[j] + u)] = j
        return out

    # ---- result builders ---------------------------------------------------------------------------------
    def _lbl(self, a: Assignment) -> str:
        text = self._labels.get(id(a))  # the assignments live as long as the checker: id() is stable
        if text is None:
            text = self._labels[id(a)] = a.label()
        return text

    def _area_note(self, first: int, count: int) -> str:
        note = self._notes.get(first)
        if note is None:
            note = self._notes[first] = f"; out of area: {self._licence[first]} site {self._distance_km[first]:.0f} km away"
        return note + f" and {count - 1} more" if count > 1 else note

    def _licensed(self, em, tid, named, n_lic, licences) -> ComplianceResult:
        a = named[0]
        extra = f" (also licensed by {n_lic - 1} more)" if n_lic > 1 else ""
        off = em.center_hz - a.center_hz
        tol = a.frequency_tolerance_hz
        if a.block:
            how = f"occupied band {_mhz(em.f_lo_hz)}-{_mhz(em.f_hi_hz)} lies in block {_mhz(a.f_lo_hz)}-{_mhz(a.f_hi_hz)}"
        else:
            how = (
                f"centre {_mhz(em.center_hz)} is {off / 1e3:+.2f} kHz from {_mhz(a.center_hz)} (tolerance "
                f"+/-{_khz(tol)}), occupied {_khz(em.bandwidth_hz)} vs "
                + ("bandwidth unknown, not judged (the register gives none)" if a.bandwidth_unknown
                   else f"necessary {_khz(a.bandwidth_hz)}")
            )
        reason = (
            f"licensed by {a.licence} ({a.licensee}, {a.service}){extra}: {how}; valid "
            f"{_date(a.valid_from)} to {_date(a.valid_to)}"
        )
        return ComplianceResult(
            emission=em, klass=ComplianceClass.LICENSED, licences=licences, reason=reason,
            track_id=tid, offset_hz=off, tolerance_hz=tol, necessary_bandwidth_hz=a.bandwidth_hz or None,
            assignments=named,
        )

    def _exempt(self, em, tid, band: ExemptBand, licences, named) -> ComplianceResult:
        limit = f", bandwidth limit {_khz(band.max_bandwidth_hz)}" if band.max_bandwidth_hz else ""
        power = (
            f"; power limit {band.max_erp_dbm:g} dBm ERP not verified (the station measures dBFS at its receiver)"
            if band.max_erp_dbm is not None
            else ""
        )
        reason = (
            f"exempt: {_mhz(em.center_hz)}, occupied {_khz(em.bandwidth_hz)}, lies in licence-exempt band "
            f"{band.name} ({_mhz(band.f_lo_hz)}-{_mhz(band.f_hi_hz)}{limit}){power}"
        )
        return ComplianceResult(
            emission=em, klass=ComplianceClass.EXEMPT, licences=licences, reason=reason, track_id=tid,
            assignments=named, exempt_band=band.name,
        )

    def _band_args(self, band_i: int) -> dict:
        band = self.exempt_bands[band_i]
        return {"name": band.name, "lo_hz": band.f_lo_hz, "hi_hz": band.f_hi_hz, "max_bw_hz": band.max_bandwidth_hz}

    def _exempt_miss(self, em, band_i: int) -> str:
        if band_i < 0:
            return ""
        band = self.exempt_bands[band_i]
        if band.max_bandwidth_hz is not None and em.bandwidth_hz > band.max_bandwidth_hz:
            return (
                f"; in exempt band {band.name} but occupied {_khz(em.bandwidth_hz)} exceeds its limit "
                f"{_khz(band.max_bandwidth_hz)}"
            )
        return (
            f"; centre in exempt band {band.name} ({_mhz(band.f_lo_hz)}-{_mhz(band.f_hi_hz)}) but the occupied "
            f"band {_mhz(em.f_lo_hz)}-{_mhz(em.f_hi_hz)} leaves it"
        )

    def _violation(self, em, tid, code, named, licences, uncertainty_hz, margin_hz, band_i, oa_note,
                   u_bw_hz: float = 0.0, has_u: bool = False):
        a = named[0]
        klass = _CODE_CLASS[code]
        off = em.center_hz - a.center_hz
        tol = a.frequency_tolerance_hz
        indicative = False
        args: dict = {"code": klass.value, "label": self._lbl(a), "assigned_hz": a.center_hz, "tol_hz": tol,
                      "block": [a.f_lo_hz, a.f_hi_hz] if a.block else None}
        if code == _EXPIRED:
            why = (
                f"licence status is {a.status}"
                if a.status in ("expired", "cancelled", "suspended")
                else f"valid to {_date(a.valid_to)}"
            )
            reason = f"expired: {self._lbl(a)} matches {_mhz(em.center_hz)} but {why}"
            args["why"] = (["status", a.status] if a.status in ("expired", "cancelled", "suspended")
                           else ["valid_to", _date(a.valid_to)])
        elif code == _NOT_YET:
            why = "licence status is pending" if a.status == "pending" else f"valid from {_date(a.valid_from)}"
            reason = f"not yet valid: {self._lbl(a)} matches {_mhz(em.center_hz)} but {why}"
            args["why"] = ["status", "pending"] if a.status == "pending" else ["valid_from", _date(a.valid_from)]
        elif code == _OFF:
            args.update(margin_hz=margin_hz, receiver_u_hz=uncertainty_hz, ppm=self.receiver_uncertainty_ppm,
                        has_u=bool(has_u))
            if a.block:
                reason = (
                    f"off-frequency: occupied band {_mhz(em.f_lo_hz)}-{_mhz(em.f_hi_hz)} leaves the block "
                    f"{_mhz(a.f_lo_hz)}-{_mhz(a.f_hi_hz)} of {self._lbl(a)} (tolerance +/-{_khz(tol)})"
                )
            else:
                reason = (
                    f"off-frequency: centre {_mhz(em.center_hz)} is {off / 1e3:+.2f} kHz from {self._lbl(a)}, beyond "
                    f"its tolerance +/-{_khz(tol)} (+{_khz(margin_hz)} measurement margin)"
                )
            if has_u and not a.block:
                beyond = abs(off) - tol
                if beyond <= margin_hz:
                    indicative = True
                    reason += (f"; indicative: {beyond / 1e3:.2f} kHz beyond the tolerance is within the measurement "
                               f"uncertainty +/-{_khz(margin_hz)} (95 %)")
                else:
                    reason += f"; measurement uncertainty +/-{_khz(margin_hz)} (95 %)"
            elif uncertainty_hz > tol:
                indicative = True
                reason += (
                    f"; indicative: the receiver's frequency uncertainty +/-{_khz(uncertainty_hz)} "
                    f"({self.receiver_uncertainty_ppm:g} ppm) exceeds the tolerance"
                )
            elif not a.block and abs(off) - uncertainty_hz <= tol + margin_hz:
                indicative = True
                reason += (
                    f"; indicative: the receiver's frequency uncertainty +/-{_khz(uncertainty_hz)} could explain "
                    "the offset"
                )
        else:  # excess bandwidth
            limit = a.bandwidth_hz * self.params.excess_bandwidth_factor + self.params.excess_bandwidth_margin_hz
            args.update(factor=self.params.excess_bandwidth_factor, necessary_hz=a.bandwidth_hz, limit_hz=limit,
                        u_bw_hz=u_bw_hz if has_u else None)
            reason = (
                f"excess bandwidth: occupied {_khz(em.bandwidth_hz)} exceeds {self.params.excess_bandwidth_factor:g} x "
                f"the necessary {_khz(a.bandwidth_hz)} ({_khz(limit)}) of {self._lbl(a)}"
            )
            if has_u:
                if em.bandwidth_hz - limit <= u_bw_hz:
                    indicative = True
                    reason += f"; indicative: within the measurement uncertainty +/-{_khz(u_bw_hz)} (95 %)"
                else:
                    reason += f"; measurement uncertainty +/-{_khz(u_bw_hz)} (95 %)"
        if band_i >= 0:
            reason += self._exempt_miss(em, band_i)
            args["exempt_band"] = self._band_args(band_i)
        return ComplianceResult(
            emission=em, klass=klass, licences=licences, reason=reason + oa_note, indicative=indicative,
            track_id=tid, offset_hz=off, tolerance_hz=tol, necessary_bandwidth_hz=a.bandwidth_hz or None,
            assignments=named, reason_args=args,
        )

    def _nonconforming(self, em, tid, band: ExemptBand, licences, named, u_c_hz: float, u_bw_hz: float,
                       oa_note: str) -> ComplianceResult:
        """An emission centred in a licence-exempt band but outside its limits (bandwidth over the band's limit,
        or an occupied band leaving it): exempt_nonconforming, indicative when the excess over the limit is
        within the measurement uncertainty (``u_c_hz`` centre, ``u_bw_hz`` bandwidth, 95 %)."""
        p = self.params
        why, beyond, allowance = [], 0.0, 0.0
        if band.max_bandwidth_hz is not None and em.bandwidth_hz > band.max_bandwidth_hz:
            why.append(f"occupied {_khz(em.bandwidth_hz)} exceeds its limit {_khz(band.max_bandwidth_hz)}")
            beyond, allowance = em.bandwidth_hz - band.max_bandwidth_hz, u_bw_hz
        edge = max(u_c_hz, p.band_edge_margin_fraction * em.bandwidth_hz)
        out = max(band.f_lo_hz - edge - em.f_lo_hz, em.f_hi_hz - band.f_hi_hz - edge)
        if out > 0:
            why.append(f"occupied band {_mhz(em.f_lo_hz)}-{_mhz(em.f_hi_hz)} leaves it")
            if out > beyond - allowance:
                beyond, allowance = out, u_c_hz + u_bw_hz / 2
        reason = (f"exempt_nonconforming: {_mhz(em.center_hz)} lies in licence-exempt band {band.name} "
                  f"({_mhz(band.f_lo_hz)}-{_mhz(band.f_hi_hz)}) but " + " and ".join(why or ["is outside its limits"]))
        indicative = beyond <= allowance
        args = {"code": "exempt_nonconforming", "exempt_band": {"name": band.name, "lo_hz": band.f_lo_hz,
                "hi_hz": band.f_hi_hz, "max_bw_hz": band.max_bandwidth_hz}, "u_c_hz": u_c_hz, "u_bw_hz": u_bw_hz}
        if allowance > 0:
            reason += (f"; {'indicative: ' if indicative else ''}{_khz(beyond)} over the limit"
                       f"{' is within' if indicative else ', beyond'} the measurement uncertainty +/-{_khz(allowance)} (95 %)")
        return ComplianceResult(
            emission=em, klass=ComplianceClass.EXEMPT_NONCONFORMING, licences=licences, reason=reason + oa_note,
            indicative=indicative, track_id=tid, assignments=named, exempt_band=band.name, reason_args=args,
        )

    def _unlicensed(self, em, tid, licences, named, band_i, oa_note, nearest, nearest_hz) -> ComplianceResult:
        reason = (
            f"unlicensed: no assignment in area covers {em.center_hz / 1e6:.6f} MHz "
            f"(occupied {em.bandwidth_hz / 1e3:.2f} kHz)"
        )
        args: dict = {"code": "unlicensed"}
        if nearest is not None:
            reason += f"; nearest: {self._lbl(nearest)}, {nearest_hz / 1e3:.2f} kHz away"
            args["nearest"] = {"label": self._lbl(nearest), "assigned_hz": nearest.center_hz}
            if nearest.licence not in licences:
                licences = licences + (nearest.licence,)
                named = named + (nearest,)
        if band_i >= 0:
            reason += self._exempt_miss(em, band_i)
            args["exempt_band"] = self._band_args(band_i)
        return ComplianceResult(
            emission=em, klass=ComplianceClass.UNLICENSED, licences=licences, reason=reason + oa_note, track_id=tid,
            assignments=named, reason_args=args,
        )


