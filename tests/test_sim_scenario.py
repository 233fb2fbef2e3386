"""Scenario files of the simulator (station/sim/scenario.py): the default city, the format docs, bad files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from station.errors import DataError, UsageError
from station.receivers import open_receiver
from station.sim.scenario import (
    MODULATIONS,
    ReceiverModel,
    Transmitter,
    builtin_scenario_path,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
)
from station.sim.signals import GENERATORS
from tests.conftest import PROJECT_ROOT

MINIMAL = """
[[transmitters]]
id = "a"
frequency_hz = 100_000_000
modulation = "cw"
power_dbm = -60
"""

# the DESIGN.md table's "modulation" column -> scenario modulation
DESIGN_MODULATION = {"WBFM stereo": "wbfm", "WBFM": "wbfm", "AM voice": "am", "NBFM": "nbfm",
                     "4FSK (DMR-like)": "4fsk", "4FSK": "4fsk", "FM, 40 kHz wide": "nbfm", "OFDM-like": "ofdm",
                     "OOK key fob": "ook", "OOK sensor": "ook"}


def design_rows() -> list[list[str]]:
    text = (PROJECT_ROOT / "docs" / "DESIGN.md").read_text()
    section = text.split("## The simulated city", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and re.fullmatch(r"\d+\.\d+", cells[1]):
            rows.append(cells)
    return rows


def test_city_matches_the_design_table():
    city = load_scenario(builtin_scenario_path("city"))
    rows = design_rows()
    assert len(rows) == 23
    assert [r[0] for r in rows] == [tx.id for tx in city.transmitters]
    for tx_id, mhz, modulation, bw, dbm, on_air, _ in rows:
        tx = city.transmitter(tx_id)
        assert tx.frequency_hz == pytest.approx(float(mhz) * 1e6, abs=0.5), tx_id
        assert tx.modulation == DESIGN_MODULATION[modulation], tx_id
        assert tx.power_dbm == float(dbm), tx_id
        if on_air == "continuous":
            assert tx.continuous, tx_id
        elif on_air.endswith("%"):
            assert tx.duty_cycle == pytest.approx(float(on_air.rstrip(" %")) / 100), tx_id
        else:  # "20 ms bursts every 2 s"
            m = re.fullmatch(r"(\d+) ms bursts every (\d+) s", on_air)
            assert m, on_air
            assert tx.burst_s == pytest.approx(float(m[1]) / 1000) and tx.burst_period_s == float(m[2]), tx_id
        m = re.search(r"([\d.]+) (k|M)Hz", bw)
        nominal = float(m[1]) * (1e3 if m[2] == "k" else 1e6)
        assert tx.bandwidth_hz == pytest.approx(nominal, rel=0.05), tx_id
        assert abs(tx.latitude_deg - 21.0285) < 0.3 and abs(tx.longitude_deg - 105.8542) < 0.3, tx_id
    assert city.station_id == "hn-01"
    assert (city.latitude_deg, city.longitude_deg) == (21.0285, 105.8542)


def test_every_modulation_has_a_generator_and_docs_name_every_key():
    assert set(MODULATIONS) == set(GENERATORS)
    doc = (PROJECT_ROOT / "docs" / "SCENARIO.md").read_text()
    for key in list(ReceiverModel.__dataclass_fields__) + list(Transmitter.__dataclass_fields__):
        assert f"`{key}`" in doc, f"docs/SCENARIO.md does not document {key}"
    for name in MODULATIONS:
        assert f"`{name}`" in doc, f"docs/SCENARIO.md does not document modulation {name}"
    assert "city" in builtin_scenarios()


def test_minimal_scenario_takes_the_defaults():
    sc = parse_scenario(MINIMAL, where="mini.toml")
    assert sc.name == "mini" and sc.receiver == ReceiverModel()
    tx = sc.transmitters[0]
    assert (tx.frequency_hz, tx.bandwidth_hz, tx.continuous) == (100e6, 0.0, True)
    sc = parse_scenario(MINIMAL.replace("100_000_000", '"433.92M"'), where="mini.toml")
    assert sc.transmitters[0].frequency_hz == 433.92e6


def write(tmp_path: Path, text: str, name: str = "city.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


TX = '[[transmitters]]\nid = "t{i}"\nfrequency_hz = {f}\nmodulation = "nbfm"\npower_dbm = -70\n'
FOUR = "".join(TX.format(i=i, f=150_000_000 + i * 25_000) for i in range(4))


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (FOUR[: FOUR.rindex("power_dbm")] + 'power_dbm = "loud"\n', "transmitters[3].power_dbm",
         "must be a number, got 'loud'"),
        (FOUR[: FOUR.rindex("power_dbm")], "transmitters[3].power_dbm", "missing key"),
        (FOUR.replace('"nbfm"', '"qam64"'), "transmitters[0].modulation", "unknown modulation 'qam64'"),
        (FOUR.replace("150000000", "2000000000"), "transmitters[0].frequency_hz",
         "outside the simulated tuning range 24-1766 MHz"),
        (FOUR.replace("150000000", "12000000"), "transmitters[0].frequency_hz", "outside the simulated tuning"),
        (FOUR.replace('frequency_hz = 150000000', 'frequency_hz = "fast"'), "transmitters[0].frequency_hz",
         "cannot parse 'fast'"),
        (FOUR.replace('id = "t2"', 'id = "t1"'), "transmitters[2].id", "duplicate id 't1'"),
        (FOUR.replace("power_dbm = -70\n", "power_dbm = -70\npowr = 3\n", 1), "transmitters[0].powr", "unknown key"),
        (FOUR + "duty_cycle = 1.5\n", "transmitters[3].duty_cycle", "must be <= 1"),
        (FOUR + "duty_cycle = 0\n", "transmitters[3].duty_cycle", "must be > 0"),
        (FOUR + "burst_s = 0.1\n", "transmitters[3].burst_period_s", "missing key"),
        (FOUR + "burst_period_s = 1.0\nburst_s = 2.0\n", "transmitters[3].burst_s", "< burst_period_s"),
        (FOUR + "bandwidth_hz = 0\n", "transmitters[3].bandwidth_hz", "must be > 0"),
        (FOUR + "stereo = 1\n", "transmitters[3].stereo", "must be true or false"),
        ("[receiver]\nnoise_figure_db = \"low\"\n" + FOUR, "receiver.noise_figure_db", "must be a number"),
        ("[receiver]\ntuner = \"E4000\"\n" + FOUR, "receiver.tuner", "only the R820T"),
        ("[receiver]\nnoise_figuredb = 3\n" + FOUR, "receiver.noise_figuredb", "unknown key"),
        ("[receiver]\nrf_low_knee_hz = 900e6\nrf_high_knee_hz = 800e6\n" + FOUR, "receiver.rf_high_knee_hz",
         "must be >= rf_low_knee_hz"),
        ("[receiver]\nretune_junk_samples = 10.5\n" + FOUR, "receiver.retune_junk_samples", "whole number"),
        ("[scenario]\nname = 3\n" + FOUR, "scenario.name", "must be a string"),
        ("[scenario]\nname = \"x\"\n", "transmitters", "missing array"),
        ("transmitters = 3\n", "transmitters", "must be an array"),
        ("transmitters = [3]\n", "transmitters[0]", "must be a table"),
        ("[extra]\n" + FOUR, "extra", "unknown key"),
    ],
)
def test_malformed_scenario_names_file_and_key(tmp_path, text, key, fragment):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        load_scenario(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{key}: "), message
    assert fragment in message
    assert "\n" not in message
    # the same error comes out of the receiver URI, with the CLI's data-file exit code
    with pytest.raises(DataError) as err2:
        open_receiver(f"sim:{path}")
    assert str(err2.value) == message and err2.value.exit_code == 4


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    path = write(tmp_path, MINIMAL.replace('modulation = "cw"', "modulation = cw"))
    with pytest.raises(DataError) as err:
        load_scenario(path)
    assert re.match(rf"{re.escape(str(path))}:5:14: TOML syntax error: ", str(err.value)), str(err.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="scenario file not found"):
        open_receiver(f"sim:{tmp_path / 'nope.toml'}")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(DataError, match=r"bin\.toml: cannot read scenario file"):
        load_scenario(tmp_path / "bin.toml")
    with pytest.raises(DataError, match=r"sim://atlantis: no built-in scenario 'atlantis'; known: .*city"):
        open_receiver("sim://atlantis")


def test_bad_uri_options():
    with pytest.raises(UsageError, match="unknown sim receiver option"):
        open_receiver("sim://city", gain=3)
    with pytest.raises(UsageError, match="unknown sim URI parameter 'sed'"):
        open_receiver("sim://city?sed=3")
    with pytest.raises(UsageError, match="option seed must be an integer, got 'x'"):
        open_receiver("sim://city?seed=x")
    with pytest.raises(UsageError, match="names no scenario"):
        open_receiver("sim://")
    with pytest.raises(UsageError, match="settle_samples must be >= 0"):
        open_receiver("sim://city", settle_samples=-1)


def test_cli_reports_a_malformed_scenario_on_one_line_with_the_data_exit_code(tmp_path, capsys):
    from station.cli import main

    path = write(tmp_path, FOUR.replace("power_dbm = -70\n", 'power_dbm = "-70 dBm"\n', 1), name="town.toml")
    rc = main(["sweep", "--source", f"sim:{path}", "--band", "150M:151M"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 4
    assert err[-1] == (f"specmon sweep: error: {path}:transmitters[0].power_dbm: must be a number, "
                       f"got '-70 dBm'")


def test_noise_only_scenario(tmp_path):
    rx = open_receiver(f"sim:{write(tmp_path, 'transmitters = []')}", settle_samples=0)
    raw = rx.read_raw(4096)
    assert raw.dtype.name == "uint8" and raw.shape == (8192,) and rx.on_air(0.1) == []


def test_calibration_scenario_has_one_of_each_modulation_and_a_cw_ladder():
    cal = load_scenario(builtin_scenario_path("cal"))
    assert cal.receiver.ppm_error == 0.0
    assert {tx.modulation for tx in cal.transmitters} == set(MODULATIONS)
    ladder = [tx.power_dbm for tx in cal.transmitters if tx.modulation == "cw"]
    assert ladder == [-40.0, -60.0, -80.0, -100.0]
    assert builtin_scenarios() == ["cal", "city", "netcity", "siggen", "trap"]
