"""Benchmark: `specmon network` at scale: 200 stations x 24 h of observations in one real influxd.

Synthetic network (seeded): 200 stations on a 14 x 15 grid 2.5 km apart (a 35 x 37 km province), 60
unlicensed emitters at random sites, each heard by the stations within 6 km at a level from log-distance
path loss (n = 3) with 6 dB shadowing. Every station writes, per minute, one ``violation`` point per emitter
it hears (its own case id per emitter) and one station-wide ``station_health`` point with its position and
clock state, through the real writer (station.outputs.points vocabulary -> line protocol -> the InfluxDB v1
sink, station/outputs/sinks/influx.py). Then:

* from scratch: one `specmon network` build (station.network.service.build_once) over the 24 h window into an
  empty network store: read, group + locate, store, write back;
* incremental minutes: three times, one more minute of observations is written and the service builds again
  with its observation cache (station/network/incremental.py: it reads only the points since the last build's
  high-water mark minus the 5-minute overlap, re-aggregates, re-groups and re-locates): the per-minute cost of
  `specmon network run --interval 60s`.

Also prints points written, the influxd data directory size and the write rate. Writes
benchmarks/network_scale.txt.

    .venv/bin/python benchmarks/network_scale.py [--stations 200] [--hours 24]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from station.network import geo  # noqa: E402
from station.network.incremental import ObservationCache  # noqa: E402
from station.network.observations import InfluxReader  # noqa: E402
from station.network.service import build_once  # noqa: E402
from station.network.store import NetworkStore  # noqa: E402
from station.outputs.lineprotocol import encode_points  # noqa: E402
from station.outputs.points import time_ns  # noqa: E402
from station.outputs.sinks import open_sink  # noqa: E402
from station.outputs.sinks._uri import parse_uri  # noqa: E402
from station.outputs.vocabulary import Point  # noqa: E402
from tests.services import InfluxServer  # noqa: E402

LAT0, LON0 = 21.0285, 105.8542
T_END = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)


def scene(n_stations: int, n_emitters: int, seed: int):
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n_stations)))
    ii = np.arange(n_stations)
    sx = (ii % cols - cols / 2) * 2500.0
    sy = (ii // cols - cols / 2) * 2500.0
    ex = rng.uniform(sx.min(), sx.max(), n_emitters)
    ey = rng.uniform(sy.min(), sy.max(), n_emitters)
    freqs = 146e6 + 12_500.0 * rng.integers(0, 300, n_emitters)
    heard = []  # (station, emitter, level_dbm)
    for s in range(n_stations):
        d = np.hypot(ex - sx[s], ey - sy[s])
        for e in np.nonzero(d < 6000.0)[0]:
            level = 20.0 - 30.0 * np.log10(max(d[e], 30.0)) + rng.normal(0, 6.0)
            heard.append((s, int(e), float(level)))
    slat, slon = geo.to_geo(sx, sy, LAT0, LON0)
    return slat, slon, freqs, heard


def minute_points(minute: int, slat, slon, freqs, heard, t_start: datetime) -> list[Point]:
    t = t_start + timedelta(minutes=minute)
    t0 = time_ns(t)
    pts = []
    settings = {"rbw_hz": 2000.0, "nfft": 2048, "dwell_s": 0.04}
    for s in range(len(slat)):
        pts.append(Point("station_health", {"station": f"st-{s:03d}", "band": "all"},
                         {"latitude": float(slat[s]), "longitude": float(slon[s]), "clock_state": "synced",
                          "clock_offset_s": 0.002, "position_source": "config"}, t0))
    rank: dict[int, int] = {}
    for s, e, level in heard:
        i = rank.get(s, 0)
        rank[s] = i + 1
        pts.append(Point("violation", {"station": f"st-{s:03d}", "band": "vhf", "class": "unlicensed"},
                         {"case_id": f"VC-{e + 1:06d}", "track_id": f"T{e}", "state": "confirmed",
                          "center_hz": float(freqs[e]) + 50.0 * ((s * 7 + minute) % 5 - 2),
                          "bandwidth_hz": 11000.0, "power_dbfs": level - 20.0, "power_dbm": level,
                          "power_dbm_u95": 3.0, "snr_db": 30.0, **settings}, t0 + 1000 + i))
    return pts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=200)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--emitters", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    slat, slon, freqs, heard = scene(args.stations, args.emitters, args.seed)
    minutes = int(args.hours * 60)
    t_start = T_END - timedelta(minutes=minutes)
    with tempfile.TemporaryDirectory() as tmp, InfluxServer.start(Path(tmp) / "influxd") as server:
        server.create_database("net")
        uri = f"influx://127.0.0.1:{server.port}/net"
        sink = open_sink(parse_uri(uri))
        sink.connect()
        n_points = 0
        t0 = time.perf_counter()
        batch: list[bytes] = []
        for m in range(minutes):
            batch.extend(encode_points(minute_points(m, slat, slon, freqs, heard, t_start)).lines)
            if len(batch) >= 20000:
                sink.write(batch)
                n_points += len(batch)
                batch = []
        if batch:
            sink.write(batch)
            n_points += len(batch)
        write_s = time.perf_counter() - t0
        reader = InfluxReader(uri, timeout_s=600)
        store = NetworkStore(Path(tmp) / "network.db")
        cache = ObservationCache(args.hours * 3600, overlap_s=300.0)
        rep = build_once(reader, store, window_s=args.hours * 3600, now=T_END - timedelta(seconds=1), cache=cache)
        scratch_s = rep.read_s + rep.group_s + rep.write_s
        incr = []
        for k in range(3):
            extra = encode_points(minute_points(minutes + k, slat, slon, freqs, heard, t_start)).lines
            sink.write(list(extra))
            rep2 = build_once(reader, store, window_s=args.hours * 3600,
                              now=T_END + timedelta(seconds=59 + 60 * k), cache=cache)
            incr.append((rep2.read_s, rep2.group_s, rep2.write_s))
        incr_mean = np.mean(np.array(incr), axis=0)
        incr_s = float(incr_mean.sum())
        store.close()
        sink.close()
        size = sum(f.stat().st_size for f in (Path(tmp) / "influxd").rglob("*") if f.is_file())
        located = sum(1 for c in rep.cases if c.fix is not None and c.fix.kind == "fix")
        lines = [
            "# specmon network at scale (benchmarks/network_scale.py)",
            f"# {platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}, influxd 1.x",
            f"stations {args.stations}, emitters {args.emitters}, station-emitter pairs heard {len(heard)}, "
            f"{args.hours:g} h of one point per pair per minute + one health point per station per minute",
            f"points written: {n_points:,} in {write_s:.1f} s ({n_points / write_s:,.0f} points/s, real InfluxDB v1 sink)",
            f"influxd data dir after writing: {size / 1e6:.1f} MB",
            f"from scratch: {rep.n_station_cases} station cases -> {len(rep.cases)} network cases ({located} located) "
            f"in {scratch_s:.1f} s (read {rep.read_s:.1f} s, group+locate+store {rep.group_s:.1f} s, "
            f"write back {rep.write_s:.1f} s)",
            f"incremental minute (mean of 3): {incr_s:.1f} s (read {incr_mean[0]:.2f} s, group+locate+store "
            f"{incr_mean[1]:.2f} s, write back {incr_mean[2]:.2f} s); per build "
            + ", ".join(f"{sum(x):.1f} s" for x in incr)
            + " (reads the last 6 minutes: the new one + the 5-minute overlap)",
        ]
    print("\n".join(lines))
    (ROOT / "benchmarks" / "network_scale.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
