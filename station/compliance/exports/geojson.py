"""GeoJSON export (RFC 7946): a FeatureCollection with one Feature per case located at its observing
station(s): a Point for one station, a MultiPoint for several, a null geometry when no station reported a
position. Coordinates are [longitude, latitude] (WGS84), rounded to 6 decimals; properties are the export
columns (plus the per-station list)."""

from __future__ import annotations

import json
from pathlib import Path

from station.compliance.exports._common import COLUMNS, Report, atomic_write

EXTENSION = ".geojson"


def feature(detail, lang: str = "en") -> dict:
    points = [
        [round(s.longitude, 6), round(s.latitude, 6)]
        for s in detail.case.stations
        if s.latitude is not None and s.longitude is not None
    ]
    if not points:
        geometry = None
    elif len(points) == 1:
        geometry = {"type": "Point", "coordinates": points[0]}
    else:
        geometry = {"type": "MultiPoint", "coordinates": points}
    props = {c.name: c.get(detail, lang) for c in COLUMNS if c.name not in ("latitude", "longitude")}
    props["observing_stations"] = [
        {"station": s.station, "latitude": s.latitude, "longitude": s.longitude} for s in detail.case.stations
    ]
    return {"type": "Feature", "id": detail.case.case_id, "geometry": geometry, "properties": props}


def write(report: Report, out_dir: Path) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [feature(d, report.lang) for d in report.cases],
    }

    def writer(tmp: Path) -> None:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    return atomic_write(Path(out_dir) / (report.base_name() + EXTENSION), writer)
