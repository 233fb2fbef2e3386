"""Evidence over revisits for one band (the detect/track/judge stages of :mod:`station.pipeline.stages`).

:class:`BandEvidence` holds, per band, the revisit integrator and, per track, its measurement accumulator
(the canonical measurement with its uncertainty, :mod:`detectors.uncertainty`) and its confirmation
(:mod:`detectors.integration`). Per sweep:

1. :meth:`BandEvidence.integrate` adds the sweep to the integrator; when a block of ``integrate_revisits``
   sweeps is complete the detector runs on the integrated spectrum and every emission found there that no
   emission of this sweep overlaps is added (a transmitter too weak for one dwell). Strong and bursty
   emitters keep coming from the per-sweep detection, so nothing intermittent is lost.
2. :meth:`BandEvidence.observe` adds each tracked emission to its track's accumulator (a miss for each
   covered track not seen) and counts the revisit in the track's confirmation.
3. :meth:`BandEvidence.judge` judges each track's canonical measurement with its expanded uncertainty
   (``checker.check(..., u95=...)``); a violation goes to the case store only when its track is confirmed
   (and, for findings that rest on a measured value: off-frequency, excess bandwidth, exempt nonconforming,
   after at least ``MEASURED_MIN_READINGS`` readings, so the readings' own spread enters the uncertainty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from detectors.integration import (
    Confirmation,
    RevisitIntegrator,
    reading_log_pvalue,
    reading_pfa,
    required_readings,
)
from detectors.noise import doubling_widths
from detectors.records import Emission
from detectors.uncertainty import MeasurementAccumulator, MeasurementSettings, observation_uncertainty
from dsp.spectrum import Spectrum
from station.config import BandConfig, ComplianceConfig
from station.pipeline.records import Judged

#: classes asserted on a measured value (a centre or a bandwidth compared with a limit)
MEASURED_CLASSES = ("off_frequency", "excess_bandwidth", "exempt_nonconforming")
#: readings such a finding needs at least (from 3 the readings' robust spread enters the uncertainty)
MEASURED_MIN_READINGS = 3


@dataclass(slots=True)
class TrackEvidence:
    """What a band keeps of one track: its accumulator and its confirmation."""

    acc: MeasurementAccumulator
    confirmation: Confirmation


def _overlaps(a: Emission, b: Emission) -> bool:
    return a.f_lo_hz < b.f_hi_hz and b.f_lo_hz < a.f_hi_hz


def merge_integrated(emissions: list[Emission], integrated: list[Emission]) -> tuple[list[Emission], set[int]]:
    """This sweep's ``emissions`` plus the ``integrated`` ones no emission of the sweep overlaps, in frequency
    order; also the indices (in the result) of the added ones."""
    added = [e for e in integrated if not any(_overlaps(e, x) for x in emissions)]
    out = sorted(emissions + added, key=lambda e: e.center_hz)
    ids = {id(e) for e in added}
    return out, {i for i, e in enumerate(out) if id(e) in ids}


class BandEvidence:
    """Per-band integration, accumulators and confirmations (see the module docstring)."""

    def __init__(self, band: BandConfig, compliance: ComplianceConfig, state: dict | None = None):
        self.band = band
        self.compliance = compliance
        n = band.detector.integrate_revisits
        self.integrator = RevisitIntegrator(n) if n >= 2 else None
        self.tracks: dict[str, TrackEvidence] = {}
        if state:
            try:
                for tid, d in state.get("tracks", {}).items():
                    self.tracks[str(tid)] = TrackEvidence(MeasurementAccumulator.from_state(d["acc"]),
                                                          Confirmation.from_state(d["confirmation"]))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ValueError(f"band {band.name}: saved track evidence unusable ({exc})") from exc

    def to_state(self) -> dict:
        return {"tracks": {tid: {"acc": t.acc.to_state(), "confirmation": t.confirmation.to_state()}
                           for tid, t in self.tracks.items()}}

    # ---- 1. integration ----------------------------------------------------------------------------------
    def integrate(self, spec: Spectrum, detect) -> tuple[Spectrum | None, list[Emission]]:
        """Add ``spec`` to the block; when complete, ``detect(integrated)`` -> (integrated spectrum, its
        emissions), else (None, [])."""
        if self.integrator is None:
            return None, []
        block = self.integrator.add(spec)
        if block is None:
            return None, []
        return block, detect(block)

    # ---- 2. readings -------------------------------------------------------------------------------------
    def _reading_test(self, e: Emission, spec: Spectrum, tracker_params) -> tuple[float, int]:
        """(log of the per-revisit probability that noise gives a reading in this track's association window,
        readings the count bound needs): :func:`detectors.integration.reading_pfa` over the detector's
        matched-width tests in the window, per-sweep, burst and integrated tests counted."""
        d = self.band.detector
        n_widths = len(doubling_widths(min(1024, max(1, spec.n_bins // 4))))
        tol = max(tracker_params.min_tolerance_hz, tracker_params.tolerance_fraction * e.bandwidth_hz)
        tests = 1.0 + (1.0 if d.bursts else 0.0) + (1.0 / d.integrate_revisits if d.integrate_revisits >= 2 else 0.0)
        p = reading_pfa(d.pfa, n_widths, 2.0 * tol / spec.bin_hz, tests)
        return math.log(p), required_readings(p, self.compliance.confirm_revisits, self.compliance.case_pfa / 2.0)

    def observe(self, spec: Spectrum, emissions: list[Emission], track_of: dict, live_tracks, tracker_params,
                ppm: float, settings_of=None) -> dict[str, int]:
        """Add this sweep's readings; returns track id -> readings its confirmation requires.
        ``settings_of(i)``: the MeasurementSettings of emission i (an integrated one has its block's)."""
        base = MeasurementSettings.from_spectrum(spec, ppm=ppm)
        seen: dict[str, Emission] = {}
        seen_at: dict[str, int] = {}
        for i, e in enumerate(emissions):
            tid = track_of.get(i)
            if tid is None or e.artifact or tid in seen:
                continue
            seen[tid] = e
            seen_at[tid] = i
            ev = self.tracks.get(tid)
            if ev is None:
                ev = self.tracks[tid] = TrackEvidence(MeasurementAccumulator(),
                                                      Confirmation(self.compliance.confirm_revisits))
            s = settings_of(i) if settings_of is not None else None
            ev.acc.add(e, observation_uncertainty(e, s or base))
        required: dict[str, int] = {}
        lo, hi = spec.f_lo_hz, spec.f_hi_hz
        live = {t.track_id: t for t in live_tracks}
        for tid, ev in self.tracks.items():
            t = live.get(tid)
            if t is None or not lo <= t.center_hz <= hi:
                continue
            e = seen.get(tid, t.last)
            log_p_reading, k = self._reading_test(e, spec, tracker_params)
            required[tid] = k
            log_p = 0.0
            if tid in seen:  # the reading's p-value under noise, times the tests one reading stands for
                i = seen_at[tid]
                s = (settings_of(i) if settings_of is not None else None) or base
                log_p = reading_log_pvalue(e.snr_db, e.bandwidth_hz / spec.bin_hz, s.rel_var) + (
                    log_p_reading - math.log(self.band.detector.pfa))
            else:
                ev.acc.miss()
            ev.confirmation.look(tid in seen, k, log_p, log_p_reading, self.compliance.case_pfa)
        for tid in [tid for tid in self.tracks if tid not in live]:  # retired tracks
            del self.tracks[tid]
        return required

    # ---- 3. judging --------------------------------------------------------------------------------------
    def judge(self, checker, emissions: list[Emission], track_of: dict, required: dict[str, int], when,
              min_snr_db: float | None) -> tuple[list[Judged], list]:
        """(one Judged per emission, the confirmed violations with their canonical measurement for the case
        store). The Judged results keep this sweep's reading (points); the class is the canonical one's."""
        out: dict[int, Judged] = {}
        todo: list[int] = []
        canon: list[Emission] = []
        u95: list = []
        for i, e in enumerate(emissions):
            tid = track_of.get(i)
            if e.artifact:
                out[i] = Judged(e, None, tid, "artifact, not judged")
            elif min_snr_db is not None and e.snr_db < min_snr_db:
                out[i] = Judged(e, None, tid, f"SNR {e.snr_db:.1f} dB below {min_snr_db:g} dB, not judged")
            else:
                ev = self.tracks.get(tid) if tid is not None else None
                if ev is None or ev.acc.n_obs == 0:
                    canon.append(e)
                    u95.append(None)
                else:
                    m = ev.acc.canonical()
                    xdb = m.xdb_bandwidth_hz.value if m.xdb_bandwidth_hz is not None else e.xdb_bandwidth_hz
                    canon.append(replace(e, center_hz=m.center_hz.value, f_lo_hz=m.f_lo_hz, f_hi_hz=m.f_hi_hz,
                                         bandwidth_hz=m.bandwidth_hz.value, xdb_bandwidth_hz=xdb,
                                         power_dbfs=m.power_dbfs.value, snr_db=m.snr_db))
                    u95.append((m.center_hz.u95, m.bandwidth_hz.u95))
                todo.append(i)
        results = checker.check(canon, when, u95=u95) if todo else []
        cases = []
        for i, r, c in zip(todo, results, canon):
            e, tid = emissions[i], track_of.get(i)
            r = replace(r, track_id=tid)
            note = ""
            if r.klass.is_violation:
                ev = self.tracks.get(tid) if tid is not None else None
                k = required.get(tid, self.compliance.confirm_revisits + 1)
                n_min = MEASURED_MIN_READINGS if r.klass.value in MEASURED_CLASSES else 0
                conf = ev.confirmation if ev is not None else None
                if conf is not None and conf.confirmed and ev.acc.n_obs >= n_min:
                    cases.append(r)
                elif conf is None or not conf.confirmed:
                    have = conf.hits if conf is not None else 0
                    note = (f"unconfirmed: {have} reading(s) in the track's window of "
                            f"{self.compliance.confirm_revisits} revisits, {k} needed unless stronger, no case yet")
                else:
                    note = f"{ev.acc.n_obs} reading(s): a measured finding needs {n_min}, no case yet"
            out[i] = Judged(e, replace(r, emission=e), tid, note, confirmed=not note)
        return [out[i] for i in range(len(emissions))], cases

    def case_measurements(self, results) -> dict:
        """What a case observation keeps of the canonical measurement it was judged on (``settings_json``
        key ``measurement``, per result keyed by its centre in whole Hz): the expanded uncertainties (k=2) of
        centre, 99 % bandwidth and power, and the readings and revisits behind them."""
        out = {}
        for r in results:
            ev = self.tracks.get(r.track_id) if r.track_id else None
            if ev is None or ev.acc.n_obs == 0:
                continue
            m = ev.acc.canonical()
            out[f"{r.emission.center_hz:.0f}"] = {
                "center_u95_hz": round(m.center_hz.u95, 3), "bandwidth_u95_hz": round(m.bandwidth_hz.u95, 3),
                "power_u95_db": round(m.power_dbfs.u95, 4), "n_obs": m.n_obs, "n_revisits": m.n_revisits,
                "confirmation_hits": ev.confirmation.hits, "track_id": r.track_id}
        return out
