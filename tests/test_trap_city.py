"""The trap city (sim://trap, station/data/trap.toml, docs/TRAPCITY.md) end to end through the station's own
pipeline: 20 sweeps of every band at the shipped defaults, then exactly one case per violating transmitter,
of its expected class, and no other case. Each transmitter is a trap for one way of being wrong."""

from __future__ import annotations

import pytest

from station.compliance.register import builtin_path

pytestmark = pytest.mark.slow

#: transmitter id -> the class its case must have; every transmitter not listed must open no case
EXPECTED_CASES = {
    "rogue-image": "unlicensed",  # at the image position of lmr-strong about a hop that holds neither
    "rogue-telemetry": "unlicensed",  # bursty: 50 ms every second
    "rogue-weak": "unlicensed",  # a few dB in-band SNR: found by integrating revisits
    "lmr-over": "excess_bandwidth",  # 10 % over its 16.5 kHz limit
    "pmr-wide": "exempt_nonconforming",  # in PMR446, over its 12.5 kHz limit
}
N_SWEEPS = 20


def run_trap_city(data_dir, n_sweeps: int = N_SWEEPS):
    """Sweep every band of the trap config ``n_sweeps`` times through a Pipeline; returns (scenario, cases)."""
    from station.config import load_config
    from station.daemon.supervision import open_configured_receiver
    from station.pipeline import Pipeline
    from station.sim.scenario import builtin_scenario_path, load_scenario

    config = load_config(builtin_path("trap.toml")).with_data_dir(data_dir)
    pipeline = Pipeline(config)
    rx = open_configured_receiver(config.receivers[0])
    try:
        for _ in range(n_sweeps):
            for band in config.bands:
                pipeline.process(band, pipeline.sweep(band, rx), receiver=rx)  # as the daemon: LO-shift check
        cases = pipeline.cases.cases()
    finally:
        rx.close()
        pipeline.close()
    return load_scenario(builtin_scenario_path("trap")), cases


def _transmitter_of(scenario, center_hz: float):
    tx = min(scenario.transmitters, key=lambda t: abs(t.frequency_hz - center_hz))
    return tx.id if abs(tx.frequency_hz - center_hz) <= max(tx.bandwidth_hz or 0.0, 10e3) / 2 else None


def test_image_trap_geometry():
    """rogue-image is the mirror of lmr-strong about the centre of a hop that holds neither (so the trap still
    is one with the shipped sweep plan), and lmr-strong is not even sampled in that hop."""
    from station.config import load_config
    from station.pipeline import make_sweep_plan
    from station.sim.scenario import builtin_scenario_path, load_scenario

    config = load_config(builtin_path("trap.toml"))
    band = config.band("vhf")
    bp = make_sweep_plan(band, config.receivers[0].sample_rate_hz).bands[0]
    tx = {t.id: t.frequency_hz for t in load_scenario(builtin_scenario_path("trap")).transmitters}
    strong, rogue = tx["lmr-strong"], tx["rogue-image"]
    centers, edges = bp.hop_centers_hz, bp.hop_edges_hz()
    k = min(range(len(centers)), key=lambda i: abs(2 * centers[i] - strong - rogue))
    assert abs(2 * centers[k] - strong - rogue) < bp.bin_hz
    assert not (edges[k][0] <= strong < edges[k][1]) and not (edges[k][0] <= rogue < edges[k][1])
    assert abs(strong - centers[k]) > config.receivers[0].sample_rate_hz / 2


def test_trap_city_opens_exactly_the_expected_cases(tmp_path):
    scenario, cases = run_trap_city(tmp_path / "data")
    got: dict[str, list[str]] = {}
    stray = []
    for c in cases:
        who = _transmitter_of(scenario, c.center_hz)
        if who is None:
            stray.append(f"{c.klass.value} at {c.center_hz / 1e6:.5f} MHz ({c.bandwidth_hz / 1e3:.1f} kHz)")
        else:
            got.setdefault(who, []).append(c.klass.value)
    problems = [f"case(s) for no transmitter: {stray}"] if stray else []
    for tx, klasses in sorted(got.items()):
        want = EXPECTED_CASES.get(tx)
        if want is None:
            problems.append(f"{tx}: false case(s) {klasses}")
        elif klasses != [want]:
            problems.append(f"{tx}: cases {klasses}, want one {want}")
    problems += [f"{tx}: no case (want {k})" for tx, k in sorted(EXPECTED_CASES.items()) if tx not in got]
    assert not problems, "\n".join(problems)
