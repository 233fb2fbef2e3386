"""Adapters: build the other parts' objects from the config (detectors, sweep plans, the compliance
checker, trackers, occupancy counters, the case store). One place to read when an interface changes."""

from __future__ import annotations

import logging
from dataclasses import replace

from detectors.records import Emission
from station.config import BandConfig, Config

log = logging.getLogger("specmon.pipeline")


def make_detector(band: BandConfig):
    """The band's emission detector (detectors.energy) with the band's detector settings."""
    from detectors.artifacts import ArtifactParams
    from detectors.energy import DetectorParams, EmissionDetector

    class SharedFloorDetector(EmissionDetector):
        """Computes the noise floor of a spectrum once: the pipeline stores it and ``detect`` uses it."""

        _last: tuple | None = None

        def noise_floor(self, spectrum):
            if self._last is not None and self._last[0] is spectrum:
                return self._last[1]
            floor = super().noise_floor(spectrum)
            self._last = (spectrum, floor)
            return floor

    from detectors.channels import ChannelRaster

    d = band.detector
    # the band's channel plan: adjacent channels that each hold their own signal are two emissions
    channels = (ChannelRaster(centers_hz=tuple(sorted(set(band.channels.centers_hz))), width_hz=band.channels.width_hz)
                if band.channels is not None and band.channels.n_channels >= 2 else None)
    params = DetectorParams(pfa=d.pfa, keep_artifacts=d.keep_artifacts, detect_bursts=d.bursts,
                            artifacts=replace(ArtifactParams(), spurs_hz=tuple(d.spurs_hz)), channels=channels)
    return SharedFloorDetector(params)


def make_sweep_plan(band: BandConfig, sample_rate_hz: float, tuning_range_hz=None, *, where: str = ""):
    """The executor's plan for one band (dwell model, per-frame spectra kept for burst detection).
    A band the receiver cannot sweep at this rbw/rate is a ConfigError naming the band."""
    from station.errors import ConfigError
    from station.sweep import SweepPlan

    try:
        return SweepPlan.make([(band.name, band.f_lo_hz, band.f_hi_hz)], band.rbw_hz, sample_rate_hz, band.dwell_s,
                              window=band.window, keep_frames=band.detector.bursts, mode=band.mode,
                              interval_s=band.interval_s, tuning_range_hz=tuning_range_hz)
    except ValueError as exc:
        raise ConfigError(str(exc), where=where or f"band {band.name}") from None


def make_checker(config: Config):
    """The compliance checker from the register and exempt bands (None without a register). A register with
    bad rows is refused (DataError naming file:line:column): a half-read register would open false cases.
    The same function ``specmon register check`` runs (:func:`station.preflight.check_register`)."""
    if config.compliance.register is None:
        return None
    from station.preflight import check_register

    co = config.compliance
    ppm = max((abs(r.ppm) for r in config.receivers), default=0)
    reg, exempt, checker = check_register(
        co.register, co.exempt_bands, station_position=(config.station.latitude, config.station.longitude),
        monitoring_range_m=co.monitoring_range_m, receiver_uncertainty_ppm=float(max(ppm, 1)))
    for w in reg.warnings[:5]:
        log.warning("register: %s", w)
    log.info("%s; %d exempt bands", reg.summary(), len(exempt))
    return checker


def make_tracker(band: BandConfig, state: dict | None):
    """The band's tracker (detectors.tracking), resumed from its saved state when there is one."""
    from detectors.tracking import Tracker

    if state:
        try:
            return Tracker.from_state(state)
        except ValueError as exc:
            log.error("band %s: saved tracker state unusable (%s); tracks start afresh", band.name, exc)
    return Tracker()


def make_band_evidence(band: BandConfig, compliance, state: dict | None):
    """The band's integration and per-track evidence (station/pipeline/judging.py), resumed from its saved
    state when there is one (a state that cannot be read is logged and started afresh)."""
    from station.pipeline.judging import BandEvidence

    try:
        return BandEvidence(band, compliance, state)
    except ValueError as exc:
        log.error("%s; track evidence starts afresh", exc)
        return BandEvidence(band, compliance, None)


def match_tracks(emissions: list[Emission], tracks: list) -> dict[int, str]:
    """Index of each emission -> its track id. ``Tracker.update`` returns one track per non-artifact
    emission, in order (artifacts get none)."""
    idx = [i for i, e in enumerate(emissions) if not e.artifact]
    if len(tracks) != len(idx):  # include_artifacts=True: one track per emission
        idx = list(range(len(emissions)))
    return {i: t.track_id for i, t in zip(idx, tracks)}


def make_occupancy(band: BandConfig, state: dict | None):
    """The band's channel occupancy counter (detectors.occupancy, ITU-R SM.1880), with the counts of the
    current integration period restored after a restart."""
    from detectors.occupancy import OccupancyCounter, OccupancyParams

    ch = band.channels
    params = OccupancyParams(channels_hz=ch.centers_hz, channel_width_hz=ch.width_hz, period_s=ch.period_s,
                             threshold_dbfs=ch.threshold_dbfs, pfa=ch.pfa)
    if state:
        try:
            return OccupancyCounter.from_state(state, params)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("band %s: saved occupancy counts unusable (%s); the period restarts", band.name, exc)
    return OccupancyCounter(params)


def open_case_store(config: Config):
    """The violation case store (station.compliance.cases) in the station's SQLite file; None without a register."""
    if config.compliance.register is None:
        return None
    from station.compliance.cases import CaseStore

    return CaseStore(config.store.db_path)


def case_lines(store, limit: int = 10) -> list[str]:
    """One line per case not closed, most recently seen first."""
    cases = store.cases(state=("new", "confirmed", "exported"))
    cases.sort(key=lambda c: c.last_seen, reverse=True)
    out = []
    for c in cases[:limit]:
        lic = f" licence {','.join(c.licences[:2])}" if c.licences else ""
        out.append(f"{c.case_id} {c.klass.value:<16} {c.center_hz / 1e6:11.5f} MHz {c.bandwidth_hz / 1e3:7.1f} kHz "
                   f"max {c.max_power_dbfs:6.1f} dBFS  obs {c.n_obs:3d}  {c.state:<9} last "
                   f"{c.last_seen.strftime('%Y-%m-%d %H:%M:%S')}Z{lic}")
    return out
