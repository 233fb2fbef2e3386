"""The web app without a browser: [web] config validation, the token, 404 for unknown ids/bands/files and
traversal attempts, no write endpoint, the JSON endpoints, /metrics in Prometheus text format, the hub's
peak-preserving decimation, and a case store the web app opens read-only."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from station.config import StationInfo, WebConfig, demo_config, parse_config
from station.errors import ConfigError
from station.web.hub import LiveHub, decimate_peak
from station.web.metrics import render
from tests.test_cases import HANOI, T0, checker, sweep  # noqa: F401 (fixture)

pytest.importorskip("aiohttp")

BASE = """
[station]
id = "hn-01"
latitude = 21.0
longitude = 105.8
[receiver]
uri = "sim://city"
[[bands]]
name = "fm"
f_lo = "88M"
f_hi = "108M"
[store]
data_dir = "d"
"""
TOKEN = "s3cret-token-0123456789"


def _png() -> bytes:
    """A valid 2x2 grey PNG (the PDF in the bundle embeds it)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80\x80" for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = _png()


# ---- config -------------------------------------------------------------------------------------------------------
def test_web_is_off_in_a_bare_config_and_on_in_the_demo():
    assert parse_config(BASE).web == WebConfig()
    assert parse_config(BASE).web.enabled is False
    demo = demo_config("/tmp/x").web
    assert demo.enabled and demo.bind == "127.0.0.1" and demo.port == 8088 and demo.token is None


@pytest.mark.parametrize("web, where, message", [
    ('enabled = true\nbind = "0.0.0.0"', "web.token", "a bearer token is required"),
    ('enabled = true\nbind = "192.168.1.20"', "web.token", "not a loopback address"),
    ('token = "short"', "web.token", "at least 16 characters"),
    ('token = "has a space in it ......"', "web.token", "printable ASCII"),
    ('port = 70000', "web.port", "out of range"),
    ('lang = "fr"', "web.lang", "not one of en, vi"),
    ('bind = "a b"', "web.bind", "not an address"),
    ('enabled = "yes"', "web.enabled", "expected true or false"),
    ('colour = 1', "web.colour", "unknown key"),
    (f'token = "{TOKEN}"\ntoken_file = "x"', "web.token_file", "not both"),
])
def test_web_config_errors_name_file_and_key(web, where, message):
    with pytest.raises(ConfigError) as exc:
        parse_config(BASE + "[web]\n" + web, source="st.toml")
    assert f"st.toml:{where}" in str(exc.value) and message in str(exc.value)


def test_token_file_and_non_loopback_with_token(tmp_path):
    (tmp_path / "tok").write_text(TOKEN + "\n")
    cfg = parse_config(BASE + '[web]\nenabled = true\nbind = "0.0.0.0"\ntoken_file = "tok"\n', base_dir=tmp_path)
    assert cfg.web.token == TOKEN and not cfg.web.loopback
    assert TOKEN not in repr(cfg.web)
    for host in ("127.0.0.1", "127.3.0.1", "::1", "localhost"):
        assert parse_config(BASE + f'[web]\nenabled = true\nbind = "{host}"\n').web.loopback


