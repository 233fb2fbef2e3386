"""Verify an evidence bundle (station.compliance.exports.bundle) offline: signature, every file, the hash chain.

:func:`verify_bundle` returns one line per problem (empty: the bundle is exactly what the station signed):

- the zip opens and holds one case folder with ``manifest.json`` and ``manifest.sig``;
- the signature of ``manifest.json``'s bytes verifies with the bundled public key, and with the trusted key when
  one is given (``--key``: the station's ``station-ed25519.pub.pem`` as handed over; without it the signature
  only proves the bundle was not changed since it was signed by *some* key, whose fingerprint is reported);
- every file the manifest lists is there with its SHA-256 and size, and nothing else is;
- ``history.json`` recomputes link by link and ends at the manifest's ``chain_head``;
- the captured files (spectrum.png, capture-manifest.json, evidence-*, the two files inside iq.sigmf) have the SHA-256 the
  station recorded when it captured them (the ``case_evidence`` rows in the chain), and the SigMF data matches
  its ``core:sha512``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from station.compliance.exports.bundle import FORMAT, MANIFEST, SIGNATURE


@dataclass(frozen=True)
class BundleCheck:
    path: Path
    problems: tuple[str, ...]
    case_id: str | None = None
    fingerprint: str | None = None  # of the key that signed it (when the signature verified)
    chain_head: str | None = None
    n_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(path: str | Path, *, trusted_key_pem: bytes | None = None) -> BundleCheck:
    from station.compliance.cases.chain import verify_links
    from station.compliance.signing import load_public, public_fingerprint, sha256_hex, verify_signature

    path = Path(path)
    problems: list[str] = []
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        return BundleCheck(path, (f"not a readable zip: {exc}",))
    with z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        folders = {n.split("/", 1)[0] for n in names}
        if len(folders) != 1 or any("/" not in n for n in names):
            return BundleCheck(path, (f"expected one case folder, found {sorted(folders) or 'none'}",))
        folder = folders.pop()

        def read(name: str) -> bytes | None:
            try:
                return z.read(f"{folder}/{name}")
            except KeyError:
                return None
            except (zipfile.BadZipFile, OSError, ValueError) as exc:  # a corrupted member (CRC error ...)
                problems.append(f"{name}: cannot be read: {exc}")
                return None

        manifest_bytes, sig = read(MANIFEST), read(SIGNATURE)
        if manifest_bytes is None or sig is None:
            return BundleCheck(path, tuple(problems) + (f"{MANIFEST} or {SIGNATURE} is missing: not a signed bundle",))
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            return BundleCheck(path, (f"{MANIFEST} is not JSON: {exc}",))
        if manifest.get("format") != FORMAT:
            problems.append(f"{MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT!r}")
        case_id = manifest.get("case_id")
        if case_id != folder:
            problems.append(f"{MANIFEST}: case {case_id!r} but the folder is {folder!r}")

        # signature
        fingerprint = None
        key_name = (manifest.get("key") or {}).get("file", "station-ed25519.pub.pem")
        key_pem = read(key_name)
        if key_pem is None:
            problems.append(f"{key_name}: the public key is missing")
        else:
            try:
                key = load_public(key_pem, where=key_name)
                fp = public_fingerprint(key)
                if fp != (manifest.get("key") or {}).get("fingerprint"):
                    problems.append(f"{key_name}: fingerprint {fp} is not the manifest's")
                if not verify_signature(key, manifest_bytes, sig.decode("ascii", "replace").strip()):
                    problems.append(f"{SIGNATURE}: the signature does not match {MANIFEST} (changed after signing, "
                                    f"or signed by another key)")
                else:
                    fingerprint = fp
                if trusted_key_pem is not None:
                    trusted = load_public(trusted_key_pem, where="--key")
                    tfp = public_fingerprint(trusted)
                    if tfp != fp:
                        problems.append(f"signed by key {fp[:16]}, not the trusted station key {tfp[:16]}")
                    elif not verify_signature(trusted, manifest_bytes, sig.decode("ascii", "replace").strip()):
                        problems.append(f"{SIGNATURE}: the signature does not verify with the trusted key")
            except Exception as exc:  # noqa: BLE001 - any key problem is a verification failure, named
                problems.append(f"{key_name}: {exc}")

        # files
        listed = {}
        for f in manifest.get("files") or []:
            listed[f["name"]] = f
            data = read(f["name"])
            if data is None:
                problems.append(f"{f['name']}: MISSING from the bundle")
                continue
            if len(data) != f.get("size_bytes") or sha256_hex(data) != f.get("sha256"):
                problems.append(f"{f['name']}: changed (sha256 {sha256_hex(data)[:16]}..., the manifest says "
                                f"{str(f.get('sha256'))[:16]}...)")
        for n in names:
            short = n.split("/", 1)[1]
            if short not in listed and short not in (MANIFEST, SIGNATURE):
                problems.append(f"{short}: not in the manifest (added after signing)")

        # hash chain
        head = None
        history = read("history.json")
        if history is None:
            problems.append("history.json: MISSING: the case's history cannot be checked")
        else:
            try:
                links = json.loads(history)
                problems += [f"history.json: {p}" for p in verify_links(links)]
                head = links[-1]["hash"] if links else None
                if head != manifest.get("chain_head"):
                    problems.append(f"history.json: ends at {str(head)[:16]}, the manifest pins "
                                    f"{str(manifest.get('chain_head'))[:16]}")
                if links and links[0]["table"] != "cases":
                    problems.append("history.json: does not start with the case as opened")
                recorded = {ln["row"]["sha256"] for ln in links
                            if ln["table"] == "case_evidence" and isinstance(ln.get("row"), dict)}
                problems += _captured_files(read, recorded, tuple(n for n in listed if n.startswith("evidence-")))
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"history.json: malformed: {exc}")
    return BundleCheck(path, tuple(problems), case_id, fingerprint, head, len(listed))


def _captured_files(read, recorded: set[str], extra: tuple[str, ...] = ()) -> list[str]:
    """The bundled copies of captured files must have the SHA-256 the station recorded at capture."""
    problems = []
    for name in ("spectrum.png", "capture-manifest.json", *extra):
        data = read(name)
        if data is not None and hashlib.sha256(data).hexdigest() not in recorded:
            problems.append(f"{name}: not the file the station recorded (sha256 not in the case's evidence rows)")
    archive = read("iq.sigmf")
    if archive is None:
        return problems
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError) as exc:
        return problems + [f"iq.sigmf: not a readable SigMF archive: {exc}"]
    meta = next((b for n, b in members.items() if n.endswith(".sigmf-meta")), None)
    data = next((b for n, b in members.items() if n.endswith(".sigmf-data")), None)
    if meta is None or data is None:
        return problems + ["iq.sigmf: the archive lacks its .sigmf-meta or .sigmf-data"]
    for what, b in (("metadata", meta), ("data", data)):
        if hashlib.sha256(b).hexdigest() not in recorded:
            problems.append(f"iq.sigmf: the {what} is not the file the station recorded")
    try:
        want = json.loads(meta)["global"].get("core:sha512")
        if want and hashlib.sha512(data).hexdigest() != want:
            problems.append("iq.sigmf: the data does not match its core:sha512")
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"iq.sigmf: metadata is not SigMF JSON: {exc}")
    return problems


__all__ = ["BundleCheck", "verify_bundle"]
