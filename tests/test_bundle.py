"""Evidence bundles: `violations export --format bundle` round trip (unzip, every hash, the Ed25519 signature, the
SigMF archive opened with the `sigmf` package, the WAV's header and length), `specmon verify`, and the failures
a changed file, a changed manifest, an added file, another key or a tampered store must cause."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat
import wave
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from station.cli import main
from station.compliance.cases import CaseStore
from station.compliance.evidence import EvidenceSettings, capture_evidence
from station.compliance.exports import export_cases
from station.compliance.signing import StationKey, StationKeyError
from station.compliance.verify import verify_bundle
from tests.test_compliance import HANOI, em
from tests.test_exports import _spectrum, checker  # noqa: F401 (fixture)

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory, checker):  # noqa: F811
    """A store with one rogue-vhf case (NBFM, on the air 40 % of the time) captured from sim://city, exported as
    a bundle."""
    from station.receivers import open_receiver

    tmp = tmp_path_factory.mktemp("bundle")
    store = CaseStore(tmp / "specmon.db")
    e = replace(em(147.25e6, 11e3), noise_dbfs_hz=-107.0, snr_db=29.0, power_dbfs=-38.0)
    (obs,) = store.record(checker.check([e], T0), station="hn-01", when=T0, position=HANOI)
    rx = open_receiver("sim://city")
    rx.set_sample_rate(2.4e6)
    rx.set_center_freq(150e6)
    cap = capture_evidence(store, obs.case_id, obs.result, out_dir=tmp / "evidence", station_id="hn-01",
                           position=HANOI, spectrum=_spectrum(147.25e6, 11e3), receiver=rx,
                           settings=EvidenceSettings(iq_duration_s=1.0, iq_sample_rate_hz=1.024e6), when=T0)
    assert cap.problems == ()
    store.add_note(obs.case_id, "heard on the roof", author="inspector")
    (path,) = export_cases(store, ["bundle"], tmp / "out", now=T0)
    store.close()
    return tmp, path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n.split("/", 1)[1]: z.read(n) for n in z.namelist()}


def test_round_trip(bundle_dir, tmp_path):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data_dir, path = bundle_dir
    assert path.name == "VC-000001-20261129T120000Z.zip"
    files = _members(path)
    manifest = json.loads(files["manifest.json"])
    names = {f["name"] for f in manifest["files"]}
    captured = {f"evidence-{Path(e['path']).name}" for e in manifest["evidence"]
                if e["kind"] not in ("spectrum_png", "manifest", "iq_sigmf_meta", "iq_sigmf_data")}
    assert names - captured == {"report.pdf", "spectrum.png", "spectrogram.png", "iq.sigmf", "audio.wav", "register.json",
                     "settings.json", "history.json", "capture-manifest.json", "station-ed25519.pub.pem"}
    assert set(files) == names | {"manifest.json", "manifest.sig"}
    for f in manifest["files"]:  # every hash and size
        assert hashlib.sha256(files[f["name"]]).hexdigest() == f["sha256"]
        assert len(files[f["name"]]) == f["size_bytes"]
    # the signature, with the key the station keeps in its data directory
    pem = (data_dir / "keys" / "station-ed25519.pub.pem").read_bytes()
    assert files["station-ed25519.pub.pem"] == pem
    load_pem_public_key(pem).verify(base64.b64decode(files["manifest.sig"]), files["manifest.json"])
    assert manifest["problems"] == [] and manifest["case_id"] == "VC-000001"
    # the SigMF archive opens with the sigmf package; the annotation marks the emission
    import sigmf

    archive = tmp_path / "iq.sigmf"
    archive.write_bytes(files["iq.sigmf"])
    rec = sigmf.fromfile(str(archive))
    samples = rec.read_samples()
    assert samples.shape == (1_024_000,)
    (ann,) = rec.get_annotations()
    assert ann["core:freq_lower_edge"] == pytest.approx(147.25e6 - 5.5e3)
    assert ann["core:label"] == "unlicensed"
    assert rec.get_global_field("core:sample_rate") == 1.024e6
    # the WAV: 16-bit mono 16 kHz, as long as the emission was on the air
    with wave.open(str(_write(tmp_path / "a.wav", files["audio.wav"]))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        seconds = w.getnframes() / w.getframerate()
    on = manifest["iq"]["emission_on_air"]["sample_count"] / 1.024e6
    assert seconds == pytest.approx(on, abs=0.02) and seconds > 0.1
    assert manifest["audio"]["mode"] == "nbfm" and manifest["audio"]["clipped_fraction"] == 0.0
    assert -30 < manifest["audio"]["rms_dbfs"] < -6
    # the history: the case, its observation, its events and evidence rows, ending at the signed head
    history = json.loads(files["history.json"])
    assert [h["table"] for h in history][:3] == ["cases", "case_events", "case_observations"]
    assert history[-1]["hash"] == manifest["chain_head"]
    assert any(h["row"].get("text") == "heard on the roof" for h in history)
    assert files["report.pdf"].startswith(b"%PDF")
    check = verify_bundle(path, trusted_key_pem=pem)
    assert check.ok, check.problems


def _write(p: Path, b: bytes) -> Path:
    p.write_bytes(b)
    return p


def _rezip(src: Path, dst: Path, change) -> Path:
    files = _members(src)
    change(files)
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in files.items():
            z.writestr(f"VC-000001/{n}", b)
    return dst


@pytest.mark.parametrize("what,change,expect", [
    ("evidence file", lambda f: f.__setitem__("spectrum.png", f["spectrum.png"][:-1] + b"\0"), "spectrum.png: changed"),
    ("manifest", lambda f: f.__setitem__("manifest.json", f["manifest.json"].replace(b"unlicensed", b"licensed__")),
     "manifest.sig: the signature does not match"),
    ("added file", lambda f: f.__setitem__("note.txt", b"planted"), "note.txt: not in the manifest"),
    ("removed file", lambda f: f.pop("audio.wav"), "audio.wav: MISSING from the bundle"),
    ("history", lambda f: f.__setitem__("history.json", f["history.json"].replace(b"heard on the roof",
                                                                                  b"never heard it!!")),
     "history.json: case_events row"),
])
def test_a_changed_bundle_fails(bundle_dir, tmp_path, capsys, what, change, expect):
    _, path = bundle_dir
    bad = _rezip(path, tmp_path / "bad.zip", change)
    check = verify_bundle(bad)
    assert not check.ok
    assert any(expect in p for p in check.problems), check.problems
    assert main(["verify", str(bad)]) == 4
    err = capsys.readouterr().err
    assert f"{bad}: FAILED: " in err and "1 of 1 bundles FAILED" in err


def test_another_key_fails_and_the_station_key_is_private(bundle_dir, tmp_path, capsys):
    data_dir, path = bundle_dir
    other = StationKey.load_or_create(tmp_path)
    (tmp_path / "other.pem").write_bytes(other.public_pem)
    assert main(["verify", str(path), "--key", str(tmp_path / "other.pem")]) == 4
    assert "not the trusted station key" in capsys.readouterr().err
    assert main(["verify", str(path), "--key", str(data_dir / "keys" / "station-ed25519.pub.pem")]) == 0
    assert " files intact, signed by the trusted key" in capsys.readouterr().out
    private = data_dir / "keys" / "station-ed25519.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    os.chmod(other.private_path, 0o644)
    with pytest.raises(StationKeyError, match="too open"):
        StationKey.load_or_create(tmp_path)
    assert main(["verify", "--station-key", "--data-dir", str(data_dir)]) == 0
    assert capsys.readouterr().out.startswith("-----BEGIN PUBLIC KEY-----")


def test_no_case_no_bundle(tmp_path):
    with CaseStore(tmp_path / "empty.db") as empty:
        assert export_cases(empty, ["bundle"], tmp_path / "out", now=T0) == []


def test_a_tampered_store_is_not_bundled(bundle_dir, tmp_path):
    import shutil

    data_dir, _ = bundle_dir
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("out"))
    db = sqlite3.connect(copy / "specmon.db", isolation_level=None)
    db.execute("INSERT INTO case_events (case_id, time_ns, kind, state, text, author) "
               "VALUES ('VC-000001', 0, 'note', NULL, 'forged', 'x')")
    db.close()
    from station.errors import DataError

    with CaseStore(copy / "specmon.db") as store, pytest.raises(DataError, match="case VC-000001 fails verification"):
        export_cases(store, ["bundle"], tmp_path / "out2", now=T0)
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").glob("*.zip"))
