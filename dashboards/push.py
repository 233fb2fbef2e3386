"""Push the dashboards, their folder and the InfluxDB datasources to a running Grafana (HTTP API).

Create-or-update with compare-before-write: every object is read first and written only when it is missing
or differs, so a second push with the same inputs sends no write at all. Uses ``grafana-client`` (optional
extra ``specmon[grafana]``). Every failure becomes a one-line :class:`station.errors.SinkError` naming the
Grafana URL and what was refused (401 credentials, 403 permission, 404 wrong URL / API path, unreachable).

Endpoints used: ``GET /api/frontend/settings`` (reachability, credentials); ``GET|POST /api/datasources``, ``GET|PUT /api/datasources/uid/<uid>``;
``GET|POST /api/folders``, ``PUT /api/folders/<uid>``; ``GET /api/dashboards/uid/<uid>``,
``POST /api/dashboards/db``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from station.errors import SinkError, UsageError
from station.redact import redact, shorten, shown

log = logging.getLogger(__name__)

#: datasource keys compared to decide whether an update is needed (secrets cannot be read back)
_DS_KEYS = ("name", "type", "access", "url", "user", "isDefault", "jsonData")


@dataclass
class PushReport:
    """What a push did, per object ("datasource specmon-influxql", "folder specmon", "dashboard ...")."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"
                + "".join(f"\n  created {n}" for n in self.created)
                + "".join(f"\n  updated {n}" for n in self.updated))


def connect(url: str, *, token: str | None = None, user: str | None = None, password: str | None = None,
            timeout_s: float = 10.0):
    """A ``grafana_client.GrafanaApi`` for ``url`` (``http[s]://host[:port][/sub/path]``), health-checked."""
    try:
        from grafana_client import GrafanaApi
    except ImportError:
        raise UsageError("`specmon dashboards push` needs grafana-client: pip install 'specmon[grafana]'") from None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url {shown(redact(url))}: expected http://host[:port][/path] or https://...")
    if token is not None and (user is not None or password is not None):
        raise UsageError("give either --token or --user/--password, not both")
    if token is None and (user is None or password is None):
        raise UsageError("give --token, or both --user and --password")
    credential: Any = token if token is not None else (user, password)
    # grafana-client joins a sub-path and "api" without a slash: give it "http://host/sub/path/"
    path = parts.path.strip("/")
    client_url = f"{parts.scheme}://{parts.netloc}/{path + '/' if path else ''}"
    api = GrafanaApi.from_url(client_url, credential=credential, timeout=timeout_s)
    _call(url, "read Grafana's settings (GET /api/frontend/settings)", api.health.check)
    return api


def _call(url: str, action: str, fn, *args, not_found_ok: bool = False):
    """Run one client call; map every failure to a one-line SinkError (secrets redacted). Returns None on 404
    when allowed."""
    url = redact(url)
    from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaTimeoutError

    try:
        import niquests.exceptions as nx
        transport_errors: tuple = (nx.RequestException,)
    except ImportError:  # pragma: no cover - niquests is a grafana-client dependency
        transport_errors = ()
    try:
        return fn(*args)
    except GrafanaTimeoutError as exc:
        raise SinkError(f"Grafana did not answer in time while trying to {action}: {exc.message}", where=url) from None
    except GrafanaClientError as exc:
        code = exc.status_code
        if code == 404 and not_found_ok:
            return None
        if code == 401:
            raise SinkError(f"Grafana refused the credentials (401 Unauthorized) while trying to {action}: check "
                            "--token or --user/--password", where=url) from None
        if code == 403:
            raise SinkError(f"refused (403 Forbidden: {_message(exc)}) to {action}: datasources need an Admin (or a "
                            "token with datasources:write) and must not be provisioned read-only; dashboards and "
                            "folders need an Editor", where=url) from None
        if code == 404:
            raise SinkError(f"not found (404) while trying to {action}: is --url the Grafana root "
                            "(including its sub-path when served under one)?", where=url) from None
        raise SinkError(f"Grafana answered {code} while trying to {action}: {_message(exc)}", where=url) from None
    except GrafanaException as exc:
        status = f"{exc.status_code} " if exc.status_code else ""
        raise SinkError(f"cannot {action}: {status}{_message(exc)}", where=url) from None
    except transport_errors as exc:
        raise SinkError(f"cannot reach Grafana to {action}: {_first_line(exc)}", where=url) from None


