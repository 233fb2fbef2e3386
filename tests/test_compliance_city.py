"""End to end on the simulated city: sim://city swept by the real sweep executor, emissions found by the real
detector, judged against the demo register, recorded as cases over repeated sweeps. Every emission found
must be one of docs/DESIGN.md's transmitters with exactly its expected class, and each violating
transmitter must be one case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from station.compliance.checker import ComplianceChecker
from station.compliance.cases import CaseStore
from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register
from tests.test_compliance import CITY, HANOI

pytestmark = pytest.mark.slow

BANDS = [("fm", 87.5e6, 108e6, 5e3), ("vhf", 144e6, 160e6, 1e3), ("uhf", 430e6, 470e6, 1e3)]
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def _which(center_hz: float) -> tuple[str, str] | None:
    name, f, bw, klass = min(CITY, key=lambda c: abs(c[1] * 1e6 - center_hz))
    return (name, klass) if abs(f * 1e6 - center_hz) <= max(bw / 2, 5e3) else None


def test_sim_city_classes_and_cases(tmp_path):
    from detectors.energy import DetectorParams, EmissionDetector
    from station.receivers import open_receiver
    from station.sweep import SweepPlan, prepare_receiver, sweep_band

    reg = load_register(builtin_path("demo_register.csv"))
    rx = open_receiver("sim://city")
    rx.set_gain(30.0)
    checker = ComplianceChecker(reg.assignments, load_exempt_bands_strict(), HANOI, 30_000.0,
                                rx.info.frequency_uncertainty_ppm)
    detector = EmissionDetector(DetectorParams())
    store = CaseStore(tmp_path / "specmon.db")
    seen: dict[str, set[str]] = {}
    for sweep_no in range(3):
        when = T0 + timedelta(seconds=20 * sweep_no)
        for name, lo, hi, rbw in BANDS:
            if name == "fm" and sweep_no:
                continue  # continuous transmitters: one sweep is enough
            plan = SweepPlan.make([(name, lo, hi)], rbw, 2.4e6, 0.04, window="hann", keep_frames=True,
                                  tuning_range_hz=rx.info.tuning_range_hz)
            prepare_receiver(rx, plan)
            spectrum = sweep_band(rx, plan, plan.bands[0]).spectrum
            emissions = [e for e in detector.detect(spectrum) if not e.artifact and e.snr_db >= 10]
            results = checker.check(emissions, when)
            for r in results:
                who = _which(r.emission.center_hz)
                assert who is not None, f"emission at {r.emission.center_hz / 1e6:.5f} MHz is no city transmitter"
                seen.setdefault(who[0], set()).add(r.klass.value)
                assert r.klass.value == who[1], f"{who[0]}: {r.klass.value} ({r.reason})"
            store.record(results, station="hn-01", when=when, position=HANOI)
    # the continuous transmitters and the violators that are on air at least half the time were all found
    for must in ("fm-vov1", "fm-vov2", "fm-hanoi", "fm-vov3", "fm-pirate", "lmr-wide", "lmr-future", "lmr-uhf-dmr"):
        assert must in seen, f"{must} not detected in 3 sweeps (seen: {sorted(seen)})"
    violators = {n for n, k in seen.items() if next(c[3] for c in CITY if c[0] == n) not in ("licensed", "exempt")}
    cases = store.cases()
    assert len(cases) == len(violators)
    assert sorted(_which(c.center_hz)[0] for c in cases) == sorted(violators)
