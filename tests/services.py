"""Real test services: Debian's InfluxDB 1.x (``influxd``) and VictoriaMetrics (``victoria-metrics``).

Each server runs on free loopback ports with its data in a temporary directory, is waited for until it
answers its health endpoint, and is stopped with SIGTERM afterwards. ``tests/conftest.py`` wraps them in the
session-scoped fixtures ``influxdb`` and ``victoria_metrics`` (and the per-test ``influx_db`` database).

Usable outside pytest too (benchmarks)::

    with InfluxServer.start(tmp_dir) as server:
        server.create_database("bench")
        server.query("SELECT count(*) FROM emission", db="bench")
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

INFLUXD = "influxd"
VICTORIA_METRICS = "victoria-metrics"


class ServiceError(RuntimeError):
    """A test service could not be started, queried or stopped."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary(name: str) -> str | None:
    """Full path of a service binary, or None when it is not installed."""
    return shutil.which(name)


def _http(method: str, url: str, *, data: bytes | None = None, timeout_s: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, method=method)
    ctx = None
    if url.startswith("https:"):  # the test servers' self-signed certificates
        import ssl

        ctx = ssl._create_unverified_context()
    try:
        with urllib.request.urlopen(req, timeout=timeout_s, context=ctx) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the service gets SIGTERM when the test process dies, even by SIGKILL (no orphan servers)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _wait_ready(url: str, ok: tuple[int, ...], proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServiceError(f"{proc.args[0]} exited with {proc.returncode} before answering {url}: {tail}")
        try:
            status, _ = _http("GET", url, timeout_s=1.0)
            if status in ok:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.05)
    raise ServiceError(f"{proc.args[0]} did not answer {url} within {timeout_s} s (log: {log})")


class _Service:
    """Common process handling: start, SIGTERM stop, SIGKILL kill, restart on the same ports and data."""

    name = ""
    ready_path = ""
    ready_status: tuple[int, ...] = (200,)

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _spawn(self, timeout_s: float = 30.0) -> None:
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self._argv(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root,
                preexec_fn=_die_with_parent if os.name == "posix" else None,
            )
        finally:
            log.close()
        try:
            _wait_ready(self.url + self.ready_path, self.ready_status, self.proc, self.log_path, timeout_s)
        except ServiceError:
            self.kill()
            raise

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL after ``timeout_s``). Idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug would: the server is gone at once. Idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, timeout_s: float = 30.0) -> None:
        """Start again (after ``kill`` or ``stop``) on the same port with the same data."""
        if self.running:
            self.stop()
        self._spawn(timeout_s)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class InfluxServer(_Service):
    """Debian's InfluxDB 1.x on free loopback ports; data, meta and WAL under ``root``."""

    name = "influxd"
    ready_path = "/ping"
    ready_status = (204,)

    def __init__(self, root: Path, *, tls: bool = False, admin: tuple[str, str] | None = None):
        super().__init__(root)
        self.admin = admin  # (user, password) when authentication is on
        self.rpc_port = free_port()
        self.config_path = self.root / "influxd.conf"
        self.tls = tls
        self.cert_path = self.root / "cert.pem"
        self.key_path = self.root / "key.pem"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls, root: Path, timeout_s: float = 30.0, *, tls: bool = False, admin: tuple[str, str] | None = None
    ) -> "InfluxServer":
        """Start influxd; with ``tls`` it serves HTTPS with a fresh self-signed certificate for 127.0.0.1
        (``cert_path``, needs the ``openssl`` command); with ``admin=(user, password)`` authentication is on
        and that admin user is created (the helpers below then authenticate as it)."""
        exe = binary(INFLUXD)
        if exe is None:
            raise ServiceError(f"{INFLUXD} is not installed (Debian package influxdb; `make services`)")
        server = cls(root, tls=tls, admin=admin)
        if tls:
            server._make_certificate()
        server._write_config()
        server._spawn(timeout_s)
        if admin:
            user, password = admin
            server.query_raw(f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES", method="POST")
        return server

    def _make_certificate(self) -> None:
        if binary("openssl") is None:
            raise ServiceError("openssl is not installed: cannot make a certificate for the TLS test server")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.key_path), "-out", str(self.cert_path)],
            check=True, capture_output=True,
        )

    def _write_config(self) -> None:
        r = self.root
        tls = (
            f'  https-enabled = true\n  https-certificate = "{self.cert_path}"\n  https-private-key = "{self.key_path}"\n'
            if self.tls else ""
        )
        self.config_path.write_text(
            f"""reporting-enabled = false
bind-address = "127.0.0.1:{self.rpc_port}"

[meta]
  dir = "{r / 'meta'}"
  logging-enabled = false

[data]
  dir = "{r / 'data'}"
  wal-dir = "{r / 'wal'}"
  query-log-enabled = false
  max-values-per-tag = 0

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {"true" if self.admin else "false"}
  log-enabled = false
  max-body-size = 0
{tls}
[continuous_queries]
  enabled = false
"""
        )

    def _argv(self) -> list[str]:
        return [binary(INFLUXD) or INFLUXD, "-config", str(self.config_path)]

    # ---- helpers ----------------------------------------------------------------------------------------
    def query_raw(self, influxql: str, *, db: str | None = None, method: str = "GET") -> dict:
        params = {"q": influxql, "epoch": "ns"}
        if self.admin:
            params["u"], params["p"] = self.admin
        if db:
            params["db"] = db
        qs = urllib.parse.urlencode(params)
        if method == "POST":
            status, body = _http("POST", f"{self.url}/query?{qs}", data=b"")
        else:
            status, body = _http("GET", f"{self.url}/query?{qs}")
        if status != 200:
            raise ServiceError(f"influxd query {influxql!r} answered {status}: {body[:300]!r}")
        return json.loads(body)

    def query(self, influxql: str, *, db: str | None = None) -> list[dict]:
        """Run one InfluxQL statement; rows as dicts (``time`` in epoch ns, tags of GROUP BY merged in)."""
        reply = self.query_raw(influxql, db=db)
        rows: list[dict] = []
        for result in reply.get("results", []):
            if "error" in result:
                raise ServiceError(f"influxd query {influxql!r}: {result['error']}")
            for series in result.get("series", []):
                tags = series.get("tags", {})
                for values in series.get("values", []):
                    row = dict(zip(series["columns"], values))
                    row.update(tags)
                    row.setdefault("_measurement", series.get("name"))
                    rows.append(row)
        return rows

    def write_lines(self, db: str, lines) -> None:
        """Write line-protocol lines (str or bytes, ns timestamps) straight to ``/write``; ServiceError unless
        the server answers 204."""
        body = b"\n".join(x.encode() if isinstance(x, str) else x for x in lines)
        qs = urllib.parse.urlencode({"db": db, "precision": "ns", **({"u": self.admin[0], "p": self.admin[1]} if self.admin else {})})
        status, reply = _http("POST", f"{self.url}/write?{qs}", data=body)
        if status != 204:
            raise ServiceError(f"influxd /write answered {status}: {reply[:300]!r}")

    def create_database(self, db: str) -> None:
        self.query_raw(f'CREATE DATABASE "{db}"', method="POST")

    def drop_database(self, db: str) -> None:
        self.query_raw(f'DROP DATABASE "{db}"', method="POST")

    def count(self, measurement: str, *, db: str, field: str = "*", where: str = "") -> int:
        """Number of points of a measurement (max over fields of count(field))."""
        clause = f" WHERE {where}" if where else ""
        rows = self.query(f'SELECT count({field}) FROM "{measurement}"{clause}', db=db)
        if not rows:
            return 0
        return max(v for k, v in rows[0].items() if k.startswith("count") and isinstance(v, int))


