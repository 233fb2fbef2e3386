"""Sinks, chosen by URI scheme. Each sink module implements connect / write(lines) / close
(:class:`station.outputs.sinks._base.Sink`) and ``open_sink(target)``; the framework (``_runner``: spool, batching,
retries, dead letters) is shared. URIs and options: :mod:`station.outputs.sinks._uri` and docs/INFLUXDB.md.

Daemon use::

    out = open_output("influx://127.0.0.1:8086/specmon", data_dir=DIR)   # starts the sender thread
    out.write(points)          # durable in DIR/spool/... on return
    out.health()               # spool_depth, spool_age_s, spool_dead_letters, spool_thinned
    out.close(flush_timeout_s=10)
"""

from __future__ import annotations

import importlib
from pathlib import Path

from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient
from station.outputs.sinks._runner import Output, SinkRunner, spool_path
from station.outputs.sinks._uri import SinkTarget, mask_uri, parse_uri

#: URI scheme -> sink module (a test checks every sink module is listed here)
REGISTRY: dict[str, str] = {
    "influx": "station.outputs.sinks.influx",
    "influxs": "station.outputs.sinks.influx",
    "influx2": "station.outputs.sinks.influx2",
    "influx2s": "station.outputs.sinks.influx2",
    "sqlite": "station.outputs.sinks.sqlite",
}

#: the embedded store used when no sink is configured (relative to the data directory)
DEFAULT_URI = "sqlite:specmon.db"

__all__ = [
    "REGISTRY", "DEFAULT_URI", "Sink", "SinkRejected", "SinkTransient", "SinkRunner", "Output", "SinkTarget",
    "open_sink", "open_output", "parse_uri", "mask_uri", "spool_path",
]


def open_sink(uri: str | SinkTarget, *, data_dir: str | Path | None = None) -> Sink:
    """Build (not connect) the sink for a URI. ConfigError for a bad URI, option or missing secret."""
    target = uri if isinstance(uri, SinkTarget) else parse_uri(uri)
    module = importlib.import_module(REGISTRY[target.scheme])
    if target.kind == "sqlite":
        return module.open_sink(target, data_dir=data_dir)
    return module.open_sink(target)


def open_output(
    uri: str,
    *,
    data_dir: str | Path,
    quota_bytes: int = 0,
    synchronous: str = "FULL",
    start: bool = True,
    memory_points: int = 50_000,
    reserve_bytes: int = 0,
    **runner_options,
) -> Output:
    """Spool (``DATA_DIR/spool/<name>.sqlite``) + sink + sender for one URI. ``runner_options`` go to
    :class:`SinkRunner` (batch_points, flush_interval_s, backoff_initial_s, backoff_max_s, jitter...);
    ``batch=N`` in the URI sets batch_points. With ``start`` the sender thread runs (and holds the spool's
    sender lock). Points left from an earlier run are sent first. ``memory_points`` bounds the in-memory queue
    used while the spool's disk refuses writes or has less than ``reserve_bytes`` free (see :class:`Output`)."""
    from station.outputs.spool import Spool

    target = parse_uri(uri)
    sink = open_sink(target, data_dir=data_dir)
    runner_options.setdefault("batch_points", target.opt_int("batch", 5000))
    spool = Spool(spool_path(data_dir, target), quota_bytes=quota_bytes, synchronous=synchronous)
    try:
        spool.set_meta("sink_uri", _uri_without_secrets(target))
        runner = SinkRunner(sink, spool, **runner_options)
        if start:
            runner.start()
    except BaseException:
        spool.close()
        raise
    return Output(sink, spool, runner, memory_points=memory_points, reserve_bytes=reserve_bytes)


def _uri_without_secrets(target: SinkTarget) -> str:
    """The URI remembered in the spool for ``specmon spool flush``: a password written in it is removed
    (the flush then takes it from the env var/file, or needs ``--sink``)."""
    return mask_uri(target.uri).replace(":***@", "@")
