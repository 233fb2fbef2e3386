"""The station configuration: typed, frozen records read from TOML and validated once at start-up.

Every problem is a :class:`station.errors.ConfigError` whose message names the file, the key and the reason,
e.g. ``station.toml:bands[2].rbw: '10q' is not a frequency``; TOML syntax errors name ``file:line:col``.
Unknown keys are errors too (a typo must not silently fall back to a default).

Frequencies accept numbers (Hz) or strings with k/M/G suffixes (``"433.92M"``); durations accept numbers (s)
or strings (``"250ms"``, ``"2min"``); gains accept ``"auto"`` or dB. Relative paths in the file are relative
to the directory of the config file; relative store paths (``sqlite:specmon.db``) and the export directory
are relative to ``store.data_dir``. ``builtin:NAME`` names a file shipped in ``station/data/``.

See ``station/data/station.sample.toml`` (``specmon config sample``) for every key with a comment.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from station.errors import ConfigError, SpecmonError

#: package directory holding built-in data files (``builtin:NAME``)
DATA_DIR = Path(__file__).resolve().parent / "data"

WINDOWS = ("rect", "hann", "blackmanharris", "flattop")
SWEEP_MODES = ("dwell", "interleaved")
EXPORT_FORMATS = ("csv", "xlsx", "geojson", "pdf")


# ---------------------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StationInfo:
    """Who and where the station is (WGS84 degrees, metres above sea level)."""

    id: str
    name: str
    latitude: float
    longitude: float
    altitude_m: float = 0.0


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """One receiver: URI (see station.receivers), gain (None = automatic), ppm correction, settle discard."""

    name: str
    uri: str
    gain_db: float | None = None
    ppm: int = 0
    sample_rate_hz: float = 2.4e6
    settle_samples: int = 16384
    reopen_initial_s: float = 0.5  # first reopen delay after a failure; doubles up to reopen_max_s
    reopen_max_s: float = 30.0
    read_timeout_s: float = 5.0  # a hop whose reads take longer than this counts as a receiver failure
    seed: int | None = None  # simulator seed (sim:// only)


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Detector settings of one band (passed to the detectors; names follow their params)."""

    pfa: float = 1e-6  # design false-alarm probability per bin
    min_snr_db: float = 6.0  # emissions below this SNR are not reported
    min_bandwidth_hz: float = 0.0  # narrower emissions are not reported
    keep_artifacts: bool = False  # keep DC spikes / IQ images / hop edges flagged artifact=True
    spurs_hz: tuple[float, ...] = ()  # known receiver spurs (flagged as artifacts)
    bursts: bool = True  # keep per-frame spectra to find short bursts (memory: bins x frames per sweep)


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """Channels for occupancy (ITU-R SM.1880): centres in Hz and one channel width."""

    centers_hz: tuple[float, ...]
    width_hz: float
    threshold_dbfs: float | None = None  # fixed channel-power threshold; None: from the noise floor and pfa
    pfa: float = 1e-3  # false-alarm probability per channel and revisit (noise-derived threshold)
    period_s: float = 900.0  # integration period of occupancy records

    @property
    def n_channels(self) -> int:
        return len(self.centers_hz)


@dataclass(frozen=True, slots=True)
class BandConfig:
    """One assigned band: span, resolution, dwell, how often and how urgently it is revisited."""

    name: str
    f_lo_hz: float
    f_hi_hz: float
    rbw_hz: float
    dwell_s: float  # seconds of samples per hop
    revisit_s: float  # wanted time between two sweeps of the band
    priority: int  # higher runs first when several bands are due
    receiver: str  # name of the receiver that sweeps it
    window: str = "hann"
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    channels: ChannelPlan | None = None
    mode: str = "dwell"  # "dwell": each hop once for dwell_s (soapy_power); "interleaved": quick passes (rtl_power)
    interval_s: float = 0.0  # interleaved: the integration interval of one band sweep (passes repeat within it)

    @property
    def span_hz(self) -> float:
        return self.f_hi_hz - self.f_lo_hz


