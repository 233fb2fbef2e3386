"""The web server: aiohttp in its own thread with its own event loop (the sweep loop never waits on it).

Routes (all GET; there is no write endpoint): the pages ``/`` (Now), ``/health``, ``/cases``,
``/cases/{id}``; JSON ``/api/health``, ``/api/bands``, ``/api/bands/{name}/spectrum``, ``/api/cases``,
``/api/cases/{id}``, ``/api/labels``; live updates over the WebSocket ``/ws``; ``/metrics`` (Prometheus);
evidence ``/cases/{id}/files/{name}``, ``/cases/{id}/audio.wav``, ``/cases/{id}/bundle.zip``; ``/evidence/{id}/``
redirects to the case page (older dashboards link there). docs/WEB.md documents each.

A token (``[web] token``) is checked on every request: ``Authorization: Bearer TOKEN``, the cookie set by a
first ``?token=TOKEN`` visit, or ``?token=`` itself; 401 otherwise. Unknown case ids, band names, files and
any path outside the known routes are 404; evidence files are looked up by their recorded name, so no part of
a request ever becomes a file path.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import mimetypes
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from station.config import StationInfo, WebConfig
from station.web.cases import CASE_ID, CaseReader
from station.web.downloads import BundleCache
from station.web.hub import LiveHub
from station.web.labels import LANGS, labels_for

log = logging.getLogger("specmon.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGES = ("now", "health", "cases", "case")
COOKIE_TOKEN = "specmon_token"
COOKIE_LANG = "specmon_lang"
#: a browser that does not take a message within this long is dropped (it reconnects by itself)
SEND_TIMEOUT_S = 10.0
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
}


class WebServer:
    """The station's read-only web app. ``start()`` binds and serves in a thread; ``stop()`` ends it.

    ``bands``: called (in the web thread) for the configured bands as (name, f_lo_hz, f_hi_hz) tuples (they
    change on a reload); ``db_path``: the case store, opened read-only."""

    def __init__(self, web: WebConfig, hub: LiveHub, *, station: StationInfo, db_path: str | Path,
                 data_dir: str | Path | None = None, bands: Callable[[], list[tuple[str, float, float]]] = list):
        self.web = web
        self.hub = hub
        self.station = station
        self.db_path = Path(db_path)
        self.data_dir = Path(data_dir) if data_dir is not None else self.db_path.parent
        self._bands = bands
        self.port: int | None = None
        self.error: str | None = None
        self.clients: set = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._changed: asyncio.Event | None = None
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="specmon-web-db")
        # slow products (audio, spectrogram and bundle children) never hold up the pages' queries
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="specmon-web-work")
        self._reader = CaseReader(self.db_path)
        self._encoded: dict[str, tuple[int, str]] = {}  # band -> (seq, JSON) shared by every client
        self._products: dict[tuple, object] = {}  # made audio / spectrograms, see _keep
        self.bundles = BundleCache()  # built bundles on disk, keyed by the case's chain head
        self._static = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()} if STATIC_DIR.is_dir() else {}

    # ---- life cycle (called from the daemon's thread) ---------------------------------------------------------
    @property
    def url(self) -> str:
        host = self.web.bind if ":" not in self.web.bind else f"[{self.web.bind}]"
        return f"http://{host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> bool:
        """Bind and serve in a daemon thread. False (and ``error`` set, logged) when it could not bind: the
        station runs on without its web app."""
        self._thread = threading.Thread(target=self._run, name="specmon-web", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            self.error = f"did not start within {timeout_s:g} s"
        if self.error:
            log.error("web app on %s:%s not started: %s; the station runs without it", self.web.bind,
                      self.web.port, self.error)
            return False
        log.info("web app on %s", self.url)
        return True

    def stop(self, timeout_s: float = 3.0) -> None:
        loop = self._loop
        if loop is not None and self._stopping is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._stopping.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(timeout_s)
        self.hub.listener = None
        self._db.shutdown(wait=False, cancel_futures=True)
        self._work.shutdown(wait=False, cancel_futures=True)
        self.bundles.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except Exception as exc:  # binding failed, or a bug: never into the station
            self.error = self.error or f"{type(exc).__name__}: {exc}"
            log.debug("web server ended", exc_info=True)
        finally:
            self._ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
            self._reader.close()

    async def _serve(self) -> None:
        from aiohttp import web

        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        app = self.app()
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.web.bind, self.web.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            self.error = f"cannot listen on {self.web.bind}:{self.web.port}: {exc.strerror or exc}"
            await runner.cleanup()
            return
        sockets = getattr(site._server, "sockets", None) or ()
        self.port = sockets[0].getsockname()[1] if sockets else self.web.port
        loop = asyncio.get_running_loop()
        self.hub.listener = lambda: loop.call_soon_threadsafe(self._wake)
        self._ready.set()
        await self._stopping.wait()
        self.hub.listener = None
        for ws in list(self.clients):
            await ws.close()
        await runner.cleanup()

    def _wake(self) -> None:
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    async def _in_db(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def _in_work(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._work, fn, *args)

    # ---- the application --------------------------------------------------------------------------------------
    def app(self):
        from aiohttp import web

        app = web.Application(middlewares=[self._auth_middleware, self._headers_middleware])
        r = app.router
        r.add_get("/", self.page_now)
        r.add_get("/health", self.page_health)
        r.add_get("/cases", self.page_cases)
        r.add_get("/cases/", self.page_cases)
        r.add_get("/cases/{case_id}", self.page_case)
        r.add_get("/cases/{case_id}/files/{name}", self.evidence_file)
        r.add_get("/cases/{case_id}/audio.wav", self.audio)
        r.add_get("/cases/{case_id}/spectrogram.png", self.spectrogram)
        r.add_get("/cases/{case_id}/bundle.zip", self.bundle)
        r.add_get("/evidence/{case_id}", self.evidence_redirect)
        r.add_get("/evidence/{case_id}/", self.evidence_redirect)
        r.add_get("/static/{name}", self.static)
        r.add_get("/api/health", self.api_health)
        r.add_get("/api/bands", self.api_bands)
        r.add_get("/api/bands/{band}/spectrum", self.api_spectrum)
        r.add_get("/api/cases", self.api_cases)
        r.add_get("/api/cases/{case_id}", self.api_case)
        r.add_get("/api/labels", self.api_labels)
        r.add_get("/metrics", self.metrics)
        r.add_get("/ws", self.websocket)
        return app

    # ---- middleware -------------------------------------------------------------------------------------------
    @property
    def _auth_middleware(self):
        from aiohttp import web

        token = self.web.token

        @web.middleware
        async def auth(request, handler):
            if token is None:
                return await handler(request)
            q = request.query.get("token")
            if q is not None and _same(q, token):
                if request.method == "GET" and _is_page(request.path):
                    # a link with ?token= from a browser: keep it in a cookie, drop it from the address bar
                    raise _redirect_with_cookie(request, token)
                return await handler(request)
            supplied = None
            h = request.headers.get("Authorization", "")
            if h[:7].lower() == "bearer ":
                supplied = h[7:].strip()
            elif COOKIE_TOKEN in request.cookies:
                supplied = request.cookies[COOKIE_TOKEN]
            if supplied is not None and _same(supplied, token):
                return await handler(request)
            return web.json_response({"error": "a bearer token is required (Authorization: Bearer TOKEN)"},
                                     status=401, headers={"WWW-Authenticate": 'Bearer realm="specmon"'})

        return auth

    @property
    def _headers_middleware(self):
        from aiohttp import web

        @web.middleware
        async def headers(request, handler):
            try:
                resp = await handler(request)
            except web.HTTPException as exc:
                if exc.status == 404 and request.path.startswith("/api/"):
                    resp = web.json_response({"error": exc.reason if exc.text is None else exc.text}, status=404)
                else:
                    raise
            if not getattr(resp, "prepared", False):
                for k, v in SECURITY_HEADERS.items():
                    resp.headers.setdefault(k, v)
            return resp

        return headers

    # ---- pages ------------------------------------------------------------------------------------------------
    def _lang(self, request) -> str:
        q = request.query.get("lang")
        if q in LANGS:
            return q
        c = request.cookies.get(COOKIE_LANG)
        if c in LANGS:
            return c
        accept = request.headers.get("Accept-Language", "").lower()
        if accept.startswith("vi"):
            return "vi"
        return self.web.lang

    def _page(self, request, page: str, case_id: str = ""):
        from aiohttp import web

        lang = self._lang(request)
        tpl = (STATIC_DIR / "page.html").read_text(encoding="utf-8")
        labels = labels_for(lang)
        data = {"page": page, "lang": lang, "case_id": case_id, "station": self.station.id,
                "station_name": self.station.name, "labels": labels}
        body = (tpl.replace("__LANG__", lang)
                .replace("__TITLE__", html.escape(f"{labels['web_' + page]} · specmon {self.station.id}"))
                .replace("__PAGE__", page)
                .replace("__DATA__", _script_json(data)))
        resp = web.Response(text=body, content_type="text/html", charset="utf-8")
        if request.query.get("lang") in LANGS:
            resp.set_cookie(COOKIE_LANG, lang, max_age=365 * 86400, samesite="Strict", httponly=True)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    async def page_now(self, request):
        return self._page(request, "now")

    async def page_health(self, request):
        return self._page(request, "health")

    async def page_cases(self, request):
        return self._page(request, "cases")

    async def page_case(self, request):
        from aiohttp import web

        case_id = request.match_info["case_id"]
        if not await self._in_db(self._reader.exists, case_id):
            raise web.HTTPNotFound(text=f"no case {case_id!r}")
        return self._page(request, "case", case_id)

    async def evidence_redirect(self, request):
        from aiohttp import web

        case_id = request.match_info["case_id"]
        if not await self._in_db(self._reader.exists, case_id):
            raise web.HTTPNotFound(text=f"no case {case_id!r}")
        raise web.HTTPFound(f"/cases/{case_id}")

    async def static(self, request):
        from aiohttp import web

        path = self._static.get(request.match_info["name"])
        if path is None or path.name == "page.html":
            raise web.HTTPNotFound()
        resp = web.FileResponse(path)
        resp.headers["Cache-Control"] = "no-cache"
        return resp

    # ---- JSON ---------------------------------------------------------------------------------------------------
    def _band_list(self) -> list[tuple[str, float, float]]:
        try:
            return list(self._bands())
        except Exception:
            return [(n, s.f_lo_hz, s.f_hi_hz) for n, s in self.hub.bands().items()]

    def health_json(self) -> dict:
        health, receivers, age = self.hub.health()
        snaps = self.hub.bands()
        bands = []
        for name, f_lo, f_hi in self._band_list():
            s = snaps.get(name)
            bands.append({"band": name, "f_lo_hz": f_lo, "f_hi_hz": f_hi,
                          "sweep": s.sweep_no if s else 0, "time_utc": _iso(s.time_utc) if s else None,
                          "duration_s": round(s.duration_s, 3) if s else None,
                          "revisit_s": None if s is None or s.revisit_s is None else round(s.revisit_s, 2),
                          "emissions": len(s.emissions) if s else None,
                          "violations": sum(1 for e in s.emissions if e.klass not in _NOT_VIOLATIONS) if s else None})
        try:
            du = shutil.disk_usage(self.data_dir)
            disk = {"total_bytes": du.total, "free_bytes": du.free}
        except OSError:
            disk = None
        try:
            db_bytes = self.db_path.stat().st_size
        except OSError:
            db_bytes = None
        from station.web.metrics import clock_synchronised

        return {
            "station": {"id": self.station.id, "name": self.station.name, "latitude": self.station.latitude,
                        "longitude": self.station.longitude, "altitude_m": self.station.altitude_m},
            "time_utc": _iso(datetime.now(timezone.utc)),
            "started_utc": _iso(self.hub.started_utc),
            "uptime_s": _round(health.get("uptime_s"), 1),
            "health_age_s": round(age, 1) if age != float("inf") else None,
            "receivers": list(receivers),
            "store": {"state": health.get("store_state"), "path": str(self.db_path), "size_bytes": db_bytes,
                      "disk": disk},
            "spool": {k: health.get(k) for k in ("spool_depth", "spool_age_s", "spool_dead_letters", "spool_thinned")},
            "sinks": health.get("sink_state"),
            "cpu_pct": _round(health.get("cpu_pct"), 1),
            "temperature_c": _round(health.get("temperature_c"), 1),
            "clock": {"synchronised": clock_synchronised(), "source": "adjtimex"},
            "bands": bands,
            "web": {"clients": len(self.clients)},
            "health": {k: v for k, v in health.items() if isinstance(v, (int, float, str, type(None)))},
        }

    async def api_health(self, request):
        from aiohttp import web

        return web.json_response(self.health_json())

    async def api_bands(self, request):
        from aiohttp import web

        snaps = self.hub.bands()
        return web.json_response({"bands": [
            {"band": n, "f_lo_hz": lo, "f_hi_hz": hi, "seq": snaps[n].seq if n in snaps else 0,
             "url": f"/api/bands/{n}/spectrum"} for n, lo, hi in self._band_list()]})

    async def api_spectrum(self, request):
        from aiohttp import web

        name = request.match_info["band"]
        known = {n: (lo, hi) for n, lo, hi in self._band_list()}
        snap = self.hub.band(name)
        if name not in known and snap is None:
            raise web.HTTPNotFound(text=f"no band {name!r}")
        if snap is None:
            lo, hi = known[name]
            return web.json_response({"band": name, "seq": 0, "pending": True, "f_lo_hz": lo, "f_hi_hz": hi,
                                      "levels": [], "emissions": []})
        wf = self.hub.waterfall(name) if request.query.get("waterfall") in ("1", "true") else None
        return web.json_response(snap.to_json(waterfall=wf))

    async def api_cases(self, request):
        from aiohttp import web

        from station.compliance.cases import STATES

        q = request.query
        state = q.get("state") or None
        if state is not None and state != "open" and state not in STATES:
            raise web.HTTPBadRequest(text=f"unknown state {state!r}")
        since = None
        if q.get("since"):
            try:
                since = datetime.fromisoformat(q["since"].replace("Z", "+00:00"))
                if since.tzinfo is None:
                    since = since.replace(tzinfo=timezone.utc)
            except ValueError:
                raise web.HTTPBadRequest(text=f"since={q['since']!r} is not an ISO 8601 time") from None
        try:
            limit = max(1, min(5000, int(q.get("limit", "500"))))
        except ValueError:
            raise web.HTTPBadRequest(text="limit must be a whole number") from None
        cases = await self._in_db(lambda: self._reader.cases(state=state, klass=q.get("class") or None,
                                                             since=since, query=q.get("q", ""), limit=limit))
        return web.json_response({"cases": cases, "count": len(cases)})

    async def api_case(self, request):
        from aiohttp import web

        case_id = request.match_info["case_id"]
        detail = (await self._in_db(self._reader.detail_json, case_id, self._lang(request))
                  if CASE_ID.fullmatch(case_id) else None)
        if detail is None:
            raise web.HTTPNotFound(text=f"no case {case_id!r}")
        return web.json_response(detail)

    async def api_labels(self, request):
        from aiohttp import web

        return web.json_response(labels_for(self._lang(request)))

    async def metrics(self, request):
        from aiohttp import web

        from station.web.metrics import clock_synchronised, render

        health, receivers, age = self.hub.health()
        counts = await self._in_db(self._reader.counts)
        text = render(station=self.station.id, health=health, health_age_s=age, receivers=receivers,
                      bands=self.hub.bands(), case_counts=counts, web_clients=len(self.clients),
                      clock_synced=clock_synchronised())
        return web.Response(body=text.encode("utf-8"),
                            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    # ---- evidence ---------------------------------------------------------------------------------------------
    async def evidence_file(self, request):
        from aiohttp import web

        case_id, name = request.match_info["case_id"], request.match_info["name"]
        link = await self._in_db(self._reader.evidence_file, case_id, name)
        if link is None:
            raise web.HTTPNotFound(text=f"no evidence file {name!r} for case {case_id!r}")
        ctype = {".png": "image/png", ".wav": "audio/wav", ".json": "application/json",
                 ".sigmf-meta": "application/json"}.get(link.path.suffix,
                                                        mimetypes.guess_type(link.name)[0] or "application/octet-stream")
        resp = web.FileResponse(link.path, headers={"Content-Type": ctype})
        if ctype not in ("image/png", "audio/wav"):
            resp.headers["Content-Disposition"] = f'attachment; filename="{case_id}-{link.name}"'
        return resp

    def _audio(self, case_id: str):
        """(Audio, key) of the case, demodulated once per recording and kept (one case at a time)."""
        detail = self._reader.detail(case_id)
        if detail is None:
            return None
        meta = self._reader.iq_meta(detail)
        if meta is None:
            return None
        key = ("audio", case_id, str(meta))
        if key not in self._products:
            from station.web.downloads import case_audio

            c = detail.case
            designators = tuple(r.get("designator") for r in c.register if r.get("designator"))
            self._keep(key, case_audio(meta, c.center_hz, c.bandwidth_hz, designators))
        return self._products[key]

    def _keep(self, key, value) -> None:
        """Made products (audio, spectrogram PNG) of the last few cases, so a page reload does not redo them."""
        self._products[key] = value
        while len(self._products) > 6:
            self._products.pop(next(iter(self._products)))

    async def audio(self, request):
        from aiohttp import web

        case_id = request.match_info["case_id"]
        a = await self._in_work(self._audio, case_id) if CASE_ID.fullmatch(case_id) else None
        if a is None:
            raise web.HTTPNotFound(text=f"no IQ recording for case {case_id!r}")
        if a.wav is None:
            raise web.HTTPNotFound(text=f"no audio for case {case_id}: {a.why}")
        return web.Response(body=a.wav, headers={"Content-Type": "audio/wav", "Cache-Control": "no-cache",
                                                 "Content-Disposition": f'inline; filename="{case_id}.wav"'})

    def _spectrogram(self, case_id: str) -> bytes | None:
        detail = self._reader.detail(case_id)
        meta = self._reader.iq_meta(detail) if detail is not None else None
        if meta is None:
            return None
        key = ("spectrogram", case_id, str(meta))
        if key not in self._products:
            from station.childproc import call_in_child
            from station.web.downloads import spectrogram_png

            c = detail.case
            self._keep(key, call_in_child(spectrogram_png, meta, case_id, c.klass.value, c.center_hz, c.bandwidth_hz,
                                          timeout_s=60.0))
        return self._products[key]

    async def spectrogram(self, request):
        from aiohttp import web

        from station.childproc import ChildFailed

        case_id = request.match_info["case_id"]
        try:
            png = await self._in_work(self._spectrogram, case_id) if CASE_ID.fullmatch(case_id) else None
        except (ChildFailed, ValueError, OSError) as exc:
            raise web.HTTPInternalServerError(text=f"spectrogram of {case_id}: {exc}") from None
        if png is None:
            raise web.HTTPNotFound(text=f"no IQ recording for case {case_id!r}")
        return web.Response(body=png, headers={"Content-Type": "image/png", "Cache-Control": "no-cache"})

    def _bundle(self, case_id: str, lang: str):
        """(download name, file or bytes) of the case's bundle: the one built before while the case is unchanged
        (:class:`BundleCache`), else a new one built in a child process and kept."""
        detail = self._reader.detail(case_id)
        if detail is None:
            return None
        from station.childproc import call_in_child
        from station.web.downloads import bundle_key, bundle_zip

        key = bundle_key(case_id, lang, self._reader.store.chain_head(case_id),
                         [lk.path for lk in self._reader.evidence(detail)])
        hit = self.bundles.get(key)
        if hit is not None:
            return hit
        name, data = call_in_child(bundle_zip, self.db_path, case_id, lang, timeout_s=120.0)
        self.bundles.drop_case(case_id, lang)  # an older state of this case: never served again
        path = self.bundles.put(key, name, data)
        return name, (path if path is not None else data)

    async def bundle(self, request):
        from aiohttp import web

        from station.childproc import ChildFailed
        from station.errors import SpecmonError

        case_id = request.match_info["case_id"]
        try:
            made = await self._in_work(self._bundle, case_id, self._lang(request)) if CASE_ID.fullmatch(case_id) \
                else None
        except SpecmonError as exc:  # a case failing verification: no bundle (the export refuses it too)
            raise web.HTTPConflict(text=str(exc)) from None
        except (ChildFailed, OSError) as exc:
            raise web.HTTPInternalServerError(text=f"bundle of {case_id}: {exc}") from None
        if made is None:
            raise web.HTTPNotFound(text=f"no case {case_id!r}")
        name, body = made
        headers = {"Content-Type": "application/zip", "Content-Disposition": f'attachment; filename="{name}"'}
        if isinstance(body, Path):
            return web.FileResponse(body, headers=headers)
        return web.Response(body=body, headers=headers)

    # ---- live ----------------------------------------------------------------------------------------------------
    def _band_message(self, snap, *, with_waterfall: bool) -> str:
        if with_waterfall:
            return json.dumps({"type": "spectrum", **snap.to_json(waterfall=self.hub.waterfall(snap.band))})
        cached = self._encoded.get(snap.band)
        if cached is None or cached[0] != snap.seq:
            cached = (snap.seq, json.dumps({"type": "spectrum", **snap.to_json()}))
            self._encoded[snap.band] = cached
        return cached[1]

    async def websocket(self, request):
        from aiohttp import WSMsgType, web

        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=4096)
        await ws.prepare(request)
        self.clients.add(ws)

        async def drain():
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break

        reader = asyncio.ensure_future(drain())
        sent: dict[str, int] = {}
        health_seq = -1
        try:
            await ws.send_str(json.dumps({"type": "hello", "station": self.station.id,
                                          "bands": [{"band": n, "f_lo_hz": lo, "f_hi_hz": hi}
                                                    for n, lo, hi in self._band_list()]}))
            while not ws.closed and not reader.done():
                changed = self._changed
                for name, snap in sorted(self.hub.bands().items()):
                    if sent.get(name) != snap.seq:
                        msg = self._band_message(snap, with_waterfall=name not in sent)
                        await asyncio.wait_for(ws.send_str(msg), SEND_TIMEOUT_S)
                        sent[name] = snap.seq
                if self.hub.health_seq != health_seq:
                    health_seq = self.hub.health_seq
                    await asyncio.wait_for(ws.send_str(json.dumps({"type": "health", **self.health_json()})),
                                           SEND_TIMEOUT_S)
                waiter = asyncio.ensure_future(changed.wait())
                await asyncio.wait({waiter, reader}, timeout=30.0, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
        except (asyncio.TimeoutError, ConnectionError, RuntimeError) as exc:
            log.debug("web: client dropped: %s", exc)
        finally:
            self.clients.discard(ws)
            reader.cancel()
            if not ws.closed:
                await ws.close()
        return ws


_NOT_VIOLATIONS = ("licensed", "exempt", "unknown")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _is_page(path: str) -> bool:
    return not (path.startswith("/api/") or path in ("/metrics", "/ws") or path.startswith("/static/"))


def _redirect_with_cookie(request, token: str):
    from aiohttp import web

    query = {k: v for k, v in request.query.items() if k != "token"}
    url = request.rel_url.with_query(query)
    exc = web.HTTPFound(str(url))
    exc.set_cookie(COOKIE_TOKEN, token, httponly=True, samesite="Strict", max_age=30 * 86400)
    return exc


def _script_json(data: dict) -> str:
    """JSON for a <script type="application/json"> block: '<', '>' and '&' escaped so no text can end it."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(x, nd):
    try:
        return None if x is None else round(float(x), nd)
    except (TypeError, ValueError):
        return None


def start_web(config, hub: LiveHub, bands=None) -> WebServer | None:
    """Start the web app of ``config`` (``[web] enabled``) serving ``hub``; None when disabled or it could not
    start (logged; the station runs on)."""
    if not config.web.enabled:
        return None
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        log.error("web app not started: the Python package aiohttp is not installed (pip install aiohttp)")
        return None
    server = WebServer(config.web, hub, station=config.station, db_path=config.store.db_path,
                       data_dir=config.store.data_dir,
                       bands=bands or (lambda: [(b.name, b.f_lo_hz, b.f_hi_hz) for b in config.bands]))
    t0 = time.monotonic()
    ok = server.start()
    log.debug("web app start took %.2f s", time.monotonic() - t0)
    return server if ok else None
