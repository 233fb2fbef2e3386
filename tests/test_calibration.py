"""Calibration profiles, calibrated levels and `specmon calibrate` on the simulated signal generator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from detectors.uncertainty import Budget
from station.calibration import LevelContext, antenna_level, field_strength_dbuv_m, load_profile, nominal_profile
from station.calibration.procedure import Reference, calibrate, merge_profiles
from station.calibration.profile import OUTSIDE_U_DB
from station.cli import main
from station.errors import DataError
from station.receivers.sim import SimReceiver
from station.sim.engine import R820T_GAINS_DB
from station.sim.response import frontend_response_db, rf_response_db
from station.sim.scenario import ReceiverModel


def true_conversion_db(model: ReceiverModel, frequency_hz: float, gain_db: float, offset_hz: float = 0.0,
                       rate_hz: float = 2.4e6) -> float:
    """The simulator's documented level model (docs/SCENARIO.md): level_dbfs - power_dbm."""
    return (gain_db - model.fullscale_dbm + rf_response_db(frequency_hz, model)
            + float(frontend_response_db(offset_hz, rate_hz, model)))


# ---- the nominal profile --------------------------------------------------------------------------------
def test_nominal_profile_is_marked_nominal_and_covers_the_default_dongle():
    prof = nominal_profile()
    assert prof.status == "nominal" and prof.date is None
    assert prof.label() == "nominal (uncalibrated)"
    assert tuple(prof.gains_db) == R820T_GAINS_DB
    model = ReceiverModel()  # the simulator's default dongle: a typical R820T
    for f in (30e6, 88e6, 145e6, 433e6, 1090e6, 1450e6, 1700e6):
        for g in (0.0, 12.5, 29.7, 49.6):
            c = prof.conversion(f, g)
            assert c.status == "nominal"
            assert abs(c.conversion_db - true_conversion_db(model, f, g)) < 2 * c.u_db
            assert c.u_db >= 2.5


def test_profile_lookup_interpolates_and_widens_outside():
    prof = nominal_profile()
    on_node = prof.conversion(400e6, 29.7)
    assert on_node.conversion_db == pytest.approx(39.7) and on_node.u_db == pytest.approx(2.5)
    between = prof.conversion(400e6, 30.5)  # between 29.7 and 32.8: labels' difference applies
    assert between.conversion_db == pytest.approx(40.5, abs=1e-6)
    beyond = prof.conversion(400e6, 60.0)  # above the last gain step
    assert beyond.conversion_db == pytest.approx(49.6 + 10 + 10.4) and beyond.u_db >= OUTSIDE_U_DB
    with pytest.raises(ValueError):
        prof.conversion(400e6, math.nan)


def test_antenna_level_and_field_strength():
    prof = nominal_profile()
    lvl = antenna_level(-30.3, 150e6, 29.7, prof, budget=Budget(0.3), antenna_factor_db_m=12.0, antenna_factor_u_db=1.0)
    assert lvl.power_dbm == pytest.approx(-70.0)
    assert lvl.u95_db == pytest.approx(2 * math.hypot(2.5, 0.3), rel=0.05)  # 150 MHz: between nodes
    assert lvl.field_dbuv_m == pytest.approx(-70.0 + 107.0 + 12.0)
    assert lvl.field_u95_db == pytest.approx(2 * math.hypot(lvl.u95_db / 2, 1.0))
    assert lvl.calibration == "nominal (uncalibrated)" and "dBm" in lvl.describe()
    assert field_strength_dbuv_m(-107.0, 0.0) == pytest.approx(0.0)  # 1 uV across 50 ohm is ~ -107 dBm
    auto = antenna_level(-30.3, 150e6, None, prof)
    assert auto.power_dbm is None and auto.status == "unknown_gain" and "automatic gain" in auto.describe()


def test_level_context_adds_calibration_to_the_measurement_budget():
    ctx = LevelContext(nominal_profile(), 29.7, antenna_factor_db_m=20.0)
    lvl = ctx.level(-40.0, 400e6, budget=Budget(random=0.4, systematic=0.0))
    assert lvl.power_dbm == pytest.approx(-79.7)
    assert lvl.u95_db == pytest.approx(2 * math.hypot(0.4, 2.5))
    assert lvl.field_dbuv_m == pytest.approx(-79.7 + 127.0)
    assert LevelContext(nominal_profile(), None).level(-40.0, 400e6).power_dbm is None