@dataclass(frozen=True, slots=True)
class ComplianceConfig:
    """Register and exempt bands; how far the station can see; when a case is worth evidence."""

    register: Path | None  # None: no register (compliance disabled, every emission 'unknown')
    exempt_bands: Path | None
    monitoring_range_m: float = 30000.0
    min_snr_db: float = 10.0  # emissions below this SNR are not judged (too uncertain)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Where results go: the data directory, the sink URIs, the spool quota, spectrum decimation."""

    data_dir: Path
    sinks: tuple[str, ...] = ("sqlite:specmon.db",)
    spool_max_mb: float = 512.0
    spectrum_points: int = 512  # band_spectrum points stored per sweep

    @property
    def db_path(self) -> Path:
        """The embedded SQLite store (the first ``sqlite:`` sink, else ``data_dir/specmon.db``)."""
        for uri in self.sinks:
            if uri.startswith("sqlite:"):
                return resolve_sqlite_path(uri, self.data_dir)
        return self.data_dir / "specmon.db"


@dataclass(frozen=True, slots=True)
class EvidenceConfig:
    """Evidence captured when a violation case opens."""

    enabled: bool = True
    iq_duration_s: float = 0.25  # IQ recorded around the emission
    sample_rate_hz: float = 1.024e6
    max_per_sweep: int = 2  # further new cases wait for the next sweep (the schedule is not stalled)


@dataclass(frozen=True, slots=True)
class ExportConfig:
    """Exports of violation cases written at the end of a bounded run (and by ``specmon violations``)."""

    formats: tuple[str, ...] = ("csv", "pdf")
    dir: Path = Path("exports")  # relative to data_dir
    lang: str = "en"
    on_exit: bool = True


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Bounds and rhythm of the run: 0 sweeps / 0 s = unbounded (a service)."""

    sweeps: int = 0  # stop after this many band sweeps in total (0: never)
    duration_s: float = 0.0  # stop after this many seconds (0: never)
    health_interval_s: float = 10.0  # station-wide health point and watchdog rhythm
    tui: str = "auto"  # "auto" (when stdout is a TTY), "on", "off"


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration."""

    source: str  # file path, or "<demo>"
    station: StationInfo
    receivers: tuple[ReceiverConfig, ...]
    bands: tuple[BandConfig, ...]
    compliance: ComplianceConfig
    store: StoreConfig
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def receiver(self, name: str) -> ReceiverConfig:
        for r in self.receivers:
            if r.name == name:
                return r
        raise KeyError(name)

    def band(self, name: str) -> BandConfig:
        for b in self.bands:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def export_dir(self) -> Path:
        d = self.export.dir
        return d if d.is_absolute() else self.store.data_dir / d

    def with_data_dir(self, data_dir: Path) -> "Config":
        """A copy with another data directory (``specmon run --data-dir``)."""
        return replace(self, store=replace(self.store, data_dir=Path(data_dir)))

    def with_bounds(self, *, sweeps: int | None = None, duration_s: float | None = None) -> "Config":
        run = self.run
        if sweeps is not None:
            run = replace(run, sweeps=int(sweeps))
        if duration_s is not None:
            run = replace(run, duration_s=float(duration_s))
        return replace(self, run=run)


def resolve_sqlite_path(uri: str, data_dir: Path) -> Path:
    """``sqlite:PATH`` -> absolute path (relative paths are under ``data_dir``)."""
    p = Path(uri.split(":", 1)[1].split("?", 1)[0])
    return p if p.is_absolute() else Path(data_dir) / p


