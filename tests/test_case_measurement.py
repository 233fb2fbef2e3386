"""One canonical measurement per case (issue 13): the median over the case's observations with spread, count and
U95, and the same numbers in every output (CSV, XLSX, GeoJSON, PDF table, reason text, spectrum image)."""

from __future__ import annotations

import csv
import json
import statistics
from dataclasses import replace
from datetime import timedelta

import pytest

from detectors.uncertainty import MeasurementSettings, frequency_budget, summarise
from station.calibration import LevelContext, nominal_profile
from station.calibration.levels import level_settings
from station.compliance.cases import CaseStore
from station.compliance.cases.measurement import ObservationRow, case_measurement, settings_keys
from station.compliance.exports import export_cases
from tests.test_compliance import HANOI, em
from tests.test_exports import NOW, T0, _pdf_text, checker  # noqa: F401 (fixture)

SETTINGS = MeasurementSettings(bin_hz=976.5625, rbw_hz=1464.8, window="hann", nfft=2048, overlap=0.5,
                               n_frames=40, ppm=1.0)
#: five sweeps of the off-frequency transmitter (licensed 453.0375 MHz +/- 2.5 kHz): centre, bandwidth, dBFS
OBS = [(453.043355e6, 11.8e3, -51.0), (453.042980e6, 11.1e3, -52.5), (453.043120e6, 10.9e3, -50.2),
       (453.043610e6, 12.4e3, -49.8), (453.043050e6, 11.3e3, -51.7)]
GAINS = [29.7, 29.7, 29.7, 38.6, 38.6]  # the gain changed between sweeps: dBm is converted per observation


def _store(tmp_path, checker):  # noqa: F811
    s = CaseStore(tmp_path / "data" / "specmon.db")
    for k, ((f, bw, p), g) in enumerate(zip(OBS, GAINS)):
        when = T0 + timedelta(seconds=30 * k)
        e = replace(em(f, bw, when=when), power_dbfs=p, snr_db=25.0 + k)
        (r,) = checker.check([e], when)
        r = replace(r, track_id="trk-offfreq")
        levels = LevelContext(nominal_profile(), g, antenna_factor_db_m=12.0, antenna_factor_u_db=0.5, settings=SETTINGS)
        s.record([r], station="hn-01", when=when, position=HANOI,
                 settings={"band": "uhf", "rbw_hz": SETTINGS.rbw_hz, "nfft": SETTINGS.nfft, "window": "hann",
                           "dwell_s": 0.05, **settings_keys(SETTINGS), **level_settings(levels, [r])})
    return s


def test_case_measurement_is_the_median_with_its_budget(tmp_path, checker):  # noqa: F811
    s = _store(tmp_path, checker)
    (c,) = s.cases()
    assert c.klass.value == "off_frequency" and c.n_obs == 5
    m = s.measurement(c.case_id)
    assert m.n_obs == 5 and m.center_hz.n == 5
    assert m.center_hz.value == statistics.median(f for f, _, _ in OBS)
    assert m.bandwidth_hz.value == statistics.median(b for _, b, _ in OBS)
    assert m.power_dbfs.value == statistics.median(p for _, _, p in OBS)
    ref = summarise([f for f, _, _ in OBS], [frequency_budget(f, b, 25.0 + k, SETTINGS) for k, (f, b, _) in enumerate(OBS)])
    assert m.center_hz.u95 == pytest.approx(ref.u95) and m.center_hz.spread == pytest.approx(ref.spread)
    # dBm per observation with its own gain, then the median: not the median dBFS minus one conversion
    prof = nominal_profile()
    dbm = [p - prof.conversion(f, g).conversion_db for (f, _, p), g in zip(OBS, GAINS)]
    assert m.power_dbm.value == pytest.approx(statistics.median(dbm), abs=1e-3)
    assert m.power_dbm.u95 > m.power_dbfs.u95  # the calibration term is in it
    assert m.gains_db == (29.7, 38.6) and m.calibration == "nominal (uncalibrated)"
    assert m.field_dbuv_m == pytest.approx(m.power_dbm.value + 107.0 + 12.0)


def test_rows_without_dsp_settings_still_summarise():
    rows = [ObservationRow(100e6 + 10 * k, 10e3, -50.0 - k, 20.0, json.dumps({"rbw_hz": 1000.0})) for k in range(4)]
    m = case_measurement(rows)
    assert m.center_hz.value == 100e6 + 15 and m.center_hz.u95 > 0 and m.power_dbm is None
    assert case_measurement([]) is None


def _outputs(s, out, lang):
    paths = export_cases(s, ["csv", "xlsx", "geojson", "pdf"], out, lang=lang, now=NOW, mark_exported=False)
    return {p.suffix: p for p in paths}


