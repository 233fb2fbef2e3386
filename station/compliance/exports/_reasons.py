"""A case's reason and history notes in the report's language.

The checker keeps its reason in words (English, for logs and InfluxDB) and in structured form
(``ComplianceResult.reason_args``: the class code and the reference values it compared with: licence label,
assigned centre, tolerance, necessary bandwidth and limit, exempt band, nearest assignment, out-of-area
licence). The case store keeps the structured form of the case's opening observation; here it is rendered
per language with the case's CANONICAL measurement (median centre/bandwidth and their U95), so the reason
shows the same numbers as the table and the image. A case stored before the structured form existed keeps
its stored English text (said so in Vietnamese)."""

from __future__ import annotations

import math

from station.compliance.exports._common import label

# fragment key -> (English, Vietnamese); {placeholders} filled by _render
T: dict[str, tuple[str, str]] = {
    "expired": ("expired: {label} matches {f} but {why}", "giấy phép hết hạn: {label} trùng với {f} nhưng {why}"),
    "not_yet_valid": ("not yet valid: {label} matches {f} but {why}",
                      "giấy phép chưa có hiệu lực: {label} trùng với {f} nhưng {why}"),
    "why_status": ("licence status is {status}", "tình trạng giấy phép là {status}"),
    "why_valid_to": ("valid to {date}", "chỉ có hiệu lực đến {date}"),
    "why_valid_from": ("valid from {date}", "chỉ có hiệu lực từ {date}"),
    "off_channel": ("off-frequency: centre {f} is {off} kHz from {label}, beyond its tolerance ±{tol}",
                    "sai tần số: tần số trung tâm {f} lệch {off} kHz so với {label}, vượt dung sai ±{tol}"),
    "off_block": ("off-frequency: occupied band {lo}-{hi} leaves the block {blo}-{bhi} of {label} (tolerance ±{tol})",
                  "sai tần số: băng tần chiếm dụng {lo}-{hi} nằm ngoài khối {blo}-{bhi} của {label} (dung sai ±{tol})"),
    "u_centre": ("measurement uncertainty of the centre ±{u} (95 %)",
                 "độ không đảm bảo đo của tần số trung tâm ±{u} (95 %)"),
    "u_bw": ("measurement uncertainty of the bandwidth ±{u} (95 %)",
             "độ không đảm bảo đo của độ rộng băng tần ±{u} (95 %)"),
    "indicative_u": ("indicative: {beyond} beyond the limit is within the measurement uncertainty",
                     "mang tính tham khảo: phần vượt {beyond} nằm trong độ không đảm bảo đo"),
    "indicative_rx": ("indicative: the receiver's frequency uncertainty ±{u} ({ppm} ppm) could explain the offset",
                      "mang tính tham khảo: độ không đảm bảo tần số của máy thu ±{u} ({ppm} ppm) có thể giải thích độ "
                      "lệch"),
    "indicative": ("indicative: the finding lies within the measurement uncertainty",
                   "mang tính tham khảo: kết luận nằm trong độ không đảm bảo đo"),
    "excess": ("excess bandwidth: occupied {bw} exceeds {factor} x the necessary {nb} ({limit}) of {label}",
               "vượt độ rộng băng tần: độ rộng chiếm dụng {bw} vượt {factor} lần độ rộng cần thiết {nb} ({limit}) "
               "của {label}"),
    "nonconforming": ("exempt band, over its limits: {f} lies in licence-exempt band {band} ({blo}-{bhi}) but {why}",
                      "băng tần miễn giấy phép, vượt giới hạn: {f} nằm trong băng tần miễn giấy phép {band} ({blo}-{bhi}) "
                      "nhưng {why}"),
    "nc_bw": ("occupied {bw} exceeds its limit {limit}", "độ rộng chiếm dụng {bw} vượt giới hạn {limit}"),
    "nc_out": ("occupied band {lo}-{hi} leaves it", "băng tần chiếm dụng {lo}-{hi} vượt ra ngoài băng tần đó"),
    "nc_none": ("is outside its limits", "nằm ngoài giới hạn của băng tần đó"),
    "and": (" and ", " và "),
    "unlicensed": ("unlicensed: no assignment in area covers {f} (occupied {bw})",
                   "không có giấy phép: không có ấn định tần số nào trong khu vực bao gồm {f} (độ rộng chiếm dụng {bw})"),
    "nearest": ("nearest: {label}, {d} kHz away", "gần nhất: {label}, cách {d} kHz"),
    "ex_miss_bw": ("in exempt band {band} but occupied {bw} exceeds its limit {limit}",
                   "trong băng tần miễn giấy phép {band} nhưng độ rộng chiếm dụng {bw} vượt giới hạn {limit}"),
    "ex_miss_out": ("centre in exempt band {band} ({blo}-{bhi}) but the occupied band {lo}-{hi} leaves it",
                    "tần số trung tâm trong băng tần miễn giấy phép {band} ({blo}-{bhi}) nhưng băng tần chiếm dụng "
                    "{lo}-{hi} vượt ra ngoài"),
    "out_of_area": ("out of area: {lic} site {km} km away", "ngoài khu vực: địa điểm của {lic} cách {km} km"),
    "more": (" and {n} more", " và {n} giấy phép khác"),
    "stored_en": ("{text}", "(lý do ghi bằng tiếng Anh khi mở vụ việc) {text}"),
    # history notes written by the station
    "opened": ("opened by the station", "được trạm mở"),
    "evidence_incomplete": ("evidence incomplete:", "chứng cứ chưa đầy đủ:"),
    "exported_files": ("files", "tệp"),
}


