"""Register importers on the real extracts (../shared/data/register): bandwidths come from the source (or a
documented channel plan), a row without one is flagged, never given 12.5 kHz; tolerances from the ITU-R RR
Appendix 2 rule marked in the row, else the row is flagged and left out; the canonical format holds the
'bandwidth unknown' state and the checker judges such a row's frequency only (docs/REGISTER.md)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from detectors.records import Emission
from station.compliance.checker import ComplianceChecker
from station.compliance.records import BANDWIDTH_UNKNOWN, ComplianceClass
from station.compliance.register import ImportOptions, import_register, load_register, write_register_csv, \
    write_register_json
from station.compliance.register.ourairports import airband_channel
from station.compliance.register.tolerances import appendix2_tolerance
from tests.conftest import shared_file

T = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
NZ_PAGES = ("01", "02", "40", "83")


def _em(f_hz: float, bw_hz: float) -> Emission:
    return Emission(center_hz=f_hz, peak_hz=f_hz, f_lo_hz=f_hz - bw_hz / 2, f_hi_hz=f_hz + bw_hz / 2,
                    bandwidth_hz=bw_hz, xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=-40.0, peak_dbfs=-45.0,
                    snr_db=30.0, noise_dbfs_hz=-130.0, occupancy=1.0, first_seen=T, last_seen=T)


@pytest.fixture(scope="module")
def nz():
    pages = [shared_file(f"register/nz_rsm_rrf_api_page{n}.json") for n in NZ_PAGES]
    return pages, import_register(pages, "nz-rsm")


def test_nz_counts_and_no_default_bandwidth(nz):
    pages, reg = nz
    items = [it for p in pages for it in json.loads(p.read_text())["items"]]
    assert reg.rows_read == len(items) == 3345 and reg.errors == ()
    # the API items have no designator/bandwidth/emission field at all (checked on every item's keys)
    keys = {k for it in items for k in it}
    assert not {k for k in keys if any(w in k.lower() for w in ("emission", "designator", "bandwidth", "width"))}
    assert reg.flagged == {"bandwidth unknown": 1981}
    assert reg.skipped == {"no tolerance (source gives none, no Appendix 2 rule for it)": 1364}
    assert len(reg.assignments) == 1981 and 1981 + 1364 == 3345
    assert all(a.bandwidth_unknown and a.bandwidth_hz == 0 and a.channel_width_hz is None for a in reg.assignments)
    assert all(a.tolerance_basis.startswith("ITU-R RR Appendix 2 rule: ") for a in reg.assignments)
    # every flagged or left-out row is reported with file:line:col and why
    bw_warn = [w for w in reg.warnings if w.message.startswith("bandwidth unknown (the NZ RSM API item has no")]
    left = [w for w in reg.warnings if w.message.startswith("left out: no frequency tolerance")]
    assert len(bw_warn) == 1981 and len(left) == 1364
    # by hand: 910 'Other (Spectrum)' + 77 'Satellite' + 46 'General user licence (Radio)' + 11 telemetry
    # + 6 + 4 amateur + 2 managed spectrum park + 1 'VHF FM' + 1 satellite transmit name no station category
    no_category = sum(1 for w in left if "names no category of station" in w.message or "spectrum licence" in w.message)
    assert no_category == 1058
    above = [w for w in left if "at 1" in w.message and "fixed stations" in w.message]
    assert above  # e.g. the 11525 MHz INSPIRE NET link: fixed above 10.5 GHz, beyond the table here


def test_nz_lte_700_and_4_7ghz_links(nz):
    _, reg = nz
    # 700 MHz band: 768.0 (Spark), 785.5 (One NZ), 798.0 (2degrees) are spectrum-licence records: one frequency
    # per site, no block edges: left out and reported, never a 12.5 kHz channel
    assert not [a for a in reg.assignments if 758e6 <= a.center_hz <= 803e6]
    spectrum = [w for w in reg.warnings if "a spectrum licence record" in w.message]
    assert len(spectrum) == 910
    # the 816-819 MHz trunked mobiles (TSN... channels) are imported with bandwidth unknown, land mobile 20 ppm
    tsn = [a for a in reg.assignments if 814e6 < a.center_hz < 819e6]
    assert len(tsn) == 13 and all(a.bandwidth_unknown and a.tolerance_ppm == 20 for a in tsn)
    # the Kordia 4730/4770 MHz fixed links: bandwidth unknown, Appendix 2 fixed stations 2450-10500 MHz 200 ppm
    links = [a for a in reg.assignments if 4700e6 < a.center_hz < 4800e6]
    assert len(links) == 20 and all(a.bandwidth_unknown and a.tolerance_ppm == 200 for a in links)
    assert {a.center_hz for a in links} == {4730e6, 4770e6}
    whangaehu = next(a for a in links if a.station_name == "WHANGAEHU")
    assert whangaehu.licence == "NZ-156853" and whangaehu.frequency_tolerance_hz == pytest.approx(954e3)
    # a 4.77 GHz link with a 14 MHz occupied band: licensed, its bandwidth not judged (no excess_bandwidth case)
    chk = ComplianceChecker(links)
    (r,) = chk.check([_em(4770.2e6, 14e6)], T)
    assert r.klass is ComplianceClass.LICENSED and r.necessary_bandwidth_hz is None
    assert "bandwidth unknown, not judged" in r.reason
    # the frequency is still judged: 1.5 MHz away is beyond 954 kHz + the margin
    (r,) = chk.check([_em(4771.5e6, 200e3)], T)
    assert r.klass is not ComplianceClass.LICENSED


def test_nz_bandwidth_unknown_round_trips_through_the_canonical_files(nz, tmp_path):
    _, reg = nz
    for name, writer in (("nz.csv", write_register_csv), ("nz.json", write_register_json)):
        out = tmp_path / name
        assert writer(reg.assignments, out) == 1981
        back = load_register(out)
        assert back.errors == () and len(back.assignments) == 1981
        a, b = reg.assignments[0], back.assignments[0]
        assert b.bandwidth_basis == BANDWIDTH_UNKNOWN and b.tolerance_basis == a.tolerance_basis
        assert b.tolerance_ppm == a.tolerance_ppm == 20  # 477.65625 MHz Land Simplex: land stations 470-2450 MHz


def test_nz_operator_options_are_marked_in_the_row(nz):
    pages, _ = nz
    reg = import_register(pages, "nz-rsm", ImportOptions(channel_width_hz=25e3, tolerance_ppm=5.0))
    assert len(reg.assignments) == 3345 and reg.flagged == {} and reg.skipped == {}
    assert all(a.bandwidth_basis == "operator: --channel-width" and a.tolerance_basis == "operator: --tolerance-ppm"
               for a in reg.assignments)


def test_acma_800mhz_bandwidth_column_is_used():
    reg = import_register([shared_file("register/acma_rrl_800MHz_assignments_tasmania.csv")], "acma")
    assert reg.rows_read == 645 and reg.errors == () and reg.flagged == {}
    # 645 rows: each a tower assignment, plus a mobile one when TOWER_RX differs (18 simplex rows, and rows with
    # an empty TOWER_RX, give none)
    assert len(reg.assignments) == 1127
    widths = {}
    for a in reg.assignments:
        widths[a.channel_width_hz] = widths.get(a.channel_width_hz, 0) + 1
    assert set(widths) == {12.5e3, 25e3, 200e3, 240e3, 250e3, 325e3, 400e3}
    first = reg.assignments[0]  # line 2: 305682,848.6,,200,
    assert (first.center_hz, first.channel_width_hz, first.bandwidth_basis) == (848.6e6, 200e3,
                                                                                "source: BANDWIDTH column (kHz)")
    assert first.tolerance_ppm == 20 and "land stations, 470-2450 MHz, 20 ppm" in first.tolerance_basis
    assert not [a for a in reg.assignments if a.channel_width_hz is None]


def test_acma_frequencies_without_bandwidth_are_flagged_not_guessed():
    path = shared_file("register/acma_rrl_frequencies_tasmania.csv")
    reg = import_register([path], "acma")
    assert reg.rows_read == 367 and reg.errors == ()
    # 367 tower assignments + 352 mobiles (15 rows are simplex): all bandwidth unknown, none 12.5 kHz
    assert len(reg.assignments) == 719 and reg.flagged == {"bandwidth unknown": 719}
    assert all(a.bandwidth_unknown and a.tolerance_ppm == 20 for a in reg.assignments)
    w = reg.warnings[0]
    assert (w.path, w.line) == (str(path), 2) and "the extract has no bandwidth or emission designator column" in w.message


def test_ourairports_channel_plan_and_flags():
    path = shared_file("register/ourairports_airport-frequencies.csv")
    reg = import_register([path], "ourairports")
    assert reg.rows_read == 29138 and reg.bad_rows == 7
    assert len(reg.assignments) == 28753
    assert reg.skipped == {"no tolerance (source gives none, no Appendix 2 rule for it)": 378}
    assert reg.flagged == {"bandwidth unknown": 2327}
    assert len(reg.assignments) + reg.bad_rows + sum(reg.skipped.values()) == reg.rows_read
    by_id = {a.licence: a for a in reg.assignments}
    # line 2: 70518,...,"CTAF",122.9 -> a 25 kHz channel at 122.9 MHz, aeronautical stations 20 ppm
    a = by_id["OA-70518"]
    assert (a.center_hz, a.channel_width_hz) == (122.9e6, 25e3) and a.tolerance_ppm == 20
    # 8.33 kHz channel names: 118.255 (EBAW APP) is the carrier 118.250; 121.935 (EGLL ATIS) is 121.925 + 8.333 kHz
    ebaw = [x for x in reg.assignments if x.licensee == "EBAW" and x.service == "aeronautical APP"]
    assert ebaw and ebaw[0].center_hz == pytest.approx(118.25e6)
    assert ebaw[0].channel_width_hz == pytest.approx(25e3 / 3)
    egll = [x for x in reg.assignments if x.licensee == "EGLL" and x.service == "aeronautical ATIS"]
    assert any(x.center_hz == pytest.approx(121.925e6 + 25e3 / 3) for x in egll)
    # Heathrow's VOR ATIS at 113.75 MHz: outside the airband, bandwidth unknown, radiodetermination 50 ppm
    vor = next(x for x in egll if x.center_hz == 113.75e6)
    assert vor.bandwidth_unknown and vor.tolerance_ppm == 50 and "radiodetermination" in vor.tolerance_basis
    # 123.07 (a two-decimal write of 123.075?) is on neither plan: flagged, bandwidth unknown
    odd = [w for w in reg.warnings if "123.07 MHz is on neither the 25 kHz nor the 8.33 kHz channel plan" in w.message]
    assert odd
    # below 29.7 MHz (HF) and above 2450 MHz: no Appendix 2 rule here for an aeronautical station -> left out
    left = [w for w in reg.warnings if "left out: no frequency tolerance" in w.message]
    assert len(left) == 378
    freqs = [float(re.search(r"stations at ([0-9.e+-]+) MHz", w.message).group(1)) for w in left]
    assert all(f <= 29.7 or f > 2450 for f in freqs)
    assert by_id["OA-" + "75239"].center_hz == 122.8e6  # line 4: 75239,...,"CEDAR KNOLL TRAFFIC",122.8


def test_airband_channel_plan():
    assert airband_channel(118.0) == (118.0, 25e3, "ICAO Annex 10 Vol. V: 25 kHz channel")
    assert airband_channel(118.005)[0] == pytest.approx(118.0)
    assert airband_channel(118.010)[0] == pytest.approx(118.0 + 25e-3 / 3)
    assert airband_channel(118.015)[0] == pytest.approx(118.0 + 50e-3 / 3)
    assert airband_channel(123.07) is None and airband_channel(130.449) is None


def test_appendix2_rules():
    r = appendix2_tolerance(150.0, "base")
    assert r.tolerance_ppm == 15 and "100-235 MHz" in r.basis
    assert appendix2_tolerance(460.0, "land mobile").tolerance_ppm == 5
    assert appendix2_tolerance(98.0, "broadcasting").tolerance_hz == 2000
    assert appendix2_tolerance(4770.0, "fixed").tolerance_ppm == 200
    assert appendix2_tolerance(19370.0, "fixed") is None and appendix2_tolerance(10.0, "land") is None
    with pytest.raises(ValueError, match="unknown station category"):
        appendix2_tolerance(100.0, "pirate")


def test_canonical_bandwidth_unknown_rules(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("licence,frequency_mhz,channel_khz,tolerance_ppm,bandwidth_basis\n"
                 "A,150.1,,5,unknown\n"      # good: bandwidth unknown with a tolerance
                 "B,150.2,,,unknown\n"       # no tolerance: cannot be matched
                 "C,150.3,12.5,5,unknown\n"  # contradiction
                 "D,150.4,,5,\n")            # no bandwidth and not marked unknown
    reg = load_register(p)
    assert [a.licence for a in reg.assignments] == ["A"] and reg.assignments[0].bandwidth_unknown
    msgs = [str(x) for x in reg.errors]
    assert any(":3:" in m and "'unknown' needs tolerance_hz or tolerance_ppm" in m for m in msgs)
    assert any(":4:" in m and "is 'unknown' but the row gives a bandwidth" in m for m in msgs)
    assert any(":5:" in m and "no bandwidth: give a designator" in m for m in msgs)
