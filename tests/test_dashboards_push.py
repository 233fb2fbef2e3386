"""`specmon dashboards push` against a loopback stub of Grafana's HTTP API that records every request."""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (the dashboard builder) is not installed")

pytest.importorskip("grafana_client", reason="grafana-client (extra 'grafana') is not installed")

import dashboards  # noqa: E402
from station.cli import main  # noqa: E402

TOKEN = "glsa_good"
BASIC = ("admin", "s3cret")


class GrafanaStub:
    """In-memory Grafana: datasources, folders, dashboards; auth by bearer token or basic; records requests.

    ``mode``: "ok", "forbidden" (403 on every write), "prefix" (API only under /grafana/, 404 elsewhere).
    """

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.requests: list[tuple[str, str, dict | None]] = []
        self.datasources: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.boards: dict[str, dict] = {}
        self._next_id = 1
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n)) if n else None

            def _reply(self, status: int, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str):
                body = self._body() if method in ("POST", "PUT") else None
                stub.requests.append((method, self.path, body))
                path = self.path
                if stub.mode == "prefix":
                    if not path.startswith("/grafana/"):
                        return self._reply(404, {"message": "Not found"})
                    path = path[len("/grafana"):]
                auth = self.headers.get("Authorization", "")
                ok = auth == f"Bearer {TOKEN}" or auth == "Basic " + base64.b64encode(
                    f"{BASIC[0]}:{BASIC[1]}".encode()).decode()
                if not ok:
                    return self._reply(401, {"message": "invalid API key"})
                if method != "GET" and stub.mode == "forbidden":
                    return self._reply(403, {"message": "Permission denied"})
                return self._reply(*stub.route(method, path, body))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def writes(self):
        return [(m, p) for m, p, _ in self.requests if m != "GET"]

    def route(self, method: str, path: str, body):
        if method == "GET" and path == "/api/frontend/settings":
            return 200, {"buildInfo": {"version": "11.6.0"}}
        m = re.fullmatch(r"/api/datasources/uid/([\w-]+)", path)
        if m and method == "GET":
            ds = self.datasources.get(m.group(1))
            return (200, ds) if ds else (404, {"message": "Data source not found"})
        if m and method == "PUT":
            if m.group(1) not in self.datasources:
                return 404, {"message": "Data source not found"}
            self.datasources[m.group(1)] = self._store_ds(body, self.datasources[m.group(1)])
            return 200, {"message": "Datasource updated"}
        if path == "/api/datasources" and method == "POST":
            if body["uid"] in self.datasources:
                return 409, {"message": "data source with the same uid already exists"}
            self.datasources[body["uid"]] = self._store_ds(body, None)
            return 200, {"message": "Datasource added", "id": self._next_id}
        m = re.fullmatch(r"/api/folders/([\w-]+)", path)
        if m and method == "GET":
            f = self.folders.get(m.group(1))
            return (200, f) if f else (404, {"message": "folder not found"})
        if m and method == "PUT":
            self.folders[m.group(1)].update(title=body["title"])
            return 200, self.folders[m.group(1)]
        if path == "/api/folders" and method == "POST":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "version": 1}
            return 200, self.folders[body["uid"]]
        m = re.fullmatch(r"/api/dashboards/uid/([\w-]+)", path)
        if m and method == "GET":
            b = self.boards.get(m.group(1))
            return (200, b) if b else (404, {"message": "Dashboard not found"})
        if path == "/api/dashboards/db" and method == "POST":
            board = dict(body["dashboard"])
            if body.get("folderUid") not in self.folders:
                return 400, {"message": "folder not found"}
            old = self.boards.get(board["uid"])
            board["id"] = old["dashboard"]["id"] if old else self._id()
            board["version"] = old["dashboard"]["version"] + 1 if old else 1
            self.boards[board["uid"]] = {"dashboard": board, "meta": {"folderUid": body["folderUid"]}}
            return 200, {"status": "success", "uid": board["uid"], "version": board["version"]}
        return 404, {"message": f"no route {method} {path}"}

    def _id(self):
        self._next_id += 1
        return self._next_id

    def _store_ds(self, body, old):
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        secure = dict((old or {}).get("secureJsonFields", {}))
        secure.update({k: True for k in (body.get("secureJsonData") or {})})
        stored.update(id=(old or {}).get("id") or self._id(), secureJsonFields=secure, readOnly=False,
                      basicAuth=False, user=body.get("user", ""))
        return stored


@pytest.fixture
def grafana(monkeypatch):
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "SPECMON_GRAFANA_TOKEN"):
        monkeypatch.delenv(k, raising=False)
    stubs = []

    def make(mode="ok"):
        s = GrafanaStub(mode)
        stubs.append(s)
        return s

    yield make
    for s in stubs:
        s.close()


