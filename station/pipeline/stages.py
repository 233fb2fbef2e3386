"""The sweep stage: :class:`Pipeline` holds the per-station objects shared across sweeps and runs one band
sweep through receive, dsp, detect, track, judge, cases and store (see :mod:`station.pipeline`).

The stages share the band's detector, tracker, occupancy counter, the checker, case store and outputs, and
the evidence queue that :meth:`Pipeline.process` fills and :meth:`Pipeline.capture_evidence` drains."""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from detectors.records import Emission
from dsp.spectrum import Spectrum
from station.compliance.records import ComplianceResult
from station.config import BandConfig, Config
from station.errors import SinkError
from station.calibration.levels import level_settings, load_station_profile
from station.compliance.cases.measurement import settings_keys
from station.pipeline.factories import (
    case_lines,
    make_band_evidence,
    make_detector,
    make_occupancy,
    make_sweep_plan,
    make_tracker,
    match_tracks,
    open_case_store,
)
from station.outputs.sqlitefile import make_dir, write_error_reason
from station.pipeline.judging import merge_integrated
from station.pipeline.outputs import Outputs, StateStore, is_disk_full
from station.pipeline.records import Judged, SweepReport, SweepResult

log = logging.getLogger("specmon.pipeline")


def crop_spectrum(spec: Spectrum, f_lo_hz: float, f_hi_hz: float) -> Spectrum:
    """A copy of ``spec`` limited to the bins in [f_lo_hz, f_hi_hz] (owned arrays, no per-frame spectra): what an
    evidence snapshot needs, without keeping a whole band sweep in memory while the capture waits."""
    a = int(np.searchsorted(spec.freqs_hz, f_lo_hz, side="left"))
    b = int(np.searchsorted(spec.freqs_hz, f_hi_hz, side="right"))
    a, b = max(0, min(a, spec.n_bins - 3)), min(spec.n_bins, max(b, a + 3))

    def cut(x):
        return None if x is None else np.array(x[a:b])

    return replace(spec, freqs_hz=cut(spec.freqs_hz), psd_dbfs_hz=cut(spec.psd_dbfs_hz),
                    maxhold_dbfs_hz=cut(spec.maxhold_dbfs_hz), frames_dbfs_hz=None, frame_times_s=None,
                    above_counts=cut(spec.above_counts), above_threshold_dbfs_hz=cut(spec.above_threshold_dbfs_hz))


