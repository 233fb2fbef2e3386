"""The web app's words in English and Vietnamese: the reports' labels
(:data:`station.compliance.exports._common.LABELS`, so a class, a state or a column reads the same on the page as
in the PDF an inspector files) plus the few words only the pages need (``web_*``)."""

from __future__ import annotations

from station.compliance.exports._common import LABELS

LANGS = ("en", "vi")

#: key -> (English, Vietnamese); keys the reports also define are not repeated here
WEB_LABELS: dict[str, tuple[str, str]] = {
    "web_now": ("Now", "Hiện tại"),
    "web_health": ("Health", "Tình trạng trạm"),
    "web_cases": ("Cases", "Vụ việc"),
    "web_case": ("Case", "Vụ việc"),
    "web_language": ("Tiếng Việt", "English"),  # the link to the other language
    "web_band": ("Band", "Băng tần"),
    "web_frequency": ("Frequency", "Tần số"),
    "web_level": ("Level", "Mức"),
    "web_level_unit": ("dBFS/Hz", "dBFS/Hz"),
    "web_power": ("Power", "Công suất"),
    "web_waterfall": ("Waterfall", "Thác phổ (waterfall)"),
    "web_emissions": ("Emissions", "Phát xạ"),
    "web_violations": ("violations", "vi phạm"),
    "web_noise": ("Noise floor", "Mức tạp âm nền"),
    "web_sweep": ("Sweep", "Lần quét"),
    "web_updated": ("Updated (UTC)", "Cập nhật (UTC)"),
    "web_live": ("live", "trực tiếp"),
    "web_offline": ("disconnected, reconnecting…", "mất kết nối, đang kết nối lại…"),
    "web_waiting": ("waiting for the first sweep", "đang chờ lần quét đầu tiên"),
    "web_receivers": ("Receivers", "Máy thu"),
    "web_receiver_state": ("Receiver state", "Trạng thái máy thu"),
    "web_errors": ("Errors", "Số lỗi"),
    "web_reopens": ("Reopens", "Số lần mở lại"),
    "web_last_error": ("Last error", "Lỗi gần nhất"),
    "web_uptime": ("Uptime", "Thời gian hoạt động"),
    "web_clock": ("Clock synchronisation", "Đồng bộ đồng hồ"),
    "web_synced": ("synchronised", "đã đồng bộ"),
    "web_not_synced": ("not synchronised", "chưa đồng bộ"),
    "web_unknown": ("unknown", "không rõ"),
    "web_cpu": ("CPU", "CPU"),
    "web_temperature": ("Temperature", "Nhiệt độ"),
    "web_not_readable": ("not readable here", "không đọc được"),
    "web_spool": ("Spool", "Hàng đợi ghi"),
    "web_spool_points": ("points waiting", "điểm đang chờ"),
    "web_spool_age": ("oldest", "cũ nhất"),
    "web_sinks": ("Sinks", "Đích lưu trữ"),
    "web_disk_free": ("Disk free", "Dung lượng đĩa trống"),
    "web_bands": ("Bands", "Các băng tần"),
    "web_revisit": ("Revisit", "Chu kỳ quét lại"),
    "web_duration": ("Sweep time", "Thời gian quét"),
    "web_open": ("open", "đang mở"),
    "web_search": ("Search", "Tìm kiếm"),
    "web_search_hint": ("case, licence, MHz…", "mã vụ việc, giấy phép, MHz…"),
    "web_no_open_cases": ("No open violation cases.", "Không có vụ việc vi phạm nào đang mở."),
    "web_audio": ("Demodulated audio", "Âm thanh giải điều chế"),
    "web_no_audio": ("No IQ recording to demodulate for this case.", "Vụ việc này không có bản ghi IQ để giải điều chế."),
    "web_downloads": ("Downloads", "Tải về"),
    "web_bundle": ("Evidence bundle (zip)", "Gói chứng cứ (zip)"),
    "web_iq": ("IQ recording (SigMF)", "Bản ghi IQ (SigMF)"),
    "web_spectrogram": ("Spectrogram", "Ảnh phổ theo thời gian"),
    "web_no_spectrogram": ("No spectrogram was recorded for this case.", "Không có ảnh phổ theo thời gian cho vụ việc này."),
    "web_verification": ("Verification", "Xác minh"),
    "web_verified_ok": ("The case's history is intact (hash chain) and every evidence file matches the SHA-256 "
                        "recorded at capture.", "Lịch sử vụ việc nguyên vẹn (chuỗi băm) và mọi tệp chứng cứ khớp với "
                        "SHA-256 đã ghi khi thu."),
    "web_verified_failed": ("Verification FAILED: the stored history or evidence was changed:",
                            "Xác minh THẤT BẠI: lịch sử hoặc chứng cứ đã lưu bị thay đổi:"),
    "web_verified_incomplete": ("The history is intact, but evidence is missing:",
                                "Lịch sử vụ việc nguyên vẹn nhưng thiếu chứng cứ:"),
    "web_observations": ("Latest observations", "Các lần quan sát gần nhất"),
    "web_files": ("Evidence files", "Tệp chứng cứ"),
    "web_time": ("Time (UTC)", "Thời gian (UTC)"),
    "web_event": ("Event", "Sự kiện"),
    "web_author": ("By", "Người thực hiện"),
    "web_size": ("Size", "Kích thước"),
    "web_not_found": ("Not found", "Không tìm thấy"),
    "web_back": ("All cases", "Tất cả vụ việc"),
    "web_offset": ("Offset", "Độ lệch"),
    "web_occupancy": ("Occupancy", "Hệ số chiếm dụng"),
    "web_yes": ("yes", "có"),
    "unknown": ("unknown", "chưa xác định"),
}


def labels_for(lang: str) -> dict[str, str]:
    """Every label (reports' and web's) in ``lang`` (``en`` or ``vi``)."""
    i = 1 if lang == "vi" else 0
    out = {k: v[i] for k, v in LABELS.items()}
    out.update({k: v[i] for k, v in WEB_LABELS.items()})
    return out
