"""The case page's products: the demodulated audio of the evidence IQ (a WAV an ``<audio>`` element plays),
the IQ spectrogram, and the signed evidence bundle, each made as ``specmon violations export --format bundle``
makes them (station/compliance/exports/bundle.py, station/compliance/audio.py), so what an inspector hears and
sees on the page is what the bundle holds.

Audio: the demodulator is chosen by :func:`station.compliance.audio.choose_mode` (register designator, else the
signal itself) on the part of the recording where the emission was on the air (the SigMF annotation); digital
or wide emissions give no audio and say why.

The spectrogram and the bundle need matplotlib and fpdf2: they are made in a short-lived child process
(:mod:`station.childproc`), never in the station's process.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class Audio:
    wav: bytes | None  # None: no audio, see why
    mode: str | None
    why: str
    duration_s: float = 0.0


def _recording(meta_path: Path):
    from station.formats.sigmf import read_meta
    from station.formats.sigmfmeta import SIGMF_DTYPES

    rec = read_meta(meta_path)
    raw = np.fromfile(rec.data_path, dtype=SIGMF_DTYPES[rec.datatype], count=2 * rec.n_samples)
    ann = next((a for a in rec.annotations if a.freq_lower_edge_hz is not None), None)
    return rec, raw, ann


def case_audio(meta_path: Path, center_hz: float, bandwidth_hz: float, designators: tuple[str, ...] = ()) -> Audio:
    """The case's voice audio from its SigMF IQ recording (see the module docstring)."""
    from dsp.convert import to_complex64
    from station.compliance.audio import choose_mode, voice_audio, write_wav

    rec, raw, ann = _recording(meta_path)
    fc, fs = rec.center_freq_hz, rec.sample_rate_hz
    if ann is not None and "not seen on the air" in (ann.comment or ""):
        return Audio(None, None, "the emission was not on the air during the recording")
    f_lo = ann.freq_lower_edge_hz if ann else center_hz - bandwidth_hz / 2
    f_hi = ann.freq_upper_edge_hz if ann else center_hz + bandwidth_hz / 2
    center = float(ann.extra.get("specmon:center_hz", 0.5 * (f_lo + f_hi))) if ann else center_hz
    start = ann.sample_start if ann else 0
    count = (ann.sample_count or rec.n_samples) if ann else rec.n_samples
    on = to_complex64(raw, rec.native_format)[start:start + count]
    choice = choose_mode(on, fs, center - fc, f_hi - f_lo, designators)
    if choice.mode is None:
        return Audio(None, None, choice.why)
    try:
        audio = voice_audio(on, fs, center - fc, choice, bandwidth_hz=f_hi - f_lo)
    except ValueError as exc:
        return Audio(None, None, str(exc))
    buf = io.BytesIO()
    write_wav(buf, audio)
    return Audio(buf.getvalue(), audio.mode, audio.why, audio.samples.size / audio.rate_hz)


def spectrogram_png(meta_path: Path, case_id: str, klass: str, center_hz: float, bandwidth_hz: float) -> bytes:
    """PNG of the IQ spectrogram around the emission, its occupied band marked (run it in a child process)."""
    from station.formats.plot import iq_spectrogram_figure

    rec, raw, ann = _recording(meta_path)
    fc, fs = rec.center_freq_hz, rec.sample_rate_hz
    f_lo = ann.freq_lower_edge_hz if ann else center_hz - bandwidth_hz / 2
    f_hi = ann.freq_upper_edge_hz if ann else center_hz + bandwidth_hz / 2
    center = 0.5 * (f_lo + f_hi)
    bw = f_hi - f_lo
    half_span = max(25e3, 3 * bw)
    fig = iq_spectrogram_figure(
        raw, rec.native_format, fs, fc, f_lo_hz=max(fc - fs / 2, center - half_span),
        f_hi_hz=min(fc + fs / 2, center + half_span), marks_hz=(f_lo, f_hi), rbw_hz=max(100.0, min(5e3, bw / 10)),
        title=f"{case_id} {klass} {center / 1e6:.6f} MHz: IQ spectrogram ({rec.duration_s:.2f} s)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    fig.clear()
    return buf.getvalue()


def bundle_zip(db_path: Path, case_id: str, lang: str = "en") -> tuple[str, bytes]:
    """(file name, bytes) of the case's signed evidence bundle, exactly as ``violations export --format bundle``
    writes it (a case failing verification raises DataError). Run it in a child process."""
    from dataclasses import replace

    from station.compliance.cases import CaseStore
    from station.compliance.exports import bundle
    from station.compliance.exports._common import build_report

    with CaseStore(db_path) as store:
        report = build_report(store, lang=lang)
    report = replace(report, cases=tuple(d for d in report.cases if d.case.case_id == case_id))
    if not report.cases:
        raise LookupError(f"no case {case_id!r}")
    with tempfile.TemporaryDirectory(prefix="specmon-web-bundle-") as tmp:
        (path,) = bundle.write(report, Path(tmp))
        return path.name, path.read_bytes()
