"""What every export format shares: the report model (cases with their events and evidence), the column
list (names from station/outputs/vocabulary.py's ``violation`` measurement where one exists), labels in English and
Vietnamese, spreadsheet formula-injection neutralisation, and atomic file writing."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from station.compliance.cases import CaseDetail, CaseStore
from station.errors import UsageError

LANGS = ("en", "vi")

#: label key -> (English, Vietnamese)
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Radio monitoring violation report", "Báo cáo vi phạm giám sát tần số vô tuyến điện"),
    "summary": ("Summary", "Tóm tắt"),
    "generated": ("Generated (UTC)", "Thời điểm lập (UTC)"),
    "filters": ("Filters", "Bộ lọc"),
    "all": ("all", "tất cả"),
    "since": ("since", "từ"),
    "store": ("Case store", "Cơ sở dữ liệu vụ việc"),
    "n_cases": ("Cases", "Số vụ việc"),
    "no_cases": ("No violation cases match the filters.", "Không có vụ việc vi phạm nào phù hợp với bộ lọc."),
    "by_class": ("Cases by class", "Vụ việc theo phân loại"),
    "case": ("Case", "Vụ việc"),
    "case_id": ("Case", "Mã vụ việc"),
    "class": ("Class", "Phân loại"),
    "state": ("State", "Trạng thái"),
    "first_seen": ("First seen (UTC)", "Phát hiện lần đầu (UTC)"),
    "last_seen": ("Last seen (UTC)", "Phát hiện lần cuối (UTC)"),
    "n_obs": ("Observations", "Số lần quan sát"),
    "center_hz": ("Centre frequency (Hz)", "Tần số trung tâm (Hz)"),
    "center_mhz": ("Centre frequency", "Tần số trung tâm"),
    "bandwidth_hz": ("Occupied bandwidth (Hz)", "Độ rộng băng tần chiếm dụng (Hz)"),
    "bandwidth": ("Occupied bandwidth", "Độ rộng băng tần chiếm dụng"),
    "center_hz_u95": ("Centre frequency U95 (Hz)", "Độ không đảm bảo tần số trung tâm U95 (Hz)"),
    "bandwidth_hz_u95": ("Occupied bandwidth U95 (Hz)", "Độ không đảm bảo độ rộng băng tần U95 (Hz)"),
    "power_dbfs": ("Channel power (dBFS)", "Công suất kênh (dBFS)"),
    "power_dbfs_u95": ("Channel power U95 (dB)", "Độ không đảm bảo công suất kênh U95 (dB)"),
    "power_dbm": ("Level at antenna port (dBm)", "Mức tại cổng anten (dBm)"),
    "power_dbm_u95": ("Level U95 (dB)", "Độ không đảm bảo của mức U95 (dB)"),
    "field_dbuv_m": ("Field strength (dBµV/m)", "Cường độ trường (dBµV/m)"),
    "field_dbuv_m_u95": ("Field strength U95 (dB)", "Độ không đảm bảo cường độ trường U95 (dB)"),
    "gain_db": ("Receiver gain (dB)", "Hệ số khuếch đại máy thu (dB)"),
    "max_power_dbfs": ("Max power (dBFS)", "Công suất cực đại (dBFS)"),
    "mean_power_dbfs": ("Mean power (dBFS)", "Công suất trung bình (dBFS)"),
    "snr_db": ("SNR (dB)", "Tỷ số tín hiệu/tạp âm (dB)"),
    "licence": ("Licences considered", "Giấy phép đã đối chiếu"),
    "licensee": ("Licensee", "Chủ giấy phép"),
    "reason": ("Reason", "Lý do"),
    "indicative": ("Indicative", "Mang tính tham khảo"),
    "stations": ("Observing stations", "Trạm giám sát"),
    "station": ("Station", "Trạm"),
    "latitude": ("Latitude", "Vĩ độ"),
    "longitude": ("Longitude", "Kinh độ"),
    "track_id": ("Track", "Mã theo dõi"),
    "previous_case_id": ("Previous case", "Vụ việc trước"),
    "evidence": ("Evidence", "Chứng cứ"),
    "measurements": ("Measurements", "Kết quả đo"),
    "register": ("Register lookup", "Tra cứu cơ sở dữ liệu giấy phép"),
    "no_register": ("No assignment near this frequency.", "Không có ấn định tần số nào gần tần số này."),
    "assigned": ("Assigned", "Tần số ấn định"),
    "designator": ("Designator", "Ký hiệu phát xạ"),
    "tolerance": ("Tolerance", "Dung sai"),
    "valid": ("Valid", "Hiệu lực"),
    "status": ("Status", "Tình trạng"),
    "spectrum": ("Spectrum snapshot", "Ảnh phổ tần số"),
    "no_spectrum": ("No spectrum snapshot was captured for this case.", "Không có ảnh phổ cho vụ việc này."),
    "settings": ("Measurement settings", "Thông số đo"),
    "notes": ("Notes and history", "Ghi chú và lịch sử"),
    "times": ("Times", "Thời gian"),
    "yes": ("yes", "có"),
    "no": ("no", "không"),
    "page": ("Page", "Trang"),
    "sha256": ("SHA-256", "SHA-256"),
    "reason_language": ("Reasons are given in English.", "Lý do được ghi bằng tiếng Anh."),
    # classes and states
    "licensed": ("licensed", "có giấy phép"),
    "exempt": ("exempt", "miễn giấy phép"),
    "unlicensed": ("unlicensed", "không có giấy phép"),
    "off_frequency": ("off frequency", "sai tần số"),
    "excess_bandwidth": ("excess bandwidth", "vượt độ rộng băng tần"),
    "expired": ("licence expired", "giấy phép hết hạn"),
    "not_yet_valid": ("licence not yet valid", "giấy phép chưa có hiệu lực"),
    "exempt_nonconforming": ("exempt band, over its limits", "băng tần miễn giấy phép, vượt giới hạn"),
    "new": ("new", "mới"),
    "confirmed": ("confirmed", "đã xác nhận"),
    "exported": ("exported", "đã xuất"),
    "closed": ("closed", "đã đóng"),
    "current": ("current", "còn hiệu lực"),
    "cancelled": ("cancelled", "đã thu hồi"),
    "suspended": ("suspended", "tạm đình chỉ"),
    "pending": ("pending", "chờ hiệu lực"),
    "status_register": ("register says", "theo cơ sở dữ liệu"),
    # calibrated levels (docs/CALIBRATION.md)
    "level_dbm": ("Level at antenna port", "Mức tại cổng anten"),
    "field_strength": ("Field strength", "Cường độ trường"),
    "gain": ("Receiver gain", "Hệ số khuếch đại máy thu"),
    "calibration": ("Calibration", "Hiệu chuẩn"),
    "nominal (uncalibrated)": ("nominal (uncalibrated)", "danh định (chưa hiệu chuẩn)"),
    "calibrated on": ("calibrated on", "hiệu chuẩn ngày"),
    "level_unknown": ("unknown (automatic gain)", "không xác định (khuếch đại tự động)"),
    # measurement-settings keys (case_observations.settings_json) in words
    "set_band": ("Band", "Băng tần"),
    "set_rbw_hz": ("Resolution bandwidth (Hz)", "Độ phân giải băng tần (Hz)"),
    "set_nfft": ("FFT size", "Kích thước FFT"),
    "set_window": ("FFT window", "Cửa sổ FFT"),
    "set_dwell_s": ("Dwell per hop (s)", "Thời gian dừng mỗi bước (s)"),
    "set_gain_db": ("Receiver gain (dB)", "Hệ số khuếch đại máy thu (dB)"),
    "set_calibration": ("Calibration", "Hiệu chuẩn"),
    "set_calibration_file": ("Calibration profile", "Tệp hiệu chuẩn"),
    "set_antenna_factor_db_m": ("Antenna factor (dB/m)", "Hệ số anten (dB/m)"),
    "set_antenna_factor_u_db": ("Antenna factor uncertainty (dB)", "Độ không đảm bảo hệ số anten (dB)"),
    "spread": ("Spread (centre; bandwidth; level)", "Độ phân tán (tần số; độ rộng băng; mức)"),
    "summarised": ("summarised", "tổng hợp"),
    "canonical_note": (
        "Values are the median over the case's observations with their expanded uncertainty (U95, k=2: "
        "periodogram noise, SNR, number of observations, reference ppm, calibration); docs/UNCERTAINTY.md.",
        "Các giá trị là trung vị của các lần quan sát vụ việc kèm độ không đảm bảo mở rộng (U95, k=2: nhiễu "
        "chu kỳ đồ, tỷ số tín hiệu/tạp âm, số lần quan sát, sai số ppm của tần số chuẩn, hiệu chuẩn); "
        "docs/UNCERTAINTY.md."),
    "ev_spectrum_png": ("spectrum image", "ảnh phổ"),
    "ev_spectrum_data": ("spectrum data", "dữ liệu phổ"),
    "ev_iq_sigmf_meta": ("IQ recording, SigMF metadata", "bản ghi IQ, siêu dữ liệu SigMF"),
    "ev_iq_sigmf_data": ("IQ recording, samples", "bản ghi IQ, mẫu tín hiệu"),
    "ev_manifest": ("capture manifest", "bản kê thu thập"),
    "ev_other": ("other", "khác"),
    "set_bin_hz": ("FFT bin spacing (Hz)", "Khoảng cách giữa các bin FFT (Hz)"),
    "set_overlap": ("Frame overlap", "Độ chồng lấp khung"),
    "set_n_frames": ("Frames averaged per hop", "Số khung lấy trung bình mỗi bước"),
    "set_ppm": ("Reference uncertainty (ppm)", "Độ không đảm bảo tần số chuẩn (ppm)"),
    # inside the spectrum image
    "img_frequency": ("frequency (MHz)", "tần số (MHz)"),
    "img_level": ("dBFS per resolution bandwidth", "dBFS trên độ phân giải băng tần"),
    "img_average": ("average", "trung bình"),
    "img_maxhold": ("max hold", "giữ cực đại"),
    "img_occupied": ("occupied band (99 %), canonical", "băng tần chiếm dụng (99 %), giá trị chuẩn"),
    "img_licensed": ("licensed channel (± tolerance)", "kênh được cấp phép (± dung sai)"),
    "img_centre": ("centre (dashed) ± U95 (dark)", "tần số trung tâm (nét đứt) ± U95 (vùng đậm)"),
    "img_note": ("Spectrum of the sweep that opened the case, redrawn with the case's canonical centre "
                 "(± U95) and occupied bandwidth.",
                 "Phổ của lần quét đã mở vụ việc, vẽ lại với tần số trung tâm chuẩn (± U95) và độ rộng băng tần "
                 "chiếm dụng chuẩn của vụ việc."),
    "img_captured": ("Image as captured when the case opened (it marks that observation's values, not the "
                     "canonical ones).",
                     "Ảnh chụp khi vụ việc được mở (đánh dấu giá trị của lần quan sát đó, không phải giá trị chuẩn)."),
    # XLSX sheets and the register sheet's header
    "sheet_cases": ("cases", "vụ việc"),
    "sheet_register": ("register", "giấy phép"),
    "sheet_about": ("about", "thông tin"),
    "about_column": ("column", "cột"),
    "about_unit": ("unit", "đơn vị"),
    "reg_licence": ("licence", "số giấy phép"),
    "reg_licensee": ("licensee", "chủ giấy phép"),
    "reg_service": ("service", "nghiệp vụ"),
    "reg_station_name": ("station name", "tên đài"),
    "reg_frequency_mhz": ("frequency (MHz)", "tần số (MHz)"),
    "reg_lower_mhz": ("lower edge (MHz)", "biên dưới (MHz)"),
    "reg_upper_mhz": ("upper edge (MHz)", "biên trên (MHz)"),
    "reg_designator": ("emission designator", "ký hiệu phát xạ"),
    "reg_channel_khz": ("channel (kHz)", "kênh (kHz)"),
    "reg_tolerance_hz": ("tolerance (Hz)", "dung sai (Hz)"),
    "reg_tolerance_ppm": ("tolerance (ppm)", "dung sai (ppm)"),
    "reg_latitude": ("latitude", "vĩ độ"),
    "reg_longitude": ("longitude", "kinh độ"),
    "reg_radius_km": ("service radius (km)", "bán kính phục vụ (km)"),
    "reg_max_power_dbw": ("max power (dBW)", "công suất cực đại (dBW)"),
    "reg_power_reference": ("power reference", "quy chiếu công suất"),
    "reg_valid_from": ("valid from", "hiệu lực từ"),
    "reg_valid_to": ("valid to", "hiệu lực đến"),
    "reg_status": ("status", "tình trạng"),
    "reg_bandwidth_basis": ("bandwidth from", "nguồn gốc băng thông"),
    "reg_tolerance_basis": ("tolerance from", "nguồn gốc dung sai"),
    "truncated": ("characters; full text in the CSV/XLSX export", "ký tự; toàn văn trong tệp CSV/XLSX"),
}


def evidence_kind(kind: str, lang: str) -> str:
    """An evidence file kind (``spectrum_png``) in words."""
    k = f"ev_{kind}"
    return label(k, lang) if k in LABELS else kind


def setting_label(key: str, lang: str) -> str:
    """A measurement-settings key in words (``dwell_s`` -> 'Dwell per hop (s)'); unknown keys stay as stored."""
    k = f"set_{key}"
    return label(k, lang) if k in LABELS else key


def calibration_text(text: str, lang: str) -> str:
    """The stored calibration label ('calibrated on DATE', 'nominal (uncalibrated)') in ``lang``."""
    if not text:
        return "-"
    if text.startswith("calibrated on "):
        return f"{label('calibrated on', lang)} {text[len('calibrated on '):]}"
    if text in LABELS:
        return label(text, lang)
    return text


def clip(text, lang: str, limit: int = 400) -> str:
    """``text`` for a table cell: cut to ``limit`` characters with a note saying how long it was and where the
    full text is (a cell taller than a page cannot be laid out); any value is turned into text."""
    t = "" if text is None else str(text)
    if len(t) <= limit:
        return t
    return f"{t[:limit]}… ({len(t)} {label('truncated', lang)})"


def judged_status(row: dict, when: datetime) -> tuple[str, str]:
    """A register row's status as judged at ``when`` (the case's first observation): 'expired' when its
    validity ended before, 'not_yet_valid' when it starts after, else the register's own status. Returns
    (key, register status) so a report can show both when they differ."""
    from datetime import date

    reg = str(row.get("status") or "")
    day = when.astimezone(timezone.utc).date()
    try:
        vt = date.fromisoformat(str(row.get("valid_to") or "")) if row.get("valid_to") else None
        vf = date.fromisoformat(str(row.get("valid_from") or "")) if row.get("valid_from") else None
    except ValueError:
        return reg, reg
    if vt is not None and day > vt:
        return "expired", reg
    if vf is not None and day < vf:
        return "not_yet_valid", reg
    return reg, reg


def label(key: str, lang: str) -> str:
    en, vi = LABELS[key]
    return vi if lang == "vi" else en


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UsageError(f"--lang {lang!r} is not supported; one of {', '.join(LANGS)}")
    return lang


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # stable machine name (CSV header, GeoJSON property)
    unit: str
    get: Callable[[CaseDetail, str], object]  # (case, report language) -> value
    text: bool = False  # free text that must be neutralised in spreadsheets


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _r(x, nd: int):
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def canonical(d: CaseDetail):
    """The case's canonical measurement (``CaseDetail.measurement``), or one made of the case summary's
    latest values when the store gave none (a case without observations cannot be exported anyway)."""
    if d.measurement is not None:
        return d.measurement
    from station.compliance.cases.measurement import ObservationRow, case_measurement

    c = d.case
    return case_measurement([ObservationRow(c.center_hz, c.bandwidth_hz, c.mean_power_dbfs, c.snr_db,
                                            json.dumps(d.settings or {}, default=str))])


def _m(name: str, attr: str = "value", nd: int = 1):
    """Getter of a canonical measurand's value or U95 (None when the measurand is unknown)."""
    def get(d: CaseDetail, lang: str):
        m = getattr(canonical(d), name)
        if m is None:
            return None
        return _r(m.value if attr == "value" else m.u95, nd)
    return get


