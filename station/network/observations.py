"""What the network reads from the central InfluxDB: every station's violation observations and its health.

InfluxQL over the v1 HTTP API (``GET /query``, ``epoch=ns``, chunked replies), through the same sink URIs the
stations write to (``influx://[user@]host:port/DB?...``, credentials as for the sinks, docs/INFLUXDB.md).

* :class:`StationCase`: one station's violation case over the window, aggregated from its ``violation``
  points (one per sweep): median level, mean centre, median bandwidth, first/last time, count.
* :class:`StationInfo`: a station's last position, clock and position source (``station_health``, band
  ``all``).

The station level is :func:`station_level`: ``power_dbm`` (dBm at the antenna port, calibration profile or
the nominal one; station/calibration) with its U95 when the point carries it, else ``power_dbfs`` flagged as
uncalibrated (comparable between stations only when their gains and dongles match). This is the one place
that decides which level the network uses.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from station.errors import SinkError
from station.outputs.sinks._uri import SinkTarget, parse_uri

#: per-point fields the network reads (one row per violation point: the bulk of a build's reading)
VIOLATION_FIELDS = ("case_id", "center_hz", "bandwidth_hz", "power_dbfs", "power_dbm", "power_dbm_u95", "snr_db",
                    "occupancy")
#: fields constant per station and band (settings, position): read once per series with last()
SERIES_FIELDS = ("rbw_hz", "latitude", "longitude")
HEALTH_FIELDS = ("latitude", "longitude", "clock_state", "clock_offset_s", "position_source")

#: level uncertainty assumed for a point without power_dbm_u95 (nominal R820T: unit-to-unit spread, k=2)
NOMINAL_LEVEL_U95_DB = 6.0


@dataclass(frozen=True, slots=True)
class StationCase:
    """One station's violation case over the window (levels in dBm, or dBFS when ``calibrated`` is False)."""

    station: str
    case_id: str
    klass: str
    band: str
    center_hz: float
    bandwidth_hz: float
    level: float
    level_u95_db: float
    calibrated: bool
    snr_db: float
    rbw_hz: float
    first_ns: int
    last_ns: int
    n_obs: int
    track_id: str = ""
    occupancy: float = math.nan  # median fraction of frames on (keying); nan when the points lack it
    occupancy_se: float = math.nan  # standard error of the mean occupancy over the observations
    latitude: float = math.nan  # the station's position carried by its violation points (nan: not carried)
    longitude: float = math.nan

    @property
    def key(self) -> str:
        return f"{self.station}:{self.case_id}"


@dataclass(frozen=True, slots=True)
class StationInfo:
    station: str
    latitude: float
    longitude: float
    last_ns: int
    clock_state: str = "unknown"  # synced, unsynced, unknown
    clock_offset_s: float | None = None
    position_source: str = "config"


def station_level(row: dict) -> tuple[float, float, bool] | None:
    """(level, U95 dB, calibrated) of one violation row: power_dbm when present, else power_dbfs (uncalibrated)."""
    dbm = row.get("power_dbm")
    if dbm is not None and math.isfinite(dbm):
        u = row.get("power_dbm_u95")
        return float(dbm), float(u) if u is not None and math.isfinite(u) else NOMINAL_LEVEL_U95_DB, True
    dbfs = row.get("power_dbfs")
    if dbfs is not None and math.isfinite(dbfs):
        return float(dbfs), NOMINAL_LEVEL_U95_DB, False
    return None


