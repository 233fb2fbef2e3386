"""The web app in a real browser (Debian's chromium driven by playwright): a station runs on the simulated
city; the Now page's spectrum updates live, Health and Cases render, a case page shows its evidence, its
<audio> plays the demodulated IQ, the bundle downloads; Vietnamese labels; a phone-sized screen.

Screenshots go to ``$SPECMON_WEB_SCREENSHOTS`` (default: the test's tmp dir) for a person to look at.
Skipped, saying why, only when chromium or playwright is not installed (``./run test`` installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.web_helpers import Station

CHROMIUM = next((p for p in (os.environ.get("SPECMON_CHROMIUM"), shutil.which("chromium"),
                             shutil.which("chromium-browser")) if p), None)
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; ./run test "
                                                "installs it)"),
    pytest.mark.skipif(sync_playwright is None, reason="playwright is not installed (pip install playwright)"),
]


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    st = Station(tmp_path_factory.mktemp("web-station"))
    try:
        st.wait(lambda: all(b["sweep"] >= 2 for b in st.json("/api/health")["bands"]), 180, "two sweeps of each band")
        yield st
    finally:
        st.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = Path(os.environ.get("SPECMON_WEB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required",
                                                               "--no-sandbox"])
        yield b
        b.close()


def _page(browser, **kw):
    ctx = browser.new_context(accept_downloads=True, bypass_csp=True, **kw)  # lets the test evaluate JS
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return ctx, page, errors


def test_now_page_updates_live_and_marks_emissions(station, browser, shots):
    ctx, page, errors = _page(browser, viewport={"width": 1280, "height": 1000})
    page.goto(station.url + "/")
    page.wait_for_selector("#band-fm[data-sweep]", timeout=30_000)
    first = int(page.get_attribute("#band-fm", "data-seq"))
    # the spectrum is pushed over the WebSocket: the band's sequence number goes up without a reload
    page.wait_for_function(f"Number(document.querySelector('#band-fm').dataset.seq) > {first}", timeout=30_000)
    assert "live" in page.inner_text("#conn")
    # hover the pirate's emission: the tooltip names its class, frequency, bandwidth and licence
    pos = page.evaluate("""() => {
        const v = bands['fm'], s = v.snap, e = s.emissions.find((m) => m.class === 'unlicensed');
        const r = v.spec.getBoundingClientRect(), g = v.geom;
        return e && {x: r.left + (g.padL + (e.center_hz - s.f_lo_hz) / (s.f_hi_hz - s.f_lo_hz) * g.pw) / g.dpr,
                     y: r.top + 40, mhz: e.center_hz / 1e6};
    }""")
    assert pos, "the fm band's pirate (106.9 MHz, unlicensed) is marked"
    assert abs(pos["mhz"] - 106.9) < 0.05
    page.mouse.move(pos["x"], pos["y"])
    tip = page.inner_text("#tip")
    shown = re.search(r"(\d+\.\d+) MHz", tip)
    assert "unlicensed" in tip and "kHz" in tip and shown and abs(float(shown.group(1)) - 106.9) < 0.01, tip
    # the level at the antenna port with its U95 and the calibration state (the nominal R820T profile, 30 dB gain)
    level = re.search(r"Level at antenna port: (-\d+\.\d) dBm ± (\d+\.\d) dB", tip)
    assert level and -120 < float(level.group(1)) < -20 and 0 < float(level.group(2)) < 20, tip
    assert "Calibration: nominal (uncalibrated)" in tip and "null" not in tip and "undefined" not in tip, tip
    # the canvas is drawn (not blank): some pixels differ from the background
    drawn = page.evaluate("""() => { const c = bands['fm'].spec, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 100) n++; return n; }""")
    assert drawn > 500
    page.screenshot(path=str(shots / "now.png"), full_page=True)
    assert not errors, errors
    ctx.close()


def test_health_page(station, browser, shots):
    ctx, page, errors = _page(browser, viewport={"width": 1280, "height": 900})
    page.goto(station.url + "/health")
    page.wait_for_selector("#receivers-card td", timeout=15_000)
    text = page.inner_text("main")
    assert "sim://city" in text and "ok" in text
    assert "Uptime" in text and "Clock synchronisation" in text
    page.screenshot(path=str(shots / "health.png"), full_page=True)
    assert not errors, errors
    ctx.close()


def test_case_page_evidence_audio_and_bundle(station, browser, shots, tmp_path):
    case_id = station.wait_for_case_with_evidence()
    ctx, page, errors = _page(browser, viewport={"width": 1280, "height": 1000})
    page.goto(station.url + "/cases")
    page.wait_for_selector("#cases-table tbody tr", timeout=15_000)
    # a desktop shows every column; each case's level in dBm +/- U95 with its calibration state
    assert page.get_attribute("#cases-table", "data-columns") == "1,2,3,4,5,6,7,8,9,10"
    row = page.inner_text(f"#cases-table tbody tr:has(a[href='/cases/{case_id}'])")
    assert re.search(r"-\d+\.\d dBm ± \d+\.\d dB", row) and "nominal (uncalibrated)" in row, row
    page.screenshot(path=str(shots / "cases.png"), full_page=True)
    page.click(f"a[href='/cases/{case_id}']")
    page.wait_for_url(f"**/cases/{case_id}")
    page.wait_for_selector("#spectrum-img", timeout=15_000)
    page.wait_for_function("document.getElementById('spectrum-img').naturalWidth > 0", timeout=15_000)
    assert "history is intact" in page.inner_text("#verification")
    assert re.fullmatch(r"-\d+\.\d dBm ± \d+\.\d dB", page.inner_text("#case-level"))
    assert "nominal (uncalibrated)" in page.inner_text("main")
    page.wait_for_function("document.getElementById('spectrogram-img').naturalWidth > 0", timeout=60_000)
    # the <audio> element loads the demodulated IQ and plays
    played = page.evaluate("""async () => {
        const a = document.getElementById('evidence-audio');
        a.preload = 'auto'; a.load();
        await a.play();
        await new Promise((r) => setTimeout(r, 300));
        return {duration: a.duration, time: a.currentTime, paused: a.paused, error: a.error && a.error.code};
    }""")
    assert played["error"] is None and played["duration"] > 0.2, played
    assert played["time"] > 0 or played["paused"] is False, played
    with page.expect_download() as dl:
        page.click("#bundle-link")
    path = tmp_path / "bundle.zip"
    dl.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    # the signed bundle of `specmon violations export --format bundle`
    assert {f"{case_id}/manifest.json", f"{case_id}/manifest.sig", f"{case_id}/spectrum.png",
            f"{case_id}/report.pdf"} <= set(names), names
    page.screenshot(path=str(shots / "case.png"), full_page=True)
    assert not errors, errors
    ctx.close()


def test_vietnamese_on_a_phone(station, browser, shots):
    ctx, page, errors = _page(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                              is_mobile=True, has_touch=True)
    page.goto(station.url + "/cases?lang=vi")
    page.wait_for_selector("#case-list > *", timeout=15_000)
    assert page.inner_text("nav a[data-nav='cases']") == "Vụ việc"
    page.wait_for_selector("#cases-table tbody tr", timeout=15_000)
    # columns chosen by width: the key ones (id, class, MHz, state) first, and nothing cut at the right edge
    shown = page.get_attribute("#cases-table", "data-columns").split(",")
    assert shown[:4] == ["1", "2", "3", "4"] and len(shown) < 10, shown
    fits = page.evaluate("""() => { const t = document.getElementById('cases-table'), b = t.parentElement;
        return {table: t.scrollWidth, box: b.clientWidth, page: document.documentElement.scrollWidth}; }""")
    assert fits["table"] <= fits["box"] and fits["page"] <= 390, fits
    heads = page.inner_text("#cases-table thead")
    assert "MHz" in heads and "Trạng thái" in heads or "trạng thái" in heads.lower(), heads
    page.screenshot(path=str(shots / "cases-vi-phone.png"), full_page=True)
    page.goto(station.url + "/")  # the language stays (cookie)
    page.wait_for_selector("#band-vhf[data-sweep]", timeout=30_000)
    assert page.inner_text("h1") == "Hiện tại"
    # nothing wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "now-vi-phone.png"), full_page=True)
    assert not errors, errors
    ctx.close()
