"""Tamper evidence: canonical JSON, the hash chain links of case history, and the station's Ed25519 key.

Canonical JSON (:func:`canonical_json`): keys sorted, no whitespace, UTF-8, no NaN/Infinity (they have no JSON
form), Python's shortest round-trip float repr. The same record always gives the same bytes, so its SHA-256
is a stable fingerprint.

Hash chain (:func:`link_hash`): every row of a case's history (the case as opened, each observation, event
and evidence file) is one link ``sha256(canonical_json({"prev": <previous link of the case>, "table": ...,
"row": {...}}))``; the first link of a case takes :data:`GENESIS` as ``prev``. Changing, removing or
inserting any row changes every later link, and the case's last link (its *head*) is what a signed bundle
manifest pins.

Station key (:class:`StationKey`): an Ed25519 key pair (RFC 8032, via the ``cryptography`` package) created
on first use in ``<data dir>/keys/``: ``station-ed25519.pem`` (PKCS#8, unencrypted, mode 0600 in a 0700
folder) and ``station-ed25519.pub.pem`` (SubjectPublicKeyInfo, world-readable: hand it to the inspectors'
office). A private key file readable by group or others is refused, as ssh does. The fingerprint is the
SHA-256 of the raw 32-byte public key (first 16 hex digits shown).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from station.errors import SpecmonError, UsageError

#: ``prev`` of a case's first link
GENESIS = "0" * 64
KEY_DIR = "keys"
PRIVATE_NAME = "station-ed25519.pem"
PUBLIC_NAME = "station-ed25519.pub.pem"
SIGNATURE_ALGORITHM = "ed25519"


class StationKeyError(SpecmonError):
    """The station key cannot be created, read or trusted."""

    exit_code = 1


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"canonical JSON has no form for {obj!r}")
    if isinstance(obj, dict):
        for v in obj.values():
            _finite(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _finite(v)
    return obj


def canonical_json(obj) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (sorted keys, no whitespace). ValueError for NaN/Infinity and
    TypeError for values JSON cannot hold."""
    return json.dumps(_finite(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link_hash(prev: str, table: str, row: dict) -> str:
    """The chain link of ``row`` (a stored row of ``table`` as a dict of column -> value) after ``prev``."""
    if len(prev) != 64:
        raise ValueError(f"previous link must be 64 hex digits, got {prev!r}")
    return sha256_hex(canonical_json({"prev": prev, "table": table, "row": row}))


def fingerprint(public_raw: bytes) -> str:
    return sha256_hex(public_raw)


@dataclass(frozen=True)
class StationKey:
    """The station's signing key. Build with :meth:`load_or_create` (or :meth:`load`)."""

    private_path: Path
    public_path: Path
    _private: object  # cryptography Ed25519PrivateKey

    @classmethod
    def load_or_create(cls, data_dir: str | os.PathLike) -> "StationKey":
        """The key in ``<data_dir>/keys/``, created (0600) when absent. StationKeyError for a key file that is
        unreadable, not an Ed25519 key, or open to group/others."""
        folder = Path(data_dir) / KEY_DIR
        private = folder / PRIVATE_NAME
        if not private.exists():
            cls._create(folder, private)
        return cls.load(private)

    @classmethod
    def load(cls, private: str | os.PathLike) -> "StationKey":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private = Path(private)
        try:
            mode = stat.S_IMODE(private.stat().st_mode)
            if mode & 0o077:
                raise StationKeyError(f"station key permissions {mode:04o} are too open (group/others may read it); "
                                f"run: chmod 600 {private}", where=str(private))
            key = serialization.load_pem_private_key(private.read_bytes(), password=None)
        except OSError as exc:
            raise StationKeyError(f"cannot read the station key: {exc.strerror or exc}", where=str(private)) from None
        except ValueError as exc:
            raise StationKeyError(f"not a PEM private key: {exc}", where=str(private)) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise StationKeyError(f"the station key is a {type(key).__name__}, not Ed25519", where=str(private))
        public = private.with_name(PUBLIC_NAME)
        pem = public_pem(key.public_key())
        if not public.is_file() or public.read_bytes() != pem:
            _write_atomic(public, pem, 0o644)
        return cls(private, public, key)

    @staticmethod
    def _create(folder: Path, private: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            # written whole under a temporary name (0600 from the start), then linked into place: two processes
            # creating at once keep one key, and no reader ever sees a half-written file
            tmp = private.with_name(f".{PRIVATE_NAME}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, private)  # fails if another process made the key first: theirs wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        except OSError as exc:
            raise StationKeyError(f"cannot create the station key: {exc.strerror or exc}", where=str(private)) from None

    @property
    def public_pem(self) -> bytes:
        return public_pem(self._private.public_key())

    @property
    def public_raw(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self._private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_raw)

    def sign(self, data: bytes) -> str:
        """Base64 Ed25519 signature of ``data``."""
        return base64.b64encode(self._private.sign(data)).decode("ascii")


def public_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(pem: bytes, *, where: str = "public key"):
    """An Ed25519 public key from PEM bytes; UsageError naming ``where`` otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise UsageError(f"not a PEM public key: {exc}", where=where) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"the public key is a {type(key).__name__}, not Ed25519", where=where)
    return key


def public_fingerprint(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    return fingerprint(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def verify_signature(public_key, data: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), data)
        return True
    except (InvalidSignature, ValueError):
        return False


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


__all__ = ["GENESIS", "StationKeyError", "StationKey", "canonical_json", "fingerprint", "link_hash", "load_public",
           "public_fingerprint", "sha256_hex", "verify_signature"]
