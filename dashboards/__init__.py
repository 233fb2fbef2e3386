"""Grafana dashboards as code, built with grafana-foundation-sdk from the stored-name vocabulary.

:data:`REGISTRY` lists the dashboards (stable key -> module with ``build() -> Dashboard`` model);
:func:`render` turns them into the JSON Grafana imports; :mod:`dashboards.provisioning` writes the
provisioning folder; ``specmon dashboards export|push`` (``station/commands/dashboards.py``) ships them.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

#: dashboard key -> module (each module defines ``build()``); keys are the suffix of the stable UIDs
REGISTRY: dict[str, str] = {
    "network": "dashboards.network",
    "band": "dashboards.band",
    "violations": "dashboards.violations",
    "health": "dashboards.health",
}


def build(key: str):
    """The SDK ``Dashboard`` model of one registered dashboard."""
    return importlib.import_module(REGISTRY[key]).build()


def to_json(model) -> dict[str, Any]:
    """Dashboard model -> plain JSON dict (the SDK's encoder, then a JSON round trip)."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    return json.loads(json.dumps(model, cls=JSONEncoder))


def render(*, web_url: str | None = None) -> dict[str, dict[str, Any]]:
    """All dashboards as JSON, keyed by UID (ordered as :data:`REGISTRY`). ``web_url``: the station web app's
    base URL the case links use by default (the ``web_url`` dashboard variable; docs/WEB.md)."""
    out = {}
    for key in REGISTRY:
        board = to_json(build(key))
        if web_url:
            for var in board.get("templating", {}).get("list", []):
                if var.get("name") == "web_url":
                    url = web_url.rstrip("/")
                    var["query"] = url
                    var["current"] = {"text": url, "value": url}
                    var["options"] = [{"selected": True, "text": url, "value": url}]
        out[board["uid"]] = board
    return out


def validate(board: dict[str, Any]) -> None:
    """Decode dashboard JSON with the SDK model and check it encodes back to the same JSON.

    Raises ``ValueError`` naming the dashboard when a key is unknown to the model or a target is not a valid
    InfluxQL target.
    """
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from dashboards.influxql import register

    register()
    uid = board.get("uid", "?")
    try:
        decoded = Dashboard.from_json(board)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"dashboard {uid}: does not decode with the SDK model: {exc}") from exc
    again = to_json(decoded)
    if again != board:
        diff = sorted(set(_flatten(board).items()) ^ set(_flatten(again).items()))[:3]
        raise ValueError(f"dashboard {uid}: JSON does not survive the SDK model round trip: {diff}")


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(value)}
