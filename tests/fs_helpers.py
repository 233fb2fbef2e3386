"""Size-limited and read-only filesystems for the disk-fault tests. As root (CI) a real tmpfs is mounted with
``mount``; where mounting is not permitted the callers fall back to a file-size limit (RLIMIT_FSIZE) or a
write-protected folder, and each test says which one ran (``kind``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path


def _mount(args: list[str]) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def small_fs(path: Path, size_bytes: int):
    """``path`` as a tmpfs of ``size_bytes`` (yields "tmpfs"), or a plain folder (yields "rlimit": the caller
    must limit file sizes itself, e.g. ``preexec_fn`` setting RLIMIT_FSIZE with SIGXFSZ ignored)."""
    path.mkdir(parents=True, exist_ok=True)
    if _mount(["-t", "tmpfs", "-o", f"size={int(size_bytes)},mode=0755", "tmpfs", str(path)]):
        try:
            yield "tmpfs"
        finally:
            _umount(path)
    else:
        yield "rlimit"


@contextmanager
def read_only_fs(path: Path):
    """``path`` on a read-only filesystem (tmpfs mounted ro: yields "mount-ro"), or, where mounting is not
    permitted, a folder without write permission (yields "chmod"; meaningless as root, so only used then)."""
    path.mkdir(parents=True, exist_ok=True)
    if _mount(["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(path)]):
        try:
            yield "mount-ro"
        finally:
            _umount(path)
    else:
        path.chmod(0o555)
        try:
            yield "chmod"
        finally:
            path.chmod(0o755)


def fill(path: Path) -> int:
    """Fill the filesystem under ``path`` (a file ``path/.filler``) until it refuses; returns bytes written."""
    n = 0
    chunk = b"\0" * 4096
    try:
        with open(path / ".filler", "wb", buffering=0) as f:
            while True:
                n += f.write(chunk)
    except OSError:
        pass
    return n
