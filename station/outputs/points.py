"""Builders from typed records (Spectrum, Emission, ComplianceResult, OccupancyRecord, health) to stored
:class:`~station.outputs.vocabulary.Point`s, named only from :mod:`station.outputs.vocabulary`.

Every point carries the tags ``station`` and ``band`` and, except station-wide health, the DSP settings that
produced it (``rbw_hz``, ``nfft``, ``dwell_s`` from the Spectrum).

Timestamps are deterministic functions of the data, never of the clock at send time, so that a resend of the
same point overwrites it in InfluxDB (same measurement + tag set + time) instead of duplicating it:
  - ``band_spectrum``: sweep start + i microseconds for decimated point i (stays distinct per point);
  - ``noise_floor``: sweep start;
  - ``emission`` / ``violation``: sweep start + i nanoseconds, i the rank of the emission by centre
    frequency within the sweep (emissions of one sweep share tags, so they need distinct times);
  - ``occupancy``: period start;
  - ``station_health``: the time given by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from detectors.records import Emission, OccupancyRecord
from station.compliance.records import ComplianceResult
from dsp.spectrum import Spectrum
from station.calibration.levels import LevelContext
from station.outputs.vocabulary import MEASUREMENTS, Point, check_point

#: default number of points a band sweep is decimated to for ``band_spectrum``
DEFAULT_SPECTRUM_POINTS = 512

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class PointContext:
    """What every point of one band sweep carries: station id, band name and the DSP settings."""

    station: str
    band: str
    rbw_hz: float
    nfft: int
    dwell_s: float
    levels: LevelContext | None = None  # dBm at the antenna port for emission/violation points (calibration)
    position: tuple[float, float] | None = None  # station (lat, lon) deg, carried by violation points (network)

    @classmethod
    def from_spectrum(cls, spectrum: Spectrum, *, station: str, band: str,
                      levels: LevelContext | None = None,
                      position: tuple[float, float] | None = None) -> "PointContext":
        return cls(station, band, float(spectrum.enbw_hz), int(spectrum.nfft), float(spectrum.dwell_s), levels,
                   position)

    def level_fields(self, e: Emission) -> dict:
        """``power_dbm``, its U95, field strength, gain and calibration state of one emission (the
        vocabulary's LEVEL_FIELDS); empty without a level context or when the gain is unknown."""
        if self.levels is None:
            return {}
        lvl = self.levels.level(e.power_dbfs, e.center_hz, bandwidth_hz=e.bandwidth_hz, snr_db=e.snr_db)
        if lvl.power_dbm is None or not math.isfinite(lvl.power_dbm):
            return {}
        return _fields(power_dbm=lvl.power_dbm, power_dbm_u95=_finite_or_none(lvl.u95_db),
                       field_dbuv_m=_finite_or_none(lvl.field_dbuv_m), field_dbuv_m_u95=_finite_or_none(lvl.field_u95_db),
                       gain_db=float(self.levels.gain_db), level_calibration=lvl.status)

    def tags(self, **extra: str) -> dict[str, str]:
        return {"station": self.station, "band": self.band, **extra}

    def settings(self) -> dict[str, float | int]:
        return {"rbw_hz": self.rbw_hz, "nfft": self.nfft, "dwell_s": self.dwell_s}


def time_ns(t: datetime) -> int:
    """UTC epoch nanoseconds of a tz-aware datetime (exact integer arithmetic, no float rounding)."""
    if t.tzinfo is None:
        raise ValueError(f"datetime {t.isoformat()} is naive; records carry tz-aware UTC times")
    delta = t.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _finite_or_none(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _fields(**values) -> dict:
    """Fields with None values left out (absent, not stored as a sentinel)."""
    return {k: v for k, v in values.items() if v is not None}


# ---- band_spectrum, noise_floor ----------------------------------------------------------------------------


def decimate_edges(n_bins: int, n_points: int) -> np.ndarray:
    """Bin index edges splitting ``n_bins`` into ``min(n_points, n_bins)`` near-equal groups, shape (m+1,)."""
    if n_bins <= 0:
        raise ValueError("a spectrum with no bins cannot be decimated")
    if n_points <= 0:
        raise ValueError(f"n_points must be positive, got {n_points}")
    m = min(int(n_points), int(n_bins))
    return np.round(np.linspace(0, n_bins, m + 1)).astype(np.int64)


def spectrum_points(
    spectrum: Spectrum,
    ctx: PointContext,
    *,
    n_points: int = DEFAULT_SPECTRUM_POINTS,
    noise_dbfs_hz: np.ndarray | float | None = None,
) -> list[Point]:
    """``band_spectrum`` points: the sweep decimated to ``n_points`` (fewer when it has fewer bins).

    Each point covers a group of adjacent bins: ``freq_hz`` is the group's centre, ``power_dbfs`` the max
    of the per-bin level within one RBW (so a narrow carrier is not averaged away), ``maxhold_dbfs`` the max
    of the max-hold level, ``noise_dbfs`` the mean noise floor level within one RBW (``noise_dbfs_hz`` is a
    density, shape (n_bins,) or a scalar; omitted when None). Time = sweep start + i microseconds.
    """
    freqs = np.asarray(spectrum.freqs_hz, dtype=np.float64)
    edges = decimate_edges(freqs.shape[0], n_points)
    starts = edges[:-1]
    rbw_db = 10.0 * math.log10(spectrum.enbw_hz)
    power = np.maximum.reduceat(np.asarray(spectrum.psd_dbfs_hz, dtype=np.float64), starts) + rbw_db
    lo = freqs[starts] - spectrum.bin_hz / 2
    hi = freqs[edges[1:] - 1] + spectrum.bin_hz / 2
    centre = (lo + hi) / 2
    maxhold = None
    if spectrum.maxhold_dbfs_hz is not None:
        maxhold = np.maximum.reduceat(np.asarray(spectrum.maxhold_dbfs_hz, dtype=np.float64), starts) + rbw_db
    noise = None
    if noise_dbfs_hz is not None:
        nd = np.broadcast_to(np.asarray(noise_dbfs_hz, dtype=np.float64), freqs.shape)
        lin = np.add.reduceat(10.0 ** (nd / 10.0), starts) / np.diff(edges)
        with np.errstate(divide="ignore"):
            noise = 10.0 * np.log10(lin) + rbw_db
    t0 = time_ns(spectrum.start_utc)
    tags = ctx.tags()
    settings = ctx.settings()
    out = []
    for i in range(starts.shape[0]):
        fields = _fields(
            freq_hz=float(centre[i]),
            power_dbfs=_finite_or_none(power[i]),
            maxhold_dbfs=None if maxhold is None else _finite_or_none(maxhold[i]),
            noise_dbfs=None if noise is None else _finite_or_none(noise[i]),
        )
        fields.update(settings)
        out.append(Point("band_spectrum", dict(tags), fields, t0 + i * 1_000))
    return out


def noise_floor_point(spectrum: Spectrum, ctx: PointContext, noise_dbfs_hz: np.ndarray | float) -> Point:
    """``noise_floor``: median/min/max of the noise density estimate (dBFS/Hz) over the band at sweep start."""
    nd = np.asarray(noise_dbfs_hz, dtype=np.float64).ravel()
    nd = nd[np.isfinite(nd)]
    if nd.size == 0:
        raise ValueError("noise floor estimate has no finite value")
    fields = _fields(
        median_dbfs_hz=float(np.median(nd)), min_dbfs_hz=float(nd.min()), max_dbfs_hz=float(nd.max())
    )
    fields.update(ctx.settings())
    return Point("noise_floor", ctx.tags(), fields, time_ns(spectrum.start_utc))


# ---- emission, violation -----------------------------------------------------------------------------------


def _emission_fields(e: Emission) -> dict:
    return _fields(
        center_hz=float(e.center_hz),
        peak_hz=float(e.peak_hz),
        bandwidth_hz=float(e.bandwidth_hz),
        xdb_bandwidth_hz=_finite_or_none(e.xdb_bandwidth_hz) if e.xdb_valid else None,
        power_dbfs=_finite_or_none(e.power_dbfs),
        peak_dbfs=_finite_or_none(e.peak_dbfs),
        snr_db=_finite_or_none(e.snr_db),
        noise_dbfs_hz=_finite_or_none(e.noise_dbfs_hz),
        occupancy=_finite_or_none(e.occupancy),
        artifact=bool(e.artifact),
        artifact_reason=e.artifact_reason if e.artifact and e.artifact_reason else None,
        f_lo_hz=float(e.f_lo_hz),
        f_hi_hz=float(e.f_hi_hz),
        n_bursts=int(e.n_bursts),
    )


def emission_points(
    items: Iterable[Emission | ComplianceResult], ctx: PointContext, sweep_start: datetime
) -> list[Point]:
    """``emission`` points for the emissions of one sweep (plain, class ``unknown``, or judged).

    Time = sweep start + rank ns (rank by centre frequency), so each emission of a sweep is distinct and a
    resend overwrites. ``track_id`` is stored when a ComplianceResult carries it."""
    rows = []
    for item in items:
        if isinstance(item, ComplianceResult):
            rows.append((item.emission, item.klass.value, item.track_id))
        elif isinstance(item, Emission):
            rows.append((item, "unknown", None))
        else:
            raise TypeError(f"emission_points expects Emission or ComplianceResult, got {type(item).__name__}")
    rows.sort(key=lambda r: (r[0].center_hz, r[0].peak_hz))
    t0 = time_ns(sweep_start)
    out = []
    for i, (e, klass, track_id) in enumerate(rows):
        fields = _emission_fields(e)
        if track_id:
            fields["track_id"] = track_id
        fields.update(ctx.level_fields(e))
        fields.update(ctx.settings())
        out.append(Point("emission", ctx.tags(**{"class": klass}), fields, t0 + i))
    return out


@dataclass(frozen=True, slots=True)
class ViolationObservation:
    """One violation case observed in one sweep: the judged emission plus the case it belongs to."""

    result: ComplianceResult
    case_id: str
    state: str  # new, confirmed, exported, closed
    measurement: object | None = None  # the case's CaseMeasurement (station/compliance/cases/measurement.py)
    chain_head: str | None = None  # the case's hash chain head after this sweep (cases/checkpoints.py)


def violation_points(
    observations: Iterable[ViolationObservation], ctx: PointContext, sweep_start: datetime
) -> list[Point]:
    """``violation`` points, one per observed case in one sweep; time = sweep start + rank ns (by centre).
    With the case's canonical measurement (``ViolationObservation.measurement``) centre, bandwidth, levels and
    their U95 are the case's (the numbers of every report), not this sweep's reading.

    Raises ValueError for a result whose class is not a violation (licensed/exempt)."""
    obs = sorted(observations, key=lambda o: (o.result.emission.center_hz, o.case_id))
    t0 = time_ns(sweep_start)
    out = []
    for i, o in enumerate(obs):
        r = o.result
        if not r.klass.is_violation:
            raise ValueError(f"case {o.case_id}: class {r.klass.value!r} is not a violation")
        e = r.emission
        m = o.measurement
        fields = _fields(
            case_id=o.case_id,
            track_id=r.track_id,
            state=o.state,
            center_hz=float(e.center_hz if m is None else m.center_hz.value),
            bandwidth_hz=float(e.bandwidth_hz if m is None else m.bandwidth_hz.value),
            power_dbfs=_finite_or_none(e.power_dbfs if m is None else m.power_dbfs.value),
            snr_db=_finite_or_none(e.snr_db if m is None or m.snr_db is None else m.snr_db),
            licence=",".join(r.licences),
            reason=r.reason,
            indicative=bool(r.indicative),
            offset_hz=_finite_or_none(r.offset_hz),
            occupancy=_finite_or_none(e.occupancy),
            n_bursts=int(e.n_bursts),
            chain_head=o.chain_head,
        )
        if ctx.position is not None:  # the network locates from where each observation was made
            fields["latitude"], fields["longitude"] = float(ctx.position[0]), float(ctx.position[1])
        fields.update(ctx.level_fields(e))
        if m is not None:  # the case's canonical measurement: what the reports show (docs/VIOLATIONS.md)
            fields.update(_fields(center_hz_u95=_finite_or_none(m.center_hz.u95),
                                  bandwidth_hz_u95=_finite_or_none(m.bandwidth_hz.u95), n_obs=int(m.n_obs)))
            if m.power_dbm is not None and "power_dbm" in fields:
                fields.update(_fields(power_dbm=_finite_or_none(m.power_dbm.value),
                                      power_dbm_u95=_finite_or_none(m.power_dbm.u95)))
                if m.field_dbuv_m is not None:
                    fields.update(_fields(field_dbuv_m=_finite_or_none(m.field_dbuv_m),
                                          field_dbuv_m_u95=_finite_or_none(m.field_u95_db)))
        fields.update(ctx.settings())
        out.append(Point("violation", ctx.tags(**{"class": r.klass.value}), fields, t0 + i))
    return out


def checkpoint_point(cp, *, station: str) -> Point:
    """``case_checkpoint``: one signed checkpoint of the case chain heads (station.compliance.cases.checkpoints
    Checkpoint) as the station wrote it to its log; time = the checkpoint's time."""
    fields = _fields(seq=int(cp.seq), root=cp.root, line_hash=cp.line_hash, n_cases=int(cp.n_cases),
                     changed=int(cp.changed), signature=cp.signature, key_fingerprint=cp.fingerprint)
    return Point("case_checkpoint", {"station": station, "band": "all"}, fields, time_ns(cp.time))


# ---- occupancy, health -------------------------------------------------------------------------------------


def channel_label(channel_hz: float) -> str:
    """The ``channel`` tag: centre in MHz with 4 decimals (100 Hz resolution), e.g. '145.5000'."""
    return f"{channel_hz / 1e6:.4f}"


def occupancy_points(records: Iterable[OccupancyRecord], ctx: PointContext) -> list[Point]:
    """``occupancy`` points (ITU-R SM.1880), one per channel and integration period; time = period start."""
    out = []
    for r in records:
        fields = _fields(
            channel_hz=float(r.channel_hz),
            channel_width_hz=float(r.channel_width_hz),
            revisits=int(r.revisits),
            revisits_above=int(r.revisits_above),
            occupancy_pct=100.0 * r.occupancy,
            period_s=(r.period_end - r.period_start).total_seconds(),
            threshold_dbfs=_finite_or_none(r.threshold_dbfs),
        )
        fields.update(ctx.settings())
        out.append(Point("occupancy", ctx.tags(channel=channel_label(r.channel_hz)), fields, time_ns(r.period_start)))
    return out


def health_point(
    health: Mapping[str, float | int | str | bool | None],
    *,
    station: str,
    at: datetime,
    band: str = "all",
    ctx: PointContext | None = None,
) -> Point:
    """``station_health`` from a dict of vocabulary field names (None values are left out).

    ``band='all'`` for station-wide points; with a ``ctx`` (per-band health) the DSP settings are added.
    Raises ValueError naming a key the vocabulary lacks."""
    spec = MEASUREMENTS["station_health"].fields
    fields = {}
    for key, value in health.items():
        if key not in spec:
            raise ValueError(f"station_health: field {key!r} is not in the vocabulary")
        if value is None:
            continue
        kind = spec[key].type
        if kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif kind == "bool":
            value = bool(value)
        else:
            value = str(value)
        fields[key] = value
    if ctx is not None:
        band = ctx.band
        fields.update(ctx.settings())
    p = Point("station_health", {"station": station, "band": band}, fields, time_ns(at))
    check_point(p)
    return p
