"""Evidence bundle: one self-contained, signed zip per case, for an inspector to take to the field and for
anyone to verify later (``specmon verify BUNDLE``).

``<case id>-<UTC time>.zip`` holds one folder ``<case id>/`` with:

    report.pdf              the case's PDF pages (summary page + case page, the pdf format's own writer)
    spectrum.png            the spectrum snapshot captured when the case opened
    spectrogram.png         time x frequency of the IQ recording around the emission, occupied band marked
    iq.sigmf                the IQ recording as a SigMF archive (tar of iq/iq.sigmf-meta + iq/iq.sigmf-data, the
                            files exactly as captured, with the emission's annotation)
    audio.wav               demodulated audio (AM / NBFM / WBFM, 16-bit mono ~16 kHz) of the part where the
                            emission was on the air, for analogue voice only (station.compliance.audio says why not)
    register.json           the register rows considered when the case opened
    settings.json           measurement settings: the latest observation's DSP settings, the capture's
                            measurement, receiver and IQ/trigger figures
    history.json            the case's hash chain: every stored row (case, observations, events, evidence
                            records) with its link; the last link is the manifest's ``chain_head``
    capture-manifest.json   the station's own evidence manifest, as captured
    evidence-<name>         any other evidence file of the case (e.g. the snapshot's spectrum data), as captured
    station-ed25519.pub.pem the station's public key
    manifest.json           what the bundle holds: SHA-256 and size of every file above, the chain head, the key's
                            fingerprint, the audio and IQ figures, and every problem (MISSING evidence)
    manifest.sig            base64 Ed25519 signature of manifest.json's bytes by the station key

A case whose stored history or evidence files fail verification (a forged or rewritten row, a changed file) is
refused: the export stops with the case and the problem named, before anything is written. Missing evidence
(a capture interrupted and not recoverable) is no forgery: the bundle is written and its manifest lists it.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
import tempfile
import zipfile
from dataclasses import replace
from datetime import timezone
from pathlib import Path

from station.compliance.exports._common import Report
from station.errors import DataError

EXTENSION = ".zip"
FORMAT = "specmon-evidence-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def write(report: Report, out_dir: Path) -> list[Path]:
    """Write one bundle per case of ``report`` into ``out_dir``; returns their paths (none for zero cases)."""
    from station.compliance.cases import CaseStore
    from station.compliance.signing import StationKey

    if not report.cases:
        return []
    with CaseStore(report.store_path) as store:
        bad = {d.case.case_id: p for d in report.cases if (p := _tampered(store, d.case.case_id))}
        if bad:
            cid, problems = next(iter(bad.items()))
            more = f" (and {len(bad) - 1} more cases)" if len(bad) > 1 else ""
            raise DataError(f"case {cid} fails verification, no bundle written: {problems[0]}"
                            f"{f' (+{len(problems) - 1} more problems)' if len(problems) > 1 else ''}{more}; "
                            f"see `specmon violations show {cid} --verify`", where=str(report.store_path))
        key = StationKey.load_or_create(Path(report.store_path).resolve().parent)
        return [_write_case(report, d, store, key, Path(out_dir)) for d in report.cases]


def _tampered(store, case_id: str) -> list[str]:
    problems = store.verify_chain(case_id)
    problems += [f"evidence {ev.path}: {p}" for ev, p in store.verify_evidence(case_id) if p != "missing"]
    return problems


def _latest(detail, kind: str):
    return next((e for e in reversed(detail.evidence) if e.kind == kind), None)


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=True, default=_default) + "\n").encode("utf-8")


def _default(x):
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    if hasattr(x, "isoformat"):
        return x.isoformat()
    return str(x)


def _write_case(report: Report, detail, store, key, out_dir: Path) -> Path:
    from station import __version__
    from station.compliance.exports import pdf
    from station.compliance.exports._common import atomic_write
    from station.compliance.signing import PUBLIC_NAME

    c = detail.case
    stamp = report.generated.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    files: dict[str, tuple[bytes, str]] = {}  # name -> (content, description)
    problems: list[str] = list(store.missing_evidence(c.case_id))
    for ev, p in store.verify_evidence(c.case_id):
        problems.append(f"MISSING evidence file {ev.path} (recorded with sha256 {ev.sha256}, gone from disk)")

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{c.case_id}-") as tmp:
        pdf_path = pdf.write(replace(report, cases=(detail,)), Path(tmp))
        files["report.pdf"] = (pdf_path.read_bytes(), "the case's report pages (summary + case page)")

    def evidence_bytes(kind: str) -> bytes | None:
        ev = _latest(detail, kind)
        if ev is None:
            return None
        p = store.evidence_path(ev)
        return p.read_bytes() if p.is_file() else None

    png = evidence_bytes("spectrum_png")
    if png is not None:
        files["spectrum.png"] = (png, "spectrum snapshot captured when the case opened")
    capture = evidence_bytes("manifest")
    capture_doc = json.loads(capture) if capture else {}
    if capture is not None:
        files["capture-manifest.json"] = (capture, "the station's evidence manifest, as captured")

    for ev in detail.evidence:  # other kinds (the snapshot's spectrum data ...): the latest of each, as captured
        if ev.kind not in ("spectrum_png", "manifest", "iq_sigmf_meta", "iq_sigmf_data") and ev is _latest(
                detail, ev.kind) and store.evidence_path(ev).is_file():
            files[f"evidence-{Path(ev.path).name}"] = (store.evidence_path(ev).read_bytes(),
                                                       ev.description or f"evidence file ({ev.kind})")

    iq_info, audio_info = None, None
    meta_ev, data_ev = _latest(detail, "iq_sigmf_meta"), _latest(detail, "iq_sigmf_data")
    if meta_ev is not None and data_ev is not None and store.evidence_path(meta_ev).is_file() \
            and store.evidence_path(data_ev).is_file():
        meta_path, data_path = store.evidence_path(meta_ev), store.evidence_path(data_ev)
        files["iq.sigmf"] = (_sigmf_archive(meta_path, data_path), "the IQ recording as a SigMF archive")
        try:
            iq_info, audio_info, extra = _from_iq(c, detail, meta_path)
            for name, content, desc in extra:
                files[name] = (content, desc)
        except (ValueError, OSError) as exc:
            problems.append(f"IQ products (spectrogram, audio): {exc}")

    files["register.json"] = (_json_bytes(list(c.register)), "register rows considered when the case opened")
    files["settings.json"] = (_json_bytes({
        "observation": detail.settings,
        "capture": {k: capture_doc.get(k) for k in ("measurement", "receiver", "iq")} if capture_doc else None,
    }), "measurement settings (DSP, receiver, IQ capture and trigger)")
    links = store.chain(c.case_id)
    files["history.json"] = (_json_bytes([{"table": ln.table, "row_key": ln.row_key, "row": ln.row, "prev": ln.prev,
                                            "hash": ln.hash, "migrated": ln.migrated} for ln in links]),
                             "the case's hash chain: every stored row with its link")
    files[PUBLIC_NAME] = (key.public_pem, "the station's Ed25519 public key")

    from station.compliance.signing import sha256_hex

    manifest = {
        "format": FORMAT,
        "generator": f"specmon {__version__}",
        "created_utc": report.generated.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "case_id": c.case_id,
        "class": c.klass.value,
        "state": c.state,
        "center_hz": c.center_hz,
        "bandwidth_hz": c.bandwidth_hz,
        "stations": [s.station for s in c.stations],
        "first_seen_utc": c.first_seen.isoformat(),
        "last_seen_utc": c.last_seen.isoformat(),
        "chain_head": links[-1].hash if links else None,
        "chain_links": len(links),
        "key": {"algorithm": "ed25519", "fingerprint": key.fingerprint, "file": PUBLIC_NAME},
        "files": [{"name": n, "sha256": sha256_hex(b), "size_bytes": len(b), "description": d}
                  for n, (b, d) in sorted(files.items())],
        "evidence": [{"kind": e.kind, "path": e.path, "sha256": e.sha256, "size_bytes": e.size_bytes}
                     for e in detail.evidence],
        "iq": iq_info,
        "audio": audio_info,
        "problems": problems,
    }
    manifest_bytes = _json_bytes(manifest)
    signature = (key.sign(manifest_bytes) + "\n").encode("ascii")
    folder = c.case_id

    def writer(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            date = report.generated.astimezone(timezone.utc).timetuple()[:6]
            for name, content in [(MANIFEST, manifest_bytes), (SIGNATURE, signature),
                                  *[(n, b) for n, (b, _) in sorted(files.items())]]:
                info = zipfile.ZipInfo(f"{folder}/{name}", date_time=date)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                z.writestr(info, content)

    return atomic_write(out_dir / f"{c.case_id}-{stamp}{EXTENSION}", writer)


def _sigmf_archive(meta_path: Path, data_path: Path) -> bytes:
    """A SigMF archive (tar, POSIX format) holding the captured pair as ``iq/iq.sigmf-meta`` and
    ``iq/iq.sigmf-data``, byte for byte."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for src, name in ((meta_path, "iq/iq.sigmf-meta"), (data_path, "iq/iq.sigmf-data")):
            info = tarfile.TarInfo(name)
            info.size = src.stat().st_size
            info.mode = 0o644
            info.mtime = int(src.stat().st_mtime)
            with open(src, "rb") as f:
                tar.addfile(info, f)
    return buf.getvalue()


