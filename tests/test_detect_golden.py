"""Golden tests: real recordings through ``specmon detect``'s path, compared with the expected emissions in
tests/golden/*.json (each checked once by eye against a spectrum plot; see its ``eye_check``).

Emissions with an SNR of at least 6 dB must match one to one (centre, 99 % bandwidth, power, occupancy,
artifact); weaker ones (spectral lines near the threshold) are compared by count only, loosely, so the test
does not depend on the last digit of a floating-point sum.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import shared_file

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))


def test_there_are_golden_files():
    assert len(CASES) >= 8


@pytest.mark.parametrize("stem", CASES)
def test_recording_matches_golden(stem):
    from tests.golden.make_golden import detect, rows_of

    doc = json.loads((GOLDEN / f"{stem}.json").read_text())
    assert "TODO" not in doc["eye_check"]
    shared_file(doc["recording"])
    sp, _det, em = detect(Path(doc["recording"]).name)
    assert sp.nfft == doc["nfft"]
    got = rows_of(em)
    strong_want = [e for e in doc["emissions"] if e["snr_db"] >= 6.0]
    strong_got = [e for e in got if e["snr_db"] >= 6.0]
    bin_hz = sp.bin_hz
    for w in strong_want:
        match = [g for g in strong_got if abs(g["center_hz"] - w["center_hz"]) <= 2 * bin_hz + 0.02 * w["bandwidth_hz"]]
        assert match, f"{stem}: expected emission at {w['center_hz'] / 1e6:.6f} MHz not found"
        g = match[0]
        assert g["bandwidth_hz"] == pytest.approx(w["bandwidth_hz"], abs=2 * bin_hz, rel=0.1)
        assert g["power_dbfs"] == pytest.approx(w["power_dbfs"], abs=1.0)
        assert g["occupancy"] == pytest.approx(w["occupancy"], abs=0.05)
        assert g["artifact_reason"] == w["artifact_reason"]
    assert len(strong_got) == len(strong_want), [round(g["center_hz"]) for g in strong_got]
    n_want = len(doc["emissions"])
    assert abs(len(got) - n_want) <= max(2, 0.3 * n_want)


def test_noise_only_capture_gives_no_emission():
    """The owl-cm160 capture holds no burst and no line: nothing at all may be reported, artifacts included."""
    from tests.golden.make_golden import detect

    shared_file("iq/rtl433t_owl-cm160_noburst_433.92M_250k.cu8")
    _sp, _det, em = detect("rtl433t_owl-cm160_noburst_433.92M_250k.cu8")
    assert em == []
