"""The case page's products: the demodulated audio of the evidence IQ (a WAV an ``<audio>`` element plays),
the IQ spectrogram, and the signed evidence bundle, each made as ``specmon violations export --format bundle``
makes them (station/compliance/exports/bundle.py, station/compliance/audio.py), so what an inspector hears and
sees on the page is what the bundle holds.

Audio: the demodulator is chosen by :func:`station.compliance.audio.choose_mode` (register designator, else the
signal itself) on the part of the recording where the emission was on the air (the SigMF annotation); digital
or wide emissions give no audio and say why.

Bundles are kept once built (:class:`BundleCache`): a download of an unchanged case is the file built before;
a new row of the case (observation, event, evidence: the head of its hash chain moves) or a changed evidence file
makes a new one.

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

    with CaseStore.open_readonly(db_path) as store:
        report = build_report(store, lang=lang)
    report = replace(report, cases=tuple(d for d in report.cases if d.case.case_id == case_id))
    if not report.cases:
        raise LookupError(f"no case {case_id!r}")
    with tempfile.TemporaryDirectory(prefix="specmon-web-bundle-") as tmp:
        (path,) = bundle.write(report, Path(tmp))
        return path.name, path.read_bytes()


#: disk the web app's bundle cache may use (oldest-used bundles are deleted beyond it)
BUNDLE_CACHE_BYTES = 256 * 1024 * 1024


class BundleCache:
    """Built bundles on disk under ``folder``, at most ``max_bytes`` in all (least recently used deleted first; a
    bundle larger than the whole budget is not kept). The key names the case's state: see :func:`bundle_key`.
    Not thread-safe: the web app calls it from its one work thread."""

    def __init__(self, folder: Path | None = None, max_bytes: int = BUNDLE_CACHE_BYTES):
        self._folder = Path(folder) if folder is not None else None
        self._own = folder is None  # a temporary folder made on first use, removed by close()
        self.max_bytes = int(max_bytes)
        self._entries: dict[str, tuple[str, Path, int]] = {}  # key -> (download name, file, size); LRU order
        self.hits = self.builds = 0
        self._closed = False

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="specmon-web-bundles-"))
        return self._folder

    @property
    def size_bytes(self) -> int:
        return sum(size for _, _, size in self._entries.values())

    def get(self, key: str) -> tuple[str, Path] | None:
        entry = self._entries.pop(key, None)
        if entry is None or not entry[1].is_file():
            return None
        self._entries[key] = entry  # most recently used last
        self.hits += 1
        return entry[0], entry[1]

    def put(self, key: str, name: str, data: bytes) -> Path | None:
        """Keep ``data`` under ``key``; the file (None when larger than the budget: serve the bytes)."""
        self.builds += 1
        old = self._entries.pop(key, None)
        if old is not None:
            old[1].unlink(missing_ok=True)
        if len(data) > self.max_bytes or self._closed:
            return None
        while self._entries and self.size_bytes + len(data) > self.max_bytes:
            _, path, _ = self._entries.pop(next(iter(self._entries)))
            path.unlink(missing_ok=True)
        path = self.folder / f"{key}.zip"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        self._entries[key] = (name, path, len(data))
        return path

    def drop_case(self, case_id: str, lang: str) -> None:
        """Forget the case's bundles in ``lang`` (called before a newer state of the case is kept)."""
        for key in [k for k in self._entries if k.startswith(f"{case_id}.{lang}.")]:
            self._entries.pop(key)[1].unlink(missing_ok=True)

    def close(self) -> None:
        self._closed = True
        for _, path, _ in self._entries.values():
            path.unlink(missing_ok=True)
        self._entries.clear()
        if self._own and self._folder is not None:
            import shutil

            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def bundle_key(case_id: str, lang: str, chain_head: str, files: list[Path]) -> str:
    """``<case_id>.<lang>.<digest>``: the digest covers the head of the case's hash chain (any new observation,
    event or evidence row moves it) and the size and modification time of each evidence file on disk (a file
    changed or removed after capture must not be served from an older, verified bundle)."""
    import hashlib

    h = hashlib.sha256(chain_head.encode())
    for f in files:
        try:
            st = f.stat()
            h.update(f"{f}:{st.st_size}:{st.st_mtime_ns}".encode())
        except OSError:
            h.update(f"{f}:missing".encode())
    return f"{case_id}.{lang}.{h.hexdigest()[:32]}"
