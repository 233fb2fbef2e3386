"""The station's SQLite files (spools, the embedded store, the station state, the case register) all open and
write the same way: :func:`open_wal` for the connection, :func:`immediate_transaction` for each write, and
:func:`write_error_reason` for one line saying why the disk refused one."""

from __future__ import annotations

import errno
import os
import resource
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_error_reason(exc: BaseException, path: str | Path) -> str:
    """One line saying why the disk refused a write to the SQLite file ``path``: ``disk full`` (ENOSPC,
    SQLITE_FULL, or a disk I/O error with no space left), ``file-size limit (N MB) reached`` (EFBIG: the
    process's RLIMIT_FSIZE, which SQLite reports as a disk I/O error), else the error's own text."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "database or disk is full" in text:
        return f"disk full ({text})"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return f"file too large: file-size limit reached ({text})"
    if isinstance(exc, sqlite3.Error) and str(getattr(exc, "sqlite_errorname", "")).startswith("SQLITE_IOERR"):
        path = Path(path)
        try:
            st = os.statvfs(path.parent)
            if st.f_bavail * st.f_frsize < (1 << 20):
                return f"disk full ({text})"
        except OSError:
            pass
        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        if soft != resource.RLIM_INFINITY:
            sizes = []
            for f in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
                try:
                    sizes.append(f.stat().st_size)
                except OSError:
                    pass
            if sizes and max(sizes) + (1 << 16) >= soft:
                limit = f"{soft / 1e6:.1f} MB" if soft >= 100_000 else f"{soft} bytes"
                return f"file-size limit ({limit}) reached ({text})"
    return text


def make_dir(path: str | Path, what: str = "data directory", *, writable: bool = False) -> Path:
    """Create the directory ``path`` (and its parents) when missing; with ``writable`` also check that it can
    be written (not on a read-only filesystem, write permission). A read-only filesystem, a permission
    refusal or a full disk is a :class:`station.errors.SinkError` (exit 6) on one line naming the path."""
    from station.errors import SinkError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = {errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                  errno.EPERM: "permission denied", errno.ENOSPC: "disk full",
                  errno.ENOTDIR: "a parent is not a directory", errno.EEXIST: "exists and is not a directory"}
        text = reason.get(exc.errno, exc.strerror or str(exc))
        raise SinkError(f"cannot create the {what}: {text}", where=str(path)) from None
    if not path.is_dir():
        raise SinkError(f"cannot use the {what}: not a directory", where=str(path))
    if writable:
        try:
            read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        if read_only:
            raise SinkError(f"cannot write to the {what}: read-only file system", where=str(path))
        if not os.access(path, os.W_OK | os.X_OK):
            raise SinkError(f"cannot write to the {what}: permission denied", where=str(path))
    return path


def open_wal(path: str | Path, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """A connection to the SQLite file ``path`` as the station's stores use it: autocommit (transactions are
    explicit, see :func:`immediate_transaction`), usable from any thread, waiting up to 30 s for a lock, WAL
    journal, ``PRAGMA synchronous=<synchronous>``."""
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    return db


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` on ``db`` (autocommit mode), ``COMMIT`` when the block ends, ``ROLLBACK`` and re-raise
    on any exception while a transaction is still open (SQLite rolls back by itself on SQLITE_FULL)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
