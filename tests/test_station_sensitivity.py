"""Station sensitivity at reduced size (issue 12 acceptance; benchmarks/sensitivity.py is the full run): three
unlicensed NBFM transmitters at +6, 0 and -3 dB in-band SNR in a simulated 150-151 MHz band, swept by the
station's own Pipeline with the shipped defaults (rbw 1 kHz, 50 ms dwell) for 20 revisits. Each must open its
unlicensed case, and nothing else may open one. The SNRs are set against the floor measured on an empty sweep
of the same band, as the benchmark does."""

from __future__ import annotations

import math

import pytest

from benchmarks import sensitivity as S

pytestmark = pytest.mark.slow

SNRS_DB = (6.0, 0.0, -3.0)
REVISITS = 20


def test_three_transmitters_open_their_cases_and_nothing_else(tmp_path):
    (tmp_path / "empty").mkdir()
    cases, _, floor_dbfs_hz = S.run(tmp_path / "empty", {}, 2, seed=3)
    assert cases == [], "an empty band opened a case"
    noise_in_band_dbm = floor_dbfs_hz + S.FULLSCALE_DBM - S.GAIN_DB + 10 * math.log10(S.BW_HZ)
    powers = {f"tx{i}": (S.F0_HZ + 2 * i * S.STEP_HZ, noise_in_band_dbm + snr) for i, snr in enumerate(SNRS_DB)}
    (tmp_path / "run").mkdir()
    cases, opened, _ = S.run(tmp_path / "run", powers, REVISITS, seed=3)
    got: dict[str, list[str]] = {}
    stray = []
    for c in cases:
        tid = min(powers, key=lambda t: abs(powers[t][0] - c.center_hz))
        if abs(powers[tid][0] - c.center_hz) <= S.BW_HZ:
            got.setdefault(tid, []).append(c.klass.value)
        else:
            stray.append(f"{c.klass.value} at {c.center_hz / 1e6:.5f} MHz")
    assert not stray, f"false case(s): {stray}"
    for (tid, _), snr in zip(powers.items(), SNRS_DB):
        assert got.get(tid) == ["unlicensed"], f"{tid} at {snr:+.0f} dB in-band SNR: cases {got.get(tid)}"
    assert len(opened) == len(SNRS_DB)
