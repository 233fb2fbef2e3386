"""SigMF read/write helpers (station/formats/sigmf.py): round trips, metadata contents, and every bad input."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from station.formats import sigmf
from station.errors import DataError, UsageError
from station.formats.sigmf import Annotation, Geolocation, SigmfWriter, read_meta, write_recording

START = datetime(2026, 11, 29, 12, 0, 0, 250000, tzinfo=timezone.utc)


def tone(n: int, rate_hz: float, offset_hz: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(n) / rate_hz
    return (amplitude * np.exp(2j * np.pi * offset_hz * t)).astype(np.complex64)


@pytest.mark.parametrize("datatype", ["cu8", "ci8", "ci16_le", "cf32_le"])
def test_round_trip_every_datatype(tmp_path, datatype):
    x = tone(1000, 250e3, 12.5e3)
    rec = write_recording(tmp_path / "rec", x, datatype=datatype, sample_rate_hz=250e3, center_freq_hz=433.92e6,
                          start_utc=START, hw="test rig", geolocation=Geolocation(21.0285, 105.8542, 12.0))
    back = read_meta(tmp_path / "rec.sigmf-meta", verify_sha512=True)
    assert back.datatype == datatype
    assert back.native_format == sigmf.SIGMF_TO_NATIVE[datatype]
    assert back.n_samples == 1000
    assert back.sample_rate_hz == 250e3
    assert back.center_freq_hz == 433.92e6
    assert back.start_utc == START
    assert back.hw == "test rig"
    assert back.geolocation == Geolocation(21.0285, 105.8542, 12.0)
    assert back.sha512 == rec.sha512 == sigmf.sha512_of(tmp_path / "rec.sigmf-data")
    raw = np.fromfile(back.data_path, dtype=sigmf.SIGMF_DTYPES[datatype])
    from dsp.convert import to_complex64

    y = to_complex64(raw, back.native_format)
    quant = {"cu8": 1 / 127.5, "ci8": 1 / 128, "ci16_le": 1 / 32768, "cf32_le": 1e-7}[datatype]
    assert np.max(np.abs(y - x)) <= quant  # rounding to the nearest code, at most one step off per component


def test_meta_has_the_core_fields(tmp_path):
    ann = Annotation(sample_start=100, sample_count=50, freq_lower_edge_hz=433.91e6, freq_upper_edge_hz=433.93e6,
                     label="ism-fob", comment="OOK burst", extra={"specmon:emission_id": "e-1"})
    write_recording(tmp_path / "a.sigmf", tone(200, 1e6, 0), datatype="cu8", sample_rate_hz=1e6,
                    center_freq_hz=100e6, start_utc=START, hw="RTL2832U/R820T", annotations=[ann],
                    geolocation=Geolocation(21.0, 105.0))
    doc = json.loads((tmp_path / "a.sigmf-meta").read_text())
    g = doc["global"]
    assert g["core:datatype"] == "cu8"
    assert g["core:sample_rate"] == 1e6
    assert g["core:version"] == sigmf.SIGMF_VERSION
    assert g["core:hw"] == "RTL2832U/R820T"
    assert g["core:geolocation"] == {"type": "Point", "coordinates": [105.0, 21.0]}
    assert len(g["core:sha512"]) == 128
    assert {"name": "specmon", "version": g["core:extensions"][0]["version"], "optional": True} in g["core:extensions"]
    assert doc["captures"] == [{"core:sample_start": 0, "core:frequency": 100e6,
                                "core:datetime": "2026-11-29T12:00:00.250000Z"}]
    assert doc["annotations"][0] == {"core:sample_start": 100, "core:sample_count": 50,
                                     "core:freq_lower_edge": 433.91e6, "core:freq_upper_edge": 433.93e6,
                                     "core:label": "ism-fob", "core:comment": "OOK burst",
                                     "specmon:emission_id": "e-1"}
    back = read_meta(tmp_path / "a")
    assert back.annotations == (ann,)


def test_streaming_writer_captures_and_interrupted_block(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with SigmfWriter(tmp_path / "s", datatype="cu8", sample_rate_hz=2.4e6, center_freq_hz=100e6,
                         start_utc=START) as w:
            w.write_raw(np.full(200, 128, np.uint8))
            w.add_capture(101e6, START)
            w.write_complex(tone(50, 2.4e6, 0))
            raise KeyboardInterrupt
    # the samples written before the interruption are kept with valid metadata
    rec = read_meta(tmp_path / "s.sigmf-data", verify_sha512=True)
    assert rec.n_samples == 150
    assert [(c.sample_start, c.frequency_hz) for c in rec.captures] == [(0, 100e6), (100, 101e6)]


def test_writer_refuses_to_overwrite(tmp_path):
    write_recording(tmp_path / "x", tone(10, 1e6, 0), sample_rate_hz=1e6, center_freq_hz=1e8)
    with pytest.raises(UsageError, match="already exists"):
        write_recording(tmp_path / "x", tone(10, 1e6, 0), sample_rate_hz=1e6, center_freq_hz=1e8)
    write_recording(tmp_path / "x", tone(20, 1e6, 0), sample_rate_hz=1e6, center_freq_hz=1e8, overwrite=True)
    assert read_meta(tmp_path / "x").n_samples == 20


def test_writer_rejects_bad_arguments(tmp_path):
    with pytest.raises(UsageError, match="unsupported SigMF datatype 'ri16_le'"):
        SigmfWriter(tmp_path / "y", datatype="ri16_le", sample_rate_hz=1e6, center_freq_hz=1e8)
    with pytest.raises(UsageError, match="does not exist"):
        SigmfWriter(tmp_path / "nodir" / "y", datatype="cu8", sample_rate_hz=1e6, center_freq_hz=1e8)
    with pytest.raises(UsageError, match="latitude"):
        Geolocation(91.0, 0.0)
    with pytest.raises(UsageError, match="longitude"):
        Geolocation(0.0, 181.0)


def test_pair_paths():
    for p in ("d/rec", "d/rec.sigmf", "d/rec.sigmf-meta", "d/rec.sigmf-data"):
        meta, data = sigmf.pair_paths(p)
        assert (str(meta), str(data)) == ("d/rec.sigmf-meta", "d/rec.sigmf-data")


# ---- bad inputs -----------------------------------------------------------------------------------------
def _pair(tmp_path, meta, data=b"\x80" * 20):
    (tmp_path / "b.sigmf-meta").write_text(meta if isinstance(meta, str) else json.dumps(meta))
    if data is not None:
        (tmp_path / "b.sigmf-data").write_bytes(data)
    return tmp_path / "b.sigmf-meta"


GOOD = {"global": {"core:datatype": "cu8", "core:sample_rate": 250000, "core:version": "1.2.0"},
        "captures": [{"core:sample_start": 0, "core:frequency": 433.92e6}], "annotations": []}


def test_unsupported_datatype_is_named(tmp_path):
    meta = json.loads(json.dumps(GOOD))
    meta["global"]["core:datatype"] = "ri16_le"
    with pytest.raises(DataError, match=r"b\.sigmf-meta:global:core:datatype: unsupported SigMF datatype 'ri16_le'"):
        read_meta(_pair(tmp_path, meta))


def test_bad_json_gives_line_and_column(tmp_path):
    with pytest.raises(DataError, match=r"b\.sigmf-meta:3:1: invalid JSON"):
        read_meta(_pair(tmp_path, '{"global": {\n "core:datatype": "cu8",\n}}'))


@pytest.mark.parametrize("mutate, pattern", [
    (lambda m: m["global"].pop("core:sample_rate"), "missing required key 'core:sample_rate'"),
    (lambda m: m["global"].update({"core:sample_rate": -5}), "core:sample_rate: core:sample_rate must be positive"),
    (lambda m: m["global"].update({"core:sample_rate": "fast"}), "must be a finite number"),
    (lambda m: m["global"].update({"core:num_channels": 2}), "single-channel"),
    (lambda m: m["global"].update({"core:geolocation": {"type": "Point"}}), "GeoJSON point"),
    (lambda m: m["captures"][0].update({"core:datetime": "yesterday"}), r"captures\[0\]:core:datetime"),
    (lambda m: m["captures"][0].update({"core:sample_start": 999}), "truncated"),
    (lambda m: m.update({"annotations": [{"core:label": "x"}]}), r"annotations\[0\]: missing required key"),
    (lambda m: m.pop("global"), "no 'global' object"),
    (lambda m: m.update({"captures": {}}), r"b\.sigmf-meta:captures: 'captures' must be a list"),
    (lambda m: m["captures"].append(5), r"b\.sigmf-meta:captures\[1\]: capture must be an object, got 5"),
    (lambda m: m.update({"annotations": "x"}), r"b\.sigmf-meta:annotations: 'annotations' must be a list"),
    (lambda m: m.update({"annotations": [[]]}), r"annotations\[0\]: annotation must be an object, got \[\]"),
])
def test_malformed_metadata(tmp_path, mutate, pattern):
    meta = json.loads(json.dumps(GOOD))
    mutate(meta)
    with pytest.raises(DataError, match=pattern):
        read_meta(_pair(tmp_path, meta))


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.sigmf-meta: SigMF metadata file not found"):
        read_meta(tmp_path / "nothere.sigmf-meta")
    with pytest.raises(DataError, match=r"b\.sigmf-data: SigMF data file missing"):
        read_meta(_pair(tmp_path, GOOD, data=None))
    meta = json.loads(json.dumps(GOOD))
    meta["global"]["core:datatype"] = "ci16_le"
    with pytest.raises(DataError, match=r"b\.sigmf-data: data file is truncated: 21 bytes"):
        read_meta(_pair(tmp_path, meta, data=b"\0" * 21))
    with pytest.raises(DataError, match="holds no samples"):
        read_meta(_pair(tmp_path, GOOD, data=b""))


def test_sha512_mismatch_detected(tmp_path):
    write_recording(tmp_path / "h", tone(100, 1e6, 0), datatype="cu8", sample_rate_hz=1e6, center_freq_hz=1e8)
    data = tmp_path / "h.sigmf-data"
    data.write_bytes(data.read_bytes()[:-2])  # chop one sample off
    read_meta(tmp_path / "h")  # without verification only the size is checked, and 198 bytes are whole samples
    with pytest.raises(DataError, match=r"h\.sigmf-data: data file does not match core:sha512"):
        read_meta(tmp_path / "h", verify_sha512=True)


def test_complex_to_native_clips_and_rounds():
    x = np.array([1.5 + 0j, -2.0 - 2.0j, 0.0 + 0.0j], np.complex64)
    assert sigmf.complex_to_native(x, "cu8").tolist() == [255, 128, 0, 0, 128, 128]
    assert sigmf.complex_to_native(x, "cs8").tolist() == [127, 0, -128, -128, 0, 0]
    assert sigmf.complex_to_native(x, "cs16").tolist() == [32767, 0, -32768, -32768, 0, 0]
    with pytest.raises(ValueError):
        sigmf.complex_to_native(np.zeros(4, np.float32), "cu8")
