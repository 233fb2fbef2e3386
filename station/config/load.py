"""Loading the configuration: TOML text -> validated :class:`~station.config.schema.Config`.

:func:`load_config` (a file), :func:`parse_config` (text), :func:`config_from_dict` (parsed TOML) and one
parser per section (receivers, bands with their detector and channel plan); receiver and sink URIs are
checked against their registries here, at start-up, not at first use.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import replace
from pathlib import Path

from station.config.reader import _Section
from station.config.schema import (
    EXPORT_FORMATS,
    SWEEP_MODES,
    WINDOWS,
    BandConfig,
    ChannelPlan,
    ComplianceConfig,
    Config,
    DetectorConfig,
    EvidenceConfig,
    ExportConfig,
    ReceiverConfig,
    RunConfig,
    StationInfo,
    StoreConfig,
    WebConfig,
    is_loopback,
)
from station.errors import ConfigError
from station.redact import shown
from station.scheduler import MAX_JITTER


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

    receivers = _receivers(root, base_dir)
    bands = _bands(root, receivers)

    co = root.table("compliance")
    if co is None:
        compliance = ComplianceConfig(register=None, exempt_bands=None)
    else:
        compliance = ComplianceConfig(
            register=co.path_value("register", base_dir, None),
            exempt_bands=co.path_value("exempt_bands", base_dir, None),
            monitoring_range_m=co.number("monitoring_range_m", 30000.0, lo=0.0, lo_open=True),
            min_snr_db=co.number("min_snr_db", None, lo=-20.0, hi=100.0),
            case_pfa=co.number("case_pfa", 1e-6, lo=0.0, hi=0.1, lo_open=True),
            confirm_revisits=co.integer("confirm_revisits", 20, lo=2, hi=1000),
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
        reserve_mb=so.number("reserve_mb", 50.0, lo=0.0, hi=1e6),
        memory_points=so.integer("memory_points", 50_000, lo=100, hi=10_000_000),
        checkpoint_interval_s=so.number("checkpoint_interval_s", 60.0, lo=1.0, hi=86400.0),
    )
    so.done()

    ev = root.table("evidence")
    evidence = EvidenceConfig()
    if ev is not None:
        evidence = EvidenceConfig(
            enabled=ev.boolean("enabled", True),
            iq_duration_s=ev.seconds("iq_duration", 1.0, lo=1e-3),
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
                raise ex.error(f"formats[{i}]", f"{shown(f)} is not an export format ({', '.join(EXPORT_FORMATS)})")
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
            health_interval_s=ru.seconds("health_interval", 10.0, lo=0.01),
            tui=ru.str("tui", "auto", choices=("auto", "on", "off")),
            revisit_jitter=ru.number("revisit_jitter", 0.25, lo=0.0, hi=MAX_JITTER),
        )
        ru.done()

    we = root.table("web")
    web = _web(we, base_dir) if we is not None else WebConfig()

    root.raw("defaults", None)  # consumed by _bands
    root.done()
    return Config(source=source, station=station, receivers=receivers, bands=bands, compliance=compliance,
                  store=store, evidence=evidence, export=export, run=run, web=web)


#: the shortest bearer token accepted (a guessable token protects nothing)
MIN_TOKEN_CHARS = 16


def _web(we: _Section, base_dir: Path) -> WebConfig:
    """``[web]``: the read-only web app; a token is required on anything but a loopback address."""
    import re

    if we.has("token") and we.has("token_file"):
        raise we.error("token_file", "give either token or token_file, not both")
    token, token_key = None, "token"
    if we.has("token"):
        token = we.str("token")
    elif we.has("token_file"):
        token_key = "token_file"
        path = we.path_value("token_file", base_dir)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise we.error("token_file", f"cannot read {path}: {exc}") from None
    if token is not None:
        if len(token) < MIN_TOKEN_CHARS:
            raise we.error(token_key, f"the token must be at least {MIN_TOKEN_CHARS} characters "
                                      f"(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe())'`)")
        if not re.fullmatch(r"[\x21-\x7e]+", token):
            raise we.error(token_key, "the token must be printable ASCII without spaces")
    bind = we.str("bind", "127.0.0.1")
    if not re.fullmatch(r"[A-Za-z0-9.:\[\]_-]+", bind):
        raise we.error("bind", f"{bind!r} is not an address or host name")
    web = WebConfig(
        enabled=we.boolean("enabled", False),
        bind=bind,
        port=we.integer("port", 8088, lo=1, hi=65535),
        token=token,
        lang=we.str("lang", "en", choices=("en", "vi")),
        spectrum_points=we.integer("spectrum_points", 1024, lo=64, hi=8192),
    )
    if web.enabled and token is None and not is_loopback(bind):
        raise we.error("token", f"a bearer token is required when the web app listens on {bind!r}, which is not "
                                "a loopback address (set token or token_file, or bind = \"127.0.0.1\")")
    we.done()
    return web


def _station_id(st: _Section) -> str:
    import re

    sid = st.str("id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", sid):
        raise st.error("id", f"{shown(sid)} must be 1-64 letters, digits, '-', '_' or '.' (it becomes a tag)")
    return sid


def _receivers(root: _Section, base_dir: Path) -> tuple[ReceiverConfig, ...]:
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
            raise s.error("name", f"duplicate receiver name {shown(name)}")
        uri = s.str("uri")
        _check_receiver_uri(uri, s.where("uri"))
        rc = ReceiverConfig(
            name=name,
            uri=uri,
            gain_db=s.gain("gain", None),
            ppm=s.integer("ppm", 0, lo=-500, hi=500),
            sample_rate_hz=s.hz("sample_rate", 2.4e6),
            settle_samples=s.integer("settle_samples", 16384, lo=0, hi=10_000_000),
            reopen_initial_s=s.seconds("reopen_initial", 0.5, lo=0.01),
            reopen_max_s=s.seconds("reopen_max", 30.0, lo=0.01),
            read_timeout_s=s.seconds("read_timeout", 5.0, lo=0.1),
            seed=s.integer("seed", None, lo=0),
            calibration=s.path_value("calibration", base_dir, None),
        )
        if rc.calibration is not None:
            _check_calibration(rc.calibration, s.where("calibration"))
        if rc.seed is not None and not uri.lower().startswith("sim"):
            raise s.error("seed", "seed applies to sim:// receivers only")
        if not (225e3 <= rc.sample_rate_hz <= 3.2e6):
            raise s.error("sample_rate", f"{rc.sample_rate_hz:g} Hz is outside the RTL-SDR range 225k..3.2M")
        if rc.reopen_max_s < rc.reopen_initial_s:
            raise s.error("reopen_max", "must be >= reopen_initial")
        s.done()
        out.append(rc)
    return tuple(out)


def _check_calibration(path: Path, where: str) -> None:
    """Load the receiver's calibration profile once at start-up: a bad one is a ConfigError naming the key."""
    from station.calibration import load_profile
    from station.errors import DataError

    try:
        load_profile(path)
    except DataError as exc:
        raise ConfigError(f"calibration profile: {exc}", where=where) from None


