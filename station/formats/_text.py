"""Open a text file that may be gzip-compressed (recognised by its magic bytes, not its name); shared by the
sweep file readers."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO

from station.errors import DataError


def open_text(path: str | Path) -> IO[str]:
    """A text stream (UTF-8, bad bytes replaced, universal newlines) of a plain or gzip file; DataError naming
    the file when it cannot be opened."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            magic = fh.read(2)
    except OSError as exc:
        raise DataError(f"cannot open: {exc.strerror or exc}", where=str(path)) from None
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8-sig", errors="replace", newline=None)
    return open(p, encoding="utf-8-sig", errors="replace", newline=None)

