"""InfluxDB line protocol: encode :class:`station.outputs.vocabulary.Point` to lines and parse them back.

Format (one point per line, timestamps in nanoseconds: every request says ``precision=ns``)::

    measurement,tag1=v1,tag2=v2 field1=1.5,field2=3i,field3="text",field4=true 1700000000000000000

Escaping (InfluxDB 1.x/2.x rules):
  - measurement: ``,`` and space are backslash-escaped;
  - tag keys, tag values, field keys: ``,`` ``=`` and space are backslash-escaped;
  - string field values: double-quoted, ``"`` and ``\\`` backslash-escaped;
  - newlines cannot be carried anywhere but in string fields; in names and tag values they become spaces.
Values: float as ``repr`` (shortest round-trip, ``1e+20`` accepted), int with the ``i`` suffix, bool as
``true``/``false``, str quoted. NaN and +/-inf cannot be stored: such fields are dropped and counted; a point
left with no field is dropped and counted. Tags with an empty value are omitted (InfluxDB rejects them).
Tags are written sorted by key (what InfluxDB recommends for ingest speed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from station.outputs.vocabulary import Point

_MEAS_ESC = str.maketrans({",": "\\,", " ": "\\ ", "\n": "\\ ", "\r": "\\ "})
_KEY_ESC = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ ", "\n": "\\ ", "\r": "\\ "})


@dataclass(frozen=True, slots=True)
class Encoded:
    """Result of :func:`encode_points`: the lines (each without the trailing newline), aligned with
    ``kept`` (index of the source point of each line), and the drop counts."""

    lines: list[bytes]
    kept: list[int]
    dropped_fields: int  # NaN/inf (or None) field values left out
    dropped_points: int  # points with no storable field left


def _escape_key(s: str) -> str:
    if "\\" in s:
        # a trailing backslash would escape the separator that follows it
        s = s.rstrip("\\") or "_"
    return s.translate(_KEY_ESC)


def _escape_measurement(s: str) -> str:
    if "\\" in s:
        s = s.rstrip("\\") or "_"
    return s.translate(_MEAS_ESC)


def _escape_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_field(value) -> str | None:
    """One field value as line protocol, or None when it cannot be stored (NaN, inf, None).

    Accepts Python and numpy scalars: bool -> ``true``/``false``, int -> ``5i``, float -> ``repr``,
    str -> quoted. Raises TypeError for anything else."""
    # bool first: bool is a subclass of int
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return _escape_str(value)
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return repr(value)
    if value is None:
        return None
    # numpy scalars (not imported here: duck-typed by their item())
    item = getattr(value, "item", None)
    if item is not None:
        return format_field(item())
    raise TypeError(f"field value {value!r} of type {type(value).__name__} is not a float, int, bool or str")


_CACHE_MAX = 65536
_head_cache: dict[tuple, str] = {}
_field_key_cache: dict[str, str] = {}


def _head(measurement: str, tags: dict[str, str]) -> str:
    """``measurement,tag=value,...`` (tags sorted, empty values omitted), memoised: the tag sets of a
    station are few (bounded cardinality), so this is a dict lookup per point."""
    key = (measurement, *tags.items())
    head = _head_cache.get(key)
    if head is None:
        head = _escape_measurement(measurement)
        for k in sorted(tags):
            value = tags[k]
            if value is None or value == "":
                continue
            head += f",{_escape_key(k)}={_escape_key(str(value))}"
        if len(_head_cache) >= _CACHE_MAX:
            _head_cache.clear()
        _head_cache[key] = head
    return head


def _field_key(key: str) -> str:
    text = _field_key_cache.get(key)
    if text is None:
        if len(_field_key_cache) >= _CACHE_MAX:
            _field_key_cache.clear()
        text = _field_key_cache[key] = _escape_key(key) + "="
    return text


def encode_point(point: Point) -> tuple[bytes | None, int]:
    """One point as one line (no newline) and the number of fields dropped; the line is None when no field
    is storable."""
    dropped = 0
    parts = []
    keys = _field_key_cache
    for key, value in point.fields.items():
        t = type(value)
        if t is float:
            if value - value != 0.0:  # NaN or +/-inf (inf - inf is NaN)
                dropped += 1
                continue
            text = repr(value)
        elif t is int:
            text = f"{value}i"
        elif t is str:
            text = _escape_str(value)
        else:
            text = format_field(value)
            if text is None:
                dropped += 1
                continue
        parts.append((keys.get(key) or _field_key(key)) + text)
    if not parts:
        return None, dropped
    return f"{_head(point.measurement, point.tags)} {','.join(parts)} {point.time_ns}".encode(), dropped


def encode_points(points) -> Encoded:
    """Encode many points; see :class:`Encoded`."""
    lines: list[bytes] = []
    kept: list[int] = []
    dropped_fields = dropped_points = 0
    for i, p in enumerate(points):
        line, d = encode_point(p)
        dropped_fields += d
        if line is None:
            dropped_points += 1
            continue
        lines.append(line)
        kept.append(i)
    return Encoded(lines, kept, dropped_fields, dropped_points)


# ---- parsing (the embedded store, the dead-letter listing, tests) -------------------------------------------


class LineProtocolError(ValueError):
    """A line that is not valid line protocol; the message names the column."""


def _scan(text: str, i: int, stops: str) -> int:
    """Index of the first unescaped character of ``stops`` at or after ``i`` (len(text) when none)."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            i += 2
            continue
        if c in stops:
            return i
        i += 1
    return n