def _check_receiver_uri(uri: str, where: str) -> None:
    from station.receivers import REGISTRY

    scheme, sep, _ = uri.partition(":")
    if not sep or scheme.lower() not in REGISTRY:
        raise ConfigError(f"{shown(uri)} is not a receiver URI (schemes: {', '.join(sorted(REGISTRY))})", where=where)


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
            raise s.error("name", f"duplicate band name {shown(name)}")
        f_lo = s.hz("f_lo")
        f_hi = s.hz("f_hi")
        if f_hi <= f_lo:
            raise s.error("f_hi", f"must be above f_lo ({f_hi:g} <= {f_lo:g} Hz)")
        rx = s.str("receiver", d_receiver)
        if not any(r.name == rx for r in receivers):
            raise s.error("receiver", f"no receiver named {shown(rx)} (have {', '.join(r.name for r in receivers)})")
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
            antenna_factor_db_m=s.number("antenna_factor_db_m", None, lo=-40.0, hi=80.0),
            antenna_factor_u_db=s.number("antenna_factor_u_db", 0.0, lo=0.0, hi=20.0),
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
        integrate_revisits=s.integer("integrate_revisits", base.integrate_revisits, lo=1, hi=1000),
    )


def _channels(s: _Section, f_lo: float, f_hi: float) -> ChannelPlan:
    width = s.hz("width", lo=1.0)
    if s.has("centers"):
        if s.has("start") or s.has("spacing"):
            raise s.error("centers", "give either centers = [...] or start/spacing, not both")
        centers = s.list_of("centers", [], "hz")
        if not centers:
            raise s.error("centers", "empty channel list")
    else:
        start = s.hz("start")
        spacing = s.hz("spacing", lo=1.0)
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
        period_s=s.seconds("period", 900.0, lo=1.0),
    )
