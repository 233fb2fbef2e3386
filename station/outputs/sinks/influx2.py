"""The InfluxDB v2 write API through ``influxdb-client`` (``influx2://``, TLS ``influx2s://``): InfluxDB
2.x, 3.x, 1.8+ (token ``user:password``, bucket ``db/rp``) and anything that speaks ``/api/v2/write``
(VictoriaMetrics).

``influx2://host:8086?org=ORG&bucket=BUCKET&token_env=VAR`` (or ``token_file=PATH``, or
``$SPECMON_INFLUX_TOKEN``); options ``gzip``, ``timeout``, ``verify``, ``ca``. The client's own retries are
off: the framework retries. Precision is ns, sent explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence

from station.errors import ConfigError
from station.outputs.sinks._base import Sink, SinkRejected, SinkTransient

SCHEMES = ("influx2", "influx2s")


class InfluxV2Sink(Sink):
    def __init__(self, target):
        super().__init__(target)
        self.timeout_s = target.opt_float("timeout", 10.0)
        self.gzip = target.opt_bool("gzip", True)
        self.verify = target.opt_bool("verify", True)
        self.org = target.opt("org")
        self.bucket = target.opt("bucket")
        self._token = target.resolve_secret("token")
        if self._token is None:
            raise ConfigError(
                "no token: give token_env=VAR, token_file=PATH or set SPECMON_INFLUX_TOKEN", where=target.masked
            )
        self._client = None
        self._write_api = None

    def connect(self) -> None:
        try:
            from influxdb_client import InfluxDBClient
            from influxdb_client.client.write_api import SYNCHRONOUS
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise ConfigError(f"influxdb-client is not installed: {exc}", where=self.name) from None
        self._client = InfluxDBClient(
            url=self.target.base_url,
            token=self._token,
            org=self.org,
            timeout=int(self.timeout_s * 1000),
            enable_gzip=self.gzip,
            verify_ssl=self.verify,
            ssl_ca_cert=self.target.opt("ca"),
            retries=False,
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: Sequence[bytes]) -> None:
        from influxdb_client.client.write_api import WritePrecision
        from influxdb_client.rest import ApiException

        body = b"\n".join(lines)
        try:
            self._write_api.write(bucket=self.bucket, org=self.org, record=body, write_precision=WritePrecision.NS)
        except ApiException as exc:
            status = int(exc.status or 0)
            msg = (exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or exc.reason))[:500]
            if status in (400, 413, 422):
                raise SinkRejected(f"HTTP {status}: {msg}", where=self.name, status=status) from None
            retry_after = None
            if exc.headers and exc.headers.get("Retry-After"):
                try:
                    retry_after = float(exc.headers["Retry-After"])
                except ValueError:
                    pass
            raise SinkTransient(f"HTTP {status}: {msg}", where=self.name, retry_after_s=retry_after) from None
        except Exception as exc:  # urllib3 connection/timeout errors and friends
            raise SinkTransient(f"{type(exc).__name__}: {str(exc)[:300]}", where=self.name) from None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._write_api.close()
                self._client.close()
            finally:
                self._client = None
                self._write_api = None


def open_sink(target) -> Sink:
    return InfluxV2Sink(target)
