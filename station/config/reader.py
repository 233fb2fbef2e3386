"""Reading one TOML table with its dotted key path: typed getters (numbers, frequencies, durations, gains,
paths, lists) whose every error is a :class:`~station.errors.ConfigError` naming ``file:key``, and the
unknown-key check (:meth:`_Section.done`). One cohesive thing: the grammar of a config value.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from station.config.schema import DATA_DIR
from station.errors import ConfigError, SpecmonError
from station.redact import int_text_ok, shown


class _Section:
    """A TOML table with its dotted key path, for error messages and unknown-key checks."""

    def __init__(self, src: str, path: str, data: Any):
        self.src = src
        self.path = path
        if not isinstance(data, dict):
            raise ConfigError(f"expected a table, got {_type_name(data)}", where=f"{src}:{path}")
        self.data = data
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.src}:{self.path + '.' if self.path else ''}{key}"

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, where=self.where(key))

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ..., *, required: bool = False) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required or default is ...:
                raise self.error(key, "missing required key")
            return default
        return self.data[key]

    def str(self, key: str, default: Any = ..., *, choices: tuple[str, ...] | None = None) -> str:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, f"expected a non-empty string, got {_show(v)}")
        if choices and v not in choices:
            raise self.error(key, f"{shown(v)} is not one of {', '.join(choices)}")
        return v

    def number(self, key: str, default: Any = ..., *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False) -> float:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, int) and not int_text_ok(v)) \
                or not math.isfinite(v):
            raise self.error(key, f"expected a finite number of plausible size, got {_show(v)}")
        return self._range(key, float(v), lo, hi, lo_open)

    def integer(self, key: str, default: Any = ..., *, lo: int | None = None, hi: int | None = None) -> int:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, int) or not int_text_ok(v, 18):
            raise self.error(key, f"expected an integer of plausible size, got {_show(v)}")
        return int(self._range(key, v, lo, hi, False))

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {_show(v)}")
        return v

    def hz(self, key: str, default: Any = ..., *, positive: bool = True, lo: float | None = None) -> float:
        """A frequency (Hz); ``lo``: the smallest plausible value (a one-line error names it)."""
        from station.units import parse_hz

        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.error(key, f"{_show(v)} is not a frequency")
        try:
            value = parse_hz(v, what=key)
        except SpecmonError:
            raise self.error(key, f"{shown(v)} is not a frequency (e.g. 433.92M, 12.5k, 2.4e6)") from None
        if positive and value <= 0:
            raise self.error(key, f"must be a positive frequency, got {shown(v)}")
        if lo is not None and value < lo:
            raise self.error(key, f"{shown(v)} is below {lo:g} Hz")
        return value

    def seconds(self, key: str, default: Any = ..., *, allow_zero: bool = False, lo: float | None = None) -> float:
        """A duration (s); ``lo``: the shortest plausible one (0 still allowed with ``allow_zero``)."""
        from station.units import parse_duration_s

        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if allow_zero and (v == 0 or v == "0") and not isinstance(v, bool):
            return 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.error(key, f"{_show(v)} is not a duration")
        try:
            value = parse_duration_s(v, what=key)
        except SpecmonError:
            raise self.error(key, f"{shown(v)} is not a positive duration (e.g. 50ms, 1.5s, 15min)") from None
        if lo is not None and value < lo:
            raise self.error(key, f"{shown(v)} is shorter than {lo:g} s")
        return value

    def gain(self, key: str, default: Any = ...) -> float | None:
        from station.units import parse_gain_db

        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.error(key, f"{_show(v)} is not a gain (expected 'auto' or dB)")
        try:
            g = parse_gain_db(v, what=key)
        except SpecmonError:
            raise self.error(key, f"{shown(v)} is not a gain (expected 'auto' or dB like 28.0)") from None
        if g is not None and not (-10.0 <= g <= 80.0):
            raise self.error(key, f"gain {g} dB is outside -10..80 dB")
        return g

    def table(self, key: str, *, optional: bool = True) -> "_Section | None":
        v = self.raw(key, None if optional else ...)
        if v is None:
            return None
        return _Section(self.src, f"{self.path + '.' if self.path else ''}{key}", v)

    def array_of_tables(self, key: str) -> list["_Section"]:
        v = self.raw(key, [])
        if not isinstance(v, list):
            raise self.error(key, f"expected an array of tables ([[{key}]]), got {_type_name(v)}")
        base = f"{self.path + '.' if self.path else ''}{key}"
        return [_Section(self.src, f"{base}[{i}]", item) for i, item in enumerate(v)]

    def list_of(self, key: str, default: Any, kind: str) -> tuple:
        v = self.raw(key, default)
        if v is default:
            return tuple(v)
        if not isinstance(v, list):
            raise self.error(key, f"expected a list, got {_show(v)}")
        out = []
        for i, item in enumerate(v):
            sub = _Section(self.src, self.path, {f"{key}[{i}]": item})
            out.append(sub.hz(f"{key}[{i}]") if kind == "hz" else sub.str(f"{key}[{i}]"))
        return tuple(out)

    def path_value(self, key: str, base_dir: Path, default: Any = ...) -> Path | None:
        v = self.raw(key, default)
        if v is None or (v is default and default is not ...):
            return v
        if not isinstance(v, str) or not v.strip():
            raise self.error(key, f"expected a file path, got {_show(v)}")
        return resolve_file(v, base_dir, where=self.where(key))

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], f"unknown key (known keys here: {', '.join(sorted(self.used)) or 'none'})")

    @staticmethod
    def _range_msg(lo, hi):
        if lo is not None and hi is not None:
            return f"{lo}..{hi}"
        return f">= {lo}" if lo is not None else f"<= {hi}"

    def _range(self, key, v, lo, hi, lo_open):
        if (lo is not None and (v < lo or (lo_open and v == lo))) or (hi is not None and v > hi):
            rng = f"> {lo}" if lo_open and hi is None else self._range_msg(lo, hi)
            raise self.error(key, f"{v} is out of range (must be {rng})")
        return v


def _type_name(v: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(v), type(v).__name__)


def _show(v: Any) -> str:
    return shown(v) if isinstance(v, (str, int, float, bool)) else _type_name(v)


def resolve_file(value: str, base_dir: Path, *, where: str) -> Path:
    """A config path: ``builtin:NAME`` (station/data), absolute, or relative to the config file's folder.
    The file must exist."""
    if value.startswith("builtin:"):
        p = DATA_DIR / value.split(":", 1)[1]
    else:
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = base_dir / p
    if not p.is_file():
        raise ConfigError(f"file {shown(str(p))} does not exist", where=where)
    return p