def t(key: str, lang: str, **kw) -> str:
    en, vi = T[key]
    return (vi if lang == "vi" else en).format(**kw)


def _mhz(hz: float) -> str:
    return f"{hz / 1e6:.6f} MHz"


def _khz(hz) -> str:
    return "-" if hz is None or not math.isfinite(hz) else f"{hz / 1e3:.2f} kHz"


def _bw(hz: float) -> str:
    return f"{hz / 1e6:.3f} MHz" if hz >= 1e6 else f"{hz / 1e3:.2f} kHz"


def _status(s: str, lang: str) -> str:
    from station.compliance.exports._common import LABELS

    return label(s, lang) if s in LABELS else s


def render(args: dict, m, lang: str, indicative: bool) -> str:
    """Reason text of structured ``args`` (``ComplianceResult.reason_args``) with the canonical measurement ``m``
    (:class:`station.compliance.cases.measurement.CaseMeasurement`) in ``lang``."""
    code = args.get("code")
    fc, bw = m.center_hz.value, m.bandwidth_hz.value
    lo, hi = fc - bw / 2, fc + bw / 2
    parts: list[str] = []
    lab = str(args.get("label", ""))
    if code in ("expired", "not_yet_valid"):
        kind, value = (args.get("why") or ["", ""])[:2]
        why = (t("why_status", lang, status=_status(str(value), lang)) if kind == "status"
               else t(f"why_{kind}", lang, date=value) if kind in ("valid_to", "valid_from") else str(value))
        parts.append(t(code, lang, label=lab, f=_mhz(fc), why=why))
    elif code == "off_frequency":
        tol = float(args.get("tol_hz") or 0.0)
        block = args.get("block")
        if block:
            parts.append(t("off_block", lang, lo=_mhz(lo), hi=_mhz(hi), blo=_mhz(block[0]), bhi=_mhz(block[1]),
                           label=lab, tol=_khz(tol)))
            beyond = max(block[0] - tol - lo, hi - block[1] - tol)
        else:
            off = fc - float(args.get("assigned_hz", fc))
            parts.append(t("off_channel", lang, f=_mhz(fc), off=f"{off / 1e3:+.2f}", label=lab, tol=_khz(tol)))
            beyond = abs(off) - tol
        if indicative and not args.get("has_u") and args.get("receiver_u_hz"):
            parts.append(t("indicative_rx", lang, u=_khz(args["receiver_u_hz"]), ppm=f"{args.get('ppm', 0):g}"))
        elif indicative:
            parts.append(t("indicative_u", lang, beyond=_khz(max(beyond, 0.0))))
        parts.append(t("u_centre", lang, u=_khz(m.center_hz.u95)))
    elif code == "excess_bandwidth":
        limit = float(args.get("limit_hz") or 0.0)
        parts.append(t("excess", lang, bw=_bw(bw), factor=f"{args.get('factor', 1):g}",
                       nb=_khz(args.get("necessary_hz")), limit=_khz(limit), label=lab))
        if indicative:
            parts.append(t("indicative_u", lang, beyond=_khz(max(bw - limit, 0.0))))
        parts.append(t("u_bw", lang, u=_khz(m.bandwidth_hz.u95)))
    elif code == "exempt_nonconforming":
        b = args.get("exempt_band") or {}
        why = []
        if b.get("max_bw_hz") is not None and bw > b["max_bw_hz"]:
            why.append(t("nc_bw", lang, bw=_bw(bw), limit=_khz(b["max_bw_hz"])))
        if lo < b.get("lo_hz", lo) or hi > b.get("hi_hz", hi):
            why.append(t("nc_out", lang, lo=_mhz(lo), hi=_mhz(hi)))
        parts.append(t("nonconforming", lang, f=_mhz(fc), band=b.get("name", ""), blo=_mhz(b.get("lo_hz", lo)),
                       bhi=_mhz(b.get("hi_hz", hi)), why=T["and"][lang == "vi"].join(why) or t("nc_none", lang)))
        if indicative:
            parts.append(t("indicative", lang))
        parts.append(t("u_centre", lang, u=_khz(m.center_hz.u95)))
        parts.append(t("u_bw", lang, u=_khz(m.bandwidth_hz.u95)))
    elif code == "unlicensed":
        parts.append(t("unlicensed", lang, f=_mhz(fc), bw=_bw(bw)))
        near = args.get("nearest")
        if near:
            parts.append(t("nearest", lang, label=near.get("label", ""),
                           d=f"{abs(fc - float(near.get('assigned_hz', fc))) / 1e3:.2f}"))
    else:
        return ""
    b = args.get("exempt_band")
    if b and code != "exempt_nonconforming":
        if b.get("max_bw_hz") is not None and bw > b["max_bw_hz"]:
            parts.append(t("ex_miss_bw", lang, band=b.get("name", ""), bw=_bw(bw), limit=_khz(b["max_bw_hz"])))
        else:
            parts.append(t("ex_miss_out", lang, band=b.get("name", ""), blo=_mhz(b.get("lo_hz", lo)),
                           bhi=_mhz(b.get("hi_hz", hi)), lo=_mhz(lo), hi=_mhz(hi)))
    oa = args.get("out_of_area")
    if oa:
        text = t("out_of_area", lang, lic=oa.get("licence", ""), km=f"{float(oa.get('km') or 0):.0f}")
        if oa.get("more"):
            text += t("more", lang, n=int(oa["more"]))
        parts.append(text)
    return "; ".join(parts)


def case_reason(detail, measurement, lang: str) -> str:
    """The reason of case ``detail`` in ``lang`` with ``measurement``'s numbers; the stored English text for a
    case stored without the structured form."""
    args = detail.reason_args
    text = render(args, measurement, lang, detail.case.indicative) if isinstance(args, dict) and measurement else ""
    return text or t("stored_en", lang, text=detail.case.reason)


def note_text(text: str | None, lang: str) -> str | None:
    """A history note in ``lang``: the station's own notes translated, an operator's note as written."""
    if not text or lang != "vi":
        return text
    if text == T["opened"][0]:
        return T["opened"][1]
    if text.startswith(T["evidence_incomplete"][0]):
        return T["evidence_incomplete"][1] + text[len(T["evidence_incomplete"][0]):]
    return text
