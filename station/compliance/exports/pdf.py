"""PDF report for inspectors (fpdf2): a summary page (filters, counts by class, one line per case), then one
page per case with the spectrum snapshot, the measurements, the register lookup, the reason, the observing
stations, the measurement settings, the evidence files with their SHA-256 and the case history.

Labels are English or Vietnamese (``report.lang``). Vietnamese diacritics are rendered with the DejaVu Sans
TrueType font that matplotlib (a core dependency) ships in ``mpl-data/fonts/ttf``; fpdf2 embeds a subset of it
with a ToUnicode map, so text extraction gives the labels back intact. DejaVu fonts are under the Bitstream
Vera / DejaVu licence (free to embed and redistribute; see docs/VIOLATIONS.md)."""

from __future__ import annotations

from collections import Counter
from datetime import timezone
from pathlib import Path

from station.compliance.exports._reasons import note_text
from station.compliance.exports._common import (
    LABELS,
    evidence_kind,
    Report,
    atomic_write,
    calibration_text,
    canonical,
    clip,
    judged_status,
    label,
    reason_text,
    setting_label,
)

EXTENSION = ".pdf"
_FONT = "DejaVu"
_CLASS_ORDER = ("unlicensed", "off_frequency", "excess_bandwidth", "expired", "not_yet_valid", "exempt_nonconforming", "licensed", "exempt")


def font_paths() -> tuple[Path, Path]:
    """(regular, bold) DejaVu Sans TTF files shipped with matplotlib."""
    import matplotlib

    d = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"


def _utc(dt) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _mhz(hz: float) -> str:
    return f"{hz / 1e6:.6f} MHz"


def _bw(hz: float) -> str:
    return f"{hz / 1e6:.3f} MHz" if hz >= 1e6 else f"{hz / 1e3:.2f} kHz"


def _u_hz(hz: float) -> str:
    return f"{hz / 1e3:.2f} kHz" if hz >= 1e3 else f"{hz:.0f} Hz"


def _spread(m) -> str:
    """Robust spread (1.4826 MAD) of centre, bandwidth and level over the observations; '-' below 3."""
    if m.center_hz.spread is None:
        return "-"
    lvl = m.power_dbm if m.power_dbm is not None else m.power_dbfs
    return f"{_u_hz(m.center_hz.spread)}; {_u_hz(m.bandwidth_hz.spread)}; {lvl.spread:.1f} dB"