# ---- profile files --------------------------------------------------------------------------------------
def test_profile_file_errors_name_the_file_and_key(tmp_path):
    good = nominal_profile().to_json()
    p = tmp_path / "cal.json"
    p.write_text("{\n \"format\": \"specmon-calibration/1\",\n oops\n}")
    with pytest.raises(DataError, match=r"cal\.json:3:2: JSON syntax error"):
        load_profile(p)
    p.write_text(json.dumps({**good, "status": "calibrated"}))
    with pytest.raises(DataError, match=r"cal\.json:date: a calibrated profile needs its date"):
        load_profile(p)
    p.write_text(json.dumps({**good, "u_db": good["u_db"][:-1]}))
    with pytest.raises(DataError, match=r"cal\.json:u_db: must be 29 rows"):
        load_profile(p)
    bad = json.loads(json.dumps(good))
    bad["conversion_db"][3][2] = "loud"
    p.write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"cal\.json:conversion_db\[3\]\[2\]: must be a number or null"):
        load_profile(p)
    with pytest.raises(DataError, match="not found"):
        load_profile(tmp_path / "missing.json")


# ---- calibration against the simulated signal generator ------------------------------------------------
GAINS = (0.0, 12.5, 29.7, 40.2, 49.6)
FREQS = (60e6, 400e6, 1500e6)


@pytest.fixture(scope="module")
def siggen_calibration():
    rx = SimReceiver.from_uri("sim://siggen")
    prof, readings = calibrate(rx, Reference(-60.0, FREQS, u_db=0.2, description="sim comb"), GAINS,
                               duration_s=0.1)
    return rx.scenario.receiver, rx.sample_rate_hz, prof, readings


def test_calibration_recovers_the_simulators_true_gain(siggen_calibration):
    model, rate, prof, readings = siggen_calibration
    assert prof.status == "calibrated" and prof.label().startswith("calibrated on ")
    accepted = [r for r in readings if r.accepted]
    assert len(accepted) >= 10
    nominal = nominal_profile()
    worst_nominal = 0.0
    for r in accepted:
        truth = true_conversion_db(model, r.frequency_hz, r.gain_db, rate / 8, rate)
        c = prof.conversion(r.frequency_hz, r.gain_db)
        assert c.status == "calibrated"
        assert abs(c.conversion_db - truth) <= 2 * c.u_db, (r, truth, c)
        worst_nominal = max(worst_nominal, abs(nominal.conversion(r.frequency_hz, r.gain_db).conversion_db - truth))
    assert worst_nominal > 3.0  # this dongle is off nominal: the calibration mattered
    # clipped (high gain) and weak (low gain at 1.5 GHz) readings are refused, never entered
    refused = [r for r in readings if not r.accepted]
    assert any("clipping" in r.why for r in refused)
    for r in refused:
        i = list(prof.gains_db).index(r.gain_db)
        assert math.isnan(prof.conversion_db[i, list(prof.frequencies_hz).index(r.frequency_hz)])


def test_calibrated_levels_cover_truth_between_nodes(siggen_calibration):
    model, rate, prof, _ = siggen_calibration
    # between measured frequencies the interpolation term must cover the RF roll-off's curvature
    for f in (150e6, 250e6, 700e6, 900e6):
        for g in (12.5, 29.7, 35.0):
            c = prof.conversion(f, g)
            assert abs(c.conversion_db - true_conversion_db(model, f, g)) <= 2 * c.u_db, (f, g, c)


def test_saved_profile_round_trips_and_merges(siggen_calibration, tmp_path):
    _, _, prof, _ = siggen_calibration
    path = prof.save(tmp_path / "cal.json")
    back = load_profile(path)
    assert back.label() == prof.label()
    assert np.allclose(back.conversion_db, prof.conversion_db, equal_nan=True, atol=1e-3)
    rx = SimReceiver.from_uri("sim://siggen")
    more, _ = calibrate(rx, Reference(-60.0, (150e6,), u_db=0.2), (20.7,), duration_s=0.05)
    merged = merge_profiles(back, more)
    assert 150e6 in merged.frequencies_hz and 20.7 in merged.gains_db
    assert merged.conversion(400e6, 29.7).conversion_db == pytest.approx(prof.conversion(400e6, 29.7).conversion_db,
                                                                          abs=1e-3)


