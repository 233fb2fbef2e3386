"""InfluxQL text built only from the stored-name vocabulary (:data:`station.outputs.vocabulary.MEASUREMENTS`).

A :class:`Select` names a measurement, its output columns and its filters; constructing one with a
measurement, field or tag that the vocabulary lacks raises ``ValueError`` at dashboard-build time, so a
dashboard cannot drift from what the writer stores. :meth:`Select.text` renders the query with Grafana's
macros (``$timeFilter``, ``$__interval``) and template variables (``$station``, ``$band``) left for Grafana to
expand. Every identifier is double-quoted and every output column aliased, which keeps the text parseable by
:mod:`dashboards.lint`.

Only InfluxQL that InfluxDB 1.x, 2.x (v1 API) and 3.x all accept is produced: no subqueries, no ``INTO``,
no ``SLIMIT``/``SOFFSET`` (not in 3.x), functions from :data:`AGGREGATES` and :data:`COMPOSITES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.outputs.vocabulary import MEASUREMENTS, MeasurementSpec

#: aggregate functions allowed in dashboard queries (portable to InfluxDB 1.x, 2.x v1 API and 3.x InfluxQL)
AGGREGATES = frozenset({"mean", "max", "min", "last", "first", "count", "sum", "spread", "median"})
#: composite aggregates: name -> InfluxQL template ({} is the quoted field)
COMPOSITES = {
    "count_distinct": "count(distinct({}))",  # distinct values in the interval (e.g. violation cases)
    "increase": "non_negative_difference(max({}))",  # growth of a cumulative counter per interval
}

#: filter on the $station multi-value variable (Grafana expands it to a regex alternation)
STATION_FILTER = '"station" =~ /^$station$/'
#: filter on the $band multi-value variable
BAND_FILTER = '"band" =~ /^$band$/'


def spec(measurement: str) -> MeasurementSpec:
    """The vocabulary entry of ``measurement``; ``ValueError`` when the vocabulary lacks it."""
    try:
        return MEASUREMENTS[measurement]
    except KeyError:
        raise ValueError(f"measurement {measurement!r} is not in station/outputs/vocabulary.py") from None


def check_field(measurement: str, name: str) -> None:
    if name not in spec(measurement).fields:
        raise ValueError(f"{measurement}: field {name!r} is not in station/outputs/vocabulary.py")


def check_tag(measurement: str, name: str) -> None:
    if name not in spec(measurement).tags:
        raise ValueError(f"{measurement}: tag {name!r} is not in station/outputs/vocabulary.py")


def unit_of(measurement: str, name: str) -> str:
    """The vocabulary unit of a field (``"Hz"``, ``"dBFS"``, ``"%"`` ...)."""
    check_field(measurement, name)
    return spec(measurement).fields[name].unit


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: ``agg("field") AS "alias"`` or ``"field" AS "alias"`` when ``agg`` is None."""

    field: str
    agg: str | None = None
    alias: str | None = None
    scale: float | None = None  # divide by this (1000: Hz -> kHz; written '* 0.001'); needs an alias naming the unit

    def __post_init__(self) -> None:
        if self.scale is not None and (not self.alias or self.alias == self.field or not self.scale > 0):
            raise ValueError(f"column {self.field!r}: a scaled column needs a positive scale and its own alias")

    @property
    def name(self) -> str:
        return self.alias or self.field

    def text(self) -> str:
        ident = f'"{self.field}"'
        if self.agg in COMPOSITES:
            expr = COMPOSITES[self.agg].format(ident)
        else:
            expr = f"{self.agg}({ident})" if self.agg else ident
        if self.scale is not None:  # a product: '/' would read as a regex literal to InfluxQL-aware tools
            expr = f"{expr} * {1.0 / self.scale:g}"
        return f'{expr} AS "{self.name}"'


@dataclass(frozen=True, slots=True)
class Condition:
    """``"name" op value`` on a tag (value a string) or a field (string, number or bool)."""

    name: str
    op: str
    value: str | float | int | bool

    def text(self) -> str:
        if isinstance(self.value, bool):
            literal = "true" if self.value else "false"
        elif isinstance(self.value, (int, float)):
            literal = repr(self.value)
        else:
            literal = "'" + self.value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f'"{self.name}" {self.op} {literal}'


