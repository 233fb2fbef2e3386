"""Benchmark scripts run as ``python benchmarks/NAME.py``, which puts benchmarks/ first on sys.path: a script
named like a top-level package (station.py, dsp.py, ...) would shadow that package for every benchmark."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_benchmark_file_shadows_a_top_level_package():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    packages |= {p.stem for p in ROOT.glob("*.py")}
    assert {"station", "dsp", "detectors", "dashboards"} <= packages
    names = {p.stem for p in (ROOT / "benchmarks").iterdir() if p.suffix == ".py" or p.is_dir()}
    clash = sorted(names & packages)
    assert not clash, f"benchmarks/ holds {clash}: rename them (they shadow the packages of the same name)"