# ---------------------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------------------
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
            raise self.error(key, f"{v!r} is not one of {', '.join(choices)}")
        return v

    def number(self, key: str, default: Any = ..., *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False) -> float:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(key, f"expected a number, got {_show(v)}")
        return self._range(key, float(v), lo, hi, lo_open)

    def integer(self, key: str, default: Any = ..., *, lo: int | None = None, hi: int | None = None) -> int:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(key, f"expected an integer, got {_show(v)}")
        return int(self._range(key, v, lo, hi, False))

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {_show(v)}")
        return v

    def hz(self, key: str, default: Any = ..., *, positive: bool = True) -> float:
        from station.units import parse_hz

        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.error(key, f"{_show(v)} is not a frequency")
        try:
            value = parse_hz(v, what=key)
        except SpecmonError:
            raise self.error(key, f"{v!r} is not a frequency (e.g. 433.92M, 12.5k, 2.4e6)") from None
        if positive and value <= 0:
            raise self.error(key, f"must be a positive frequency, got {v!r}")
        return value

    def seconds(self, key: str, default: Any = ..., *, allow_zero: bool = False) -> float:
        from station.units import parse_duration_s

        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if allow_zero and (v == 0 or v == "0") and not isinstance(v, bool):
            return 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.error(key, f"{_show(v)} is not a duration")
        try:
            return parse_duration_s(v, what=key)
        except SpecmonError:
            raise self.error(key, f"{v!r} is not a positive duration (e.g. 50ms, 1.5s, 15min)") from None

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
            raise self.error(key, f"{v!r} is not a gain (expected 'auto' or dB like 28.0)") from None
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
    return repr(v) if isinstance(v, (str, int, float, bool)) else _type_name(v)


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
        raise ConfigError(f"file {str(p)!r} does not exist", where=where)
    return p


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file. Raises ConfigError naming file:line:col or file:key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file does not exist", where=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file: {exc}", where=str(path)) from None
    return parse_config(text, source=str(path), base_dir=path.resolve().parent)


