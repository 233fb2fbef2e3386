"""``specmon violations list|show|export|confirm|close|note`` through the real CLI entry point."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest

from station.compliance.cases import CaseStore
from station.cli import main
from tests.test_cases import T0, sweep
from tests.test_compliance import HANOI
from tests.test_exports import checker  # noqa: F401  (module fixture)


@pytest.fixture
def db(tmp_path, checker):  # noqa: F811
    path = tmp_path / "specmon-data" / "specmon.db"
    with CaseStore(path) as store:
        for k in range(2):
            when = T0 + timedelta(seconds=30 * k)
            store.record(sweep(checker, when), station="hn-01", when=when, position=HANOI)
    return path


def test_list_and_json(db, capsys):
    assert main(["violations", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "7 cases"
    assert out[0].startswith("VC-000001  unlicensed       new         106.900000 MHz")
    assert main(["violations", "list", "--db", str(db), "--json", "--class", "off_frequency"]) == 0
    (case,) = json.loads(capsys.readouterr().out)
    assert case["case_id"] == "VC-000005" and case["licences"] == ["LM-PORT-453037"] and case["n_obs"] == 2


def test_workflow_confirm_note_export_close(db, tmp_path, capsys):
    base = ["--db", str(db)]
    assert main(["violations", "confirm", "VC-000005", *base, "--note", "checked", "--author", "Lan"]) == 0
    assert main(["violations", "note", "VC-000005", "Chủ giấy phép đã được thông báo", *base]) == 0
    assert main(["violations", "confirm", "VC-000005", *base]) == 2
    assert "VC-000005 is confirmed; only a new case can become confirmed" in capsys.readouterr().err
    out_dir = tmp_path / "out"
    assert main(["violations", "export", *base, "--format", "csv,geojson", "--format", "pdf", "--lang", "vi",
                 "--state", "confirmed", "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "1 cases exported" and len(printed) == 4
    (csv_path,) = out_dir.glob("*.csv")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        assert [r["case_id"] for r in csv.DictReader(f)] == ["VC-000005"]
    assert main(["violations", "list", *base, "--state", "exported"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 cases"
    assert main(["violations", "close", "VC-000005", *base, "--note", "fixed"]) == 0
    assert main(["violations", "show", "VC-000005", *base]) == 0
    show = capsys.readouterr().out
    assert "confirmed: checked (Lan)" in show and "note: Chủ giấy phép đã được thông báo" in show
    assert "exported: violations-" in show and "exported: exported:" not in show and "closed: fixed" in show


def test_export_since_and_empty(db, tmp_path, capsys):
    assert main(["violations", "export", "--db", str(db), "--format", "xlsx", "--since", "2027-01-01",
                 "--out", str(tmp_path / "o")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 cases exported"
    assert main(["violations", "export", "--db", str(db), "--format", "pdf", "--since", "24h",
                 "--out", str(tmp_path / "o2")]) == 0


def test_data_dir_default_and_errors(db, tmp_path, capsys, monkeypatch):
    assert main(["violations", "list", "--data-dir", str(db.parent)]) == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # ./specmon-data/specmon.db is the default
    assert main(["violations", "list"]) == 0
    capsys.readouterr()
    assert main(["violations", "list", "--db", str(tmp_path / "none.db")]) == 2
    assert f"no case store at {tmp_path / 'none.db'}" in capsys.readouterr().err
    assert main(["violations", "show", "VC-000099", "--db", str(db)]) == 2
    assert "no case 'VC-000099'" in capsys.readouterr().err
    assert main(["violations", "export", "--db", str(db), "--format", "docx", "--out", str(tmp_path / "x")]) == 2
    assert "--format 'docx' is not one of csv, xlsx, geojson, pdf" in capsys.readouterr().err
    assert main(["violations", "list", "--db", str(db), "--since", "last tuesday"]) == 2
    assert "--since 'last tuesday' is neither an ISO date/time" in capsys.readouterr().err