class InfluxReader:
    """InfluxQL queries (and line-protocol writes) against one database, from a sink URI."""

    def __init__(self, uri: str, *, timeout_s: float = 30.0):
        self.target: SinkTarget = parse_uri(uri)
        if self.target.kind != "influx":
            raise SinkError("the network reads InfluxQL over the v1 API: give an influx:// (or influxs://) URI",
                            where=self.target.masked)
        self.db = self.target.path
        self.timeout_s = timeout_s
        self._auth = None
        if self.target.user:
            password = self.target.resolve_secret("password") or ""
            self._auth = "Basic " + base64.b64encode(f"{self.target.user}:{password}".encode()).decode()

    def _open(self, url: str, data: bytes | None = None):
        req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        if self._auth:
            req.add_header("Authorization", self._auth)
        ctx = None
        if self.target.tls:
            from station.outputs.sinks.influx import ssl_context

            ctx = ssl_context(self.target)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout_s, context=ctx)
        except urllib.error.HTTPError as exc:
            raise SinkError(f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}",
                            where=self.target.masked) from None
        except (urllib.error.URLError, OSError) as exc:
            raise SinkError(f"cannot reach InfluxDB: {getattr(exc, 'reason', exc)}", where=self.target.masked) from None

    def query(self, influxql: str) -> list[dict]:
        """Rows of one statement as dicts (``time`` in epoch ns, GROUP BY tags merged in); chunked reply."""
        qs = urllib.parse.urlencode({"q": influxql, "db": self.db, "epoch": "ns", "chunked": "true",
                                     "chunk_size": "20000"})
        rows: list[dict] = []
        with self._open(f"{self.target.base_url}/query?{qs}") as resp:
            for line in resp:
                if not line.strip():
                    continue
                reply = json.loads(line)
                for result in reply.get("results", []):
                    if "error" in result:
                        if "database not found" in result["error"]:
                            return []
                        raise SinkError(f"InfluxQL {influxql!r}: {result['error']}", where=self.target.masked)
                    for series in result.get("series", []):
                        tags = series.get("tags", {})
                        cols = series["columns"]
                        for values in series.get("values", []):
                            row = dict(zip(cols, values))
                            row.update(tags)
                            rows.append(row)
        return rows

    def write(self, lines: list[bytes]) -> None:
        """Line protocol (ns) to ``/write``; creates the database first when it is missing."""
        if not lines:
            return
        params = {"db": self.db, "precision": "ns"}
        if self.target.opt("rp"):
            params["rp"] = self.target.opt("rp")
        url = f"{self.target.base_url}/write?{urllib.parse.urlencode(params)}"
        for i in range(0, len(lines), 5000):
            with self._open(url, b"\n".join(lines[i:i + 5000]) + b"\n"):
                pass