# ---- hub --------------------------------------------------------------------------------------------------------------
def test_decimation_keeps_the_peaks():
    f = np.linspace(100e6, 102e6, 10_000)
    x = np.full(f.size, -110.0)
    x[4321] = -40.0  # one narrow emission must survive
    x[17] = np.nan
    f0, df, y = decimate_peak(f, x, 512)
    assert y.size <= 512 and y.max() == pytest.approx(-40.0)
    k = -(-10_000 // 512)
    assert int(np.argmax(y)) == 4321 // k
    assert f0 == pytest.approx(f[:k].mean()) and df == pytest.approx(k * (f[1] - f[0]))
    assert np.isfinite(y).all() and not y.flags.writeable


@dataclass
class _Emission:
    center_hz: float = 106.9e6
    f_lo_hz: float = 106.81e6
    f_hi_hz: float = 106.99e6
    bandwidth_hz: float = 180e3
    power_dbfs: float = -22.0
    peak_dbfs: float = -20.0
    snr_db: float = 30.0


@dataclass
class _Judged:
    emission: _Emission = field(default_factory=_Emission)
    result: object = None
    track_id: str = "trk-1"
    note: str = "no register configured"
    klass: str = "unknown"


@dataclass
class _Spectrum:
    freqs_hz: np.ndarray
    psd_dbfs_hz: np.ndarray
    f_lo_hz: float = 88e6
    f_hi_hz: float = 108e6
    enbw_hz: float = 5000.0

    @property
    def n_bins(self):
        return self.freqs_hz.size


@dataclass
class _Report:
    spectrum: _Spectrum
    band: str = "fm"
    sweep_no: int = 1
    end_utc: datetime = T0
    results: tuple = (_Judged(),)
    noise_median_dbfs_hz: float = -107.0
    duration_s: float = 0.1
    revisit_s: float | None = None
    levels: object = None


def _report(n=4000, sweep_no=1, level=-100.0):
    f = np.linspace(88e6, 108e6, n)
    return _Report(_Spectrum(f, np.full(n, level)), sweep_no=sweep_no)


def test_hub_snapshots_and_waterfall():
    hub = LiveHub(points=256, waterfall_rows=3)
    calls = []
    hub.listener = lambda: calls.append(1)
    for k in range(5):
        hub.publish_sweep(_report(sweep_no=k + 1, level=-100.0 + k))
    snap = hub.band("fm")
    assert snap.sweep_no == 5 and snap.seq == 5 and snap.levels_dbfs_hz.size <= 256
    j = snap.to_json()
    assert j["emissions"][0]["class"] == "unknown" and j["emissions"][0]["note"] == "no register configured"
    wf = hub.waterfall("fm")
    assert [row[0] for row in wf] == [3, 4, 5] and wf[-1][2][0] == pytest.approx(-96.0)
    hub.publish_sweep(_report(n=100, sweep_no=6))  # a reloaded band plan: old rows no longer line up
    assert len(hub.waterfall("fm")) == 1
    hub.publish_health({"uptime_s": 3.0}, [{"name": "main", "state": "ok"}])
    assert len(calls) == 7 and hub.health()[0]["uptime_s"] == 3.0
    hub.publish_sweep(object())  # a report without a spectrum is ignored, never raises
    hub.listener = lambda: 1 / 0
    hub.publish_sweep(_report(sweep_no=7))  # a failing listener never reaches the sweep loop


def test_hub_gives_levels_at_the_antenna_port_with_the_calibration_state():
    """With the sweep's LevelContext an emission's JSON carries dBm +/- U95 (and field strength with an antenna
    factor) as its InfluxDB point does, and the calibration words; without one (AGC) only dBFS."""
    from dataclasses import replace

    from station.calibration import LevelContext, nominal_profile
    from station.outputs.points import PointContext

    e = _Emission()
    levels = LevelContext(nominal_profile(), 30.0, antenna_factor_db_m=12.0)
    hub = LiveHub(points=256)
    hub.publish_sweep(replace(_report(), levels=levels))
    j = hub.band("fm").to_json()["emissions"][0]
    point = PointContext(station="s", band="fm", rbw_hz=5e3, nfft=1024, dwell_s=0.05, levels=levels).level_fields(e)
    assert j["power_dbm"] == pytest.approx(point["power_dbm"], abs=0.051)
    assert j["power_dbm_u95"] == pytest.approx(point["power_dbm_u95"], abs=0.051) and j["power_dbm_u95"] > 0
    assert j["field_dbuv_m"] == pytest.approx(point["field_dbuv_m"], abs=0.051)
    assert j["calibration"] == "nominal (uncalibrated)"
    hub.publish_sweep(replace(_report(), levels=LevelContext(nominal_profile(), None)))  # automatic gain
    j = hub.band("fm").to_json()["emissions"][0]
    assert j["power_dbm"] is None and j["calibration"] and j["power_dbfs"] == pytest.approx(e.power_dbfs, abs=0.051)
    hub.publish_sweep(_report())
    assert hub.band("fm").to_json()["emissions"][0]["calibration"] is None


# ---- server -------------------------------------------------------------------------------------------------------------
@pytest.fixture()
def store_with_cases(tmp_path, checker):  # noqa: F811
    from station.compliance.cases import CaseStore

    db = tmp_path / "specmon.db"
    store = CaseStore(db)
    for k in range(2):
        store.record(sweep(checker, T0 + timedelta(seconds=30 * k)), station="hn-01",
                     when=T0 + timedelta(seconds=30 * k), position=HANOI, settings={"rbw_hz": 1000.0})
    case_id = store.cases()[0].case_id
    ev = tmp_path / "evidence" / case_id
    ev.mkdir(parents=True)
    (ev / "spectrum.png").write_bytes(PNG)
    (ev / "manifest.json").write_text("{}")
    store.add_evidence(case_id, ev / "spectrum.png", "spectrum_png")
    store.add_evidence(case_id, ev / "manifest.json", "manifest")
    (tmp_path / "secret.txt").write_text("not evidence")
    store.close()
    return db, case_id


def _server(db: Path, token: str | None = None):
    from station.web.server import WebServer

    hub = LiveHub(points=256)
    hub.publish_sweep(_report())
    hub.publish_health({"uptime_s": 12.5, "receiver_state": "ok", "store_state": "ok", "spool_depth": 3,
                        "receiver_errors": 2, "sink_state": "ok", "cpu_pct": 4.0, "temperature_c": None},
                       [{"name": "main", "uri": "sim://city", "state": "ok", "errors": 0, "reopens": 1}])
    srv = WebServer(WebConfig(enabled=True, port=0, token=token), hub,
                    station=StationInfo("hn-01", "Hanoi", 21.0, 105.8), db_path=db,
                    bands=lambda: [("fm", 88e6, 108e6), ("uhf", 430e6, 470e6)])
    assert srv.start(), srv.error
    return srv


def _get(srv, path, headers=None, method="GET"):
    req = urllib.request.Request(srv.url + path, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def test_endpoints_404s_and_read_only(store_with_cases):
    db, case_id = store_with_cases
    srv = _server(db)
    try:
        st, body, _ = _get(srv, "/api/health")
        h = json.loads(body)
        assert st == 200 and h["uptime_s"] == 12.5 and h["receivers"][0]["reopens"] == 1
        assert [b["band"] for b in h["bands"]] == ["fm", "uhf"] and h["bands"][0]["sweep"] == 1
        st, body, _ = _get(srv, "/api/bands/fm/spectrum?waterfall=1")
        j = json.loads(body)
        assert st == 200 and j["level_unit"] == "dBFS/Hz" and len(j["waterfall"]) == 1
        assert json.loads(_get(srv, "/api/bands/uhf/spectrum")[1])["pending"] is True
        cases = json.loads(_get(srv, "/api/cases")[1])["cases"]
        assert len(cases) == 7 and cases[0]["last_seen"] >= cases[-1]["last_seen"]
        only = json.loads(_get(srv, "/api/cases?class=expired&state=open")[1])["cases"]
        assert [c["class"] for c in only] == ["expired"]
        assert json.loads(_get(srv, "/api/cases?q=LM-CONS-158200")[1])["count"] == 1
        d = json.loads(_get(srv, f"/api/cases/{case_id}")[1])
        assert d["case_id"] == case_id and d["verification"]["state"] == "incomplete"  # no IQ recorded
        assert not d["verification"]["chain"] and any("IQ" in m for m in d["verification"]["missing"])
        assert d["downloads"]["spectrum_png"] == f"/cases/{case_id}/files/spectrum.png"
        assert d["register"] is not None and d["events"][0]["state"] == "new"
        st, body, hdr = _get(srv, f"/cases/{case_id}/files/spectrum.png")
        assert st == 200 and body == PNG and hdr["Content-Type"] == "image/png"
        st, body, hdr = _get(srv, f"/cases/{case_id}/bundle.zip")  # the signed bundle of `violations export`
        assert st == 200 and hdr["Content-Type"] == "application/zip" and body[:2] == b"PK", body[:300]
        import io
        import zipfile

        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert f"{case_id}/manifest.json" in names and f"{case_id}/manifest.sig" in names
        # kept: the same case downloaded again is the bundle built before; a new row of the case makes a new one
        assert srv.bundles.builds == 1 and _get(srv, f"/cases/{case_id}/bundle.zip")[1] == body
        assert srv.bundles.hits == 1 and srv.bundles.builds == 1
        from station.compliance.cases import CaseStore

        with CaseStore(db) as writer:
            writer.add_note(case_id, "seen again from the road", author="inspector")
        st, again, _ = _get(srv, f"/cases/{case_id}/bundle.zip")
        assert st == 200 and srv.bundles.builds == 2 and again != body
        assert [p.name for p in srv.bundles.folder.iterdir()] == [p.name for p in srv.bundles.folder.glob(f"{case_id}.en.*.zip")]
        assert len(list(srv.bundles.folder.iterdir())) == 1  # the older state of the case is gone from disk
        # a changed evidence file: verification fails, and no bundle is made of a tampered case
        (db.parent / "evidence" / case_id / "manifest.json").write_text('{"forged": true}')
        d = json.loads(_get(srv, f"/api/cases/{case_id}")[1])
        assert d["verification"]["state"] == "failed"
        assert {"name": "manifest.json", "state": "changed"} in d["verification"]["files"]
        assert _get(srv, f"/cases/{case_id}/bundle.zip")[0] == 409
        assert _get(srv, f"/evidence/{case_id}/")[0] == 302
        for path in ("/api/cases/VC-999999", "/cases/VC-999999", "/cases/VC-999999/bundle.zip",
                     f"/cases/{case_id}/files/secret.txt", f"/cases/{case_id}/files/..%2F..%2Fsecret.txt",
                     f"/cases/{case_id}/files/%2e%2e%2fsecret.txt", "/static/..%2Fserver.py", "/static/page.html",
                     "/static/../server.py", "/api/bands/nope/spectrum", "/api/cases/..%2Fspecmon.db",
                     f"/cases/{case_id}/audio.wav", f"/cases/{case_id}/spectrogram.png", "/etc/passwd",
                     "/evidence/VC-999999/"):
            assert _get(srv, path)[0] == 404, path
        for method in ("POST", "PUT", "DELETE"):
            assert _get(srv, "/api/cases", method=method)[0] == 405
        assert _get(srv, "/api/cases?state=bogus")[0] == 400
        st, body, hdr = _get(srv, "/")
        assert st == 200 and b'data-page="now"' in body and "default-src 'self'" in hdr["Content-Security-Policy"]
        assert b"Hi\xe1\xbb\x87n t\xe1\xba\xa1i" in _get(srv, "/?lang=vi")[1]  # "Hiện tại"
    finally:
        srv.stop()


def test_token_required(store_with_cases):
    db, case_id = store_with_cases
    srv = _server(db, token=TOKEN)
    try:
        for path in ("/", "/api/health", "/api/cases", f"/api/cases/{case_id}", "/metrics", "/ws",
                     f"/cases/{case_id}/files/spectrum.png"):
            st, _, hdr = _get(srv, path)
            assert st == 401 and hdr["WWW-Authenticate"].startswith("Bearer"), path
        assert _get(srv, "/api/health", {"Authorization": "Bearer wrong-token-0123456789"})[0] == 401
        assert _get(srv, "/api/health", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert _get(srv, "/metrics", {"Authorization": f"bearer {TOKEN}"})[0] == 200
        # a browser link with ?token= sets a cookie and drops the token from the address
        st, _, hdr = _get(srv, f"/cases?token={TOKEN}&state=open")
        assert st == 302 and "token" not in hdr["Location"] and "state=open" in hdr["Location"]
        cookie = hdr["Set-Cookie"].split(";")[0]
        assert "HttpOnly" in hdr["Set-Cookie"]
        assert _get(srv, "/cases", {"Cookie": cookie})[0] == 200
        assert _get(srv, f"/api/cases?token={TOKEN}")[0] == 200
    finally:
        srv.stop()


_SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? '
                     r'(-?[0-9.e+-]+|[+-]Inf|NaN)$')


def test_metrics_exposition_format(store_with_cases):
    db, _ = store_with_cases
    srv = _server(db)
    try:
        st, body, hdr = _get(srv, "/metrics")
    finally:
        srv.stop()
    assert st == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"{name} declared twice"
            types[name] = kind
        elif not line.startswith("# HELP "):
            assert _SAMPLE.match(line), line
            assert line.split("{")[0].split(" ")[0] in types, line
    assert types["specmon_receiver_errors_total"] == "counter" and types["specmon_uptime_seconds"] == "gauge"
    assert "specmon_uptime_seconds 12.5" in text
    assert 'specmon_receiver_state{state="ok"} 1.0' in text
    assert 'specmon_cases{state="new",class="expired"} 1.0' in text
    assert 'specmon_band_emissions{band="fm"} 1.0' in text


def test_metrics_escape_label_values():
    text = render(station='a"b\\c\nd', health={}, health_age_s=float("inf"), receivers=(), bands={},
                  case_counts={}, web_clients=0, clock_synced=None)
    assert 'specmon_info{station="a\\"b\\\\c\\nd"} 1.0' in text


def test_a_busy_port_does_not_stop_the_station(store_with_cases):
    db, _ = store_with_cases
    first = _server(db)
    try:
        from station.web.server import WebServer

        second = WebServer(WebConfig(enabled=True, port=first.port), LiveHub(),
                           station=StationInfo("hn-01", "x", 0, 0), db_path=db)
        assert second.start() is False and "cannot listen" in second.error
        second.stop()
    finally:
        first.stop()


def test_the_web_app_cannot_write_the_case_store(store_with_cases, tmp_path):
    """CaseStore.open_readonly (what the web app uses): reads work; every writing method and a stray SQL write are
    refused, and nothing changes; a missing file or a file that is not a case store is a one-line SinkError."""
    import hashlib
    import sqlite3

    from station.compliance.cases import CaseStore
    from station.errors import SinkError, UsageError
    from station.web.cases import CaseReader

    db, case_id = store_with_cases
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    store = CaseStore.open_readonly(db)
    assert store.readonly and len(store.cases()) == 7 and store.detail(case_id).case.case_id == case_id
    for write in (lambda: store.add_note(case_id, "x"), lambda: store.confirm(case_id),
                  lambda: store.close_case(case_id),
                  lambda: store.record([], when=T0, station="hn-01"),
                  lambda: store.add_evidence(case_id, db, "spectrum_png")):
        with pytest.raises(UsageError, match="open read-only"):
            write()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._db.execute("INSERT INTO case_events (case_id, time_ns, kind) VALUES (?, 0, 'note')", (case_id,))
    assert store.verify_case(case_id) == [] or all("missing" in p.lower() for p in store.verify_case(case_id))
    store.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert CaseReader(db).store.readonly
    with pytest.raises(SinkError, match="no case store here"):
        CaseStore.open_readonly(tmp_path / "none.db")
    (tmp_path / "junk.db").write_text("not sqlite")
    with pytest.raises(SinkError, match="cannot open the case store read-only"):
        CaseStore.open_readonly(tmp_path / "junk.db")
    assert datetime.now(timezone.utc) > T0


def test_bundle_cache_is_bounded_and_keyed_by_the_case_state(tmp_path):
    from station.web.downloads import BundleCache, bundle_key

    ev = tmp_path / "e.bin"
    ev.write_bytes(b"x")
    k1 = bundle_key("VC-1", "en", "aa", [ev])
    assert k1 == bundle_key("VC-1", "en", "aa", [ev]) and k1 != bundle_key("VC-1", "en", "ab", [ev])
    assert k1 != bundle_key("VC-1", "vi", "aa", [ev])
    ev.write_bytes(b"xy")  # a changed evidence file: another key
    assert bundle_key("VC-1", "en", "aa", [ev]) != k1
    cache = BundleCache(max_bytes=250)
    for i in range(5):
        assert cache.put(f"VC-{i}.en.k", f"b{i}.zip", bytes(100)) is not None
    assert cache.size_bytes <= 250 and sorted(p.name for p in cache.folder.iterdir()) == ["VC-3.en.k.zip", "VC-4.en.k.zip"]
    assert cache.get("VC-0.en.k") is None and cache.get("VC-3.en.k")[0] == "b3.zip"
    cache.put("VC-5.en.k", "b5.zip", bytes(100))  # VC-3 was used last: VC-4 goes
    assert sorted(p.name for p in cache.folder.iterdir()) == ["VC-3.en.k.zip", "VC-5.en.k.zip"]
    assert cache.put("VC-6.en.k", "big.zip", bytes(251)) is None  # larger than the budget: served, not kept
    folder = cache.folder
    cache.close()
    assert not folder.exists()


def test_the_case_page_shows_the_reports_canonical_measurement_reason_and_judged_status(store_with_cases):
    """The same numbers, reason and licence status as the PDF: the canonical (median) centre and bandwidth with
    their U95, the reason rendered with them in the page's language, an expired licence shown as expired."""
    from station.compliance.cases import CaseStore
    from station.compliance.exports._common import canonical, reason_text

    db, _ = store_with_cases
    srv = _server(db)
    try:
        (case,) = json.loads(_get(srv, "/api/cases?class=expired")[1])["cases"]
        d = json.loads(_get(srv, f"/api/cases/{case['case_id']}")[1])
        vi = json.loads(_get(srv, f"/api/cases/{case['case_id']}?lang=vi")[1])
    finally:
        srv.stop()
    store = CaseStore.open_readonly(db)
    try:
        detail = store.detail(case["case_id"])
        m = canonical(detail)
        assert d["center_hz"] == round(m.center_hz.value, 1) and d["center_hz_u95"] == round(m.center_hz.u95, 1)
        assert d["bandwidth_hz"] == round(m.bandwidth_hz.value, 1)
        assert d["reason"] == reason_text(detail, "en") and vi["reason"] == reason_text(detail, "vi")
        assert vi["reason"] != d["reason"]
    finally:
        store.close()
    (row,) = [r for r in d["register"] if r["licence"] == "LM-CONS-158200"]
    assert row["status"] == "expired" and row["register_status"] == "current"
