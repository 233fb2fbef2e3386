"""The case page's downloads: the demodulated audio of the evidence IQ (a WAV an ``<audio>`` element plays)
and the evidence bundle (one zip).

Audio: a WAV recorded with the evidence (``*.wav``) is served as it is; otherwise the case's IQ recording is
demodulated on request with :mod:`dsp.demod` (mode from the emission's bandwidth and band: AM in the
aeronautical band 117.975-137 MHz, broadcast FM above 100 kHz, narrow-band FM otherwise) and cached in memory.

Bundle: a zip of the case's recorded evidence files with a ``case.json`` (summary, history, register rows,
verification) and ``SHA256SUMS``.
"""

from __future__ import annotations

import io
import json
import wave
import zipfile
from pathlib import Path

import numpy as np

#: the aeronautical VHF band, AM voice (ICAO Annex 10)
AIRBAND_HZ = (117.975e6, 137.0e6)


def demod_mode(center_hz: float, bandwidth_hz: float) -> str:
    """``am``, ``wbfm`` or ``nbfm`` for an emission (see the module docstring)."""
    if AIRBAND_HZ[0] <= center_hz <= AIRBAND_HZ[1]:
        return "am"
    return "wbfm" if bandwidth_hz > 100e3 else "nbfm"


def wav_bytes(audio: np.ndarray, rate_hz: float) -> bytes:
    """16-bit mono PCM WAV of ``audio`` normalised to 0.9 of full scale (silence stays silent)."""
    a = np.asarray(audio, dtype=np.float64)
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    pcm = np.zeros(a.size, np.int16) if peak <= 0 else np.round(a / peak * 0.9 * 32767).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(round(rate_hz)))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def demodulate_evidence(meta_path: Path, center_hz: float, bandwidth_hz: float) -> bytes:
    """Demodulate the emission at ``center_hz`` in the SigMF recording ``meta_path`` to WAV bytes."""
    from dsp.convert import to_complex64
    from dsp.demod import demodulate
    from station.formats.sigmf import read_meta
    from station.formats.sigmfmeta import SIGMF_DTYPES

    rec = read_meta(meta_path)
    raw = np.fromfile(rec.data_path, dtype=SIGMF_DTYPES[rec.datatype])
    iq = to_complex64(raw, rec.native_format)
    offset = center_hz - (rec.center_freq_hz or center_hz)
    audio, plan = demodulate(iq, rec.sample_rate_hz, offset, demod_mode(center_hz, bandwidth_hz))
    return wav_bytes(audio, plan.audio_rate_hz)


def bundle_bytes(detail_json: dict, files: list[tuple[str, Path]]) -> bytes:
    """A zip of ``files`` ((name, path) pairs, under ``evidence/``), ``case.json`` and ``SHA256SUMS``."""
    import hashlib

    buf = io.BytesIO()
    sums = []
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        case = json.dumps(detail_json, indent=1, ensure_ascii=False).encode("utf-8")
        z.writestr(f"{detail_json['case_id']}/case.json", case)
        sums.append(f"{hashlib.sha256(case).hexdigest()}  case.json")
        for name, path in files:
            data = path.read_bytes()
            z.writestr(f"{detail_json['case_id']}/evidence/{name}", data)
            sums.append(f"{hashlib.sha256(data).hexdigest()}  evidence/{name}")
        z.writestr(f"{detail_json['case_id']}/SHA256SUMS", "\n".join(sums) + "\n")
    return buf.getvalue()

