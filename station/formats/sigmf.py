"""SigMF (https://sigmf.org, core v1.2) recordings: read the metadata of a pair, write a pair.

A recording is two files with one base name: ``NAME.sigmf-meta`` (JSON) and ``NAME.sigmf-data`` (interleaved
I,Q samples). This module reads and validates the metadata (:func:`read_meta`), and writes pairs either in one
call (:func:`write_recording`) or streamed chunk by chunk (:class:`SigmfWriter`, used by ``specmon record``).

Written metadata: core:datatype, core:sample_rate, core:version, core:sha512 (of the data file), core:hw,
core:recorder, core:description, core:author, core:geolocation (GeoJSON point [lon, lat, alt]), one capture
per tuning (core:sample_start, core:frequency, core:datetime in UTC) and annotations (core:sample_start,
core:sample_count, core:freq_lower_edge, core:freq_upper_edge, core:label, core:comment, plus any
namespaced keys such as ``specmon:emission_id``; the ``specmon`` extension is then declared in
core:extensions).

Datatypes: SigMF ``cu8``, ``ci8``, ``ci16_le``, ``cf32_le`` <-> the receivers' native formats ``cu8``, ``cs8``,
``cs16``, ``cf32`` (:data:`SIGMF_TO_NATIVE`). Anything else is a DataError naming the datatype.

Errors name the file and the key (``rec.sigmf-meta:core:sample_rate``) or the JSON line:column.

The format is split in three modules: the metadata model (:mod:`station.formats.sigmfmeta`), reading and
validation (:mod:`station.formats.sigmfread`) and writing (:mod:`station.formats.sigmfwrite`). This module
re-exports their public names; import from here.
"""

from __future__ import annotations

from station.formats.sigmfmeta import (
    DATA_SUFFIX,
    META_SUFFIX,
    NATIVE_TO_SIGMF,
    SIGMF_DTYPES,
    SIGMF_TO_NATIVE,
    SIGMF_VERSION,
    Annotation,
    Capture,
    Geolocation,
    SigmfRecording,
    format_datetime,
    is_sigmf_path,
    pair_paths,
)
from station.formats.sigmfread import read_meta, sha512_of
from station.formats.sigmfwrite import SigmfWriter, complex_to_native, write_recording


__all__ = [
    "Annotation",
    "Capture",
    "DATA_SUFFIX",
    "Geolocation",
    "META_SUFFIX",
    "NATIVE_TO_SIGMF",
    "SIGMF_DTYPES",
    "SIGMF_TO_NATIVE",
    "SIGMF_VERSION",
    "SigmfRecording",
    "SigmfWriter",
    "complex_to_native",
    "format_datetime",
    "is_sigmf_path",
    "pair_paths",
    "read_meta",
    "sha512_of",
    "write_recording",
]
