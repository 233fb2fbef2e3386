"""Shared fixtures. Real recordings live in ../shared/data (relative to the project root) and are never copied
into the repository; tests that need them skip with a reason when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared_file(relpath: str) -> Path:
    """Path of a file in ../shared/data, or skip the calling test with the reason."""
    path = SHARED_DATA / relpath
    if not path.is_file():
        pytest.skip(f"real recording {relpath} not available ({SHARED_DATA} absent)")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings folder {SHARED_DATA} is absent")
    return SHARED_DATA


# ---- real test services (tests/services.py): InfluxDB 1.x and VictoriaMetrics ------------------------------


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory):
    """Debian's influxd on free loopback ports with a temporary data dir, for the whole session.

    Yields a :class:`tests.services.InfluxServer`: ``url``, ``port``, ``query(influxql, db=...) -> list[dict]``
    (``time`` in epoch ns), ``count(measurement, db=...)``, ``write_lines(db, lines)``, ``create_database(db)``,
    ``kill()`` (SIGKILL), ``restart()``, ``stop()``.
    A test that kills it must restart it before it ends (the ``influx_db`` fixture does so when needed).
    Skips with the reason when the binary is absent (`make services` installs it).
    """
    from tests.services import INFLUXD, InfluxServer, binary

    if binary(INFLUXD) is None:
        pytest.skip(f"{INFLUXD} not installed (Debian package influxdb; `make services` installs it)")
    server = InfluxServer.start(tmp_path_factory.mktemp("influxd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def influx_db(influxdb, request):
    """A fresh, empty database on the session's influxd for one test: yields its name; dropped afterwards.
    Restarts the server first when an earlier test left it killed."""
    import re

    if not influxdb.running:
        influxdb.restart()
    name = "t_" + re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:60]
    influxdb.drop_database(name)
    influxdb.create_database(name)
    yield name
    if not influxdb.running:
        influxdb.restart()
    influxdb.drop_database(name)


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory):
    """Debian's victoria-metrics on a free loopback port (``-search.latencyOffset=0s``) for the session.

    Yields a :class:`tests.services.VictoriaMetricsServer`: ``url``, ``port``, ``export(selector) -> list[dict]``,
    ``export_wait(selector, n_values)`` (polls until ingested), ``flush()``, ``kill()``, ``restart()``. Skips
    with the reason when the binary is absent."""
    from tests.services import VICTORIA_METRICS, VictoriaMetricsServer, binary

    if binary(VICTORIA_METRICS) is None:
        pytest.skip(f"{VICTORIA_METRICS} not installed (Debian package victoria-metrics; `make services`)")
    server = VictoriaMetricsServer.start(tmp_path_factory.mktemp("victoria-metrics"))
    try:
        yield server
    finally:
        server.stop()