def test_specmon_calibrate_cli_writes_a_profile(tmp_path, capsys):
    out = tmp_path / "station-cal.json"
    rc = main(["calibrate", "--source", "sim://siggen", "--generator-dbm", "-60", "--generator-u-db", "0.2",
               "--frequencies", "400M", "--gains", "0,29.7,49.6", "--duration", "0.05", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "refused: clipping" in text and "calibrated on" in text and "[receiver] calibration" in text
    prof = load_profile(out)
    assert prof.status == "calibrated" and prof.gains_db.tolist() == [0.0, 29.7, 49.6]
    assert np.isnan(prof.conversion_db[2, 0]) and not np.isnan(prof.conversion_db[1, 0])


def test_specmon_calibrate_refuses_a_level_that_clips_everywhere(tmp_path, capsys):
    rc = main(["calibrate", "--source", "sim://siggen", "--generator-dbm", "-60", "--frequencies", "400M",
               "--gains", "49.6", "--duration", "0.05", "--out", str(tmp_path / "x.json")])
    assert rc == 1 and "no frequency/gain could be measured" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_emission_and_violation_points_carry_calibrated_levels():
    from datetime import UTC, datetime

    from detectors.records import Emission
    from detectors.uncertainty import MeasurementSettings
    from station.compliance.records import ComplianceClass, ComplianceResult
    from station.outputs.points import PointContext, ViolationObservation, emission_points, violation_points
    from station.outputs.vocabulary import check_point

    t = datetime(2026, 3, 1, tzinfo=UTC)
    e = Emission(center_hz=150.125e6, peak_hz=150.125e6, f_lo_hz=150.12e6, f_hi_hz=150.13e6, bandwidth_hz=11e3,
                 xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=-40.3, peak_dbfs=-42.0, snr_db=30.0,
                 noise_dbfs_hz=-110.0, occupancy=1.0, first_seen=t, last_seen=t)
    settings = MeasurementSettings(bin_hz=2343.75, rbw_hz=3515.6, window="hann", nfft=1024, overlap=0.5, n_frames=40)
    levels = LevelContext(nominal_profile(), 29.7, antenna_factor_db_m=10.0, settings=settings)
    ctx = PointContext("hn-01", "vhf", 3515.6, 1024, 0.1, levels)
    (p,) = emission_points([e], ctx, t)
    check_point(p)
    assert p.fields["power_dbm"] == pytest.approx(-80.0)
    assert p.fields["power_dbm_u95"] > 2 * 2.5  # calibration (nominal) + the observation's own budget
    assert p.fields["field_dbuv_m"] == pytest.approx(-80.0 + 117.0)
    assert p.fields["level_calibration"] == "nominal" and p.fields["gain_db"] == 29.7
    r = ComplianceResult(e, ComplianceClass.UNLICENSED, (), "no licence")
    (v,) = violation_points([ViolationObservation(r, "case-1", "new")], ctx, t)
    check_point(v)
    assert v.fields["power_dbm"] == p.fields["power_dbm"]
    auto = PointContext("hn-01", "vhf", 3515.6, 1024, 0.1, LevelContext(nominal_profile(), None))
    assert "power_dbm" not in emission_points([e], auto, t)[0].fields


def test_config_names_a_bad_calibration_profile_and_band_antenna_factor(tmp_path):
    from station.config import parse_config
    from station.errors import ConfigError

    bad = tmp_path / "cal.json"
    bad.write_text("{}")
    base = ('[station]\nid = "x"\nlatitude = 1\nlongitude = 2\n[receiver]\nuri = "sim://city"\ngain = 29.7\n'
            'calibration = "cal.json"\n[[bands]]\nname = "vhf"\nf_lo = "144M"\nf_hi = "146M"\n')
    tail = '[store]\ndata_dir = "d"\n'

    with pytest.raises(ConfigError, match=r"receiver\.calibration: calibration profile: .*cal\.json:format"):
        parse_config(base + tail, source="st.toml", base_dir=tmp_path)
    nominal_profile().save(bad)
    cfg = parse_config(base + "antenna_factor_db_m = 12.5\n" + tail, source="st.toml", base_dir=tmp_path)
    assert cfg.receivers[0].calibration == bad and cfg.bands[0].antenna_factor_db_m == 12.5
    with pytest.raises(ConfigError, match="antenna_factor_db_m"):
        parse_config(base + "antenna_factor_db_m = 500\n" + tail, source="st.toml", base_dir=tmp_path)