def _value(v) -> str:
    """A settings value for print: floats to 6 significant digits."""
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _make_pdf(lang: str):
    from fpdf import FPDF

    class _Pdf(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font(_FONT, "", 8)
            self.cell(0, 6, f"specmon · {label('title', lang)} · {label('page', lang)} {self.page_no()}/{{nb}}",
                      align="C")

    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    regular, bold = font_paths()
    pdf.add_font(_FONT, "", str(regular))
    pdf.add_font(_FONT, "B", str(bold))
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.alias_nb_pages()
    pdf.set_lang(lang)
    pdf.set_creator("specmon")
    pdf.set_title(label("title", lang))
    return pdf


def _heading(pdf, text: str, size: float = 12) -> None:
    pdf.set_font(_FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font(_FONT, "", 9)


def _pairs(pdf, rows: list[tuple[str, str]], key_w: float = 55) -> None:
    pdf.set_font(_FONT, "", 9)
    with pdf.table(col_widths=(key_w, 180 - key_w), text_align="LEFT", first_row_as_headings=False,
                   line_height=4.6, padding=0.8) as table:
        for k, v in rows:
            row = table.row()
            row.cell(k)
            row.cell(v)
    pdf.ln(2)


def _pairs4(pdf, rows: list[tuple[str, str]], size: float = 8.5) -> None:
    """Key/value pairs two per table row (keeps a case on one page)."""
    pdf.set_font(_FONT, "", size)
    with pdf.table(col_widths=(45, 45, 45, 45), text_align="LEFT", first_row_as_headings=False,
                   line_height=size * 0.47, padding=0.5) as table:
        for i in range(0, len(rows), 2):
            row = table.row()
            for k, v in rows[i : i + 2]:
                row.cell(k)
                row.cell(v)
            if len(rows[i : i + 2]) == 1:
                row.cell("")
                row.cell("")
    pdf.ln(2)


def _grid(pdf, header: list[str], rows: list[list[str]], widths: tuple, size: float = 8) -> None:
    pdf.set_font(_FONT, "", size)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=size * 0.48, padding=0.6) as table:
        h = table.row()
        for x in header:
            h.cell(x)
        for r in rows:
            row = table.row()
            for x in r:
                row.cell(x)
    pdf.ln(2)


def _summary(pdf, report: Report) -> None:
    lang = report.lang
    pdf.add_page()
    _heading(pdf, label("title", lang), 16)
    _pairs(pdf, [
        (label("generated", lang), _utc(report.generated)),
        (label("filters", lang), report.filters_text()),
        (label("store", lang), report.store_path),
        (label("n_cases", lang), str(len(report.cases))),
    ])
    if not report.cases:
        pdf.set_font(_FONT, "", 11)
        pdf.multi_cell(0, 6, label("no_cases", lang), new_x="LMARGIN", new_y="NEXT")
        return
    counts = Counter(d.case.klass.value for d in report.cases)
    _heading(pdf, label("by_class", lang), 11)
    _grid(pdf, [label("class", lang), label("n_cases", lang)],
          [[label(k, lang), str(counts[k])] for k in _CLASS_ORDER if counts.get(k)], (90, 90), 9)
    _heading(pdf, label("summary", lang), 11)
    rows = []
    for d in report.cases:
        c = d.case
        rows.append([c.case_id, label(c.klass.value, lang), label(c.state, lang), _mhz(canonical(d).center_hz.value),
                     _utc(c.first_seen), _utc(c.last_seen), str(c.n_obs), clip(", ".join(c.licences) or "-", lang, 120)])
    _grid(pdf, [label(k, lang) for k in ("case_id", "class", "state", "center_mhz", "first_seen", "last_seen",
                                          "n_obs", "licence")], rows, (19, 24, 15, 26, 24, 24, 20, 28), 7)


_IMAGE_WORDS = ("frequency", "level", "average", "maxhold", "occupied", "licensed", "centre")


def _spectrum_image(report: Report, detail):
    """(image for the page, note): the spectrum redrawn from the stored spectrum data in the report's language
    with the canonical centre (and its U95) and bandwidth marked; else the snapshot as captured when the case
    opened, said so; (None, None) without either."""
    lang, c = report.lang, detail.case
    data = next((e for e in detail.evidence if e.kind == "spectrum_data"), None)
    path = report.evidence_file(data.path) if data else None
    if path is not None and path.is_file():
        import io

        from station.compliance.evidence import spectrum_data_figure

        m = canonical(detail)
        words = {k: label(f"img_{k}", lang) for k in _IMAGE_WORDS}
        title = f"{c.case_id}  {label(c.klass.value, lang)}  {_mhz(m.center_hz.value)}  {_bw(m.bandwidth_hz.value)}"
        try:
            fig = spectrum_data_figure(path, center_hz=m.center_hz.value, bandwidth_hz=m.bandwidth_hz.value,
                                       u_center_hz=m.center_hz.u95, title=title, words=words)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            fig.clear()
            return buf, label("img_note", lang)
        except (ValueError, OSError, KeyError):
            pass  # a damaged or foreign file: the captured snapshot below
    png = next((e for e in detail.evidence if e.kind == "spectrum_png"), None)
    png_path = report.evidence_file(png.path) if png else None
    if png_path is not None and png_path.is_file():
        return str(png_path), label("img_captured", lang)
    return None, None


def _case_page(pdf, report: Report, detail) -> None:
    lang = report.lang
    c = detail.case
    pdf.add_page()
    title = f"{label('case', lang)} {c.case_id}: {label(c.klass.value, lang)} ({label(c.state, lang)})"
    if c.indicative:
        title += f" · {label('indicative', lang)}"
    _heading(pdf, title, 14)
    image, note = _spectrum_image(report, detail)
    if image is not None:
        _heading(pdf, label("spectrum", lang), 11)
        pdf.image(image, x=40, w=130)
        if note:
            pdf.set_font(_FONT, "", 7.5)
            pdf.multi_cell(0, 3.6, note, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    else:
        pdf.set_font(_FONT, "", 9)
        pdf.multi_cell(0, 5, label("no_spectrum", lang), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    _heading(pdf, label("measurements", lang), 11)
    st = detail.settings or {}
    m = canonical(detail)
    _pairs4(pdf, [
        (label("center_mhz", lang), f"{_mhz(m.center_hz.value)} ± {_u_hz(m.center_hz.u95)}"),
        (label("bandwidth", lang), f"{_bw(m.bandwidth_hz.value)} ± {_u_hz(m.bandwidth_hz.u95)}"),
        (label("level_dbm", lang), label("level_unknown", lang) if m.power_dbm is None else
         f"{m.power_dbm.value:.1f} dBm ± {m.power_dbm.u95:.1f} dB"),
        (label("power_dbfs", lang), f"{m.power_dbfs.value:.1f} dBFS ± {m.power_dbfs.u95:.1f} dB"),
        *([(label("field_strength", lang), f"{m.field_dbuv_m:.1f} dBµV/m ± {m.field_u95_db:.1f} dB")]
          if m.field_dbuv_m is not None else []),
        (label("gain", lang), "-" if m.gain_db is None else
         ", ".join(f"{g:g} dB" for g in (m.gains_db if len(m.gains_db) > 1 else (m.gain_db,)))),
        (label("calibration", lang), calibration_text(m.calibration, lang)),
        (label("spread", lang), _spread(m)),
        (label("max_power_dbfs", lang), f"{c.max_power_dbfs:.1f}"),
        (label("snr_db", lang), "-" if m.snr_db is None else f"{m.snr_db:.1f}"),
        (label("n_obs", lang), f"{c.n_obs}" if m.n_obs == c.n_obs else f"{c.n_obs} ({label('summarised', lang)} {m.n_obs})"),
        (label("first_seen", lang), _utc(c.first_seen)),
        (label("last_seen", lang), _utc(c.last_seen)),
        (label("indicative", lang), label("yes" if c.indicative else "no", lang)),
        (label("track_id", lang), ", ".join(c.track_ids) or "-"),
        *([(label("previous_case_id", lang), c.previous_case_id)] if c.previous_case_id else []),
    ])
    pdf.set_font(_FONT, "", 7.5)
    pdf.multi_cell(0, 3.6, label("canonical_note", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    _heading(pdf, label("register", lang), 11)
    if c.register:
        rows = []
        for a in c.register:
            freq = a["frequency_mhz"] and f"{a['frequency_mhz']} MHz" or f"{a['lower_mhz']}-{a['upper_mhz']} MHz"
            tol = f"{a['tolerance_hz']} Hz" if a["tolerance_hz"] else (f"{a['tolerance_ppm']} ppm" if a["tolerance_ppm"]
                                                                      else "-")
            judged, reg = judged_status(a, c.first_seen)
            status = label(judged, lang) if judged in LABELS else judged
            if judged != reg:  # say what the register claims too: an expired licence never reads "current"
                status += f" ({label('status_register', lang)}: {label(reg, lang) if reg in LABELS else reg})"
            rows.append([clip(a["licence"], lang, 80), clip(a["licensee"] or "-", lang, 200), freq,
                         a["designator"] or (a["channel_khz"] and f"{a['channel_khz']} kHz") or "-", tol,
                         f"{a['valid_from'] or '-'} / {a['valid_to'] or '-'}", clip(status, lang, 120)])
        _grid(pdf, [label(k, lang) for k in ("licence", "licensee", "assigned", "designator", "tolerance", "valid",
                                              "status")], rows, (26, 42, 26, 20, 18, 30, 18), 7)
    else:
        pdf.multi_cell(0, 5, label("no_register", lang), new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, label("reason", lang), 11)
    pdf.multi_cell(0, 4.5, clip(reason_text(detail, lang), lang, 3000), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _heading(pdf, label("stations", lang), 11)
    _grid(pdf, [label("station", lang), label("latitude", lang), label("longitude", lang)],
          [[clip(s.station, lang, 80), "-" if s.latitude is None else f"{s.latitude:.5f}",
            "-" if s.longitude is None else f"{s.longitude:.5f}"] for s in c.stations], (60, 60, 60), 8)
    if detail.settings:
        _heading(pdf, label("settings", lang), 11)
        # scalar settings only: per-emission tables (level_conversion, the tracker's measurement) are in the bundle
        _pairs4(pdf, [(setting_label(str(k), lang),
                       calibration_text(str(v), lang) if k == "calibration" else clip(_value(v), lang, 200))
                      for k, v in sorted(detail.settings.items())
                      if v is not None and not isinstance(v, (dict, list))], size=7)
    if detail.evidence:
        _heading(pdf, label("evidence", lang), 11)
        _grid(pdf, [label("evidence", lang), label("sha256", lang)],
              [[f"{evidence_kind(e.kind, lang)}: {e.path} ({e.size_bytes} B)", e.sha256] for e in detail.evidence],
              (70, 110), 6.5)
    _heading(pdf, label("notes", lang), 11)
    _grid(pdf, [label("times", lang), label("state", lang), label("notes", lang)],
          [[_utc(e.time), label(e.state, lang) if e.state else "-", clip(" ".join(x for x in (note_text(e.text, lang), e.author and
            f"({e.author})") if x) or "-", lang, 600)] for e in detail.events], (35, 30, 115), 8)


def write(report: Report, out_dir: Path) -> Path:
    """Write ``<out_dir>/violations-<UTC time>.pdf``; returns its path."""
    pdf = _make_pdf(report.lang)
    _summary(pdf, report)
    for d in report.cases:
        _case_page(pdf, report, d)

    def writer(tmp: Path) -> None:
        pdf.output(str(tmp))

    return atomic_write(Path(out_dir) / (report.base_name() + EXTENSION), writer)