def test_every_output_shows_the_same_numbers(tmp_path, checker):  # noqa: F811
    from openpyxl import load_workbook

    s = _store(tmp_path, checker)
    (c,) = s.cases()
    m = s.measurement(c.case_id)
    f_mhz = f"{m.center_hz.value / 1e6:.6f}"
    bw_khz = f"{m.bandwidth_hz.value / 1e3:.2f}"
    latest = OBS[-1][0]
    assert f"{latest / 1e6:.6f}" != f_mhz and f"{OBS[0][0] / 1e6:.6f}" != f_mhz  # opening and latest differ
    for lang in ("en", "vi"):
        p = _outputs(s, tmp_path / lang, lang)
        with open(p[".csv"], newline="", encoding="utf-8-sig") as fh:
            (row,) = list(csv.DictReader(fh))
        assert float(row["center_hz"]) == round(m.center_hz.value, 1)
        assert float(row["bandwidth_hz"]) == round(m.bandwidth_hz.value, 1)
        assert float(row["power_dbm"]) == round(m.power_dbm.value, 2)
        assert float(row["power_dbm_u95"]) == round(m.power_dbm.u95, 2)
        assert float(row["center_hz_u95"]) == round(m.center_hz.u95, 1)
        assert f_mhz in row["reason"] and f"{m.center_hz.u95 / 1e3:.2f} kHz" in row["reason"], row["reason"]
        assert f"{latest / 1e6:.6f}" not in row["reason"] and f"{OBS[0][0] / 1e6:.6f}" not in row["reason"]
        wb = load_workbook(p[".xlsx"])
        ws = wb[wb.sheetnames[0]]
        head = [x.value for x in ws[1]]
        vals = [x.value for x in ws[2]]
        names = list(row)  # the CSV header = the machine names, in the same order as the XLSX columns
        assert len(head) == len(names)
        for name in ("center_hz", "bandwidth_hz", "power_dbm", "power_dbm_u95", "center_hz_u95", "n_obs"):
            assert vals[names.index(name)] == float(row[name]), name
            assert isinstance(vals[names.index(name)], (int, float)), name
        props = json.loads(p[".geojson"].read_text(encoding="utf-8"))["features"][0]["properties"]
        assert props["center_hz"] == float(row["center_hz"]) and props["power_dbm"] == float(row["power_dbm"])
        assert props["reason"] == row["reason"]
        text = " ".join("\n".join(_pdf_text(p[".pdf"])).split())
        assert f"{f_mhz} MHz" in text and f"{bw_khz} kHz" in text
        assert f"{m.power_dbm.value:.1f} dBm ± {m.power_dbm.u95:.1f} dB" in text
        assert f"{latest / 1e6:.6f}" not in text and f"{OBS[0][0] / 1e6:.6f}" not in text
        assert row["reason"] in text  # the PDF's reason is the CSV's


#: English words that must not be left in a Vietnamese report (labels, reasons, notes, settings, image, sheets)
ENGLISH = ("frequency", "bandwidth", "licence", "license", "licensed", "unlicensed", "expired", "station", "opened",
           "observations", "measurement", "settings", "level", "history", "sheet", "spectrum", "gain", "calibrated",
           "nominal", "centre", "occupied", "tolerance", "register", "valid", "reason", "evidence", "uncertainty",
           "indicative", "beyond", "exceeds", "nearest", "assignment", "case", "cases", "about", "column", "unit",
           "power", "status", "current", "average", "hold", "channel", "band", "files")


def english_words(texts) -> list[str]:
    """Words of ``ENGLISH`` found in ``texts``; file names and paths (tokens with '/' or a '.ext') and the
    licence labels' proper names are data, not labels, and are skipped."""
    import re

    found = set()
    for text in texts:
        for tok in re.split(r"[\s,;:()\[\]]+", str(text or "")):
            if "/" in tok or re.search(r"\.[a-z0-9-]{2,12}$", tok) or re.fullmatch(r"[A-Z0-9-]+", tok):
                continue
            for w in re.findall(r"[A-Za-z]+", tok):
                if w.lower() in ENGLISH and not w[0].isupper():  # capitalised: a licensee's or band's own name
                    found.add(w.lower())
    return sorted(found)


def _evidence(s, tmp_path, checker):  # noqa: F811
    """Evidence of the store's case captured from a simulated sweep (spectrum image and data, IQ)."""
    from station.compliance.evidence import EvidenceSettings, capture_evidence
    from station.receivers import open_receiver
    from tests.test_exports import _spectrum

    (c,) = s.cases()
    opening = checker.check([em(OBS[0][0], OBS[0][1])], T0)[0]
    rx = open_receiver("sim://city")
    rx.set_sample_rate(2.4e6)
    capture_evidence(s, c.case_id, opening, out_dir=tmp_path / "data" / "evidence", station_id="hn-01",
                     position=HANOI, spectrum=_spectrum(453.0435e6, 11e3), receiver=rx,
                     nearby=checker.assignments_near(452.9e6, 453.2e6), settings=EvidenceSettings(iq_duration_s=0.02),
                     when=T0)
    s.add_note(c.case_id, "evidence incomplete: test note", author=None)
    return c.case_id