def _unescape(s: str, chars: str) -> str:
    if "\\" not in s:
        return s
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] in chars:
            out.append(s[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _parse_value(text: str, col: int):
    if not text:
        raise LineProtocolError(f"column {col}: empty field value")
    if text[0] == '"':
        if len(text) < 2 or text[-1] != '"':
            raise LineProtocolError(f"column {col}: unterminated string field value")
        return _unescape(text[1:-1], '"\\')
    if text in ("t", "T", "true", "True", "TRUE"):
        return True
    if text in ("f", "F", "false", "False", "FALSE"):
        return False
    try:
        if text[-1] == "i":
            return int(text[:-1])
        return float(text)
    except ValueError:
        raise LineProtocolError(f"column {col}: bad field value {text!r}") from None


def parse_line(line: bytes | str) -> Point:
    """Parse one line written by :func:`encode_point` (or any valid line with a ns timestamp) to a Point.

    Raises LineProtocolError naming the column (1-based) of the problem."""
    text = line.decode() if isinstance(line, bytes) else line
    text = text.rstrip("\n")
    n = len(text)
    i = _scan(text, 0, ", ")
    measurement = _unescape(text[:i], ", ")
    if not measurement:
        raise LineProtocolError("column 1: empty measurement")
    tags: dict[str, str] = {}
    while i < n and text[i] == ",":
        k0 = i + 1
        j = _scan(text, k0, "=, ")
        if j >= n or text[j] != "=" or j == k0:
            raise LineProtocolError(f"column {k0 + 1}: bad tag {text[k0:j]!r}")
        i = _scan(text, j + 1, ", ")
        if i == j + 1:
            raise LineProtocolError(f"column {j + 2}: empty tag value")
        tags[_unescape(text[k0:j], ", =")] = _unescape(text[j + 1 : i], ", =")
    if i >= n:
        raise LineProtocolError(f"column {i + 1}: expected ' fields timestamp' after the tags")
    fields: dict = {}
    while True:
        k0 = i + 1
        j = _scan(text, k0, "=, ")
        if j >= n or text[j] != "=" or j == k0:
            raise LineProtocolError(f"column {k0 + 1}: bad field {text[k0:j]!r}")
        v0 = j + 1
        if v0 < n and text[v0] == '"':
            end = _scan(text, v0 + 1, '"')
            if end >= n:
                raise LineProtocolError(f"column {v0 + 1}: unterminated string field value")
            i = end + 1
        else:
            i = _scan(text, v0, ", ")
        fields[_unescape(text[k0:j], ", =")] = _parse_value(text[v0:i], v0 + 1)
        if i >= n:
            raise LineProtocolError(f"column {i + 1}: missing timestamp")
        if text[i] == " ":
            break
        if text[i] != ",":
            raise LineProtocolError(f"column {i + 1}: expected ',' or ' ' after a field value")
    ts_text = text[i + 1 :]
    try:
        time_ns = int(ts_text)
    except ValueError:
        raise LineProtocolError(f"column {i + 2}: bad timestamp {ts_text!r}") from None
    return Point(measurement, tags, fields, time_ns)
