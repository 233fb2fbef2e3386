"""A station with its web app running on the simulated city, for the web tests (a real `specmon run` process)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def city_config_text(port: int, *, station: str = 'id = "hn-01"\nname = "Hanoi web test station"',
                     revisit: str = "1s", evidence: str = 'iq_duration = "500ms"\nmax_per_sweep = 3',
                     web: bool = True, extra: str = "") -> str:
    """The config text of a station on two demo bands of the simulated city (vhf has the expired and
    excess-bandwidth transmitters, fm the pirate) with the web app on ``port`` (``web`` False: off).
    ``station`` and ``evidence`` are the bodies of those tables; ``extra`` is appended. The web tests use the
    defaults; ``benchmarks/web.py`` its own station id, revisit and evidence off."""
    return f"""
[station]
{station}
latitude = 21.0285
longitude = 105.8542

[receiver]
uri = "sim://city"
gain = 30.0
seed = 1

[defaults]
rbw = "1k"
dwell = "40ms"
revisit = "{revisit}"

[[bands]]
name = "vhf"
f_lo = "144M"
f_hi = "160M"

[[bands]]
name = "fm"
f_lo = "87.5M"
f_hi = "108M"
rbw = "5k"
dwell = "20ms"

[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"

[store]
data_dir = "data"

[evidence]
{evidence}

[export]
on_exit = false

[run]
health_interval = "2s"

[web]
enabled = {"true" if web else "false"}
port = {port}
{extra}
"""


def city_config(tmp: Path, port: int, *, extra: str = "") -> Path:
    """:func:`city_config_text` with evidence on, written to ``tmp/station.toml``."""
    cfg = tmp / "station.toml"
    cfg.write_text(city_config_text(port, extra=extra), encoding="utf-8")
    return cfg


class Station:
    """``specmon run`` in a child process; ``url`` is its web app."""

    def __init__(self, tmp: Path, *, extra: str = "", duration_s: float = 300.0):
        self.port = free_port()
        self.config = city_config(tmp, self.port, extra=extra)
        self.log = tmp / "station.log"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--config", str(self.config), "--sweeps", "0",
             "--duration", str(duration_s), "--tui", "off"],
            cwd=tmp, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def get(self, path: str, *, headers: dict | None = None) -> tuple[int, bytes, dict]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def json(self, path: str, **kw):
        status, body, _ = self.get(path, **kw)
        assert status == 200, (path, status, body[:300])
        return json.loads(body)

    def wait(self, predicate, timeout_s: float = 120.0, what: str = "the station", **kw):
        """Poll until ``predicate()`` is truthy (it may raise while the station starts)."""
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the station exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                v = predicate()
                if v:
                    return v
            except (OSError, AssertionError, ValueError, KeyError) as exc:
                last = exc
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what} ({last}):\n{self.log.read_text()[-3000:]}")

    def wait_for_case_with_evidence(self, headers=None, timeout_s: float = 150.0) -> str:
        def ready():
            cases = self.json("/api/cases", headers=headers)["cases"]
            for c in cases:
                d = self.json(f"/api/cases/{c['case_id']}", headers=headers)
                if d["downloads"]["spectrum_png"] and d["downloads"]["audio_wav"]:
                    return c["case_id"]
            return None

        return self.wait(ready, timeout_s, "a case with its evidence")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
