"""Typed, frozen records the detectors hand to the station (stores, sinks, exports).

Units are in the names: ``*_hz``, ``*_dbfs`` (dBFS, a complex tone of amplitude 1.0 is 0 dBFS),
``*_dbfs_hz`` (density), ``*_db`` (ratio), ``*_s`` (seconds). Times are tz-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Emission:
    """One emission found in one spectrum (ITU-R SM.443 / SM.1880 terms)."""

    center_hz: float  # power centroid over the 99 % band
    peak_hz: float  # frequency of the strongest bin
    f_lo_hz: float  # lower edge of the 99 % occupied band
    f_hi_hz: float  # upper edge of the 99 % occupied band
    bandwidth_hz: float  # occupied bandwidth, beta method (99 %)
    xdb_bandwidth_hz: float | None  # x-dB bandwidth (x = 26 dB), None when not measurable
    xdb_valid: bool  # False when the SNR is too low for the x-dB method
    power_dbfs: float  # channel power integrated over the occupied band
    peak_dbfs: float  # strongest bin level within one RBW
    snr_db: float  # channel power over noise power in the same bandwidth
    noise_dbfs_hz: float  # local noise floor density
    occupancy: float  # 0..1 fraction of frames (or revisits) in which it was on
    first_seen: datetime
    last_seen: datetime
    n_bursts: int = 0  # bursts seen in the per-frame spectra (0 when not computed)
    artifact: bool = False  # True for DC spike, IQ image, hop-edge roll-off, listed spur
    artifact_reason: str | None = None  # "<kind>: <why>" (detectors.artifacts.KINDS)


@dataclass(frozen=True, slots=True)
class Track:
    """One transmitter followed across sweeps: keeps one identity (``track_id``)."""

    track_id: str  # stable id, e.g. "trk-145500000-0001"
    center_hz: float  # running estimate
    bandwidth_hz: float
    first_seen: datetime
    last_seen: datetime
    n_obs: int  # sweeps in which it was detected
    n_revisits: int  # sweeps that covered it since first_seen
    max_power_dbfs: float
    mean_power_dbfs: float  # mean of linear power, in dB
    last: Emission  # the latest observation


@dataclass(frozen=True, slots=True)
class OccupancyRecord:
    """Frequency-channel occupancy over one integration period (ITU-R SM.1880): revisits above threshold
    over revisits. The counts are kept so any longer period can be recomputed by summing."""

    channel_hz: float  # channel centre
    channel_width_hz: float
    period_start: datetime
    period_end: datetime
    revisits: int
    revisits_above: int
    threshold_dbfs: float  # channel-power threshold used

    @property
    def occupancy(self) -> float:
        return self.revisits_above / self.revisits if self.revisits else 0.0
