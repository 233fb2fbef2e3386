"""Sink URIs: parsing, secrets and masking.

  influx://[user@]host[:8086]/DB?rp=RP&password_env=VAR          InfluxDB 1.x HTTP /write (or user=NAME)
  influxs://... &verify=0|1&ca=/path/ca.pem                        the same over TLS
  influx2://host[:8086]?org=ORG&bucket=BUCKET&token_env=VAR        v2 write API (InfluxDB 2.x/3.x/1.8+)
  influx2s://...                                                   the same over TLS
  sqlite:PATH                                                      the embedded store (relative to the data dir)

Common options: ``gzip=1|0`` (default 1), ``timeout=S`` (default 10), ``batch=N`` points per request
(default 5000), ``precision=ns`` (the only one: timestamps are ns, always sent explicitly).
Secrets: ``password_env``/``token_env`` name an environment variable (defaults SPECMON_INFLUX_PASSWORD and
SPECMON_INFLUX_TOKEN), ``password_file``/``token_file`` a file whose first line is the secret. A password
written in the URI works but is discouraged; it is never logged: :attr:`SinkTarget.masked` shows ``***``.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from station.errors import ConfigError

DEFAULT_PASSWORD_ENV = "SPECMON_INFLUX_PASSWORD"
DEFAULT_TOKEN_ENV = "SPECMON_INFLUX_TOKEN"

_COMMON = {"gzip", "timeout", "batch", "precision"}
_OPTIONS = {
    "influx": _COMMON | {"rp", "user", "password_env", "password_file", "create", "consistency"},
    "influx2": _COMMON | {"org", "bucket", "token_env", "token_file"},
    "sqlite": {"batch"},
}
_TLS = {"verify", "ca"}


@dataclass(frozen=True)
class SinkTarget:
    """A parsed sink URI. ``secret`` is resolved lazily by :meth:`resolve_secret` and never printed."""

    uri: str = field(repr=False)
    scheme: str  # as written: influx, influxs, influx2, influx2s, sqlite
    kind: str  # influx, influx2, sqlite
    tls: bool
    host: str
    port: int
    path: str  # db for influx, file for sqlite, '' for influx2
    user: str | None
    password_in_uri: str | None = field(repr=False)
    options: dict[str, str]

    @property
    def masked(self) -> str:
        return mask_uri(self.uri)

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def opt(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def opt_bool(self, key: str, default: bool) -> bool:
        value = self.options.get(key)
        if value is None:
            return default
        v = value.lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"option {key}={value!r} must be 1/0/true/false", where=self.masked)

    def opt_float(self, key: str, default: float) -> float:
        value = self.options.get(key)
        if value is None:
            return default
        try:
            x = float(value)
        except ValueError:
            x = -1
        if not x > 0:
            raise ConfigError(f"option {key}={value!r} must be a positive number", where=self.masked)
        return x

    def opt_int(self, key: str, default: int) -> int:
        value = self.options.get(key)
        if value is None:
            return default
        if not value.isdigit() or int(value) <= 0:
            raise ConfigError(f"option {key}={value!r} must be a positive integer", where=self.masked)
        return int(value)

    def resolve_secret(self, what: str) -> str | None:
        """The password ('password') or token ('token'): from ``<what>_file``, else ``<what>_env`` (or the
        default variable), else the URI's password. None when none is given. ConfigError for an unreadable
        file or a named variable that is unset."""
        file_opt = self.options.get(f"{what}_file")
        if file_opt:
            path = Path(file_opt).expanduser()
            try:
                text = path.read_text().splitlines()
            except OSError as exc:
                raise ConfigError(f"cannot read {what}_file {path}: {exc.strerror}", where=self.masked) from None
            if not text or not text[0].strip():
                raise ConfigError(f"{what}_file {path} is empty", where=self.masked)
            return text[0].strip()
        env_opt = self.options.get(f"{what}_env")
        if env_opt:
            value = os.environ.get(env_opt)
            if not value:
                raise ConfigError(f"environment variable {env_opt} (from {what}_env) is not set", where=self.masked)
            return value
        default_env = DEFAULT_TOKEN_ENV if what == "token" else DEFAULT_PASSWORD_ENV
        if os.environ.get(default_env):
            return os.environ[default_env]
        return self.password_in_uri


def mask_uri(uri: str) -> str:
    """The URI with a password in the userinfo and any secret-looking query value replaced by ``***``."""
    masked = re.sub(r"(//[^/@:?#]*:)[^@/?#]*@", r"\1***@", uri)
    return re.sub(r"(?i)([?&](?:password|token|pass|secret)=)[^&#]*", r"\1***", masked)


def parse_uri(uri: str) -> SinkTarget:
    """Parse and check a sink URI; ConfigError naming the URI (masked) and the problem."""
    uri = uri.strip()
    where = mask_uri(uri)
    scheme, sep, rest = uri.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise ConfigError("not a sink URI (expected influx://, influxs://, influx2://, influx2s:// or sqlite:PATH)", where=where)
    tls = scheme in ("influxs", "influx2s")
    kind = {"influx": "influx", "influxs": "influx", "influx2": "influx2", "influx2s": "influx2", "sqlite": "sqlite"}.get(scheme)
    if kind is None:
        raise ConfigError(
            f"unknown sink scheme {scheme!r} (known: influx, influxs, influx2, influx2s, sqlite)", where=where
        )
    if kind == "sqlite":
        path, _, query = rest.partition("?")
        if path.startswith("//"):
            path = path[2:]
        options = _parse_query(query, where)
        _check_options(options, _OPTIONS["sqlite"], where)
        if not path:
            raise ConfigError("sqlite sink needs a file path: sqlite:PATH", where=where)
        return SinkTarget(uri, scheme, kind, False, "", 0, path, None, None, options)
    parts = urllib.parse.urlsplit(uri)
    if not parts.hostname:
        raise ConfigError("missing host (e.g. influx://127.0.0.1:8086/specmon)", where=where)
    try:
        port = parts.port or 8086
    except ValueError:
        raise ConfigError("port is not a number in 1..65535", where=where) from None
    options = _parse_query(parts.query, where)
    _check_options(options, _OPTIONS[kind] | (_TLS if tls else set()), where)
    if options.get("precision", "ns") != "ns":
        raise ConfigError(
            f"precision={options['precision']} is not supported: points carry ns timestamps (spectrum points "
            "are 1 us apart), so the sinks always send precision=ns",
            where=where,
        )
    if kind == "influx" and options.get("consistency", "one") not in ("one", "any", "all", "quorum"):
        # influxd answers 400 to every write with a bad level: caught here, not point by point
        raise ConfigError(f"consistency={options['consistency']!r} must be one, any, all or quorum", where=where)
    path = urllib.parse.unquote(parts.path.strip("/"))
    if kind == "influx" and not path:
        raise ConfigError("missing database name: influx://host:8086/DATABASE", where=where)
    if kind == "influx2":
        for key in ("org", "bucket"):
            if not options.get(key):
                raise ConfigError(f"missing option {key}= (influx2://host:8086?org=ORG&bucket=BUCKET)", where=where)
    user = urllib.parse.unquote(parts.username) if parts.username else options.get("user") or None
    if parts.username and options.get("user") and options["user"] != user:
        raise ConfigError(f"two users given: {user!r} before the host and user={options['user']!r}", where=where)
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return SinkTarget(uri, scheme, kind, tls, parts.hostname, port, path, user, password, options)


def _parse_query(query: str, where: str) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"bad query string {query!r}", where=where) from None
    options: dict[str, str] = {}
    for k, v in pairs:
        if k in options:
            raise ConfigError(f"option {k} given twice", where=where)
        options[k] = v
    return options


def _check_options(options: dict[str, str], allowed: set[str], where: str) -> None:
    for k in options:
        if k not in allowed:
            raise ConfigError(f"unknown option {k!r} (known: {', '.join(sorted(allowed))})", where=where)
