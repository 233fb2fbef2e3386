"""The records one band sweep hands on: :class:`SweepResult` (receive + dsp), :class:`Judged` (an emission
with its compliance result and track) and :class:`SweepReport` (what the TUI, logs and run summary show)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from detectors.records import Emission
from dsp.spectrum import Spectrum
from station.compliance.records import ComplianceResult

STAGES = ("receive", "dsp", "detect", "compliance", "sinks")


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """What the sweep stage hands on: the stitched band spectrum and where its time went (s)."""

    spectrum: Spectrum
    n_hops: int
    receive_s: float  # waiting for samples (tuning and settling included)
    dsp_s: float  # conversion, PSD, stitching


@dataclass(frozen=True, slots=True)
class Judged:
    """One emission of a sweep with its compliance result (None when not judged: no register, artifact, below
    an optional SNR gate) and its track. A violation of a track not yet confirmed over revisits
    (station/pipeline/judging.py) has ``confirmed`` False: it opens no case yet and is no violation."""

    emission: Emission
    result: ComplianceResult | None
    track_id: str | None = None
    note: str = ""  # why it was not judged, or why it opens no case yet
    confirmed: bool = True

    @property
    def klass(self) -> str:
        return self.result.klass.value if self.result is not None else "unknown"

    @property
    def is_violation(self) -> bool:
        return self.result is not None and self.result.klass.is_violation and self.confirmed


@dataclass(frozen=True, slots=True, eq=False)
class SweepReport:
    """The outcome of one band sweep (what the TUI, logs and the run summary show)."""

    band: str
    sweep_no: int
    start_utc: datetime
    end_utc: datetime
    n_hops: int
    duration_s: float  # wall time of the whole sweep (all stages)
    revisit_s: float | None  # achieved revisit (None for the first sweep)
    timings_s: dict  # stage -> seconds for this sweep (STAGES)
    results: tuple[Judged, ...]  # every reported emission, in frequency order
    tracks: tuple = ()
    new_cases: tuple = ()  # case ids opened by this sweep
    n_violations: int = 0
    noise_median_dbfs_hz: float | None = None
    spectrum: Spectrum | None = field(default=None, repr=False)
    store_error: str | None = None  # set when storing failed (disk full ...): measurements continue
    levels: object | None = field(default=None, repr=False)  # the sweep's LevelContext (dBFS -> dBm, calibration)

    @property
    def per_hop_s(self) -> dict:
        n = max(1, self.n_hops)
        return {k: v / n for k, v in self.timings_s.items()}