def test_first_push_creates_everything_second_changes_nothing(grafana, capsys):
    g = grafana()
    assert main(["dashboards", "push", "--url", g.url, "--token", TOKEN, "--datasource-url",
                 "http://influx:8086", "--database", "mon", "--influx-token", "tok"]) == 0
    assert g.writes() == [
        ("POST", "/api/datasources"), ("POST", "/api/datasources"), ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
    ]
    v1, tok = g.datasources["specmon-influxql"], g.datasources["specmon-influxql-token"]
    assert v1["url"] == "http://influx:8086" and v1["jsonData"]["dbName"] == "mon" and v1["type"] == "influxdb"
    assert tok["jsonData"]["version"] == "InfluxQL" and tok["jsonData"]["httpHeaderName1"] == "Authorization"
    posted = [b for m, p, b in g.requests if p == "/api/datasources"]
    assert posted[1]["secureJsonData"] == {"httpHeaderValue1": "Token tok"}
    assert g.folders["specmon"]["title"] == "specmon"
    expected = dashboards.render()
    assert set(g.boards) == set(expected)
    for uid, stored in g.boards.items():
        assert stored["meta"]["folderUid"] == "specmon"
        assert {k: v for k, v in stored["dashboard"].items() if k not in ("id", "version")} == expected[uid]
    body = next(b for m, p, b in g.requests if p == "/api/dashboards/db")
    assert body["overwrite"] is True and body["dashboard"]["id"] is None
    assert "7 created, 0 updated, 0 unchanged" in capsys.readouterr().out

    g.requests.clear()
    assert main(["dashboards", "push", "--url", g.url, "--token", TOKEN, "--datasource-url",
                 "http://influx:8086", "--database", "mon", "--influx-token", "tok"]) == 0
    assert g.writes() == []  # idempotent: only reads
    assert {p for _, p, _ in g.requests} >= {"/api/datasources/uid/specmon-influxql", "/api/folders/specmon",
                                             "/api/dashboards/uid/specmon-band"}
    assert "0 created, 0 updated, 7 unchanged" in capsys.readouterr().out


def test_push_updates_only_what_differs(grafana, capsys):
    g = grafana()
    args = ["dashboards", "push", "--url", g.url, "--user", BASIC[0], "--password", BASIC[1]]
    assert main(args) == 0
    g.boards["specmon-band"]["dashboard"]["title"] = "edited by hand"
    g.datasources["specmon-influxql"]["url"] = "http://old:8086"
    g.requests.clear()
    assert main(args + ["--folder", "Spectrum monitoring"]) == 0
    assert g.writes() == [("PUT", "/api/datasources/uid/specmon-influxql"), ("PUT", "/api/folders/specmon"),
                          ("POST", "/api/dashboards/db")]
    put = next(b for m, p, b in g.requests if m == "PUT" and "datasources" in p)
    assert "secureJsonData" not in put  # secrets not given: Grafana keeps the stored ones
    assert g.boards["specmon-band"]["dashboard"]["title"] == dashboards.render()["specmon-band"]["title"]
    assert g.boards["specmon-band"]["dashboard"]["version"] == 2
    assert g.folders["specmon"]["title"] == "Spectrum monitoring"
    assert "0 created, 3 updated, 4 unchanged" in capsys.readouterr().out


def test_force_rewrites_to_rotate_a_secret(grafana):
    g = grafana()
    base = ["dashboards", "push", "--url", g.url, "--token", TOKEN, "--influx-token", "old"]
    assert main(base) == 0
    g.requests.clear()
    assert main(base[:-1] + ["new"]) == 0
    assert g.writes() == []  # the stored secret cannot be read back, so it looks unchanged
    assert main(base[:-1] + ["new", "--force"]) == 0
    puts = [b for m, p, b in g.requests if m == "PUT" and p == "/api/datasources/uid/specmon-influxql-token"]
    assert puts and puts[0]["secureJsonData"] == {"httpHeaderValue1": "Token new"}


def test_dashboards_without_action_prints_help(capsys):
    assert main(["dashboards"]) == 2
    assert "export DIR" in capsys.readouterr().out


def test_no_datasources_pushes_folder_and_dashboards_only(grafana):
    g = grafana()
    assert main(["dashboards", "push", "--url", g.url, "--token", TOKEN, "--no-datasources"]) == 0
    assert not g.datasources and len(g.boards) == 4
    assert not any("datasources" in p for _, p, _ in g.requests)


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_401_is_a_clear_one_line_error(grafana, capsys):
    g = grafana()
    assert main(["dashboards", "push", "--url", g.url, "--token", "wrong"]) == 6
    err = _error(capsys)
    assert err.startswith(f"specmon dashboards: error: {g.url}: Grafana refused the credentials (401")
    assert "--token or --user/--password" in err
    assert main(["dashboards", "push", "--url", g.url, "--user", "admin", "--password", "nope"]) == 6
    assert "401" in _error(capsys)
    assert g.writes() == []


def test_403_names_what_was_refused(grafana, capsys):
    g = grafana("forbidden")
    assert main(["dashboards", "push", "--url", g.url, "--token", TOKEN]) == 6
    err = _error(capsys)
    assert "403 Forbidden: Permission denied" in err and "create datasource specmon-influxql" in err


def test_404_points_at_the_url(grafana, capsys):
    g = grafana("prefix")
    assert main(["dashboards", "push", "--url", g.url, "--token", TOKEN]) == 6
    err = _error(capsys)
    assert "not found (404)" in err and "sub-path" in err
    # with the sub-path it works
    assert main(["dashboards", "push", "--url", g.url + "/grafana", "--token", TOKEN]) == 0
    assert len(g.boards) == 4


def test_unreachable_host_is_a_clear_error(capsys, monkeypatch):
    for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    assert main(["dashboards", "push", "--url", f"http://127.0.0.1:{port}", "--token", TOKEN, "--timeout", "2"]) == 6
    err = _error(capsys)
    assert f"http://127.0.0.1:{port}: cannot reach Grafana" in err and "Connection refused" in err


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--url", "grafana:3000", "--token", "t"], "expected http://host[:port]"),
        (["--url", "http://g:3000"], "give --token, or both --user and --password"),
        (["--url", "http://g:3000", "--token", "t", "--user", "u", "--password", "p"], "not both"),
        (["--url", "http://g:3000", "--user", "u"], "give --token, or both"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("SPECMON_GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "push", *argv]) == 2
    assert message in _error(capsys)
