"""InfluxDB 1.x over HTTP ``/write`` (``influx://`` and, with TLS, ``influxs://``).

``influx://[user@]host:8086/DB?rp=RP&gzip=1&timeout=10&create=1`` with the password from ``password_env``,
``password_file`` or ``$SPECMON_INFLUX_PASSWORD`` (sent as HTTP basic auth, never logged). TLS options:
``verify=0`` (accept any certificate: test benches only), ``ca=/path/ca.pem``. Requests say ``precision=ns``
explicitly. ``create=1`` (default) issues ``CREATE DATABASE`` on connect, as Telegraf does; a refusal (no
admin rights) is ignored.

Answers: 204 accepted; 400 (unparsable point, field type conflict, beyond retention) and 413 -> rejected
(the framework splits the batch); 401/403 (credentials), 404 (no such database), 408, 429, 5xx and
connection errors -> transient (retried with backoff, nothing dropped).
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import ssl
import urllib.parse
from collections.abc import Sequence

from station.errors import ConfigError
from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient

SCHEMES = ("influx", "influxs")


def ssl_context(target) -> ssl.SSLContext:
    """TLS context from the URI options ``verify`` and ``ca``."""
    ca = target.opt("ca")
    try:
        ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load ca={ca}: {exc}", where=target.masked) from None
    if not target.opt_bool("verify", True):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _retry_after(resp) -> float | None:
    value = resp.getheader("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class InfluxV1Sink(Sink):
    def __init__(self, target):
        super().__init__(target)
        self.timeout_s = target.opt_float("timeout", 10.0)
        self.gzip = target.opt_bool("gzip", True)
        self.create = target.opt_bool("create", True)
        self._ctx = ssl_context(target) if target.tls else None
        password = target.resolve_secret("password")
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if target.user:
            token = base64.b64encode(f"{target.user}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        if self.gzip:
            self._headers["Content-Encoding"] = "gzip"
        params = {"db": target.path, "precision": "ns"}
        if target.opt("rp"):
            params["rp"] = target.opt("rp")
        if target.opt("consistency"):
            params["consistency"] = target.opt("consistency")
        self._write_path = "/write?" + urllib.parse.urlencode(params)
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._ctx is not None:
                self._conn = http.client.HTTPSConnection(
                    self.target.host, self.target.port, timeout=self.timeout_s, context=self._ctx
                )
            else:
                self._conn = http.client.HTTPConnection(self.target.host, self.target.port, timeout=self.timeout_s)
        return self._conn

    def _request(self, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes, object]:
        # a kept-alive connection the server closed while idle fails on first use: reconnect once at once
        # (safe: writes are idempotent), any other failure is transient for the framework to retry
        for attempt in (0, 1):
            reused = self._conn is not None
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data, resp
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if reused and attempt == 0:
                    continue
                raise SinkTransient(f"{type(exc).__name__}: {exc}", where=self.name) from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise SinkTransient(f"{type(exc).__name__}: {exc}", where=self.name) from None
        raise AssertionError("unreachable")

    def connect(self) -> None:
        status, body, _ = self._request("GET", "/ping", b"", {k: v for k, v in self._headers.items() if k == "Authorization"})
        if status not in (200, 204):
            raise SinkTransient(f"/ping answered {status}: {_message(body)}", where=self.name)
        if self.create:
            q = urllib.parse.urlencode({"q": f'CREATE DATABASE "{self.target.path}"'})
            headers = {k: v for k, v in self._headers.items() if k == "Authorization"}
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            self._request("POST", "/query?" + q, b"", headers)  # refused without admin rights: fine

    def write(self, lines: Sequence[bytes]) -> None:
        body = b"\n".join(lines) + b"\n"
        if self.gzip:
            body = gzip.compress(body, compresslevel=1)
        status, data, resp = self._request("POST", self._write_path, body, self._headers)
        if status in (200, 204):
            return
        msg = _message(data)
        if status in (400, 413, 422):
            raise SinkRejected(f"HTTP {status}: {msg}", where=self.name, status=status)
        if status == 404:
            raise SinkTransient(f"HTTP 404: {msg} (create the database, or set create=1 with admin rights)", where=self.name)
        if status in (401, 403):
            raise SinkTransient(f"HTTP {status}: credentials refused: {msg}", where=self.name)
        raise SinkTransient(f"HTTP {status}: {msg}", where=self.name, retry_after_s=_retry_after(resp))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _message(body: bytes) -> str:
    """The server's error text, one line, secrets redacted (a server may reflect the Authorization header),
    cut to ~200 characters."""
    from station.redact import redact, shorten

    try:
        text = str(json.loads(body).get("error", body.decode(errors="replace")))
    except (ValueError, AttributeError):
        text = body.decode(errors="replace").strip()
    return shorten(redact(" ".join(text.split())), 200)


def open_sink(target) -> Sink:
    return InfluxV1Sink(target)
