"""Register files: the canonical CSV/JSON loaders, every bad row reported with file:line:column, round trips,
the built-in demo register and exempt bands, the importers on the real registers in ../shared/data."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from station.errors import DataError
from station.compliance.register import (
    COLUMNS,
    ImportOptions,
    builtin_path,
    import_register,
    load_exempt_bands,
    load_exempt_bands_strict,
    load_register,
    load_register_csv,
    load_register_json,
    write_register_csv,
    write_register_json,
)
from tests.conftest import shared_file

FIXTURE = Path(__file__).parent / "data" / "register_with_bad_rows.csv"


def _problems(reg):
    name = Path(reg.path).name
    return [str(p).split(name + ":", 1)[1] for p in reg.problems]


def test_fixture_reports_every_bad_row_with_line_and_column():
    reg = load_register_csv(FIXTURE)
    assert _problems(reg) == [
        "304:43: frequency_mhz: 'abc' is not a number",
        "305:50: designator: emission designator '16X0F3E': character 3 'X' is not a digit or a unit letter H, K, "
        "M, G in the bandwidth",
        "306:45: frequency_mhz: is empty: give frequency_mhz, or lower_mhz and upper_mhz",
        "307:65: latitude: '95.5' is above 90",
        "308:101: valid_to: 2022-12-31 is before valid_from 2027-01-01",
        "310:113: status: 'revoked' is not one of current, expired, cancelled, suspended, pending",
        "313:52: upper_mhz: lower_mhz and upper_mhz must be given together",
        "314:121: row has 20 fields but the header has 19",
        "315:1: licence: is empty (every assignment needs a licence number)",
        "316:43: frequency_mhz: '-152.0' must be positive",
        "316:112: status: 'gone' is not one of current, expired, cancelled, suspended, pending",
        "317:52: designator: no bandwidth: give a designator with bandwidth (e.g. 16K0F3E) or channel_khz "
        "(or bandwidth_basis 'unknown' with a tolerance: frequency licensed, bandwidth not judged)",
    ]
    # nothing disappears: every data row is either loaded or named in a problem
    assert reg.rows_read == 343
    assert len(reg.assignments) == 332
    assert reg.bad_rows == 11
    assert len(reg.assignments) + reg.bad_rows == reg.rows_read
    licences = {a.licence for a in reg.assignments}
    assert not any(x.startswith("BAD-") for x in licences)
    quoted = next(a for a in reg.assignments if a.licence == "VALID-QUOTED-6")
    assert quoted.licensee == 'Nguyễn Văn An, Hanoi "Taxi"' and quoted.source.endswith(":309")
    multi = next(a for a in reg.assignments if a.licence == "VALID-MULTILINE-8")
    assert multi.licensee == "Công ty TNHH\nHai Dòng" and multi.source.endswith(":311")
    assert reg.assignments[-1].source.endswith(":347")  # line numbers stay right after a multi-line record
    with pytest.raises(DataError, match=r"register_with_bad_rows.csv:304:43: frequency_mhz: 'abc' is not a number "
                                        r"\(and 11 more problems in 11 bad rows\)"):
        reg.raise_for_errors()


def test_demo_register_is_clean_realistic_and_matches_the_city():
    reg = load_register(builtin_path("demo_register.csv"))
    assert reg.problems == ()
    assert len(reg.assignments) >= 400
    services = reg.counts()["service"]
    assert len(services) >= 8 and services["land mobile"] > 100
    by_licence = {a.licence: a for a in reg.assignments}
    vov1 = by_licence["BC-VOV1-0090"]
    assert vov1.center_hz == 90e6 and vov1.designator == "180KF8EHF" and vov1.necessary_bandwidth_hz == 180e3
    off = by_licence["LM-PORT-453037"]
    assert off.center_hz == pytest.approx(453.0375e6) and off.frequency_tolerance_hz == 2500
    assert by_licence["LM-CONS-158200"].valid_to == datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    assert by_licence["LM-HOSP-457600"].valid_from == datetime(2027, 6, 1, tzinfo=timezone.utc)
    assert any(a.block for a in reg.assignments)  # TV / cellular block assignments
    assert any(not a.has_site for a in reg.assignments)  # nationwide licences


def test_builtin_exempt_bands():
    bands = load_exempt_bands_strict()
    names = {b.name: b for b in bands}
    assert names["ISM 433"].f_lo_hz == 433.05e6 and names["ISM 433"].f_hi_hz == 434.79e6
    assert names["PMR446"].f_lo_hz == 446.0e6 and names["PMR446"].f_hi_hz == 446.2e6
    assert names["SRD 868"].f_lo_hz == 868e6
    assert names["Amateur 2 m"].f_hi_hz == 146e6 and names["Amateur 70 cm"].f_lo_hz == 430e6
    assert names["CB 27 MHz"].max_bandwidth_hz == 10e3


def test_exempt_band_errors(tmp_path):
    p = tmp_path / "exempt.csv"
    p.write_text("name,lower_mhz,upper_mhz,max_bandwidth_khz\nA,433.05,434.79,\nB,446.2,446.0,\n,1,x,\n")
    bands, problems = load_exempt_bands(p)
    assert [b.name for b in bands] == ["A"]
    assert [str(x).split("exempt.csv:")[1] for x in problems] == [
        "3:9: upper_mhz: 446 must be above lower_mhz 446.2",
        "4:1: name: is empty",
        "4:4: upper_mhz: 'x' is not a number",
    ]
    with pytest.raises(DataError, match="exempt.csv:3:9"):
        load_exempt_bands_strict(p)


def test_csv_round_trip_and_json_round_trip(tmp_path):
    reg = load_register(builtin_path("demo_register.csv"))
    out_csv = tmp_path / "r.csv"
    out_json = tmp_path / "r.json"
    assert write_register_csv(reg.assignments, out_csv) == len(reg.assignments)
    assert write_register_json(reg.assignments, out_json) == len(reg.assignments)
    for path in (out_csv, out_json):
        back = load_register(path)
        assert back.problems == ()
        assert len(back.assignments) == len(reg.assignments)
        for a, b in zip(reg.assignments, back.assignments):
            assert (a.licence, a.licensee, a.service, a.block, a.designator, a.status) == (
                b.licence, b.licensee, b.service, b.block, b.designator, b.status)
            assert a.center_hz == pytest.approx(b.center_hz, abs=1e-3)
            assert a.bandwidth_hz == pytest.approx(b.bandwidth_hz)
            assert a.frequency_tolerance_hz == pytest.approx(b.frequency_tolerance_hz)
            assert (a.valid_from, a.valid_to) == (b.valid_from, b.valid_to)
            assert (a.latitude_deg, a.longitude_deg, a.radius_m) == (b.latitude_deg, b.longitude_deg, b.radius_m)


def test_json_problems_carry_line_and_column(tmp_path):
    p = tmp_path / "reg.json"
    p.write_text(
        '{"format": "specmon-register", "version": 1, "assignments": [\n'
        '  {"licence": "A-1", "frequency_mhz": 150.125, "designator": "11K0F3E"},\n'
        '  {"licence": "A-2", "frequency_mhz": "x", "designator": "11K0F3E"},\n'
        '  {"licence": "A-3", "frequency_mhz": 151, "designator": "11K0F3E", "colour": "red"},\n'
        '  [1, 2],\n'
        '  {"licence": "A-5", "frequency_mhz": 152, "designator": "11K0F3E", "latitude": true}\n'
        "]}\n"
    )
    reg = load_register_json(p)
    assert [a.licence for a in reg.assignments] == ["A-1", "A-3"]
    assert [str(x).split("reg.json:")[1] for x in reg.problems] == [
        "3:22: frequency_mhz: 'x' is not a number",
        "4:69: warning: unknown key 'colour' ignored",
        "5:3: assignment is a JSON list, not an object",
        "6:69: latitude: True is a boolean, expected a number or text",
    ]
    assert reg.rows_read == 5


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"format": "other", "assignments": []}', r"reg.json:1:2: format is 'other'"),
        ('{"assignments": [ {"licence": "A"} ', r"reg.json:1:\d+: malformed JSON"),
        ('{"rows": []}', r"reg.json:1:1: top-level object has no 'assignments' array"),
    ],
)
def test_json_whole_file_errors(tmp_path, text, message):
    p = tmp_path / "reg.json"
    p.write_text(text)
    with pytest.raises(DataError, match=message):
        load_register_json(p)


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match=r"missing.csv: file not found"):
        load_register(tmp_path / "missing.csv")
    p = tmp_path / "nohead.csv"
    p.write_text("frequency_mhz,designator\n150,11K0F3E\n")
    with pytest.raises(DataError, match=r"nohead.csv:1:1: header has no 'licence' column"):
        load_register(p)
    p = tmp_path / "latin1.csv"
    p.write_bytes(b"licence,licensee\nA,Nguy\xe9n\n")
    with pytest.raises(DataError, match=r"latin1.csv:2: not UTF-8"):
        load_register(p)
    p = tmp_path / "typo.csv"
    p.write_text("licence,frequncy_mhz,designator\nA,150,11K0F3E\n")
    reg = load_register(p)
    assert [str(x).split("typo.csv:")[1] for x in reg.problems] == [
        "1:9: warning: unknown column 'frequncy_mhz' ignored",
        "2:1: frequency_mhz: is empty: give frequency_mhz, or lower_mhz and upper_mhz",
    ]


def test_duplicate_rows_are_warned_not_dropped(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("licence,frequency_mhz,designator\nA,150,11K0F3E\nA,150,11K0F3E\n")
    reg = load_register(p)
    assert len(reg.assignments) == 2
    assert [str(x).partition("dup.csv:")[2] for x in reg.problems] == [
        f"3:1: warning: licence A at 150.000000 MHz repeats {p}:2"
    ]


def test_block_and_ppm_assignment(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("licence,lower_mhz,upper_mhz,tolerance_ppm,valid_to\nMB-1,935.1,943.1,0.05,2030-01-01T12:00:00Z\n")
    (a,) = load_register(p).assignments
    assert a.block and a.center_hz == pytest.approx(939.1e6) and a.bandwidth_hz == pytest.approx(8e6)
    assert a.frequency_tolerance_hz == pytest.approx(939.1 * 0.05)
    assert a.valid_to == datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
    assert a.latitude_deg is None and a.has_site is False


# ---- importers on the real registers ---------------------------------------------------------------------
def test_import_nz_rsm_pages():
    pages = [shared_file(f"register/nz_rsm_rrf_api_page{n}.json") for n in ("01", "02", "40", "83")]
    reg = import_register(pages, "nz-rsm")
    raw = sum(len(json.loads(p.read_text())["items"]) for p in pages)
    assert reg.rows_read == raw == 3345
    assert len(reg.assignments) + reg.bad_rows + sum(reg.skipped.values()) == raw
    assert reg.errors == ()  # 637500 MHz (a general user licence above 275 GHz) is a valid frequency...
    # ...but names no category of station, so it gets no tolerance: flagged and left out, not an error
    assert not any(a.center_hz == 637500e6 for a in reg.assignments)
    placeholders = [w for w in reg.warnings if "0 0 is a placeholder" in w.message]
    assert placeholders and all(w.message.startswith("gridReference:") for w in placeholders)
    first = reg.assignments[0]
    assert first.licence == "NZ-252402" and first.center_hz == pytest.approx(477.65625e6)
    assert first.station_name == "ALL NORTH ISLAND [FNX419]" and not first.has_site
    with_site = [a for a in reg.assignments if a.has_site]
    assert len(with_site) > 1300
    in_nz = [a for a in with_site if -48 < a.latitude_deg < -34 and 165 < a.longitude_deg < 179]
    chatham = [a for a in with_site if -45 < a.latitude_deg < -43 and -177 < a.longitude_deg < -176]
    assert len(with_site) - len(in_nz) - len(chatham) <= 3  # the real register has a few sign slips
    # the API gives no bandwidth: no 12.5 kHz default any more (tests/test_register_import_bandwidth.py)
    assert all(a.bandwidth_unknown and a.channel_width_hz is None for a in reg.assignments)


def test_import_nz_rsm_reports_bad_items(tmp_path):
    p = tmp_path / "page.json"
    p.write_text(json.dumps({"items": [
        {"licenceNumber": 1, "licensee": "A", "frequency": 150.1, "gridRefDefault": "LAT_LONG_NZGD2000_D2000",
         "gridReference": "-41.1 174.8", "licenceType": "Land Simplex", "status": "Current", "txrx": "TX"},
        {"licenceNumber": 2, "licensee": "B", "frequency": "x", "status": "Current", "txrx": "TX"},
        {"licenceNumber": 3, "licensee": "C", "frequency": 151.0, "gridRefDefault": "NZMG",
         "gridReference": "2667000 6000000", "status": "Current", "txrx": "TX"},
        {"licenceNumber": 4, "licensee": "D", "frequency": 152.0, "status": "Current", "txrx": "RX"},
    ]}, indent=1))
    reg = import_register([p], "nz-rsm")
    assert [a.licence for a in reg.assignments] == ["NZ-1"]
    assert reg.skipped == {"receive-only (txrx RX)": 1}
    assert [w.message for w in reg.warnings] == [
        "bandwidth unknown (the NZ RSM API item has no emission designator or bandwidth field): imported as "
        "licensed frequency, bandwidth not judged"]
    msgs = [str(x).split("page.json:")[1] for x in reg.errors]
    assert msgs[0].startswith("16:") and "frequency: 'x' is not a frequency in MHz" in msgs[0]
    assert "gridReference: grid reference system 'NZMG' is not latitude/longitude" in msgs[1]


def test_import_acma_with_sites():
    sites = shared_file("register/acma_rrl_sites_tasmania.csv")
    freqs = shared_file("register/acma_rrl_frequencies_tasmania.csv")
    reg = import_register([freqs], "acma", ImportOptions(sites=sites))
    assert reg.rows_read == 367 and reg.errors == ()
    a = reg.assignments[0]
    assert a.licence == "ACMA-1416198" and a.center_hz == pytest.approx(865.7625e6)
    mobiles = [x for x in reg.assignments if x.station_name.startswith("mobiles of")]
    assert mobiles and mobiles[0].center_hz == pytest.approx(820.7625e6)
    located = [x for x in reg.assignments if x.has_site]
    assert located and all(-44 < x.latitude_deg < -39 for x in located)
    # every row is accounted for: loaded (1 or 2 assignments), skipped, or reported
    assert reg.rows_read == len({x.source for x in reg.assignments}) + reg.bad_rows


def test_import_acma_800mhz_bandwidth_column():
    reg = import_register([shared_file("register/acma_rrl_800MHz_assignments_tasmania.csv")], "acma")
    assert reg.rows_read == 645 and reg.errors == ()
    assert len(reg.warnings) == 29 and all(w.message == "site_id: is empty: imported without coordinates" for w in reg.warnings)
    assert reg.assignments[0].channel_width_hz == 200e3
    assert reg.assignments[1].channel_width_hz == 12.5e3


def test_import_ourairports_reports_zero_frequency_rows():
    reg = import_register([shared_file("register/ourairports_airport-frequencies.csv")], "ourairports")
    assert reg.rows_read == 29138
    assert len(reg.assignments) + reg.bad_rows + sum(reg.skipped.values()) == reg.rows_read
    assert reg.bad_rows > 0
    assert {p.message for p in reg.errors} <= {"frequency_mhz: '0' must be positive", "frequency_mhz: '0.0' must be positive"}
    twr = [a for a in reg.assignments if a.service == "aeronautical TWR"]
    assert len(twr) > 3000
    first = reg.assignments[0]
    assert (first.licence, first.licensee, first.center_hz, first.channel_width_hz) == ("OA-70518", "00CA", 122.9e6, 25e3)


def test_unknown_import_format():
    with pytest.raises(DataError, match="unknown register format 'xml'"):
        import_register(["x"], "xml")


def test_columns_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "REGISTER.md").read_text()
    for c in COLUMNS:
        assert f"`{c}`" in doc, c


def test_semicolon_csv_from_a_spreadsheet(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_text("licence;frequency_mhz;designator;licensee\nA-1;150,125;11K0F3E;Công ty A\nA-2;151.1;11K0F3E;\"B; C\"\n",
                 encoding="utf-8")
    reg = load_register(p)
    assert [a.licence for a in reg.assignments] == ["A-2"] and reg.assignments[0].licensee == "B; C"
    assert [str(x).split("excel.csv:")[1] for x in reg.problems] == ["2:5: frequency_mhz: '150,125' is not a number"]