class VictoriaMetricsServer(_Service):
    """Debian's VictoriaMetrics single node on a free loopback port; it accepts InfluxDB line protocol on
    ``/write`` and ``/api/v2/write`` and keeps numeric fields only, as ``measurement_field`` series."""

    name = "victoria-metrics"
    ready_path = "/health"
    ready_status = (200,)

    @classmethod
    def start(cls, root: Path, timeout_s: float = 30.0) -> "VictoriaMetricsServer":
        if binary(VICTORIA_METRICS) is None:
            raise ServiceError(f"{VICTORIA_METRICS} is not installed (Debian package victoria-metrics)")
        server = cls(root)
        server._spawn(timeout_s)
        return server

    def _argv(self) -> list[str]:
        return [
            binary(VICTORIA_METRICS) or VICTORIA_METRICS,
            f"-storageDataPath={self.root / 'data'}",
            f"-httpListenAddr=127.0.0.1:{self.port}",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ]

    def export(self, match: str) -> list[dict]:
        """``/api/v1/export`` for a series selector: one dict per series (metric, values, timestamps ms)."""
        qs = urllib.parse.urlencode({"match[]": match})
        status, body = _http("GET", f"{self.url}/api/v1/export?{qs}")
        if status != 200:
            raise ServiceError(f"victoria-metrics export {match!r} answered {status}: {body[:300]!r}")
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    def flush(self) -> None:
        """Make recently ingested points searchable now (``/internal/force_flush``)."""
        _http("GET", f"{self.url}/internal/force_flush")

    def export_wait(self, match: str, n_values: int, timeout_s: float = 15.0) -> list[dict]:
        """:meth:`export`, polled until the series hold at least ``n_values`` values in total (ingested
        points take up to a second to become searchable) or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.flush()
            series = self.export(match)
            if sum(len(s["values"]) for s in series) >= n_values or time.monotonic() > deadline:
                return series
            time.sleep(0.2)


def env_without_proxies() -> dict[str, str]:
    """The environment with HTTP proxy variables removed (loopback services must be reached directly)."""
    env = dict(os.environ)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    return env
