"""One band sweep through the station: receiver -> dsp -> detectors -> compliance -> cases -> stores/sinks.

:class:`Pipeline` owns the per-station objects the stages share across sweeps: one emission detector and one
tracker per band (tracks are persisted so a restart resumes them), the compliance checker built from the
register (reloaded on SIGHUP), the violation case store, channel occupancy accumulators, and the outputs
(every point goes through the on-disk spool before any sink). The daemon calls, per sweep::

    result = pipeline.sweep(band, receiver, progress=...)      # receive + dsp (the sweep executor)
    report = pipeline.process(band, result, revisit_s=..., receiver=..., supervisor=...)   # detect, comply, store
    pipeline.capture_evidence(receiver_for)                     # new violation cases, a few per sweep

Every stage's wall time is measured and reported (``SweepReport.timings_s``: receive, dsp, detect,
compliance, sinks), per sweep and per hop, in the band's ``station_health`` point.

The package: ``stages`` (:class:`Pipeline`, the sweep stage), ``records`` (what a sweep hands on),
``outputs`` (:class:`Outputs`: points -> spool -> sinks; :class:`StateStore`), ``factories`` (the
detectors, checker, trackers, occupancy counters and case store built from the config). Import from here.
"""

from station.pipeline.factories import (
    case_lines,
    make_checker,
    make_detector,
    make_occupancy,
    make_sweep_plan,
    make_tracker,
    match_tracks,
    open_case_store,
)
from station.pipeline.outputs import Outputs, StateStore, is_disk_full
from station.pipeline.records import STAGES, Judged, SweepReport, SweepResult
from station.pipeline.stages import Pipeline, crop_spectrum

__all__ = [
    "STAGES", "Judged", "Outputs", "Pipeline", "StateStore", "SweepReport", "SweepResult", "case_lines",
    "crop_spectrum", "is_disk_full", "make_checker", "make_detector", "make_occupancy", "make_sweep_plan",
    "make_tracker", "match_tracks", "open_case_store",
]