def parse_config(text: str, *, source: str = "<string>", base_dir: Path | None = None) -> Config:
    """Validate TOML text; ``source`` names it in errors, ``base_dir`` anchors relative paths."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(exc), where=_toml_where(source, exc)) from None
    return config_from_dict(data, source=source, base_dir=base_dir or Path.cwd())


def _toml_where(source: str, exc: tomllib.TOMLDecodeError) -> str:
    import re

    m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    return f"{source}:{m.group(1)}:{m.group(2)}" if m else source


def _toml_error(exc: tomllib.TOMLDecodeError) -> str:
    import re

    return "invalid TOML: " + re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))


def config_from_dict(data: dict, *, source: str, base_dir: Path) -> Config:
    """Build a Config from parsed TOML (a dict); every check names ``source`` and the key."""
    src = source
    root = _Section(src, "", data)

    st = root.table("station", optional=False)
    station = StationInfo(
        id=_station_id(st),
        name=st.str("name", ""),
        latitude=st.number("latitude", lo=-90.0, hi=90.0),
        longitude=st.number("longitude", lo=-180.0, hi=180.0),
        altitude_m=st.number("altitude_m", 0.0, lo=-500.0, hi=9000.0),
    )
    if not station.name:
        station = replace(station, name=station.id)
    st.done()

    receivers = _receivers(root)
    bands = _bands(root, receivers)

    co = root.table("compliance")
    if co is None:
        compliance = ComplianceConfig(register=None, exempt_bands=None)
    else:
        compliance = ComplianceConfig(
            register=co.path_value("register", base_dir, None),
            exempt_bands=co.path_value("exempt_bands", base_dir, None),
            monitoring_range_m=co.number("monitoring_range_m", 30000.0, lo=0.0, lo_open=True),
            min_snr_db=co.number("min_snr_db", 10.0, lo=0.0),
        )
        co.done()

    so = root.table("store", optional=False)
    data_dir_raw = so.str("data_dir")
    data_dir = Path(data_dir_raw).expanduser()
    if not data_dir.is_absolute():
        data_dir = base_dir / data_dir
    sinks = so.list_of("sinks", ["sqlite:specmon.db"], "str")
    if not sinks:
        raise so.error("sinks", "at least one sink is needed (e.g. \"sqlite:specmon.db\")")
    for i, uri in enumerate(sinks):
        _check_sink_uri(uri, so.where(f"sinks[{i}]"))
    store = StoreConfig(
        data_dir=data_dir,
        sinks=sinks,
        spool_max_mb=so.number("spool_max_mb", 512.0, lo=1.0),
        spectrum_points=so.integer("spectrum_points", 512, lo=16, hi=65536),
    )
    so.done()

    ev = root.table("evidence")
    evidence = EvidenceConfig()
    if ev is not None:
        evidence = EvidenceConfig(
            enabled=ev.boolean("enabled", True),
            iq_duration_s=ev.seconds("iq_duration", 0.25),
            sample_rate_hz=ev.hz("sample_rate", 1.024e6),
            max_per_sweep=ev.integer("max_per_sweep", 2, lo=0, hi=100),
        )
        if evidence.iq_duration_s > 10:
            raise ev.error("iq_duration", "at most 10 s (a longer capture stalls the schedule)")
        ev.done()

    ex = root.table("export")
    export = ExportConfig()
    if ex is not None:
        formats = ex.list_of("formats", ["csv", "pdf"], "str")
        for i, f in enumerate(formats):
            if f not in EXPORT_FORMATS:
                raise ex.error(f"formats[{i}]", f"{f!r} is not an export format ({', '.join(EXPORT_FORMATS)})")
        export = ExportConfig(
            formats=formats,
            dir=Path(ex.str("dir", "exports")),
            lang=ex.str("lang", "en", choices=("en", "vi")),
            on_exit=ex.boolean("on_exit", True),
        )
        ex.done()

    ru = root.table("run")
    run = RunConfig()
    if ru is not None:
        run = RunConfig(
            sweeps=ru.integer("sweeps", 0, lo=0),
            duration_s=ru.seconds("duration", 0.0, allow_zero=True),
            health_interval_s=ru.seconds("health_interval", 10.0),
            tui=ru.str("tui", "auto", choices=("auto", "on", "off")),
        )
        ru.done()

    root.raw("defaults", None)  # consumed by _bands
    root.done()
    return Config(source=source, station=station, receivers=receivers, bands=bands, compliance=compliance,
                  store=store, evidence=evidence, export=export, run=run)


def _station_id(st: _Section) -> str:
    import re

    sid = st.str("id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", sid):
        raise st.error("id", f"{sid!r} must be 1-64 letters, digits, '-', '_' or '.' (it becomes a tag)")
    return sid


def _receivers(root: _Section) -> tuple[ReceiverConfig, ...]:
    sections = []
    if root.has("receiver") and root.has("receivers"):
        raise root.error("receiver", "give either [receiver] or [[receivers]], not both")
    if root.has("receiver"):
        sections = [root.table("receiver")]
    else:
        sections = root.array_of_tables("receivers")
    if not sections:
        raise root.error("receivers", "missing: at least one receiver ([receiver] uri = \"rtlsdr://0\")")
    out: list[ReceiverConfig] = []
    for i, s in enumerate(sections):
        name = s.str("name", "main" if i == 0 else f"rx{i}")
        if any(r.name == name for r in out):
            raise s.error("name", f"duplicate receiver name {name!r}")
        uri = s.str("uri")
        _check_receiver_uri(uri, s.where("uri"))
        rc = ReceiverConfig(
            name=name,
            uri=uri,
            gain_db=s.gain("gain", None),
            ppm=s.integer("ppm", 0, lo=-500, hi=500),
            sample_rate_hz=s.hz("sample_rate", 2.4e6),
            settle_samples=s.integer("settle_samples", 16384, lo=0, hi=10_000_000),
            reopen_initial_s=s.seconds("reopen_initial", 0.5),
            reopen_max_s=s.seconds("reopen_max", 30.0),
            read_timeout_s=s.seconds("read_timeout", 5.0),
            seed=s.integer("seed", None, lo=0),
        )
        if rc.seed is not None and not uri.lower().startswith("sim"):
            raise s.error("seed", "seed applies to sim:// receivers only")
        if not (225e3 <= rc.sample_rate_hz <= 3.2e6):
            raise s.error("sample_rate", f"{rc.sample_rate_hz:g} Hz is outside the RTL-SDR range 225k..3.2M")
        if rc.reopen_max_s < rc.reopen_initial_s:
            raise s.error("reopen_max", "must be >= reopen_initial")
        s.done()
        out.append(rc)
    return tuple(out)


def _check_receiver_uri(uri: str, where: str) -> None:
    from station.receivers import REGISTRY

    scheme, sep, _ = uri.partition(":")
    if not sep or scheme.lower() not in REGISTRY:
        raise ConfigError(f"{uri!r} is not a receiver URI (schemes: {', '.join(sorted(REGISTRY))})", where=where)


#: sink URI options whose values the sinks read as booleans, numbers (checked at start-up, not at first write)
_SINK_BOOL_OPTIONS = ("gzip", "verify", "create")
_SINK_FLOAT_OPTIONS = ("timeout",)
_SINK_INT_OPTIONS = ("batch",)


def _check_sink_uri(uri: str, where: str) -> None:
    """Parse ``uri`` as the sinks will (:func:`station.outputs.sinks.parse_uri`: scheme, host, port, database/bucket,
    known options, precision, consistency) and check the option values; ConfigError at ``where``
    (file:store.sinks[i]) naming the problem, with the URI's password masked. Secrets (env var, file) are
    resolved when the sink opens, not here: ``specmon config check`` runs where they may not be readable."""
    from station.outputs.sinks import mask_uri, parse_uri

    try:
        target = parse_uri(uri)
        for key in _SINK_BOOL_OPTIONS:
            target.opt_bool(key, True)
        for key in _SINK_FLOAT_OPTIONS:
            target.opt_float(key, 1.0)
        for key in _SINK_INT_OPTIONS:
            target.opt_int(key, 1)
    except ConfigError as exc:
        reason = str(exc)
        if exc.where and reason.startswith(f"{exc.where}: "):
            reason = reason[len(exc.where) + 2 :]
        raise ConfigError(f"sink {mask_uri(uri.strip())}: {reason}", where=where) from None


_BAND_KEYS_DEFAULTABLE = ("rbw", "dwell", "revisit", "priority", "window", "receiver")


def _bands(root: _Section, receivers: tuple[ReceiverConfig, ...]) -> tuple[BandConfig, ...]:
    defaults_raw = root.data.get("defaults", {})
    dflt = _Section(root.src, "defaults", defaults_raw)
    d_rbw = dflt.hz("rbw", 10e3)
    d_dwell = dflt.seconds("dwell", 0.05)
    d_revisit = dflt.seconds("revisit", 60.0)
    d_prio = dflt.integer("priority", 5, lo=0, hi=100)
    d_window = dflt.str("window", "hann", choices=WINDOWS)
    d_receiver = dflt.str("receiver", receivers[0].name)
    d_det_sec = dflt.table("detector")
    d_det = _detector(d_det_sec, DetectorConfig()) if d_det_sec else DetectorConfig()
    if d_det_sec:
        d_det_sec.done()
    dflt.done()

    sections = root.array_of_tables("bands")
    if not sections:
        raise root.error("bands", "missing: at least one [[bands]] table (name, f_lo, f_hi)")
    out: list[BandConfig] = []
    for s in sections:
        name = s.str("name")
        if any(b.name == name for b in out):
            raise s.error("name", f"duplicate band name {name!r}")
        f_lo = s.hz("f_lo")
        f_hi = s.hz("f_hi")
        if f_hi <= f_lo:
            raise s.error("f_hi", f"must be above f_lo ({f_hi:g} <= {f_lo:g} Hz)")
        rx = s.str("receiver", d_receiver)
        if not any(r.name == rx for r in receivers):
            raise s.error("receiver", f"no receiver named {rx!r} (have {', '.join(r.name for r in receivers)})")
        rbw = s.hz("rbw", d_rbw)
        if rbw > (f_hi - f_lo):
            raise s.error("rbw", f"{rbw:g} Hz is wider than the band ({f_hi - f_lo:g} Hz)")
        det_sec = s.table("detector")
        det = _detector(det_sec, d_det) if det_sec else d_det
        if det_sec:
            det_sec.done()
        ch_sec = s.table("channels")
        channels = _channels(ch_sec, f_lo, f_hi) if ch_sec else None
        if ch_sec:
            ch_sec.done()
        mode = s.str("mode", "dwell", choices=SWEEP_MODES)
        interval = s.seconds("interval", 0.0, allow_zero=True)
        if mode == "interleaved" and interval <= 0:
            raise s.error("interval", "the interleaved mode needs an interval (e.g. \"10s\")")
        if mode == "dwell" and interval > 0:
            raise s.error("interval", "applies to mode = \"interleaved\" only")
        band = BandConfig(
            name=name, f_lo_hz=f_lo, f_hi_hz=f_hi, rbw_hz=rbw, mode=mode, interval_s=interval,
            dwell_s=s.seconds("dwell", d_dwell),
            revisit_s=s.seconds("revisit", d_revisit),
            priority=s.integer("priority", d_prio, lo=0, hi=100),
            receiver=rx,
            window=s.str("window", d_window, choices=WINDOWS),
            detector=det,
            channels=channels,
        )
        if band.dwell_s > 60:
            raise s.error("dwell", f"{band.dwell_s:g} s per hop is more than 60 s")
        s.done()
        out.append(band)
    return tuple(out)


def _detector(s: _Section, base: DetectorConfig) -> DetectorConfig:
    pfa = s.number("pfa", base.pfa, lo=0.0, hi=0.5, lo_open=True)
    if s.has("min_bandwidth") and s.hz("min_bandwidth", positive=False) < 0:
        raise s.error("min_bandwidth", "must be >= 0")
    return DetectorConfig(
        pfa=pfa,
        min_snr_db=s.number("min_snr_db", base.min_snr_db, lo=-20.0, hi=100.0),
        min_bandwidth_hz=s.hz("min_bandwidth", base.min_bandwidth_hz, positive=False),
        keep_artifacts=s.boolean("keep_artifacts", base.keep_artifacts),
        spurs_hz=s.list_of("spurs", list(base.spurs_hz), "hz"),
        bursts=s.boolean("bursts", base.bursts),
    )


def _channels(s: _Section, f_lo: float, f_hi: float) -> ChannelPlan:
    width = s.hz("width")
    if s.has("centers"):
        if s.has("start") or s.has("spacing"):
            raise s.error("centers", "give either centers = [...] or start/spacing, not both")
        centers = s.list_of("centers", [], "hz")
        if not centers:
            raise s.error("centers", "empty channel list")
    else:
        start = s.hz("start")
        spacing = s.hz("spacing")
        stop = s.hz("stop", f_hi - width / 2)
        n = int(math.floor((stop - start) / spacing + 1e-9)) + 1
        if n < 1:
            raise s.error("stop", "no channel between start and stop")
        if n > 20000:
            raise s.error("spacing", f"{n} channels is too many (at most 20000 per band)")
        centers = tuple(start + i * spacing for i in range(n))
    for i, c in enumerate(centers):
        if c - width / 2 < f_lo - 1e-6 or c + width / 2 > f_hi + 1e-6:
            key = f"centers[{i}]" if s.has("centers") else "start"
            raise s.error(key, f"channel {c / 1e6:.6f} MHz +/- {width / 2e3:g} kHz is outside the band "
                               f"{f_lo / 1e6:.6f}-{f_hi / 1e6:.6f} MHz")
    return ChannelPlan(
        centers_hz=tuple(float(c) for c in centers),
        width_hz=width,
        threshold_dbfs=s.number("threshold_dbfs", None, lo=-200.0, hi=30.0),
        pfa=s.number("pfa", 1e-3, lo=0.0, hi=0.5, lo_open=True),
        period_s=s.seconds("period", 900.0),
    )


# ---------------------------------------------------------------------------------------------------------
# the built-in demo and the sample
# ---------------------------------------------------------------------------------------------------------
SAMPLE_PATH = DATA_DIR / "station.sample.toml"
DEMO_PATH = DATA_DIR / "demo.toml"


def sample_text() -> str:
    """The commented sample config (``specmon config sample``)."""
    return SAMPLE_PATH.read_text(encoding="utf-8")


def demo_config(data_dir: str | Path = "specmon-data") -> Config:
    """The built-in demo: sim://city, the demo register, SQLite in ``data_dir``, the demo bands of
    docs/DESIGN.md, bounded to a few sweeps, exporting CSV + PDF at the end."""
    cfg = parse_config(DEMO_PATH.read_text(encoding="utf-8"), source="<demo>", base_dir=DATA_DIR)
    return cfg.with_data_dir(Path(data_dir).expanduser().absolute())


__all__ = [
    "BandConfig", "ChannelPlan", "ComplianceConfig", "Config", "DetectorConfig", "EvidenceConfig",
    "ExportConfig", "ReceiverConfig", "RunConfig", "StationInfo", "StoreConfig", "config_from_dict",
    "demo_config", "load_config", "parse_config", "resolve_file", "resolve_sqlite_path", "sample_text",
]
