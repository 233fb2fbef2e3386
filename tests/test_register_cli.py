"""``specmon register check|import`` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

from station.cli import main
from station.compliance.register import builtin_path, load_register
from tests.conftest import shared_file

FIXTURE = Path(__file__).parent / "data" / "register_with_bad_rows.csv"


def test_check_prints_every_problem_and_exits_4(capsys):
    assert main(["register", "check", str(FIXTURE)]) == 4
    out = capsys.readouterr().out.splitlines()
    problems = [x for x in out if x.startswith(str(FIXTURE) + ":") and ": warning:" not in x and "rows read" not in x]
    assert len(problems) == 12
    assert problems[0] == f"{FIXTURE}:304:43: frequency_mhz: 'abc' is not a number"
    assert f"{FIXTURE}: 343 rows read, 332 assignments loaded, 11 bad rows rejected, 0 warnings" in out
    assert any(x.startswith("  by service: land mobile: ") for x in out)


def test_check_clean_register_and_exempt_table(capsys):
    assert main(["register", "check", str(builtin_path("demo_register.csv"))]) == 0
    assert "466 assignments loaded, 0 bad rows rejected" in capsys.readouterr().out
    assert main(["register", "check", "--exempt", str(builtin_path("exempt_bands.csv"))]) == 0
    out = capsys.readouterr().out
    assert "11 exempt bands loaded, 0 bad rows rejected" in out and "ISM 433: 433.050000-434.790000 MHz" in out


def test_check_missing_file_is_one_line_error(capsys, tmp_path):
    assert main(["register", "check", str(tmp_path / "nope.csv")]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"specmon register: error: {tmp_path / 'nope.csv'}: file not found"]


def test_import_nz_rsm_to_json_then_check(capsys, tmp_path):
    pages = [str(shared_file(f"register/nz_rsm_rrf_api_page{n}.json")) for n in ("01", "83")]
    out = tmp_path / "nz.json"
    assert main(["register", "import", *pages, "--format", "nz-rsm", "--out", str(out), "--channel-width", "25k",
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    # the operator's --channel-width is used (and marked); rows with no tolerance rule are left out and counted
    assert "1345 rows read, 941 assignments loaded, 0 bad rows rejected" in text
    assert "404 rows skipped (no tolerance (source gives none, no Appendix 2 rule for it): 404)" in text
    assert f"wrote 941 assignments to {out}" in text
    reg = load_register(out)
    assert reg.errors == () and len(reg.assignments) == 941  # warnings: the real register repeats rows
    assert all(a.channel_width_hz == 25e3 and a.bandwidth_basis == "operator: --channel-width"
               for a in reg.assignments)
    assert main(["register", "import", *pages, "--format", "nz-rsm", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_import_ourairports_reports_bad_rows_and_writes_good(capsys, tmp_path):
    src = shared_file("register/ourairports_airport-frequencies.csv")
    out = tmp_path / "air.csv"
    assert main(["register", "import", str(src), "--format", "ourairports", "--out", str(out)]) == 4
    text = capsys.readouterr().out
    assert "frequency_mhz: '0' must be positive" in text or "frequency_mhz: '0.0' must be positive" in text
    assert "2327 assignments flagged (bandwidth unknown: 2327)" in text
    reg = load_register(out)
    assert reg.problems == () and len(reg.assignments) == 28753


def test_import_usage_errors(capsys, tmp_path):
    src = str(FIXTURE)
    assert main(["register", "import", src, "--format", "csv", "--out", str(tmp_path / "x.csv"), "--sites", "s"]) == 2
    assert "--sites applies to --format acma or ourairports" in capsys.readouterr().err
    assert main(["register", "import", src, "--format", "csv", "--out", str(tmp_path / "x.csv"),
                 "--channel-width", "wide"]) == 2
    assert "--channel-width: cannot parse 'wide'" in capsys.readouterr().err


def test_import_acma_with_sites(capsys, tmp_path):
    freqs = shared_file("register/acma_rrl_frequencies_tasmania.csv")
    sites = shared_file("register/acma_rrl_sites_tasmania.csv")
    out = tmp_path / "acma.csv"
    assert main(["register", "import", str(freqs), "--format", "acma", "--sites", str(sites), "--out", str(out),
                 "--mobile-radius-km", "20"]) == 0
    assert "367 rows read" in capsys.readouterr().out
    reg = load_register(out)
    assert reg.errors == ()
    mobiles = [a for a in reg.assignments if a.station_name.startswith("mobiles of")]
    assert mobiles and all(a.radius_m == 20e3 for a in mobiles if a.has_site)
    assert main(["register", "import", str(freqs), "--format", "acma", "--sites", str(tmp_path / "no.csv"),
                 "--out", str(tmp_path / "b.csv")]) == 4
    assert f"{tmp_path / 'no.csv'}: file not found" in capsys.readouterr().err


def test_check_on_a_real_register_says_how_to_import_it(capsys):
    nz = shared_file("register/nz_rsm_rrf_api_page83.json")
    assert main(["register", "check", str(nz)]) == 4
    assert "(an NZ RSM API page? convert it: specmon register import FILE --format nz-rsm" in capsys.readouterr().err
    oa = shared_file("register/ourairports_airport-frequencies.csv")
    assert main(["register", "check", str(oa)]) == 4
    assert (f"{oa}:1:1: not a specmon register but an OurAirports frequency list; convert it: specmon register "
            "import FILE --format ourairports --out OUT.csv") in capsys.readouterr().err
