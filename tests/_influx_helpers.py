"""Builders of realistic sweeps of points for the InfluxDB/spool tests (simulated time, no receiver)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from detectors.records import Emission, OccupancyRecord
from station.compliance.records import ComplianceClass, ComplianceResult
from dsp.spectrum import Spectrum
from station.outputs.points import (
    PointContext,
    ViolationObservation,
    emission_points,
    noise_floor_point,
    occupancy_points,
    spectrum_points,
    violation_points,
)

T0 = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)


def make_spectrum(start: datetime, *, n_bins: int = 4096, f_lo_hz: float = 144e6, bin_hz: float = 3906.25) -> Spectrum:
    freqs = f_lo_hz + bin_hz * (np.arange(n_bins) + 0.5)
    rng = np.random.default_rng(int(start.timestamp()))
    psd = -120.0 + rng.normal(0, 1, n_bins)
    psd[1000:1003] = -80.0
    return Spectrum(
        freqs_hz=freqs, psd_dbfs_hz=psd, bin_hz=bin_hz, enbw_hz=bin_hz * 1.5, nfft=512, window="hann", overlap=0.5,
        average="mean", n_frames=20, sample_rate_hz=2.048e6, start_utc=start, end_utc=start + timedelta(seconds=2),
        hop_centers_hz=np.array([freqs.mean()]), hop_edges_hz=np.array([[freqs[0], freqs[-1]]]), dwell_s=0.05,
        maxhold_dbfs_hz=psd + 3.0,
    )


def make_emission(center_hz: float, when: datetime, power_dbfs: float = -60.0) -> Emission:
    return Emission(
        center_hz=center_hz, peak_hz=center_hz + 100.0, f_lo_hz=center_hz - 5500, f_hi_hz=center_hz + 5500,
        bandwidth_hz=11000.0, xdb_bandwidth_hz=14000.0, xdb_valid=True, power_dbfs=power_dbfs,
        peak_dbfs=power_dbfs + 3, snr_db=25.5, noise_dbfs_hz=-120.25, occupancy=0.5, first_seen=when, last_seen=when,
    )


def sweep_points(k: int, *, station: str = "hn-01", band: str = "vhf", n_points: int = 64, period_s: float = 10.0,
                 n_emissions: int = 5):
    """All points of simulated sweep k: spectrum, noise floor, emissions (one unlicensed), its violation,
    and one occupancy record. Returns (points, n_emission_points, n_violation_points)."""
    start = T0 + timedelta(seconds=period_s * k)
    spec = make_spectrum(start)
    ctx = PointContext.from_spectrum(spec, station=station, band=band)
    results = []
    for j in range(n_emissions):
        e = make_emission(145e6 + 250e3 * j, start, -60.0 - j)
        klass = ComplianceClass.UNLICENSED if j == 0 else ComplianceClass.LICENSED
        results.append(ComplianceResult(e, klass, (), "test", track_id=f"trk-{j}"))
    viol = [ViolationObservation(results[0], "case-0001", "confirmed")]
    occ = [OccupancyRecord(145e6, 12500.0, start, start + timedelta(seconds=period_s), 10, k % 10, -90.0)]
    pts = (
        spectrum_points(spec, ctx, n_points=n_points, noise_dbfs_hz=-120.0)
        + [noise_floor_point(spec, ctx, spec.psd_dbfs_hz)]
        + emission_points(results, ctx, start)
        + violation_points(viol, ctx, start)
        + occupancy_points(occ, ctx)
    )
    return pts, n_emissions, 1
