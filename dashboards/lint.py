"""Check dashboard JSON against the stored-name vocabulary.

:func:`check_names` reads every InfluxQL text in a dashboard (panel targets and template-variable queries)
and reports each measurement, field or tag that :data:`station.outputs.vocabulary.MEASUREMENTS` lacks. It parses the
restricted InfluxQL that :mod:`dashboards.queries` writes (every identifier double-quoted, every output column
aliased with ``AS``), so a hand edit of the JSON that names something the writer never stores is caught too.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from station.outputs.vocabulary import MEASUREMENTS

_FROM = re.compile(r'\bFROM\s+"([^"]+)"', re.IGNORECASE)
_ALIAS = re.compile(r'\bAS\s+"([^"]+)"', re.IGNORECASE)
_IDENT = re.compile(r'"([^"]+)"')
_TAG_KEY = re.compile(r'\bWITH\s+KEY\s*=\s*"([^"]+)"', re.IGNORECASE)
_BARE_FROM = re.compile(r'\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE)
#: string literals ('it\'s') and regex literals (/^a"b$/) may hold quotes that are not identifiers
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'|/(?:[^/\\]|\\.)*/")


def queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, InfluxQL text) for every target and query variable of a dashboard JSON."""
    uid = board.get("uid", "?")
    for var in board.get("templating", {}).get("list", []):
        if var.get("type") == "query" and isinstance(var.get("query"), str):
            yield f"{uid}: variable ${var['name']}", var["query"]
    for panel in _panels(board.get("panels", [])):
        for t in panel.get("targets", []) or []:
            if "query" in t:
                yield f"{uid}: panel {panel.get('title', '?')!r} target {t.get('refId', '?')}", t["query"]


def _panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in items:
        yield p
        yield from _panels(p.get("panels", []) or [])


def check_query(text: str) -> list[str]:
    """Problems with the names one InfluxQL text uses (empty list when all are in the vocabulary)."""
    problems = []
    text = _LITERALS.sub("''", text)
    measurements = _FROM.findall(text)
    if not measurements:
        bare = _BARE_FROM.findall(text)
        if bare:
            return [f"measurement {bare[0]!r} must be double-quoted"]
        return ["no FROM \"measurement\" found"]
    if len(set(measurements)) != 1:
        return [f"several measurements {sorted(set(measurements))} in one query"]
    name = measurements[0]
    spec = MEASUREMENTS.get(name)
    if spec is None:
        return [f"measurement {name!r} is not in the vocabulary"]
    known = set(spec.tags) | set(spec.fields)
    stripped = _ALIAS.sub("", _FROM.sub("", text))
    for key in _TAG_KEY.findall(text):
        if key not in spec.tags:
            problems.append(f"{name}: tag {key!r} is not in the vocabulary")
    stripped = _TAG_KEY.sub("", stripped)
    for ident in _IDENT.findall(stripped):
        if ident not in known:
            problems.append(f"{name}: {ident!r} is neither a field nor a tag in the vocabulary")
    return problems


def check_names(board: dict[str, Any]) -> list[str]:
    """All vocabulary problems of one dashboard JSON, each prefixed with where it is."""
    return [f"{where}: {p}" for where, text in queries(board) for p in check_query(text)]
