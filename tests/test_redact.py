"""Issue 14: secrets are redacted in every message (one helper, station.redact): URL userinfo, tokens,
Authorization/Bearer/Basic content, password= query parameters; used by dashboards push, the sinks' error
messages, SpecmonError and the CLI's error printer and log filter."""

from __future__ import annotations

import base64
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from station.errors import SinkError
from station.redact import redact, shorten

SECRET = "SECRET-s3cr3t-pw"
B64 = base64.b64encode(f"admin:{SECRET}".encode()).decode()


@pytest.mark.parametrize("text, gone", [
    (f"http://admin:{SECRET}@grafana:3000/api", SECRET),
    (f"influx://u:{SECRET}@h:8086/db?x=1", SECRET),
    (f"https://h/write?db=x&password={SECRET}&u=a", SECRET),
    (f"https://h/?token={SECRET}", SECRET),
    (f"Authorization: Basic {B64}", B64),
    (f'{{"message": "bad request, header was Authorization: Bearer {SECRET}"}}', SECRET),
    (f"header Basic {B64} refused", B64),
    (f'{{"password": "{SECRET}"}}', SECRET),
])
def test_redact_masks_every_kind_of_secret(text, gone):
    out = redact(text)
    assert gone not in out and "***" in out
    assert redact(out) == out  # idempotent


def test_redact_leaves_ordinary_text_alone():
    for text in ("band lmr 450-452 MHz: rbw 1000 Hz", "the token file is empty", "http://host:8086/ping",
                 "station.toml:bands[0].f_lo: 'x' is not a frequency"):
        assert redact(text) == text


def test_shorten_cuts_with_the_length():
    assert shorten("x" * 10_000) == "x" * 79 + "… (10000 characters)"


def test_specmon_error_never_shows_a_password():
    exc = SinkError(f"cannot write to influx://u:{SECRET}@h/db", where=f"http://admin:{SECRET}@h")
    assert SECRET not in str(exc)


class _Reflector:
    """An HTTP server answering every request with ``status`` and a body that reflects the request's
    Authorization header and path (as some misconfigured proxies and servers do)."""

    def __init__(self, status: int):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                body = json.dumps({"message": f"echo: Authorization: {self.headers.get('Authorization')} "
                                              f"path {self.path}", "error": f"auth was {self.headers.get('Authorization')}"})
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            do_GET = do_POST = do_PUT = _reply

        self.status = status
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [500, 400, 502])
def test_dashboards_push_error_hides_url_password_and_reflected_credentials(status, capsys):
    pytest.importorskip("grafana_client")
    pytest.importorskip("grafana_foundation_sdk")
    from station.cli import main

    srv = _Reflector(status)
    try:
        rc = main(["dashboards", "push", "--url", f"http://admin:{SECRET}@127.0.0.1:{srv.port}",
                   "--user", "admin", "--password", SECRET, "--timeout", "5"])
    finally:
        srv.close()
    out = capsys.readouterr()
    assert rc == 6
    text = out.err + out.out
    assert SECRET not in text and B64 not in text, text
    assert "***" in text and text.count("\n") == 1


def test_influx_sink_error_body_is_redacted():
    from station.outputs.sinks import open_sink, parse_uri

    srv = _Reflector(500)
    try:
        sink = open_sink(parse_uri(f"influx://admin:{SECRET}@127.0.0.1:{srv.port}/db?timeout=2"))
        with pytest.raises(SinkError) as exc:
            sink.write([b"m v=1 1"])
    finally:
        srv.close()
    assert SECRET not in str(exc.value) and B64 not in str(exc.value) and "500" in str(exc.value)


def test_cli_log_filter_redacts_log_lines():
    from station.cli import RedactingFilter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sink %s failed: %s", (f"http://u:{SECRET}@h",
                               f"Authorization: Basic {B64}"), None)
    assert RedactingFilter().filter(record)
    assert SECRET not in record.getMessage() and B64 not in record.getMessage()
