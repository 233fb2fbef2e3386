"""An InfluxQL query type for grafana-foundation-sdk.

The foundation SDK (generated from Grafana's own schemas) ships query types for Prometheus, Loki, Elasticsearch
and others, but none for the InfluxDB datasource. This module adds one in the SDK's own shape: a
:class:`Dataquery` model (``to_json``/``from_json``, registered as the ``influxdb`` variant so that
``Dashboard.from_json`` decodes our targets back into typed objects) and a :class:`InfluxQLQuery` builder
usable wherever the SDK takes a ``Builder[Dataquery]`` (``panel.with_target(...)``).

Only raw-query mode is modelled (``rawQuery: true``): the text is built from the stored-name vocabulary by
:mod:`dashboards.queries`, and raw InfluxQL is what InfluxDB 1.x, 2.x (v1 compatibility API) and 3.x (InfluxQL
endpoint) all accept unchanged. The JSON keys are those of Grafana's InfluxDB datasource
(``public/app/plugins/datasource/influxdb/types.ts: InfluxQuery``).
"""

from __future__ import annotations

import enum
import typing

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

#: the datasource plugin id Grafana uses for InfluxDB
PLUGIN_TYPE = "influxdb"


class ResultFormat(enum.StrEnum):
    TIME_SERIES = "time_series"
    TABLE = "table"
    LOGS = "logs"


class Dataquery(cogvariants.Dataquery):
    """One InfluxQL target of a panel (raw query mode)."""

    ref_id: str
    query: str
    raw_query: bool
    result_format: ResultFormat
    alias: typing.Optional[str]
    hide: typing.Optional[bool]
    datasource: typing.Optional[dashboard.DataSourceRef]

    def __init__(
        self,
        ref_id: str = "",
        query: str = "",
        raw_query: bool = True,
        result_format: ResultFormat = ResultFormat.TIME_SERIES,
        alias: typing.Optional[str] = None,
        hide: typing.Optional[bool] = None,
        datasource: typing.Optional[dashboard.DataSourceRef] = None,
    ) -> None:
        self.ref_id = ref_id
        self.query = query
        self.raw_query = raw_query
        self.result_format = ResultFormat(result_format)
        self.alias = alias
        self.hide = hide
        self.datasource = datasource

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "query": self.query,
            "rawQuery": self.raw_query,
            "resultFormat": str(self.result_format),
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.hide is not None:
            payload["hide"] = self.hide
        if self.datasource is not None:
            payload["datasource"] = self.datasource
        return payload

    @classmethod
    def from_json(cls, data: dict[str, typing.Any]) -> typing.Self:
        unknown = set(data) - {"refId", "query", "rawQuery", "resultFormat", "alias", "hide", "datasource"}
        if unknown:
            raise ValueError(f"InfluxQL target {data.get('refId', '?')}: unknown keys {sorted(unknown)}")
        if not isinstance(data.get("query"), str) or not data["query"].strip():
            raise ValueError(f"InfluxQL target {data.get('refId', '?')}: 'query' must be a non-empty string")
        args: dict[str, typing.Any] = {"ref_id": data.get("refId", ""), "query": data["query"]}
        if "rawQuery" in data:
            args["raw_query"] = bool(data["rawQuery"])
        if "resultFormat" in data:
            args["result_format"] = ResultFormat(data["resultFormat"])
        if "alias" in data:
            args["alias"] = data["alias"]
        if "hide" in data:
            args["hide"] = data["hide"]
        if "datasource" in data:
            args["datasource"] = dashboard.DataSourceRef.from_json(data["datasource"])
        return cls(**args)


def variant_config() -> cogruntime.DataqueryConfig:
    return cogruntime.DataqueryConfig(identifier=PLUGIN_TYPE, from_json_hook=Dataquery.from_json)


def register() -> None:
    """Register the variant with the SDK runtime (idempotent); called by the dashboard builders."""
    cogruntime.register_dataquery_variant(variant_config())


class InfluxQLQuery(cogbuilder.Builder[Dataquery]):
    """Builder for :class:`Dataquery`, in the style of the SDK's generated builders."""

    def __init__(self, query: str = "") -> None:
        self._internal = Dataquery(query=query)

    def build(self) -> Dataquery:
        return self._internal

    def ref_id(self, ref_id: str) -> typing.Self:
        self._internal.ref_id = ref_id
        return self

    def query(self, query: str) -> typing.Self:
        self._internal.query = query
        return self

    def format(self, result_format: ResultFormat) -> typing.Self:
        self._internal.result_format = ResultFormat(result_format)
        return self

    def alias(self, alias: str) -> typing.Self:
        self._internal.alias = alias
        return self

    def hide(self, hide: bool) -> typing.Self:
        self._internal.hide = hide
        return self

    def datasource(self, datasource: dashboard.DataSourceRef) -> typing.Self:
        self._internal.datasource = datasource
        return self