@dataclass(frozen=True, slots=True)
class Select:
    """A vocabulary-checked InfluxQL SELECT.

    ``by_station``/``by_band`` add the ``$station``/``$band`` filters; ``interval`` adds
    ``GROUP BY time($__interval)`` (or the given literal, e.g. ``"1h"``); ``group_tags`` are tags to group
    by (they become series tags, or columns in table format).
    """

    measurement: str
    columns: tuple[Column, ...]
    by_station: bool = True
    by_band: bool = True
    conditions: tuple[Condition, ...] = ()
    interval: str | None = None
    group_tags: tuple[str, ...] = ()
    fill: str | None = None
    order_desc: bool = False
    limit: int | None = None
    all_time: bool = False  # no $timeFilter: every point up to now, whatever the dashboard's range

    def __post_init__(self) -> None:
        m = spec(self.measurement)
        if not self.columns:
            raise ValueError(f"{self.measurement}: a query needs at least one column")
        aggregated = [c.agg is not None for c in self.columns]
        if any(aggregated) and not all(aggregated):
            raise ValueError(f"{self.measurement}: mixing aggregated and raw columns is not valid InfluxQL")
        if self.interval and not all(aggregated):
            raise ValueError(f"{self.measurement}: GROUP BY time needs aggregated columns")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.measurement}: duplicate output column names {names}")
        for c in self.columns:
            check_field(self.measurement, c.field)
            if c.agg is not None and c.agg not in AGGREGATES and c.agg not in COMPOSITES:
                allowed = sorted(AGGREGATES | set(COMPOSITES))
                raise ValueError(f"{self.measurement}: aggregate {c.agg!r} is not one of {allowed}")
            if c.agg == "increase" and not self.interval:
                raise ValueError(f"{self.measurement}: 'increase' needs GROUP BY time")
        for cond in self.conditions:
            if cond.name not in m.fields and cond.name not in m.tags:
                raise ValueError(f"{self.measurement}: {cond.name!r} is neither a field nor a tag in the vocabulary")
        for t in self.group_tags:
            check_tag(self.measurement, t)
        for flag, tag in ((self.by_station, "station"), (self.by_band, "band")):
            if flag:
                check_tag(self.measurement, tag)

    @property
    def output_columns(self) -> tuple[str, ...]:
        """Columns of every returned series: ``time`` then the aliases (group tags come as series tags)."""
        return ("time", *(c.name for c in self.columns))

    @property
    def aggregated(self) -> bool:
        return self.columns[0].agg is not None

    def text(self) -> str:
        where = ["time <= now()"] if self.all_time else ["$timeFilter"]
        if self.by_station:
            where.append(STATION_FILTER)
        if self.by_band:
            where.append(BAND_FILTER)
        where += [c.text() for c in self.conditions]
        parts = [
            "SELECT " + ", ".join(c.text() for c in self.columns),
            f'FROM "{self.measurement}"',
            "WHERE " + " AND ".join(where),
        ]
        group = []
        if self.interval:
            group.append(f"time({self.interval})")
        group += [f'"{t}"' for t in self.group_tags]
        if group:
            parts.append("GROUP BY " + ", ".join(group))
        if self.fill:
            parts.append(f"fill({self.fill})")
        if self.order_desc:
            parts.append("ORDER BY time DESC")
        if self.limit is not None:
            parts.append(f"LIMIT {int(self.limit)}")
        return " ".join(parts)


def raw(measurement: str, *fields: str, **kwargs) -> Select:
    """SELECT the given fields unaggregated (aliased to their own names)."""
    return Select(measurement, tuple(Column(f) for f in fields), **kwargs)


def agg(measurement: str, fn: str, *fields: str, **kwargs) -> Select:
    """SELECT ``fn(field) AS field`` for each field."""
    return Select(measurement, tuple(Column(f, fn) for f in fields), **kwargs)


def tag_values(measurement: str, tag: str, where: str | None = None) -> str:
    """``SHOW TAG VALUES`` query for a template variable (vocabulary-checked)."""
    check_tag(measurement, tag)
    text = f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{tag}"'
    if where:
        text += f" WHERE {where}"
    return text
