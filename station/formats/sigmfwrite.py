"""Write SigMF pairs: streamed chunk by chunk (:class:`SigmfWriter`, used by ``specmon record``) or in one call
(:func:`write_recording`), and the encoding of complex samples to the receivers' native formats
(:func:`complex_to_native`). The written metadata keys are listed in :mod:`station.formats.sigmf`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import datetime, timezone

import numpy as np

from station import __version__
from station.errors import UsageError
from station.formats.sigmfmeta import (
    NATIVE_TO_SIGMF,
    SIGMF_DTYPES,
    SIGMF_TO_NATIVE,
    SIGMF_VERSION,
    Annotation,
    Capture,
    Geolocation,
    SigmfRecording,
    format_datetime,
    pair_paths,
)


# ---- sample encoding ---------------------------------------------------------------------------------------
def complex_to_native(samples: np.ndarray, native_format: str) -> np.ndarray:
    """Encode complex samples (full scale 1.0) as interleaved native components, shape (2*n,).

    Inverse of the receivers' normalisation: cu8 b = x*127.5 + 127.5, cs8 x*128, cs16 x*32768 (rounded,
    clipped to the type's range); cf32 is stored as is.
    """
    x = np.asarray(samples)
    if not np.iscomplexobj(x) or x.ndim != 1:
        raise ValueError(f"expected a 1-D complex array, got dtype {x.dtype} shape {x.shape}")
    inter = np.empty(2 * x.shape[0], dtype=np.float32)
    inter[0::2] = x.real
    inter[1::2] = x.imag
    if native_format == "cf32":
        return inter
    if native_format == "cu8":
        return np.clip(np.rint(inter * 127.5 + 127.5), 0, 255).astype(np.uint8)
    if native_format == "cs8":
        return np.clip(np.rint(inter * 128.0), -128, 127).astype(np.int8)
    if native_format == "cs16":
        return np.clip(np.rint(inter * 32768.0), -32768, 32767).astype(np.int16)
    raise ValueError(f"unknown native format {native_format!r}")


# ---- writing -----------------------------------------------------------------------------------------------
class SigmfWriter:
    """Stream samples into a new SigMF pair; the metadata is written by :meth:`close`.

    Use as a context manager. On an exception inside the block the samples already written are kept and the
    metadata is still written (with the sha512 of what is on disk), so an interrupted recording stays usable.

    Args:
        path: base name, or either file name of the pair.
        datatype: SigMF datatype (``cu8``, ``ci8``, ``ci16_le``, ``cf32_le``) or a native format name.
        sample_rate_hz: samples per second.
        center_freq_hz: core:frequency of the first capture.
        start_utc: tz-aware core:datetime of the first sample (default: now).
        overwrite: replace an existing pair; otherwise an existing file is a UsageError.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        datatype: str,
        sample_rate_hz: float,
        center_freq_hz: float,
        start_utc: datetime | None = None,
        hw: str = "",
        description: str = "",
        author: str = "",
        geolocation: Geolocation | None = None,
        global_extra: dict | None = None,
        overwrite: bool = False,
    ):
        datatype = NATIVE_TO_SIGMF.get(datatype, datatype)
        if datatype not in SIGMF_TO_NATIVE:
            raise UsageError(f"unsupported SigMF datatype {datatype!r}; supported: {', '.join(SIGMF_TO_NATIVE)}")
        if not (sample_rate_hz > 0 and math.isfinite(sample_rate_hz)):
            raise UsageError(f"sample rate must be positive, got {sample_rate_hz!r}")
        self.meta_path, self.data_path = pair_paths(path)
        if not overwrite:
            for p in (self.meta_path, self.data_path):
                if p.exists():
                    raise UsageError(f"{p} already exists (use --force / overwrite=True to replace it)")
        if not self.meta_path.parent.is_dir():
            raise UsageError(f"output directory {self.meta_path.parent} does not exist")
        self.datatype = datatype
        self.native_format = SIGMF_TO_NATIVE[datatype]
        self._dtype = SIGMF_DTYPES[datatype]
        self.sample_rate_hz = float(sample_rate_hz)
        self.hw, self.description, self.author = hw, description, author
        self.geolocation = geolocation
        self.global_extra = dict(global_extra or {})
        self._captures: list[Capture] = []
        self._annotations: list[Annotation] = []
        self._n_samples = 0
        self._hash = hashlib.sha512()
        self._closed = False
        self._recording: SigmfRecording | None = None
        try:
            self._f = open(self.data_path, "wb")
        except OSError as exc:
            raise UsageError(f"cannot create {self.data_path}: {exc.strerror}") from None
        self.add_capture(center_freq_hz, start_utc or datetime.now(timezone.utc))

    @property
    def n_samples(self) -> int:
        return self._n_samples

    def add_capture(self, center_freq_hz: float, start_utc: datetime | None = None, **extra) -> None:
        """Start a new capture segment at the next sample (after a retune)."""
        if start_utc is not None and start_utc.tzinfo is None:
            raise ValueError("start_utc must be tz-aware")
        cap = Capture(sample_start=self._n_samples, frequency_hz=float(center_freq_hz), datetime_utc=start_utc,
                      extra=dict(extra))
        if self._captures and self._captures[-1].sample_start == self._n_samples:
            self._captures[-1] = cap
        else:
            self._captures.append(cap)

    def add_annotation(self, annotation: Annotation) -> None:
        self._annotations.append(annotation)

    def write_raw(self, raw: np.ndarray) -> None:
        """Append interleaved native components (dtype of the datatype, even length)."""
        a = np.ascontiguousarray(raw)
        if a.dtype != self._dtype:
            if a.dtype.kind == self._dtype.kind and a.dtype.itemsize == self._dtype.itemsize:
                a = a.astype(self._dtype)
            else:
                raise ValueError(f"write_raw expects {self._dtype} components for {self.datatype}, got {a.dtype}")
        if a.ndim != 1 or a.shape[0] % 2:
            raise ValueError(f"write_raw expects a 1-D interleaved I,Q array of even length, got shape {a.shape}")
        b = a.tobytes()
        self._f.write(b)
        self._hash.update(b)
        self._n_samples += a.shape[0] // 2

    def write_complex(self, samples: np.ndarray) -> None:
        """Append complex samples (full scale 1.0), encoded to the datatype."""
        self.write_raw(complex_to_native(samples, self.native_format))

    def close(self) -> SigmfRecording:
        """Flush the data file and write the metadata (atomically). Returns the recording. Idempotent."""
        if self._closed:
            return self._recording
        self._closed = True
        self._f.close()
        meta = self._meta_doc()
        tmp = self.meta_path.with_name(self.meta_path.name + ".tmp")
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.meta_path)
        self._recording = SigmfRecording(
            meta_path=self.meta_path, data_path=self.data_path, datatype=self.datatype,
            sample_rate_hz=self.sample_rate_hz, captures=tuple(self._captures),
            annotations=tuple(self._annotations), version=SIGMF_VERSION, hw=self.hw,
            description=self.description, author=self.author, recorder=f"specmon {__version__}",
            geolocation=self.geolocation, sha512=meta["global"]["core:sha512"], n_samples=self._n_samples,
            global_extra=self.global_extra,
        )
        return self._recording

    def _meta_doc(self) -> dict:
        g: dict = {
            "core:datatype": self.datatype,
            "core:sample_rate": self.sample_rate_hz,
            "core:version": SIGMF_VERSION,
            "core:num_channels": 1,
            "core:sha512": self._hash.hexdigest(),
            "core:recorder": f"specmon {__version__}",
        }
        if self.hw:
            g["core:hw"] = self.hw
        if self.description:
            g["core:description"] = self.description
        if self.author:
            g["core:author"] = self.author
        if self.geolocation is not None:
            g["core:geolocation"] = self.geolocation.to_geojson()
        g.update(self.global_extra)
        annotations = sorted(self._annotations, key=lambda a: a.sample_start)
        namespaces = {k.split(":", 1)[0] for d in [g, *(a.extra for a in annotations), *(c.extra for c in
                      self._captures)] for k in d if ":" in k} - {"core"}
        if namespaces:
            g["core:extensions"] = [{"name": ns, "version": __version__ if ns == "specmon" else "1.0.0",
                                     "optional": True} for ns in sorted(namespaces)]
        caps = []
        for c in self._captures:
            d: dict = {"core:sample_start": c.sample_start, "core:frequency": c.frequency_hz}
            if c.datetime_utc is not None:
                d["core:datetime"] = format_datetime(c.datetime_utc)
            d.update(c.extra)
            caps.append(d)
        return {"global": g, "captures": caps, "annotations": [a.to_json() for a in annotations]}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_recording(
    path: str | os.PathLike,
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    center_freq_hz: float,
    datatype: str | None = None,
    start_utc: datetime | None = None,
    hw: str = "",
    description: str = "",
    author: str = "",
    geolocation: Geolocation | None = None,
    annotations: list[Annotation] | tuple[Annotation, ...] = (),
    global_extra: dict | None = None,
    overwrite: bool = False,
) -> SigmfRecording:
    """Write a whole SigMF pair in one call (evidence clips, test fixtures).

    ``samples`` is either complex (full scale 1.0; encoded to ``datatype``, default ``cf32_le``) or an
    interleaved native component array (uint8 -> cu8, int8 -> ci8, int16 -> ci16_le, float32 -> cf32_le, unless
    ``datatype`` says otherwise). ``annotations`` are written as given. Returns the written recording.
    """
    x = np.asarray(samples)
    if datatype is None:
        datatype = "cf32_le" if np.iscomplexobj(x) else {
            "u1": "cu8", "i1": "ci8", "i2": "ci16_le", "f4": "cf32_le"}.get(x.dtype.str[1:])
        if datatype is None:
            raise ValueError(f"cannot infer a SigMF datatype from samples of dtype {x.dtype}")
    with SigmfWriter(path, datatype=datatype, sample_rate_hz=sample_rate_hz, center_freq_hz=center_freq_hz,
                     start_utc=start_utc, hw=hw, description=description, author=author,
                     geolocation=geolocation, global_extra=global_extra, overwrite=overwrite) as w:
        if np.iscomplexobj(x):
            w.write_complex(x)
        else:
            w.write_raw(x)
        for a in annotations:
            w.add_annotation(a)
    return w.close()
