"""Report content (issue 13): long text never breaks an export, an expired licence is shown as judged, the
history does not repeat "exported", calibrated levels and the calibration state appear in the PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from station.calibration import LevelContext, nominal_profile
from station.calibration.levels import level_settings
from station.compliance.cases import CaseStore
from station.compliance.exports import export_cases
from tests.test_compliance import HANOI, em
from tests.test_exports import NOW, T0, _pdf_text, checker  # noqa: F401 (fixture)


def _store(tmp_path, checker):  # noqa: F811
    s = CaseStore(tmp_path / "specmon.db")
    levels = LevelContext(nominal_profile(), 29.7, antenna_factor_db_m=15.0)
    expired = checker.check([em(158.2e6, 11e3)], T0)  # LM-CONS-158200, valid to 2025-12-31, register "current"
    long_name = "Công ty " + "rất dài " * 700  # ~5,000 characters
    res = replace(expired[0], reason=expired[0].reason + " " + "x" * 2000,
                  assignments=tuple(replace(a, licensee=long_name) for a in expired[0].assignments))
    register_rows = res.assignments
    s.record([res], station="hn-01", when=T0, position=HANOI,
             settings={"rbw_hz": 1000.0, "dwell_s": 0.05, **level_settings(levels, [res])})
    cid = s.cases()[0].case_id
    s.confirm(cid, note="ghi chú " * 500 + "y" * 1500, author="Lan")
    return s, cid, long_name, register_rows


def test_pdf_survives_long_text_and_shows_status_as_judged(tmp_path, checker):  # noqa: F811
    s, cid, _, _ = _store(tmp_path, checker)
    for lang in ("en", "vi"):
        (path,) = export_cases(s, ["pdf", "csv", "xlsx", "geojson"], tmp_path / lang, lang=lang, now=NOW,
                               mark_exported=(lang == "en"))[:1]
        text = " ".join("\n".join(_pdf_text(path)).split())
        if lang == "en":
            assert "licence expired (register says: current)" in text
            assert "Status: current" not in text
            assert "Level at antenna port" in text and "-74.3 dBm" not in text  # a dBm value, from the stored dBFS
            assert "dBm \u00b1" in text and "nominal (uncalibrated)" in text and "29.7 dB" in text
            assert "dB\u00b5V/m" in text
            assert "characters; full text in the CSV/XLSX export" in text
        else:
            assert "giấy phép hết hạn (theo cơ sở dữ liệu: còn hiệu lực)" in text
            assert "danh định (chưa hiệu chuẩn)" in text and "Mức tại cổng anten" in text
            for key in ("dwell_s", "rbw_hz", "gain_db"):  # settings keys in words
                assert key not in text, key
    events = s.detail(cid).events
    exported = [e for e in events if e.state == "exported"]
    assert exported and not exported[0].text.startswith("exported")