def _from_iq(case, detail, meta_path: Path):
    """(iq figures, audio figures, [(name, bytes, description)]) from the captured recording: the spectrogram
    and, for analogue voice, the WAV."""
    import numpy as np

    from dsp.convert import to_complex64
    from station.compliance.audio import choose_mode, voice_audio, write_wav
    from station.formats.plot import iq_spectrogram_figure
    from station.formats.sigmf import read_meta
    from station.formats.sigmfmeta import SIGMF_DTYPES

    rec = read_meta(meta_path)
    raw = np.fromfile(rec.data_path, dtype=SIGMF_DTYPES[rec.datatype], count=2 * rec.n_samples)
    fc, fs = rec.center_freq_hz, rec.sample_rate_hz
    ann = next((a for a in rec.annotations if a.freq_lower_edge_hz is not None), None)
    f_lo = ann.freq_lower_edge_hz if ann else case.center_hz - case.bandwidth_hz / 2
    f_hi = ann.freq_upper_edge_hz if ann else case.center_hz + case.bandwidth_hz / 2
    center = ann.extra.get("specmon:center_hz", 0.5 * (f_lo + f_hi)) if ann else case.center_hz
    bw = f_hi - f_lo
    on_start = ann.sample_start if ann else 0
    on_count = (ann.sample_count or rec.n_samples) if ann else rec.n_samples
    not_seen = bool(ann and "not seen on the air" in (ann.comment or ""))
    out = []
    half_span = max(25e3, 3 * bw)
    fig = iq_spectrogram_figure(
        raw, rec.native_format, fs, fc, f_lo_hz=max(fc - fs / 2, center - half_span),
        f_hi_hz=min(fc + fs / 2, center + half_span), marks_hz=(f_lo, f_hi), rbw_hz=max(100.0, min(5e3, bw / 10)),
        title=f"{case.case_id} {case.klass.value} {center / 1e6:.6f} MHz: IQ spectrogram "
              f"({rec.duration_s:.2f} s from {rec.start_utc:%Y-%m-%d %H:%M:%S} UTC)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    fig.clear()
    out.append(("spectrogram.png", buf.getvalue(), "spectrogram of the IQ recording around the emission"))
    iq_info = {"sample_rate_hz": fs, "center_freq_hz": fc, "n_samples": rec.n_samples,
               "duration_s": rec.duration_s, "start_utc": rec.start_utc, "datatype": rec.datatype,
               "emission_on_air": None if not_seen else {"sample_start": on_start, "sample_count": on_count}}
    if not_seen:
        return iq_info, {"mode": None, "why": "the emission was not on the air during the recording"}, out
    x = to_complex64(raw, rec.native_format)
    on = x[on_start:on_start + on_count]
    designators = tuple(r.get("designator") for r in case.register if r.get("designator"))
    choice = choose_mode(on, fs, center - fc, bw, designators)
    if choice.mode is None:
        return iq_info, {"mode": None, "why": choice.why}, out
    audio = voice_audio(on, fs, center - fc, choice, bandwidth_hz=bw)
    wav = io.BytesIO()
    write_wav(wav, audio)
    out.append(("audio.wav", wav.getvalue(), f"{choice.mode.upper()} demodulated audio of the emission on the air"))
    audio_info = {
        "mode": audio.mode, "why": audio.why, "rate_hz": audio.rate_hz, "n_samples": int(audio.samples.size),
        "duration_s": audio.samples.size / audio.rate_hz, "rms_dbfs": round(audio.rms_dbfs, 2),
        "peak_dbfs": round(audio.peak_dbfs, 2), "clipped_fraction": audio.clipped_fraction,
        "scale": audio.scale, "scale_unit": "FS of envelope per WAV full scale" if audio.mode == "am"
        else "Hz of deviation per WAV full scale",
    }
    return iq_info, audio_info, out


__all__ = ["EXTENSION", "FORMAT", "write"]