def _message(exc) -> str:
    """Grafana's error text, one line, secrets redacted (a proxy or server may reflect the Authorization header
    or the URL with its password), cut to ~200 characters."""
    resp = getattr(exc, "response", None)
    text = str(resp["message"]) if isinstance(resp, dict) and "message" in resp else _first_line(exc)
    return shorten(redact(" ".join(text.split())), 200)


def _first_line(exc: BaseException) -> str:
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    if errno:
        return errno.group(0).strip()
    unresolved = re.search(r"Failed to resolve '([^']+)'", str(exc))
    if unresolved:
        return f"host name {unresolved.group(1)!r} does not resolve"
    text = str(exc).strip().splitlines()
    return shorten(redact(text[0]), 200) if text else type(exc).__name__


def _strip(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in ("id", "version")}


def push_datasource(api, url: str, ds: dict[str, Any], report: PushReport, *, secrets_given: bool,
                    force: bool = False) -> None:
    name = f"datasource {ds['uid']}"
    current = _call(url, f"read {name}", api.datasource.get_datasource_by_uid, ds["uid"], not_found_ok=True)
    if current is None:
        _call(url, f"create {name}", api.datasource.create_datasource, ds)
        report.created.append(name)
        return
    same = all(current.get(k) == ds.get(k) for k in _DS_KEYS if k in ds)
    stored_secrets = set((current.get("secureJsonFields") or {}).keys())
    wanted_secrets = set((ds.get("secureJsonData") or {}).keys())
    if not force and same and (not secrets_given or wanted_secrets <= stored_secrets):
        report.unchanged.append(name)
        return
    body = dict(ds)
    if not secrets_given:
        body.pop("secureJsonData", None)  # keep the secrets Grafana has
    _call(url, f"update {name}", api.datasource.update_datasource_by_uid, ds["uid"], body)
    report.updated.append(name)


def push_folder(api, url: str, uid: str, title: str, report: PushReport) -> None:
    name = f"folder {uid}"
    current = _call(url, f"read {name}", api.folder.get_folder, uid, not_found_ok=True)
    if current is None:
        _call(url, f"create {name}", api.folder.create_folder, title, uid)
        report.created.append(name)
    elif current.get("title") != title:
        _call(url, f"rename {name}", lambda: api.folder.update_folder(uid, title=title, overwrite=True))
        report.updated.append(name)
    else:
        report.unchanged.append(name)


def push_dashboard(api, url: str, board: dict[str, Any], folder_uid: str, report: PushReport, *,
                   force: bool = False) -> None:
    uid = board["uid"]
    name = f"dashboard {uid}"
    current = _call(url, f"read {name}", api.dashboard.get_dashboard, uid, not_found_ok=True)
    if current is not None:
        same_board = _strip(current.get("dashboard") or {}) == _strip(board)
        same_folder = (current.get("meta") or {}).get("folderUid") == folder_uid
        if same_board and same_folder and not force:
            report.unchanged.append(name)
            return
    body = {"dashboard": {**_strip(board), "id": None}, "folderUid": folder_uid, "overwrite": True,
            "message": "specmon dashboards push"}
    _call(url, f"save {name}", api.dashboard.update_dashboard, body)
    (report.updated if current is not None else report.created).append(name)


def push(api, url: str, boards: dict[str, dict[str, Any]], datasources: list[dict[str, Any]], *,
         folder_title: str, folder_uid: str, secrets_given: bool, force: bool = False) -> PushReport:
    """Create or update ``datasources``, the folder and ``boards`` (JSON keyed by UID) on ``api``.

    ``force`` writes datasources and dashboards even when they look unchanged (e.g. to rotate a secret,
    which Grafana never returns and so cannot be compared)."""
    report = PushReport()
    for ds in datasources:
        push_datasource(api, url, ds, report, secrets_given=secrets_given, force=force)
    push_folder(api, url, folder_uid, folder_title, report)
    for board in boards.values():
        push_dashboard(api, url, board, folder_uid, report, force=force)
    return report
