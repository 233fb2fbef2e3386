"""What a run did and how the host is: :class:`RunSummary` (printed at the end of a bounded run), the
per-band summary line, and the host probes of the station-wide health point (process CPU, SoC temperature)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station.daemon.loop import Daemon


@dataclass
class RunSummary:
    """What a run did (printed at the end of a bounded run)."""

    sweeps: int = 0
    sweeps_per_band: dict[str, int] = field(default_factory=dict)
    abandoned: int = 0
    failed_sweeps: int = 0  # sweeps whose processing raised (logged with the traceback)
    receiver_errors: int = 0
    emissions_last: dict[str, int] = field(default_factory=dict)  # per band, last sweep
    new_cases: int = 0
    stopped_by: str = ""  # "sweeps", "duration", "end_of_recording", a signal name, "error"
    elapsed_s: float = 0.0
    exports: list = field(default_factory=list)  # paths written at the end
    band_lines: list = field(default_factory=list)  # per band: emissions by class in its last sweep
    case_lines: list = field(default_factory=list)  # one line per violation case in the store
    data_dir: str = ""
    db_path: str = ""
    last_receiver_error: str | None = None  # the last receiver failure of the run (None: none)
    export_error: str | None = None  # why the end-of-run export failed (one line), None when it did not

    @property
    def no_sweep(self) -> bool:
        """A run that ended by itself (bounds, end of recording) without completing a single band sweep: it
        measured nothing, so it is a failure (non-zero exit, no empty exports)."""
        return self.sweeps == 0 and self.stopped_by in ("sweeps", "duration", "end_of_recording")


def _band_line(report) -> str:
    from collections import Counter

    counts = Counter(j.klass for j in report.results)
    by_class = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    return f"{report.band:<10} sweep {report.sweep_no}: {len(report.results)} emissions ({by_class})"


def _cpu_pct(daemon: Daemon) -> float | None:
    """Process CPU use since the previous call, percent of one core."""
    now = time.monotonic()
    cpu = time.process_time()
    prev = getattr(daemon, "_cpu_prev", None)
    daemon._cpu_prev = (now, cpu)
    if prev is None or now - prev[0] <= 0:
        return None
    return 100.0 * (cpu - prev[1]) / (now - prev[0])


def _soc_temperature_c() -> float | None:
    """SoC temperature (Raspberry Pi and most Linux boards), None where not available."""
    try:
        with open("/sys/class/thermal/thermal_zone0/temp") as f:
            return int(f.read().strip()) / 1000.0
    except (OSError, ValueError):
        return None
