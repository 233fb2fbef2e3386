"""Helpers for the tests that run the whole station (in this process or as ``python -m station``) and read
back what it stored."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from station.outputs.sinks.sqlite import read_series


def stored_rows(db: str | Path, measurement: str) -> list[dict]:
    """Stored points of one measurement in the station's SQLite store as flat dicts (tags + fields + time_ns)."""
    return [{**p.tags, **p.fields, "time_ns": p.time_ns} for p in read_series(db, measurement)]


def specmon_argv(*args: str) -> list[str]:
    """The command line of ``specmon ARGS`` run by this interpreter (``python -m station ARGS``)."""
    return [sys.executable, "-m", "station", *args]


def unbuffered_env() -> dict[str, str]:
    """This process's environment with ``PYTHONUNBUFFERED=1``, so a child's log lines arrive as written."""
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def wait_until(predicate, timeout_s: float, what: str, *, poll_s: float = 0.1,
               proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll ``predicate`` every ``poll_s`` seconds until it is true; AssertionError naming ``what`` after
    ``timeout_s`` seconds, or as soon as ``proc`` (when given) has exited. With ``log``, the message ends with
    its last 2,000 characters."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"station exited ({proc.returncode}) waiting for {what}: "
                                 f"{log.read_text()[-2000:] if log else ''}")
        time.sleep(poll_s)
    tail = f": {log.read_text()[-2000:]}" if log is not None else ""
    raise AssertionError(f"timed out waiting for {what}{tail}")
