"""The station's time-sync state for its health point: ``chronyc tracking`` (offset from the NTP reference)
or ``timedatectl show`` (synchronised yes/no), ``unknown`` when neither answers. Probed at most once a minute
(the commands take a few ms; the health point is written every ``health_interval``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

#: a clock further off than this is reported unsynced (the network does not merge its observations)
MAX_OFFSET_S = 0.5

_cache: tuple[float, tuple[str, float | None]] | None = None


def parse_chronyc_tracking(text: str) -> tuple[str, float | None]:
    """(state, offset_s) from ``chronyc tracking`` output; 'unsynced' when chrony says it is not synchronised
    (Leap status 'Not synchronised') or the offset exceeds MAX_OFFSET_S."""
    m = re.search(r"^System time\s*:\s*([0-9.]+) seconds (fast|slow)", text, re.M)
    leap = re.search(r"^Leap status\s*:\s*(.+)$", text, re.M)
    if m is None:
        return "unknown", None
    offset = float(m.group(1)) * (1 if m.group(2) == "fast" else -1)
    if leap is not None and "not synchronised" in leap.group(1).lower():
        return "unsynced", offset
    return ("synced" if abs(offset) <= MAX_OFFSET_S else "unsynced"), offset


def _run(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=2.0)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def clock_state() -> tuple[str, float | None]:
    """('synced'|'unsynced'|'unknown', offset seconds or None), cached for 60 s."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < 60.0:
        return _cache[1]
    result: tuple[str, float | None] = ("unknown", None)
    text = _run(["chronyc", "tracking"])
    if text:
        result = parse_chronyc_tracking(text)
    else:
        text = _run(["timedatectl", "show", "--property=NTPSynchronized", "--value"])
        if text and text.strip() in ("yes", "no"):
            result = ("synced" if text.strip() == "yes" else "unsynced", None)
    _cache = (now, result)
    return result


__all__ = ["MAX_OFFSET_S", "clock_state", "parse_chronyc_tracking"]