#: export columns; names shared with the vocabulary's ``violation`` measurement mean the same thing. Every
#: measured value is the case's canonical measurement (median over its observations, U95 at k = 2).
COLUMNS: tuple[Column, ...] = (
    Column("case_id", "", lambda d, lang: d.case.case_id),
    Column("class", "", lambda d, lang: d.case.klass.value),
    Column("state", "", lambda d, lang: d.case.state),
    Column("first_seen", "UTC", lambda d, lang: _iso(d.case.first_seen)),
    Column("last_seen", "UTC", lambda d, lang: _iso(d.case.last_seen)),
    Column("n_obs", "count", lambda d, lang: d.case.n_obs),
    Column("center_hz", "Hz", _m("center_hz")),
    Column("center_hz_u95", "Hz", _m("center_hz", "u95")),
    Column("bandwidth_hz", "Hz", _m("bandwidth_hz")),
    Column("bandwidth_hz_u95", "Hz", _m("bandwidth_hz", "u95")),
    Column("power_dbfs", "dBFS", _m("power_dbfs", nd=2)),
    Column("power_dbfs_u95", "dB", _m("power_dbfs", "u95", 2)),
    Column("power_dbm", "dBm", _m("power_dbm", nd=2)),
    Column("power_dbm_u95", "dB", _m("power_dbm", "u95", 2)),
    Column("field_dbuv_m", "dBuV/m", lambda d, lang: _r(canonical(d).field_dbuv_m, 2)),
    Column("field_dbuv_m_u95", "dB", lambda d, lang: _r(canonical(d).field_u95_db, 2)),
    Column("gain_db", "dB", lambda d, lang: _r(canonical(d).gain_db, 1)),
    Column("calibration", "", lambda d, lang: calibration_text(canonical(d).calibration, lang), text=True),
    Column("max_power_dbfs", "dBFS", lambda d, lang: _r(d.case.max_power_dbfs, 2)),
    Column("snr_db", "dB", lambda d, lang: _r(canonical(d).snr_db, 2)),
    Column("licence", "", lambda d, lang: ",".join(d.case.licences), text=True),
    Column("licensee", "", lambda d, lang: d.case.register[0]["licensee"] if d.case.register else "", text=True),
    Column("reason", "", lambda d, lang: reason_text(d, lang), text=True),
    Column("indicative", "", lambda d, lang: d.case.indicative),
    Column("stations", "", lambda d, lang: ",".join(s.station for s in d.case.stations), text=True),
    Column("latitude", "deg", lambda d, lang: _first_pos(d)[0]),
    Column("longitude", "deg", lambda d, lang: _first_pos(d)[1]),
    Column("track_id", "", lambda d, lang: ",".join(d.case.track_ids), text=True),
    Column("previous_case_id", "", lambda d, lang: d.case.previous_case_id or ""),
    Column("evidence", "", lambda d, lang: ";".join(f"{e.path} sha256:{e.sha256}" for e in d.evidence), text=True),
)


