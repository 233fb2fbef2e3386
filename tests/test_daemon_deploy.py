"""The systemd unit: the options the station relies on are there, and systemd itself accepts the file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parent.parent / "deploy" / "specmon.service"


def options() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_unit_has_notify_watchdog_restart_reload_and_sandboxing():
    o = options()
    assert o["Type"] == ["notify"] and o["NotifyAccess"] == ["main"]
    assert int(o["WatchdogSec"][0]) >= 30
    assert o["Restart"] == ["always"]
    assert "specmon run --config" in o["ExecStart"][0] and "--tui off" in o["ExecStart"][0]
    assert "config check" in o["ExecStartPre"][0]
    assert o["ExecReload"] == ["/bin/kill -HUP $MAINPID"] and o["KillSignal"] == ["SIGTERM"]
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges", "StateDirectory",
                "RestrictAddressFamilies", "DeviceAllow"):
        assert key in o, key
    assert o["MemoryDenyWriteExecute"] == ["false"]  # numba writes machine code at run time


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_unit(tmp_path):
    text = UNIT.read_text().replace("/opt/specmon/.venv/bin/specmon", "/bin/true")
    unit = tmp_path / "specmon.service"
    unit.write_text(text)
    p = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [l for l in (p.stdout + p.stderr).splitlines() if "specmon.service" in l]
    assert not problems, problems
