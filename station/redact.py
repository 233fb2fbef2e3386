"""Secrets out of every message: :func:`redact` masks URL userinfo passwords, secret-looking query parameters
(``password=``, ``token=``, ...), ``Authorization``/``Bearer``/``Basic``/``Token`` credentials and JSON/INI-style
``"password": "..."`` pairs with ``***``; :func:`shorten` cuts a value shown in a message to ~80 characters.

Used by :class:`station.errors.SpecmonError` (every user-facing error), the CLI's error printer and log
filter, the sinks' error messages and ``dashboards push``. Pure string functions, no I/O.
"""

from __future__ import annotations

import re

MASK = "***"

#: query/form parameter names whose value is a secret
SECRET_KEYS = ("password", "passwd", "pass", "pwd", "token", "access_token", "api_key", "apikey", "secret",
               "client_secret", "auth", "authorization", "key", "sig", "signature")

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:?#'\"]*):([^@/\s?#'\"]*)@")
_BARE_TOKEN_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s:?#'\"]{20,})@")
_QUERY = re.compile(r"(?i)((?:^|(?<=[\s?&;,(]))(?:" + "|".join(SECRET_KEYS) + r")=)[^&#\s'\"]*")
_AUTH_SCHEME = re.compile(r"\b([Bb]asic|[Bb]earer|BASIC|BEARER)(\s+)[A-Za-z0-9._~+/=-]{8,}")
_AUTH_HEADER = re.compile(r"(?i)((?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+")
_PAIR = re.compile(r"(?i)(['\"]?(?:" + "|".join(k for k in SECRET_KEYS if k not in ("key", "auth", "sig"))
                   + r"|secureJsonData)['\"]?\s*[:=]\s*)(['\"])(.*?)\2")


def redact(text: object) -> str:
    """``str(text)`` with every secret it shows replaced by ``***`` (idempotent)."""
    s = str(text)
    if not s:
        return s
    s = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", s)
    s = _BARE_TOKEN_USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", s)
    s = _QUERY.sub(lambda m: m.group(1) + MASK, s)
    s = _AUTH_SCHEME.sub(lambda m: m.group(1) + m.group(2) + MASK, s)
    s = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, s)
    s = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", s)
    return s


def shorten(text: object, limit: int = 80) -> str:
    """``str(text)`` cut to ``limit`` characters with an ellipsis and the full length (for a value echoed in a
    message: a 10,000-character field must not become a 10,000-character error line)."""
    s = str(text)
    if len(s) <= limit:
        return s
    return f"{s[: max(limit - 1, 1)]}… ({len(s)} characters)"


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a message, shortened (see :func:`shorten`)."""
    try:
        r = repr(value)
    except Exception:  # noqa: BLE001 - a value whose repr fails (huge int) is named by its type
        r = f"<{type(value).__name__}>"
    return shorten(r, limit)


def int_text_ok(value: int, max_digits: int = 30) -> bool:
    """True when an int is small enough to print and convert to float (a 400-digit TOML integer is not)."""
    return -(10 ** max_digits) < value < 10 ** max_digits
