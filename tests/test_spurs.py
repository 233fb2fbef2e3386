"""Receiver spurs (issue 12): the simulator's baseband-fixed spurs and reference harmonics, the spur map learnt
from sweeps, persisted and shown, the LO-shift confirmation (a spur stays in baseband, a weak transmitter
moves) over sim:// and rtltcp://, and a file: source answering that it cannot retune."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from detectors.energy import EmissionDetector
from detectors.spurs import SpurMap, SpurParams, mark_spurs, reference_harmonics_hz
from station.receivers import open_receiver
from station.spurs import confirm_by_lo_shift, learn_by_dither, load_map, save_map

RATE = 2.4e6
SCENARIO = """
[receiver]
baseband_spurs_hz = ["312.5k", "-487.3k"]
baseband_spur_dbfs = -62
reference_spur_dbm = -100

[[transmitters]]
id = "weak"
frequency_hz = "145.2123M"
modulation = "cw"
power_dbm = -105
"""


@pytest.fixture
def spur_city(tmp_path) -> Path:
    p = tmp_path / "spurs.toml"
    p.write_text(SCENARIO)
    return p


def _rx(path):
    rx = open_receiver(f"sim:{path}")
    rx.set_sample_rate(RATE)
    rx.set_gain(30.0)
    return rx


def _sweep(rx, lo, hi, rbw=2000.0, dwell=0.05):
    from station.sweep import SweepPlan, prepare_receiver, sweep_band

    plan = SweepPlan.make([("b", lo, hi)], rbw, RATE, dwell, keep_frames=False)
    prepare_receiver(rx, plan)
    return sweep_band(rx, plan, plan.bands[0]).spectrum


def test_reference_harmonics():
    assert reference_harmonics_hz(140e6, 175e6) == pytest.approx((144e6, 172.8e6))
    with pytest.raises(ValueError):
        reference_harmonics_hz(1, 2, 0)


def test_spur_map_learnt_from_one_sweep_marks_the_spurs_and_not_the_transmitter(spur_city):
    rx = _rx(spur_city)
    sp = _sweep(rx, 140e6, 152e6)
    em = EmissionDetector().detect(sp)
    smap = SpurMap("sim@2400000", SpurParams())
    newly = smap.observe(em, sp.hop_centers_hz, sp.hop_edges_hz, sp.bin_hz)
    offs = sorted(s.offset_hz for s in newly)
    assert offs == pytest.approx([-487.3e3, 312.5e3], abs=sp.bin_hz)
    marked = mark_spurs(em, smap.offsets_hz(), sp.hop_centers_hz, sp.hop_edges_hz, sp.bin_hz,
                        fixed_hz=reference_harmonics_hz(sp.f_lo_hz, sp.f_hi_hz))
    weak = [e for e in marked if abs(e.peak_hz - 145.2123e6) < 2 * sp.bin_hz]
    assert len(weak) == 1 and not weak[0].artifact
    spurs = [e for e in marked if e.artifact and e.artifact_reason.startswith("spur:")]
    assert len(spurs) >= sp.hop_centers_hz.size  # two per hop, each found in most hops
    assert any("reference" in e.artifact_reason for e in spurs)  # 144.0 MHz = 5 x 28.8 MHz


def test_spur_map_persists_in_the_state_store(tmp_path):
    from station.pipeline.outputs import StateStore

    st = StateStore(tmp_path / "s.db")
    m = SpurMap("rtlsdr serial 0001@2400000")
    m.add(312.5e3, 9.0, "dither")
    save_map(st, m)
    back = load_map(st, m.key)
    assert back.offsets_hz() == pytest.approx((312.5e3,))
    assert back.spurs()[0].how == "dither"
    with pytest.raises(ValueError, match="malformed|version"):
        SpurMap.from_state({"version": 1, "key": "x"})


def _confirm(rx, rf_hz, hop):
    return confirm_by_lo_shift(rx, rf_hz=rf_hz, hop_center_hz=hop, bandwidth_hz=500.0, sample_rate_hz=RATE,
                               nfft=2048, dwell_s=0.1)


def test_lo_shift_rejects_a_spur_and_confirms_a_weak_transmitter(spur_city):
    rx = _rx(spur_city)
    hop = 145.0e6
    spur = _confirm(rx, hop + 312.5e3, hop)
    assert spur.verdict == "spur", spur.detail
    tx = _confirm(rx, 145.2123e6, hop)
    assert tx.verdict == "transmitter", tx.detail
    assert abs(spur.shift_hz / (RATE / 2048)) % 1.0 == pytest.approx(0.5)  # a non-integer number of bins


def test_lo_shift_works_over_rtltcp(spur_city):
    from station.rtltcp_server import RtlTcpServer

    sim = _rx(spur_city)
    server = RtlTcpServer(sim, port=0, pace=False)
    server.bind()
    thread = threading.Thread(target=server.serve_forever, kwargs={"max_clients": 1}, daemon=True)
    thread.start()
    try:
        rx = open_receiver(f"rtltcp://127.0.0.1:{server.port}")
        rx.set_sample_rate(RATE)
        rx.set_gain(29.7)
        try:
            assert _confirm(rx, 145.0e6 - 487.3e3, 145.0e6).verdict == "spur"
            assert _confirm(rx, 145.2123e6, 145.0e6).verdict == "transmitter"
        finally:
            rx.close()
    finally:
        server.shutdown()
        thread.join(5)


def test_file_source_says_it_cannot_retune(tmp_path):
    f = tmp_path / "x.cu8"
    f.write_bytes(np.full(2 * 65536, 128, np.uint8).tobytes())
    rx = open_receiver(f"file:{f}", rate="2.4M", freq="145M")
    c = _confirm(rx, 145.1e6, 145e6)
    assert c.verdict == "unconfirmable" and "cannot retune" in c.detail


def test_dither_learns_the_baseband_spurs_only(spur_city):
    rx = _rx(spur_city)
    m = SpurMap("sim@2400000")
    added = learn_by_dither(rx, m, center_hz=145.1e6, sample_rate_hz=RATE, nfft=2048, n_shifts=4, dwell_s=0.1)
    offs = sorted(s.offset_hz for s in added)
    assert offs == pytest.approx([-487.3e3, 312.5e3], abs=2 * RATE / 2048)


def test_spurs_learn_and_show_commands(spur_city, tmp_path, capsys):
    from station.cli import main

    db = tmp_path / "st.db"
    assert main(["spurs", "learn", "--source", f"sim:{spur_city}", "--center-freq", "145.1M", "--db", str(db),
                 "--shifts", "3", "--dwell", "0.1", "--gain", "30"]) == 0
    assert main(["spurs", "show", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "+312." in out and "-487." in out and "dither" in out
    assert main(["spurs", "show"]) == 2


def test_detect_marks_the_spurs_of_a_given_spur_map(spur_city, tmp_path, capsys):
    """`specmon spurs show --json` feeds `specmon detect --spur-map`: in a single-tuning recording of the same
    receiver the lines at the map's baseband offsets are 'spur' artifacts; without the map they are lines that
    one tuning cannot tell from a carrier (a note says so), never silently dropped."""
    import json

    from station.cli import main

    db = tmp_path / "st.db"
    assert main(["spurs", "learn", "--source", f"sim:{spur_city}", "--center-freq", "145.1M", "--db", str(db),
                 "--shifts", "3", "--dwell", "0.1", "--gain", "30"]) == 0
    capsys.readouterr()
    assert main(["spurs", "show", "--db", str(db), "--json"]) == 0
    maps = tmp_path / "spurs.json"
    maps.write_text(capsys.readouterr().out)
    rx = _rx(spur_city)
    rx.set_center_freq(145.0e6)
    iq = rx.read(int(0.2 * RATE)).astype(np.complex64)
    rx.close()
    rec = tmp_path / "cap_145M_2400k.cf32"
    iq.tofile(rec)

    def rows(*extra):
        assert main(["detect", str(rec), "--json", "--keep-artifacts", *extra]) == 0
        return json.loads(capsys.readouterr().out)["emissions"]

    def near(rs, off_hz):
        return [r for r in rs if abs(r["center_hz"] - 145.0e6 - off_hz) < 2e3]

    plain = rows()
    for off in (312.5e3, -487.3e3):
        (r,) = near(plain, off)
        assert not r["artifact"] and "receiver spur" in r["note"]
    mapped = rows("--spur-map", str(maps))
    for off in (312.5e3, -487.3e3):
        (r,) = near(mapped, off)
        assert r["artifact"] and r["artifact_reason"].startswith("spur: receiver spur at baseband")
    assert main(["detect", str(rec), "--spur-map", str(tmp_path / "none.json")]) == 2
    assert "cannot read the spur map" in capsys.readouterr().err
