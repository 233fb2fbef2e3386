"""Exports of the network cases: CSV, GeoJSON, PDF (plain lat/lon plot with a distance scale, no map tiles)
and a bundle (zip of the three with a SHA-256 manifest). Reuses the compliance exporters' atomic writing and
spreadsheet formula neutralisation (station/compliance/exports/_common.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from station.compliance.exports._common import atomic_write, neutralise
from station.errors import UsageError

FORMATS = ("csv", "geojson", "pdf", "bundle")

COLUMNS = ("network_case_id", "class", "kind", "center_hz", "bandwidth_hz", "n_stations", "station_cases",
           "latitude", "longitude", "region_area_m2", "region_bounded", "p_value", "flag", "first_seen_utc",
           "last_seen_utc")


def _utc(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row(d: dict) -> dict:
    est = d.get("estimate") or {}
    return {
        "network_case_id": d["case_id"], "class": d["class"], "kind": d["kind"], "center_hz": f"{d['center_hz']:.1f}",
        "bandwidth_hz": f"{d['bandwidth_hz']:.1f}", "n_stations": len(d["stations"]),
        "station_cases": " ".join(f"{m['station']}:{m['case_id']}" for m in d["members"]),
        "latitude": "" if not est else f"{est['latitude']:.6f}", "longitude": "" if not est else f"{est['longitude']:.6f}",
        "region_area_m2": "" if d.get("region_area_m2") is None else f"{d['region_area_m2']:.0f}",
        "region_bounded": "" if d.get("region_bounded") is None else str(d["region_bounded"]).lower(),
        "p_value": "" if d.get("p_value") is None else f"{d['p_value']:.4g}", "flag": d.get("flag", ""),
        "first_seen_utc": _utc(d["first_ns"]), "last_seen_utc": _utc(d["last_ns"]),
    }


def to_csv(cases: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for d in cases:
        w.writerow({k: neutralise(str(v)) for k, v in _row(d).items()})
    return buf.getvalue()


def to_geojson(cases: list[dict], stations: dict[str, tuple[float, float]]) -> dict:
    """A FeatureCollection: per case its estimate (Point), its region (MultiPolygon) and its observing
    stations (Points, role 'station'), all carrying ``network_case_id``."""
    feats = []
    for d in cases:
        props = {k: v for k, v in _row(d).items()}
        if d.get("estimate"):
            e = d["estimate"]
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [e["longitude"], e["latitude"]]},
                          "properties": {**props, "role": "estimate"}})
        if d.get("region"):
            feats.append({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": d["region"]},
                          "properties": {**props, "role": f"region_{d['kind']}", "confidence": 0.95,
                                         "notes": d.get("notes", [])}})
        for m in d["members"]:
            if m["station"] in stations:
                lat, lon = stations[m["station"]]
                feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                              "properties": {"network_case_id": d["case_id"], "role": "station", "station": m["station"],
                                             "station_case_id": m["case_id"], "level": m["level"],
                                             "level_unit": m["level_unit"]}})
    return {"type": "FeatureCollection", "features": feats}


def _nice(x: float) -> float:
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def pdf_figure(cases: list[dict], stations: dict[str, tuple[float, float]]):
    """One matplotlib figure per case: stations, estimate and region on a lat/lon plot (equal metres per degree
    in both axes) with a distance scale bar."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figs = []
    for d in cases:
        fig = Figure(figsize=(8.27, 8.27))
        ax = fig.add_subplot(111)
        lats, lons = [], []
        for poly in d.get("region") or []:
            for r, ring in enumerate(poly):
                xs = [p[0] for p in ring]
                ys = [p[1] for p in ring]
                ax.fill(xs, ys, color="tab:orange" if r == 0 else "white", alpha=0.35 if r == 0 else 1.0,
                        ec="tab:orange", lw=1, label="95 % region" if r == 0 and not lats else None)
                lons += xs
                lats += ys
        for m in d["members"]:
            if m["station"] in stations:
                lat, lon = stations[m["station"]]
                ax.plot(lon, lat, "^", color="tab:blue", ms=9)
                ax.annotate(f"{m['station']}\n{m['level']:.1f} {m['level_unit']}", (lon, lat), textcoords="offset points",
                            xytext=(6, 6), fontsize=8)
                lats.append(lat)
                lons.append(lon)
        if d.get("estimate"):
            e = d["estimate"]
            ax.plot(e["longitude"], e["latitude"], "x", color="red", ms=12, mew=2.5, label="estimate")
            lats.append(e["latitude"])
            lons.append(e["longitude"])
        if lats:
            lat_c = (min(lats) + max(lats)) / 2
            ax.set_aspect(1.0 / math.cos(math.radians(lat_c)))
            span_deg = max(max(lons) - min(lons), 1e-3)
            km_per_deg = 111.32 * math.cos(math.radians(lat_c))
            bar_km = _nice(span_deg * km_per_deg / 4)
            x0 = min(lons) + 0.05 * span_deg
            y0 = min(lats) - 0.04 * max(max(lats) - min(lats), 1e-3)
            ax.plot([x0, x0 + bar_km / km_per_deg], [y0, y0], "k-", lw=3)
            ax.text(x0, y0, f"  {bar_km:g} km", va="bottom", fontsize=9)
        ax.ticklabel_format(useOffset=False)
        ax.set_xlabel("longitude (deg E)")
        ax.set_ylabel("latitude (deg N)")
        ax.grid(True, lw=0.3)
        kind = {"fix": "estimate and 95 % confidence region", "arc": "2 stations: region consistent with the level "
                "difference (an arc, not a position)", "ring": "1 station: ring of consistent distances, not a position"}
        ax.set_title(f"{d['case_id']} {d['class']} {d['center_hz'] / 1e6:.5f} MHz\n{kind.get(d['kind'], d['kind'])}"
                     f"{' [' + d['flag'] + ']' if d.get('flag') else ''}", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
        figs.append(fig)
    return figs


def write_pdf(cases: list[dict], stations: dict, path: Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for fig in pdf_figure(cases, stations):
            pdf.savefig(fig)


def export(cases: list[dict], stations: dict[str, tuple[float, float]], fmt: str, out_dir: str | Path) -> Path:
    """Write one export of the current network cases into ``out_dir``; returns the file."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown network export format {fmt!r}; known: {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        return atomic_write(out / "network_cases.csv", lambda p: p.write_text(to_csv(cases), encoding="utf-8"))
    if fmt == "geojson":
        text = json.dumps(to_geojson(cases, stations), indent=1)
        return atomic_write(out / "network_cases.geojson", lambda p: p.write_text(text, encoding="utf-8"))
    if fmt == "pdf":
        return atomic_write(out / "network_cases.pdf", lambda p: write_pdf(cases, stations, p))
    files = [export(cases, stations, f, out) for f in ("csv", "geojson", "pdf")]

    def bundle(p: Path) -> None:
        manifest = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
            for f in files:
                z.write(f, f.name)
            z.writestr("MANIFEST.json", json.dumps({"sha256": manifest, "cases": len(cases)}, indent=1))

    return atomic_write(out / "network_cases.zip", bundle)


__all__ = ["FORMATS", "export", "pdf_figure", "to_csv", "to_geojson"]
