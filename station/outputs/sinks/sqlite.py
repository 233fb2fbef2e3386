"""The embedded store (``sqlite:PATH``): the default when no InfluxDB is configured, so the station works the
same without a server. PATH is relative to the station's data directory unless absolute.

One table per measurement, ``series_<measurement>``, built from :mod:`station.outputs.vocabulary`: ``time_ns`` (UTC
epoch ns), one TEXT column per tag (absent tag = ''), one column per field (REAL, INTEGER, TEXT; bool as
INTEGER 0/1; absent field = NULL). The primary key is (time_ns, tags...), as a series + time is in InfluxDB:
a resent point updates the fields it carries and never duplicates. Fields added to the vocabulary later are
added as columns on open. WAL mode; other modules keep their own tables in the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from station.errors import SinkError
from station.outputs.lineprotocol import LineProtocolError, parse_line
from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient
from station.outputs.sqlitefile import immediate_transaction, open_wal, write_error_reason
from station.outputs.vocabulary import MEASUREMENTS, Point

SCHEMES = ("sqlite",)
TABLE_PREFIX = "series_"
_SQL_TYPES = {"float": "REAL", "int": "INTEGER", "bool": "INTEGER", "str": "TEXT"}


def table_name(measurement: str) -> str:
    return TABLE_PREFIX + measurement


def ensure_schema(db: sqlite3.Connection) -> None:
    """Create the series tables (and add columns the vocabulary gained). Idempotent."""
    for m in MEASUREMENTS.values():
        t = table_name(m.name)
        tag_cols = ", ".join(f'"{k}" TEXT NOT NULL DEFAULT \'\'' for k in m.tags)
        field_cols = ", ".join(f'"{k}" {_SQL_TYPES[f.type]}' for k, f in m.fields.items())
        pk = ", ".join(["time_ns", *(f'"{k}"' for k in m.tags)])
        db.execute(f'CREATE TABLE IF NOT EXISTS "{t}" (time_ns INTEGER NOT NULL, {tag_cols}, {field_cols}, PRIMARY KEY ({pk}))')
        have = {row[1] for row in db.execute(f'PRAGMA table_info("{t}")')}
        for k, f in m.fields.items():
            if k not in have:
                db.execute(f'ALTER TABLE "{t}" ADD COLUMN "{k}" {_SQL_TYPES[f.type]}')


class SqliteSink(Sink):
    def __init__(self, target, *, data_dir: str | Path | None = None):
        super().__init__(target)
        path = Path(target.path).expanduser()
        if not path.is_absolute() and data_dir is not None:
            path = Path(data_dir) / path
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._sql: dict[tuple, str] = {}

    def connect(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = open_wal(self.path)
            ensure_schema(db)
        except (OSError, sqlite3.Error) as exc:
            raise SinkTransient(f"cannot open the store: {exc}", where=str(self.path)) from None
        self._db = db

    def _statement(self, p: Point) -> str:
        key = (p.measurement, tuple(p.tags), tuple(p.fields))
        sql = self._sql.get(key)
        if sql is None:
            spec = MEASUREMENTS[p.measurement]
            tag_cols = list(spec.tags)
            cols = ["time_ns", *tag_cols, *p.fields]
            conflict = ", ".join(["time_ns", *(f'"{k}"' for k in tag_cols)])
            update = ", ".join(f'"{k}"=excluded."{k}"' for k in p.fields)
            sql = (
                f'INSERT INTO "{table_name(p.measurement)}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                f'VALUES ({", ".join("?" * len(cols))}) ON CONFLICT({conflict}) DO UPDATE SET {update}'
            )
            self._sql[key] = sql
        return sql

    def write(self, lines: Sequence[bytes]) -> None:
        groups: dict[str, list[tuple]] = {}
        for line in lines:
            try:
                p = parse_line(line)
            except LineProtocolError as exc:
                raise SinkRejected(f"unparsable point: {exc}", where=str(self.path), status=400) from None
            spec = MEASUREMENTS.get(p.measurement)
            if spec is None:
                raise SinkRejected(f"measurement {p.measurement!r} is not in the vocabulary", where=str(self.path))
            bad = [k for k in p.fields if k not in spec.fields] + [k for k in p.tags if k not in spec.tags]
            if bad:
                raise SinkRejected(f"{p.measurement}: {bad[0]!r} is not in the vocabulary", where=str(self.path))
            row = (p.time_ns, *(p.tags.get(k, "") for k in spec.tags), *p.fields.values())
            groups.setdefault(self._statement(p), []).append(row)
        try:
            with immediate_transaction(self._db):
                for sql, rows in groups.items():
                    self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise SinkTransient(f"cannot write the store: {write_error_reason(exc, self.path)}",
                                where=str(self.path)) from None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def read_series(
    path: str | Path,
    measurement: str,
    *,
    station: str | None = None,
    band: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> list[Point]:
    """Points of one measurement from the embedded store, oldest first (absent fields left out).
    ``start_ns`` inclusive, ``end_ns`` exclusive."""
    spec = MEASUREMENTS.get(measurement)
    if spec is None:
        raise ValueError(f"measurement {measurement!r} is not in the vocabulary")
    where, args = [], []
    for col, value in (("station", station), ("band", band)):
        if value is not None:
            where.append(f'"{col}"=?')
            args.append(value)
    if start_ns is not None:
        where.append("time_ns>=?")
        args.append(start_ns)
    if end_ns is not None:
        where.append("time_ns<?")
        args.append(end_ns)
    sql = f'SELECT * FROM "{table_name(measurement)}"' + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY time_ns"
    try:
        db = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise SinkError(f"cannot open the store: {exc}", where=str(path)) from None
    try:
        cur = db.execute(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for row in cur:
            rec = dict(zip(names, row))
            tags = {k: rec[k] for k in spec.tags if rec.get(k)}
            fields = {}
            for k, f in spec.fields.items():
                v = rec.get(k)
                if v is None:
                    continue
                fields[k] = bool(v) if f.type == "bool" else v
            out.append(Point(measurement, tags, fields, rec["time_ns"]))
        return out
    except sqlite3.OperationalError as exc:
        raise SinkError(f"cannot read {measurement}: {exc}", where=str(path)) from None
    finally:
        db.close()


def open_sink(target, *, data_dir: str | Path | None = None) -> Sink:
    return SqliteSink(target, data_dir=data_dir)