class Pipeline:
    """Per-station processing state and the stages of one sweep. Owned by the daemon's main loop."""

    def __init__(self, config: Config):
        self.config = config
        make_dir(config.store.data_dir, writable=True)
        self.state = StateStore(config.store.db_path)
        self.store_state = "ok"
        self.store_error: str | None = None
        self._store_logged: dict[str, str] = {}  # store -> reason already logged (one line per new reason)
        self.sweep_no: dict[str, int] = dict(self.state.load("sweep_counts") or {})
        self.detectors = {b.name: make_detector(b) for b in config.bands}
        saved_tracks = self.state.load("trackers") or {}
        self.trackers = {b.name: make_tracker(b, saved_tracks.get(b.name)) for b in config.bands}
        saved_evidence = self.state.load("track_evidence") or {}
        self.evidence = {b.name: make_band_evidence(b, config.compliance, saved_evidence.get(b.name))
                         for b in config.bands}
        saved_occ = self.state.load("occupancy") or {}
        self.occupancy = {b.name: make_occupancy(b, saved_occ.get(b.name)) for b in config.bands if b.channels}
        from station.preflight import check_config

        self.checker = check_config(config).checker  # the validation `config check` runs, and the checker
        self.cases = open_case_store(config)
        self.outputs = Outputs(config)
        self.checkpoints = self._open_checkpoints()  # signed chain heads outside the store (cases/checkpoints.py)
        self._evidence_queue: list = []  # (band, ComplianceResult, case_id, spectrum) waiting for a capture
        self._recovered: set[str] = set()  # queued at start-up: their first capture was interrupted
        self._plans: dict = {}
        self._hop_rng: dict = {}  # receiver name -> random start hop of each sweep (de-aliasing, station.sweep)
        self._last_ctx: dict = {}  # band -> PointContext of its last sweep (DSP settings for occupancy)
        from station.pipeline.spurcheck import SpurGuard

        self.spurs = SpurGuard(self.state)  # spur maps per receiver, LO-shift verdicts per track
        self.profiles = {r.name: load_station_profile(r.calibration) for r in config.receivers}
        from station.pipeline import recovery

        try:  # cases whose evidence capture a kill interrupted: queued again (or noted why not)
            recovery.recover(self)
        except (SinkError, sqlite3.Error, OSError) as exc:
            log.error("evidence recovery at start-up failed: %s", exc)

    # ---- stage 1+2: receive and dsp ---------------------------------------------------------------------
    def sweep(self, band: BandConfig, receiver, *, progress=None) -> SweepResult:
        """Sweep ``band`` with ``receiver`` (hops, PSD, stitching: station.sweep). Receiver errors propagate;
        ``progress(done_hops, total_hops)`` is called at each retune."""
        from station.sweep import prepare_receiver, sweep_band

        plan = self._plans.get(band.name)
        if plan is None:
            rate = self.config.receiver(band.receiver).sample_rate_hz
            info = receiver.info
            plan = make_sweep_plan(band, rate, info.tuning_range_hz if info else None,
                                   where=f"{self.config.source}:bands.{band.name}")
            self._plans[band.name] = plan
        bp = plan.bands[0]
        if progress is not None and hasattr(receiver, "on_tune"):
            counter = iter(range(1, bp.n_hops + 1))
            receiver.on_tune = lambda: progress(next(counter, bp.n_hops), bp.n_hops)
        rng = self._hop_rng.get(band.receiver)
        if rng is None:  # a simulator's seed makes the order reproducible; a real receiver's is fresh entropy
            rng = self._hop_rng[band.receiver] = np.random.default_rng(self.config.receiver(band.receiver).seed)
        first_hop = int(rng.integers(bp.n_hops)) if band.mode == "dwell" else 0
        try:
            prepare_receiver(receiver, plan)
            bs = sweep_band(receiver, plan, bp, first_hop=first_hop)
        finally:
            if hasattr(receiver, "on_tune"):
                receiver.on_tune = None
        spec = bs.spectrum
        return SweepResult(spectrum=spec, n_hops=len(bs.hops), receive_s=bs.receive_s, dsp_s=bs.dsp_s)

    # ---- stages 3-5 --------------------------------------------------------------------------------------
    def process(self, band: BandConfig, result: SweepResult, *, revisit_s: float | None = None,
                receiver=None, supervisor=None) -> SweepReport:
        """Detect, track, judge, update cases and occupancy, store. Never raises for a store failure (the
        error is kept for health); detector/compliance bugs do raise.

        ``receiver`` is the open receiver the sweep used (its identity keys the spur map; the LO-shift check
        retunes it); ``supervisor`` (the daemon's ReceiverSupervisor) gives the receiver's health counters."""
        t_start = time.perf_counter()
        spec = result.spectrum
        self.sweep_no[band.name] = self.sweep_no.get(band.name, 0) + 1
        n = self.sweep_no[band.name]

        t0 = time.perf_counter()
        detector = self.detectors[band.name]
        noise = np.asarray(detector.noise_floor(spec).floor_dbfs_hz)
        emissions = detector.detect(spec)  # reuses the floor just computed
        emissions = self.spurs.after_detect(spec, emissions, receiver)  # learn the spur map, mark known spurs
        emissions = self._reported(band, emissions)
        evidence = self.evidence[band.name]
        block, integrated = evidence.integrate(spec, detector.detect)
        detector._last = None  # do not keep the spectrum alive until the next sweep
        added: set[int] = set()
        if integrated:
            emissions, added = merge_integrated(emissions, self._reported(band, integrated))
        tracker = self.trackers[band.name]
        tracks = tracker.update(emissions, spec.end_utc, covered_hz=(spec.f_lo_hz, spec.f_hi_hz))
        track_of = match_tracks(emissions, tracks)
        info = getattr(receiver, "info", None)
        ppm = float(info.frequency_uncertainty_ppm) if info is not None else 0.0
        block_settings = None
        if block is not None:
            from detectors.uncertainty import MeasurementSettings

            block_settings = MeasurementSettings.from_spectrum(block, ppm=ppm)
        required = evidence.observe(spec, emissions, track_of, tracker.tracks, tracker.params, ppm,
                                    settings_of=lambda i: block_settings if i in added else None)
        occ_records = []
        if band.name in self.occupancy:
            counter = self.occupancy[band.name]
            counter.update(spec)
            occ_records = counter.flush(before=spec.end_utc)  # completed integration periods
        t_detect = time.perf_counter() - t0

        t0 = time.perf_counter()
        if self.checker is not None and info is not None:
            self.checker.receiver_uncertainty_ppm = float(info.frequency_uncertainty_ppm)
        if self.checker is None:
            results = [Judged(e, None, track_of.get(i), "no register configured") for i, e in enumerate(emissions)]
            violations = []
        else:
            results, violations = evidence.judge(self.checker, emissions, track_of, required, spec.end_utc,
                                                 self.config.compliance.min_snr_db)
            results = self.spurs.confirm(band, spec, results, receiver)  # LO shift: a spur opens no case
            still = {j.track_id for j in results if j.is_violation}
            violations = [r for r in violations if r.track_id in still]
        levels = self.level_context(band, spec, receiver)
        store_error = None
        new_cases: list = []
        observed: list = []
        try:
            if self.cases is not None and violations:
                st = self.config.station
                obs = self.cases.record(violations, station=st.id, when=spec.end_utc,
                                        position=(st.latitude, st.longitude),
                                        settings={"band": band.name, "rbw_hz": spec.enbw_hz, "nfft": spec.nfft,
                                                  "window": spec.window, "dwell_s": spec.dwell_s,
                                                  **settings_keys(levels.settings),
                                                  **level_settings(levels, violations),
                                                  "measurement": evidence.case_measurements(violations)})
                from station.outputs.points import ViolationObservation

                measured = {cid: self.cases.measurement(cid) for cid in dict.fromkeys(o.case_id for o in obs)}
                heads = {cid: self.cases.chain_head(cid) for cid in measured}
                observed = [ViolationObservation(o.result, o.case_id, o.state, measured.get(o.case_id),
                                                 heads.get(o.case_id)) for o in obs]
                new_cases = [o.case_id for o in obs if o.opened]
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc, "case store")
            # the case store's disk refused: the violations are still measured and sent as points
            from station.outputs.points import ViolationObservation

            observed = [ViolationObservation(v, "", "unrecorded") for v in violations]
        t_comp = time.perf_counter() - t0

        t0 = time.perf_counter()
        timings = {"receive": result.receive_s, "dsp": result.dsp_s, "detect": t_detect, "compliance": t_comp}
        report = SweepReport(
            band=band.name, sweep_no=n, start_utc=spec.start_utc, end_utc=spec.end_utc, n_hops=result.n_hops,
            duration_s=0.0, revisit_s=revisit_s, timings_s=timings, results=tuple(results),
            tracks=tuple(tracks), new_cases=tuple(c for c in new_cases), n_violations=len(violations),
            noise_median_dbfs_hz=float(np.median(noise)) if np.size(noise) else None, spectrum=spec,
            levels=levels,
        )
        from station.outputs.points import PointContext

        self._last_ctx[band.name] = PointContext.from_spectrum(spec, station=self.config.station.id, band=band.name)
        try:
            points = self.outputs.sweep_points(self.config.station.id, band, spec, noise, results, observed,
                                               occ_records, levels=levels)
            self.outputs.put(points)
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc, "outputs")
        try:
            self.save_state()
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc, "state store")
        store_error = self.checkpoint() or store_error
        timings["sinks"] = time.perf_counter() - t0
        duration = result.receive_s + result.dsp_s + (time.perf_counter() - t_start)
        health = self._band_health(band, report, duration, supervisor)
        try:
            self.outputs.put([self.outputs.health_point(self.config.station.id, health, spec, band.name)])
        except (SinkError, sqlite3.Error, OSError) as exc:
            store_error = self._store_failed(exc, "outputs")
        if store_error is None and self.store_state != "ok":
            log.info("storing works again (was %s)", self.store_state)
            self.store_state, self.store_error = "ok", None
            self._store_logged.clear()
        for case_id in new_cases:
            r = next((o.result for o in observed if o.case_id == case_id), None)
            if r is not None:
                e = r.emission
                margin = max(100e3, 6 * e.bandwidth_hz)
                item = (band.name, r, case_id, crop_spectrum(spec, e.f_lo_hz - margin, e.f_hi_hz + margin))
                self._evidence_queue.append(item)
                if self.config.evidence.enabled:
                    from station.pipeline.recovery import save_pending

                    save_pending(self.config.store.data_dir, item)  # survives a kill before the capture
        return replace(report, duration_s=duration, timings_s=dict(timings), store_error=store_error)

    def _reported(self, band: BandConfig, emissions: list[Emission]) -> list[Emission]:
        """The detector's emissions the station reports: artifacts only with ``keep_artifacts``; the optional
        fixed gates ``min_snr_db`` (off by default) and ``min_bandwidth_hz``."""
        d = band.detector
        return [e for e in emissions if (not e.artifact or d.keep_artifacts)
                and (d.min_snr_db is None or e.snr_db >= d.min_snr_db) and e.bandwidth_hz >= d.min_bandwidth_hz]

    def _store_failed(self, exc: BaseException, what: str = "store") -> str:
        """A store refused a write (the station state, the case store, the outputs): kept for health as
        ``store_state = degraded: <what>: <why>``, logged on one line; measuring continues."""
        why = write_error_reason(exc, self.config.store.db_path) if not isinstance(exc, SinkError) else str(exc)
        if is_disk_full(exc) and "disk full" not in why:
            why = f"disk full: {why}"
        state = f"degraded: {what}: {why}"[:300]
        if self._store_logged.get(what) != why:  # once per store and reason, not once per sweep
            log.error("storing failed (%s); measuring continues", state)
            self._store_logged[what] = why
        self.store_state = state
        self.store_error = f"{type(exc).__name__}: {exc}"
        return self.store_error

    def level_context(self, band: BandConfig, spec: Spectrum, receiver):
        """How this sweep's levels convert to dBm at the antenna port: the receiver's profile, the gain applied
        (the configured manual gain, or the one a simulated AGC reports; None for an RTL-SDR's AGC), the band's
        antenna factor and the DSP settings of the level budget."""
        from detectors.uncertainty import MeasurementSettings
        from station.calibration import LevelContext

        rc = self.config.receiver(band.receiver)
        gain = rc.gain_db
        if gain is not None:  # the step the tuner really set (a manual gain snaps to the nearest one)
            real = getattr(receiver, "gain_db", None)
            gain = real if isinstance(real, (int, float)) else gain
        else:
            gain = getattr(receiver, "effective_gain_db", None)  # a simulated AGC's choice (the daemon's
            # GuardedReceiver hands attributes through to the receiver it wraps)
        info = getattr(receiver, "info", None)
        ppm = float(info.frequency_uncertainty_ppm) if info is not None else 0.0
        return LevelContext(self.profiles[rc.name], None if gain is None else float(gain), band.antenna_factor_db_m,
                            band.antenna_factor_u_db, MeasurementSettings.from_spectrum(spec, ppm=ppm))

    def _band_health(self, band: BandConfig, report: SweepReport, duration_s: float, supervisor) -> dict:
        h = {
            "hops": report.n_hops,
            "sweep_duration_s": duration_s,
            "hop_rate_hz": report.n_hops / duration_s if duration_s > 0 else None,
            "revisit_s": report.revisit_s,
        }
        for stage, secs in report.timings_s.items():
            h[f"{stage}_s"] = secs
        if supervisor is not None:
            c = supervisor.counters
            h.update(dropped_reads=c.dropped_reads, short_reads=c.short_reads, receiver_errors=c.errors,
                     receiver_state=supervisor.state)
        return h

    # ---- evidence ----------------------------------------------------------------------------------------
    @property
    def evidence_pending(self) -> int:
        """New cases still waiting for their evidence capture."""
        return len(self._evidence_queue)

    def capture_evidence(self, receiver_for) -> list:
        """Capture evidence for at most ``evidence.max_per_sweep`` queued new cases (retune, IQ, snapshot);
        the rest wait for the next sweep so the schedule is not stalled. ``receiver_for(band)`` gives the open
        receiver of a band (None while it is reopening: that capture waits). Receiver errors propagate."""
        done = []
        budget = self.config.evidence.max_per_sweep
        waiting = []
        while self._evidence_queue and len(done) < budget:
            item = self._evidence_queue.pop(0)
            band, result, case_id, spec = item
            receiver = receiver_for(band)
            if receiver is None:
                waiting.append(item)
                continue
            t0 = time.perf_counter()
            try:
                files = self._capture(band, result, case_id, spec, receiver)
                log.info("evidence for %s captured in %.2f s (%d files)", case_id, time.perf_counter() - t0,
                         len(files))
            except (SinkError, sqlite3.Error, OSError) as exc:
                if is_disk_full(exc):
                    self._store_failed(exc, "outputs")
                    continue
                self._evidence_queue.insert(0, item)  # the receiver failed: try again after it reopened
                raise
            done.append((case_id, files))
        self._evidence_queue[:0] = waiting
        return done

    def _capture(self, band: str, result: ComplianceResult, case_id: str, spec: Spectrum, receiver):
        from station.compliance.evidence import EvidenceSettings, capture_evidence

        st = self.config.station
        ev = self.config.evidence
        e = result.emission
        nearby = self.checker.assignments_near(e.f_lo_hz - 50e3, e.f_hi_hz + 50e3) if self.checker else ()
        cap = capture_evidence(
            self.cases, case_id, result, out_dir=self.config.store.data_dir / "evidence", station_id=st.id,
            position=(st.latitude, st.longitude), spectrum=spec, receiver=receiver, nearby=nearby,
            measurement={"band": band, **({"recovery": "the first capture was interrupted (the station stopped); "
                                           "captured again after the restart" + ("" if spec is not None else
                                           ", the sweep that found it was lost: no snapshot")}
                                           if case_id in self._recovered else {})},
            settings=EvidenceSettings(iq_duration_s=ev.iq_duration_s, iq_sample_rate_hz=ev.sample_rate_hz),
            isolate=True,  # matplotlib in a short-lived child, never in the long-running station
        )
        from station.pipeline.recovery import drop_pending

        drop_pending(self.config.store.data_dir, case_id)
        self._recovered.discard(case_id)
        return cap.files

    # ---- checkpoints of the case chain heads (station/compliance/cases/checkpoints.py) -----------------------
    def _open_checkpoints(self):
        if self.cases is None:
            return None
        from station.compliance.cases.checkpoints import CheckpointLog, log_path
        from station.compliance.signing import StationKey, StationKeyError

        try:
            key = StationKey.load_or_create(self.cases.path.resolve().parent)
            return CheckpointLog(log_path(self.cases.path), key, self.config.station.id,
                                 interval_s=self.config.store.checkpoint_interval_s)
        except (StationKeyError, OSError) as exc:
            log.error("no checkpoints of the case history (a rewrite of the case store would not be evident): %s",
                      exc)
            return None

    def checkpoint(self, *, force: bool = False) -> str | None:
        """Sign the case chain heads into the checkpoint log when some chain grew and the interval has passed
        (``force``: whenever one grew) and send the checkpoint as a ``case_checkpoint`` point. Returns the
        store error text when the log or the outputs refused, else None."""
        if self.checkpoints is None or self.cases is None:
            return None
        try:
            cp = self.cases.checkpoint(self.checkpoints, force=force)
        except (sqlite3.Error, OSError) as exc:
            return self._store_failed(exc, "checkpoint log")
        if cp is None:
            return None
        from station.outputs.points import checkpoint_point

        try:
            self.outputs.put([checkpoint_point(cp, station=self.config.station.id)])
        except (SinkError, sqlite3.Error, OSError) as exc:
            return self._store_failed(exc, "outputs")
        return None

    # ---- health, state, outputs ------------------------------------------------------------------------
    def health(self) -> dict:
        """Health fields of the stores: ``store_state`` is ``ok`` or ``degraded: ...`` naming every store or
        output whose disk refuses (or is below its reserve); spool depth, points in memory, points lost."""
        h = self.outputs.health()
        parts = [self.store_state.removeprefix("degraded: ")] if self.store_state != "ok" else []
        parts += h.pop("output_states", [])
        h["store_state"] = ("degraded: " + "; ".join(parts))[:300] if parts else "ok"
        return h

    def write_health(self, health: dict) -> None:
        try:
            self.outputs.put([self.outputs.health_point(self.config.station.id, health, None, "all")])
        except (SinkError, sqlite3.Error, OSError) as exc:
            self._store_failed(exc, "outputs")

    def save_state(self) -> None:
        self.state.save_many({
            "trackers": {name: t.to_state() for name, t in self.trackers.items()},
            "occupancy": {name: o.to_state() for name, o in self.occupancy.items()},
            "track_evidence": {name: ev.to_state() for name, ev in self.evidence.items()},
            "sweep_counts": self.sweep_no,
            **self.spurs.save(),
        })

    def flush(self, timeout_s: float) -> bool:
        """Store the open occupancy periods as they stand (a later write of the same period overwrites:
        same tags and time), then wait up to ``timeout_s`` for the sinks to drain their spools."""
        for name, counter in self.occupancy.items():
            records = counter.records()
            if not records:
                continue
            band = self.config.band(name)
            from station.outputs import points as P

            ctx = P.PointContext(self.config.station.id, name, band.rbw_hz, 0, band.dwell_s)
            last = self._last_ctx.get(name)
            if last is not None:
                ctx = last
            try:
                self.outputs.put(P.occupancy_points(records, ctx))
            except (SinkError, sqlite3.Error, OSError) as exc:
                self._store_failed(exc, "outputs")
        return self.outputs.flush(timeout_s)

    def reload(self, config: Config) -> None:
        """New config: validate it as at start (:func:`station.preflight.check_config`: receivers, tuning ranges,
        rbw, scenario files, register) and rebuild the checker first, so a bad one keeps everything old."""
        from station.preflight import check_config

        checker = check_config(config).checker
        self._plans = {k: v for k, v in self._plans.items()
                       if any(b.name == k and b == self.config.band(k) for b in config.bands)}
        outputs = Outputs(config) if config.store.sinks != self.config.store.sinks else None
        self.checker = checker
        for b in config.bands:
            old = next((x for x in self.config.bands if x.name == b.name), None)
            if old is None or old.detector != b.detector or old.window != b.window:
                self.detectors[b.name] = make_detector(b)
            if b.name not in self.trackers:
                self.trackers[b.name] = make_tracker(b, None)
            if (old is None or old.detector != b.detector or b.name not in self.evidence
                    or config.compliance != self.config.compliance):
                saved = self.evidence[b.name].to_state() if b.name in self.evidence else None
                self.evidence[b.name] = make_band_evidence(b, config.compliance, saved)
            if b.channels and (old is None or old.channels != b.channels):
                self.occupancy[b.name] = make_occupancy(b, None)
            if not b.channels:
                self.occupancy.pop(b.name, None)
        if outputs is not None:
            self.outputs.flush(1.0)
            self.outputs.close()
            self.outputs = outputs
        self.config = config

    def open_cases(self, limit: int = 10) -> list[str]:
        """One line per open violation case (for the live view)."""
        if self.cases is None:
            return []
        return case_lines(self.cases, limit)

    def export(self, out_dir: Path) -> list[Path]:
        """Export every violation case in the configured formats (station/compliance/exports) into ``out_dir``."""
        if self.cases is None:
            return []
        from station.childproc import ChildFailed, call_in_child
        from station.compliance.exports import export_cases, export_db

        formats, lang = tuple(self.config.export.formats), self.config.export.lang
        try:
            try:  # in a short-lived child: fpdf2/openpyxl never load into the station (the store is WAL SQLite)
                return call_in_child(export_db, self.cases.path, formats, Path(out_dir), lang=lang)
            except ChildFailed as exc:
                log.warning("%s; exporting in-process", exc)
            return export_cases(self.cases, formats, Path(out_dir), lang=lang)
        except (OSError, sqlite3.Error) as exc:  # a full or read-only disk: one line, the cases stay stored
            where = getattr(exc, "filename", None) or out_dir
            raise SinkError(f"cannot write the export: {write_error_reason(exc, where)}", where=str(where)) from None

    def close(self) -> None:
        self.checkpoint(force=True)  # the last heads, so a restart's first checkpoint continues from them
        for closer in (self.outputs.close, self.state.close, getattr(self.cases, "close", None)):
            if closer is None:
                continue
            try:
                closer()
            except Exception as exc:
                log.debug("close: %s", exc)