def test_vietnamese_report_has_no_english_left(tmp_path, checker):  # noqa: F811
    from openpyxl import load_workbook

    s = _store(tmp_path, checker)
    _evidence(s, tmp_path, checker)
    s.confirm(s.cases()[0].case_id, note="Đã xác nhận", author="Lan")
    p = _outputs(s, tmp_path / "vi", "vi")
    pages = _pdf_text(p[".pdf"])
    assert english_words(pages) == [], "English left in the vi PDF"
    wb = load_workbook(p[".xlsx"])
    cells = list(wb.sheetnames)
    for ws in wb.worksheets:
        cells += [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    # the about sheet lists the machine column names (e.g. 'bandwidth_hz = ...'): only its words after '=' count
    cells = [c.split(" = ", 1)[1] if isinstance(c, str) and " = " in c else c for c in cells]
    assert english_words(cells) == [], "English left in the vi XLSX"
    # the scan does find English: the same report in English is full of it
    en = _outputs(s, tmp_path / "en", "en")
    assert {"frequency", "bandwidth", "level", "spectrum", "nominal"} <= set(english_words(_pdf_text(en[".pdf"])))
    # numbers are numbers in the vi XLSX
    ws = wb.worksheets[0]
    for col in range(6, 18):
        v = ws.cell(2, col).value
        assert v is None or isinstance(v, (int, float)) or col == 18, (ws.cell(1, col).value, v)


def test_report_image_marks_the_canonical_measurement_in_the_report_language(tmp_path, checker):  # noqa: F811
    from station.compliance.evidence import spectrum_data_figure
    from station.compliance.exports._common import LABELS

    s = _store(tmp_path, checker)
    cid = _evidence(s, tmp_path, checker)
    d = s.detail(cid)
    m = d.measurement
    data = next(e for e in d.evidence if e.kind == "spectrum_data")
    words = {k: LABELS[f"img_{k}"][1] for k in ("frequency", "level", "average", "maxhold", "occupied", "licensed",
                                                "centre")}
    fig = spectrum_data_figure(s.evidence_path(data), center_hz=m.center_hz.value, bandwidth_hz=m.bandwidth_hz.value,
                               u_center_hz=m.center_hz.u95, title=f"{cid} {m.center_hz.value / 1e6:.6f} MHz", words=words)
    ax = fig.axes[0]
    texts = [ax.get_xlabel(), ax.get_ylabel(), ax.get_title(), *(t.get_text() for t in ax.get_legend().get_texts())]
    assert english_words(texts) == [] and "tần số (MHz)" in texts
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(m.center_hz.value / 1e6)
    spans = [p.get_x() for p in ax.patches]  # occupied band: canonical centre -/+ half the canonical bandwidth
    assert any(x == pytest.approx((m.center_hz.value - m.bandwidth_hz.value / 2) / 1e6) for x in spans)
    # and the PDF page shows the redrawn image with the canonical values noted
    p = _outputs(s, tmp_path / "vi", "vi")
    text = " ".join(" ".join(_pdf_text(p[".pdf"])).split())
    assert "vẽ lại với tần số trung tâm chuẩn" in text


def test_violation_point_carries_the_case_measurement(tmp_path, checker):  # noqa: F811
    from station.outputs.points import PointContext, ViolationObservation, violation_points

    s = _store(tmp_path, checker)
    (c,) = s.cases()
    m = s.measurement(c.case_id)
    (r,) = checker.check([replace(em(OBS[-1][0], OBS[-1][1]), power_dbfs=OBS[-1][2])], T0)
    levels = LevelContext(nominal_profile(), GAINS[-1], settings=SETTINGS)
    ctx = PointContext("hn-01", "uhf", SETTINGS.rbw_hz, SETTINGS.nfft, 0.05, levels)
    (p,) = violation_points([ViolationObservation(r, c.case_id, "new", m)], ctx, T0)
    assert p.fields["center_hz"] == m.center_hz.value != OBS[-1][0]
    assert p.fields["bandwidth_hz"] == m.bandwidth_hz.value and p.fields["n_obs"] == 5
    assert p.fields["center_hz_u95"] == pytest.approx(m.center_hz.u95)
    assert p.fields["power_dbm"] == pytest.approx(m.power_dbm.value) and p.fields["power_dbm_u95"] == pytest.approx(m.power_dbm.u95)
