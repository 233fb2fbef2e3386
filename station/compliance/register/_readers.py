"""Position-keeping readers shared by the canonical loaders and the importers: UTF-8 text with a clear error,
CSV with its delimiter sniffed and every field's file:line:column known (:class:`_CsvTable`), and a JSON walker
that records where each array item starts (:class:`_JsonDoc`), so every problem names its place in the file.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from station.compliance.register.model import Problem
from station.errors import DataError
from station.redact import shown


def _field_starts(line: str, delimiter: str = ",") -> list[int]:
    """1-based character columns where each CSV field of ``line`` starts (quotes respected)."""
    starts, quoted, i = [1], False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            quoted = not quoted
        elif c == delimiter and not quoted:
            starts.append(i + 2)
        i += 1
    return starts


def _open_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", where=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", where=f"{path}:{line}") from None


def sniff_delimiter(text: str) -> str:
    """``,`` unless the first non-comment line (the header) has more ``;`` or tabs than commas (spreadsheets
    in many locales export ``;``-separated CSV)."""
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=counts.get)
            return best if counts[best] > counts[","] else ","
    return ","


def _csv_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(first physical line number, fields) of each non-blank, non-comment CSV record."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"malformed CSV: {exc}", where=f"line {reader.line_num}") from None
        start, line = line, reader.line_num + 1
        if not row or row[0].lstrip().startswith("#") or not "".join(row).strip():
            continue
        yield start, row


class _CsvTable:
    """Header-mapped CSV rows with exact file:line:column positions for problems."""

    def __init__(self, path: Path, text: str, *, known: Iterable[str] | None, required: Iterable[str]):
        self.path = str(path)
        self.lines = text.splitlines()
        try:
            self.delimiter = sniff_delimiter(text)
            self.rows = list(_csv_rows(text, self.delimiter))
        except DataError as exc:
            raise DataError(str(exc).replace("line ", "", 1), where=self.path) from None
        self.problems: list[Problem] = []
        if not self.rows:
            raise DataError("empty file: no header row", where=f"{self.path}:1")
        self.header_line, header = self.rows.pop(0)
        self.header = [h.strip().lower() for h in header]
        starts = (_field_starts(self.lines[self.header_line - 1], self.delimiter)
                  if self.header_line <= len(self.lines) else [])
        self.col_of = {name: i for i, name in enumerate(self.header) if name}
        for name in required:
            if name not in self.col_of:
                raise DataError(
                    f"header has no {shown(name)} column (columns: {', '.join(h for h in self.header if h)})",
                    where=f"{self.path}:{self.header_line}:1",
                )
        if known is not None:
            known = set(known)
            for i, name in enumerate(self.header):
                if name and name not in known:
                    col = starts[i] if i < len(starts) else 1
                    self.problems.append(
                        Problem(self.path, self.header_line, col, f"unknown column {shown(name)} ignored", "warning")
                    )

    def column(self, line: int, index: int) -> int:
        if 1 <= line <= len(self.lines):
            starts = _field_starts(self.lines[line - 1], self.delimiter)
            if index < len(starts):
                return starts[index]
        return 1

    def problem(self, line: int, name: str | None, message: str, severity: str = "error") -> None:
        idx = self.col_of.get(name, 0) if name else 0
        col = self.column(line, idx)
        text = f"{name}: {message}" if name else message
        self.problems.append(Problem(self.path, line, col, text, severity))

    def getter(self, row: list[str]) -> Callable[[str], str]:
        col_of, n = self.col_of, len(row)

        def get(name: str) -> str:
            i = col_of.get(name)
            return row[i].strip() if i is not None and i < n else ""

        return get


def _check_width(table: _CsvTable, line: int, row: list[str]) -> bool:
    if len(row) > len(table.header) and any(c.strip() for c in row[len(table.header) :]):
        table.problems.append(
            Problem(
                table.path, line, table.column(line, len(table.header)),
                f"row has {len(row)} fields but the header has {len(table.header)}",
            )
        )
        return False
    return True



_WS = " \t\r\n"


class _JsonDoc:
    """Walks a JSON document with the C decoder, recording where each array item starts, so that problems
    carry line:column."""

    def __init__(self, path: Path, text: str):
        self.path, self.text = str(path), text
        self._dec = json.JSONDecoder()
        self._line_starts: list[int] | None = None
        self.members: dict = {}  # the top-level object's other members (format, version), filled by items()

    def pos(self, offset: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts, i = [0], self.text.find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = self.text.find("\n", i + 1)
            self._line_starts = starts
        k = bisect.bisect_right(self._line_starts, offset) - 1
        return k + 1, offset - self._line_starts[k] + 1

    def error(self, offset: int, message: str) -> DataError:
        line, col = self.pos(offset)
        return DataError(message, where=f"{self.path}:{line}:{col}")

    def _skip(self, i: int) -> int:
        t = self.text
        while i < len(t) and t[i] in _WS:
            i += 1
        return i

    def _value(self, i: int):
        try:
            return self._dec.raw_decode(self.text, i)
        except json.JSONDecodeError as exc:
            raise self.error(exc.pos, f"malformed JSON: {exc.msg}") from None

    def items(self, key: str | None) -> Iterator[tuple[int, int, object]]:
        """(start, end, value) of each item of the top-level array, or of the array under ``key`` in a top-level
        object (``key=None``: the top level must be an array)."""
        i = self._skip(0)
        if i < len(self.text) and self.text[i] == "{" and key is not None:
            i = self._skip(i + 1)
            found = False
            while i < len(self.text) and self.text[i] != "}":
                k, i = self._value(i)
                i = self._skip(i)
                if i >= len(self.text) or self.text[i] != ":":
                    raise self.error(i, "malformed JSON: expected ':' after a key")
                i = self._skip(i + 1)
                if k == key:
                    found = True
                    i = yield from self._array(i)
                else:
                    value, i = self._value(i)
                    self.members[k] = value
                i = self._skip(i)
                if i < len(self.text) and self.text[i] == ",":
                    i = self._skip(i + 1)
            if not found:
                hint = ""
                if key == "assignments" and "items" in self.members:
                    hint = " (an NZ RSM API page? convert it: specmon register import FILE --format nz-rsm --out OUT)"
                raise self.error(0, f"top-level object has no {shown(key)} array{hint}")
            return
        yield from self._array(i)

    def _array(self, i: int):
        """Yield (start, end, value) per item of the array at ``i``; returns the index after its ``]``."""
        if i >= len(self.text) or self.text[i] != "[":
            raise self.error(i, "expected a JSON array of assignments")
        i = self._skip(i + 1)
        if i < len(self.text) and self.text[i] == "]":
            return i + 1
        while True:
            start = i
            value, end = self._value(i)
            yield start, end, value
            i = self._skip(end)
            if i < len(self.text) and self.text[i] == ",":
                i = self._skip(i + 1)
                continue
            if i < len(self.text) and self.text[i] == "]":
                return i + 1
            raise self.error(i, "malformed JSON: expected ',' or ']' in the array")

    def key_pos(self, start: int, end: int, name: str) -> tuple[int, int]:
        k = self.text.find(f'"{name}"', start, end)
        return self.pos(k if k >= 0 else start)