def reason_text(d: CaseDetail, lang: str) -> str:
    """The case's reason in ``lang`` with the canonical measurement's numbers (see ``_reasons``)."""
    from station.compliance.exports._reasons import case_reason

    return case_reason(d, canonical(d), lang)


def _first_pos(d: CaseDetail) -> tuple[float | None, float | None]:
    for s in d.case.stations:
        if s.latitude is not None and s.longitude is not None:
            return round(s.latitude, 6), round(s.longitude, 6)
    return None, None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(text: str) -> str:
    """Make a text cell inert in spreadsheets (OWASP CSV injection): prefix ``'`` when it starts with
    = + - @ or a tab/CR/LF, so ``=HYPERLINK(...)`` stays text."""
    return "'" + text if text.startswith(_FORMULA_START) else text


@dataclass(frozen=True)
class Report:
    """The cases to export and how they were chosen."""

    generated: datetime
    lang: str
    since: datetime | None
    states: tuple[str, ...]
    store_path: str
    cases: tuple[CaseDetail, ...]
    evidence_root: Path  # evidence paths in the store are relative to this folder

    def filters_text(self) -> str:
        st = ", ".join(label(s, self.lang) for s in self.states) if self.states else label("all", self.lang)
        text = f"{label('state', self.lang)}: {st}"
        if self.since:
            text += f"; {label('since', self.lang)} {_iso(self.since)}"
        return text

    def base_name(self) -> str:
        return f"violations-{self.generated.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"

    def evidence_file(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.evidence_root / p


def build_report(store: CaseStore, *, since: datetime | None = None, states: tuple[str, ...] = (),
                 lang: str = "en", now: datetime | None = None) -> Report:
    check_lang(lang)
    cases = store.cases(state=states or None, since=since)
    details = tuple(store.detail(c.case_id, case=c) for c in cases)
    return Report(
        generated=now or datetime.now(timezone.utc), lang=lang, since=since, states=tuple(states),
        store_path=str(store.path), cases=details, evidence_root=store.path.resolve().parent,
    )


def atomic_write(path: Path, writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp)`` then rename ``tmp`` to ``path`` (no half-written export is ever left)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        writer(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