def _q(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def violation_query(since_ns: int, until_ns: int) -> str:
    """The InfluxQL reading every station's violation points in [since, until): the fields the network
    uses only, one series per station, band and class (tags come once per series, not per row)."""
    fields = ", ".join(_q(f) for f in VIOLATION_FIELDS)
    return (f"SELECT {fields} FROM violation WHERE time >= {int(since_ns)} AND time < {int(until_ns)} "
            f"GROUP BY station, band, \"class\"")


def read_series(reader: InfluxReader, since_ns: int, until_ns: int) -> dict[tuple[str, str], dict]:
    """(station, band) -> the last RBW and station position of its violation points in [since, until)."""
    cols = ", ".join(f"last({_q(f)}) AS {_q(f)}" for f in SERIES_FIELDS)
    out = {}
    for row in reader.query(f"SELECT {cols} FROM violation WHERE time >= {int(since_ns)} AND time < {int(until_ns)} "
                            f"GROUP BY station, band"):
        out[(row.get("station", ""), row.get("band", ""))] = {f: row.get(f) for f in SERIES_FIELDS}
    return out


def read_station_cases(reader: InfluxReader, since_ns: int, until_ns: int) -> list[StationCase]:
    """Every station's violation cases seen in [since, until), aggregated per (station, case_id)."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in reader.query(violation_query(since_ns, until_ns)):
        if row.get("case_id") and row.get("center_hz") is not None:
            groups[(row.get("station", ""), row["case_id"])].append(row)
    series = read_series(reader, since_ns, until_ns)
    out = [c for c in (aggregate(st, cid, obs, series) for (st, cid), obs in groups.items()) if c is not None]
    out.sort(key=lambda c: (c.center_hz, c.station, c.case_id))
    return out


def aggregate(station: str, case_id: str, obs: list[dict], series: dict | None = None) -> StationCase | None:
    """One station case from its violation rows and its series' RBW/position (:func:`read_series`); None when
    no row has a level."""
    levels = [lv for lv in (station_level(r) for r in obs) if lv is not None]
    if not levels:
        return None
    calibrated = all(c for _, _, c in levels)
    lv = np.array([v for v, _, c in levels if c == calibrated])
    u = float(np.median([u for _, u, c in levels if c == calibrated]))
    times = [int(r["time"]) for r in obs]
    last = max(obs, key=lambda r: r["time"])
    last = {**last, **{k: v for k, v in (series or {}).get((station, last.get("band", "")), {}).items()
                       if v is not None}}
    occ = np.array([r["occupancy"] for r in obs if r.get("occupancy") is not None], dtype=np.float64)
    occ_se = float(np.std(occ, ddof=1) / math.sqrt(occ.size)) if occ.size > 1 else math.nan
    return StationCase(
        station=station, case_id=case_id, klass=last.get("class", ""), band=last.get("band", ""),
        center_hz=float(np.mean([r["center_hz"] for r in obs])),
        bandwidth_hz=float(np.median([r["bandwidth_hz"] for r in obs if r.get("bandwidth_hz") is not None]
                                     or [0.0])),
        level=float(np.median(lv)), level_u95_db=u, calibrated=calibrated,
        snr_db=float(np.median([r["snr_db"] for r in obs if r.get("snr_db") is not None] or [math.nan])),
        rbw_hz=float(last.get("rbw_hz") or 0.0), first_ns=min(times), last_ns=max(times), n_obs=len(obs),
        track_id=str(last.get("track_id") or ""),
        occupancy=float(np.median(occ)) if occ.size else math.nan, occupancy_se=occ_se,
        latitude=_num(last.get("latitude")), longitude=_num(last.get("longitude")),
    )


def _num(v) -> float:
    return float(v) if v is not None else math.nan


def health_rows(reader: InfluxReader, since_ns: int, until_ns: int) -> dict[str, dict]:
    """station -> {field: (time_ns, value)} of the last value of each health field in [since, until)."""
    out: dict[str, dict] = {}
    for f in HEALTH_FIELDS:
        rows = reader.query(f"SELECT last({_q(f)}) AS v FROM station_health WHERE band = 'all' AND "
                            f"time >= {int(since_ns)} AND time < {int(until_ns)} GROUP BY station")
        for row in rows:
            out.setdefault(row.get("station", ""), {})[f] = (int(row["time"]), row["v"])
    return out


def station_infos(health: dict[str, dict]) -> dict[str, StationInfo]:
    """StationInfo of every station whose health gives a position (from :func:`health_rows`' shape)."""
    result = {}
    for st, d in health.items():
        v = {f: tv[1] for f, tv in d.items()}
        if v.get("latitude") is None or v.get("longitude") is None:
            continue
        result[st] = StationInfo(st, float(v["latitude"]), float(v["longitude"]), max(t for t, _ in d.values()),
                                 str(v.get("clock_state") or "unknown"),
                                 None if v.get("clock_offset_s") is None else float(v["clock_offset_s"]),
                                 str(v.get("position_source") or "config"))
    return result


def read_stations(reader: InfluxReader, since_ns: int, until_ns: int) -> dict[str, StationInfo]:
    """Last position, clock state and position source of every station with a station-wide health point."""
    return station_infos(health_rows(reader, since_ns, until_ns))


__all__ = ["HEALTH_FIELDS", "InfluxReader", "NOMINAL_LEVEL_U95_DB", "StationCase", "StationInfo", "aggregate",
           "health_rows", "read_series", "read_station_cases", "read_stations", "station_infos", "station_level", "violation_query"]
