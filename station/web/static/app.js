// specmon web app: plain JavaScript, no framework, no CDN (stations are offline). Read-only.
// Pages: now (live spectrum + waterfall over /ws), health (/api/health), cases (/api/cases), case (/api/cases/ID).
"use strict";

const DATA = JSON.parse(document.getElementById("specmon-data").textContent);
const L = DATA.labels;
const CLASS_COLOURS = {
  licensed: "#56a64b", exempt: "#3274d9", unknown: "#8e8e8e", unlicensed: "#e02f44", off_frequency: "#ff9830",
  excess_bandwidth: "#ff9830", expired: "#e02f44", not_yet_valid: "#ff9830",
};
const STATE_COLOURS = { new: "#e02f44", confirmed: "#e02f44", exported: "#c46a00", closed: "#3d7a35" };
const CLASSES = ["unlicensed", "off_frequency", "excess_bandwidth", "expired", "not_yet_valid"];
const STATES = ["new", "confirmed", "exported", "closed"];

// ---- small helpers -------------------------------------------------------------------------------------------
function t(key) { return L[key] !== undefined ? L[key] : key; }
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function mhz(hz, digits = 6) { return hz === null || hz === undefined ? "–" : (hz / 1e6).toFixed(digits); }
function khz(hz, digits = 1) { return hz === null || hz === undefined ? "–" : (hz / 1e3).toFixed(digits); }
function num(x, digits = 1, unit = "") { return x === null || x === undefined ? "–" : x.toFixed(digits) + (unit ? " " + unit : ""); }
// the level at the antenna port and its calibration, in the reports' words
function calText(s) {
  if (!s) return "–";
  return s.startsWith("calibrated on ") ? t("calibrated on") + " " + s.slice(14) : t(s);
}
function dbm(x) {
  if (x.power_dbm === null || x.power_dbm === undefined) return x.calibration ? t("level_unknown") : "–";
  return `${x.power_dbm.toFixed(1)} dBm ± ${num(x.power_dbm_u95, 1)} dB`;
}
function field(x) {
  return x.field_dbuv_m === null || x.field_dbuv_m === undefined ? null
    : `${x.field_dbuv_m.toFixed(1)} dBµV/m ± ${num(x.field_dbuv_m_u95, 1)} dB`;
}
function utc(s) { return s ? s.replace("T", " ").replace("Z", "") : "–"; }
function duration(s) {
  if (s === null || s === undefined) return "–";
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + " d " : "") + (d || h ? h + " h " : "") + m + " min " + Math.floor(s % 60) + " s";
}
function bytes(n) {
  if (n === null || n === undefined) return "–";
  const u = ["B", "kB", "MB", "GB", "TB"]; let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return n.toFixed(i ? 1 : 0) + " " + u[i];
}
function badge(value, colours) {
  return el("span", { class: "badge", style: "background:" + (colours[value] || "#555") }, t(value));
}
async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!r.ok) { const e = new Error(r.status + " " + r.statusText); e.status = r.status; throw e; }
  return r.json();
}
function setConn(ok) {
  const c = document.getElementById("conn");
  c.className = "conn " + (ok ? "live" : "off");
  c.textContent = ok ? "● " + t("web_live") : t("web_offline");
}

// ---- chrome: nav, language, labels ------------------------------------------------------------------------------
function chrome() {
  document.querySelectorAll("[data-label]").forEach((e) => { e.textContent = t(e.dataset.label); });
  const nav = DATA.page === "case" ? "cases" : DATA.page;
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
  document.getElementById("station").textContent = DATA.station_name || DATA.station;
  const other = DATA.lang === "vi" ? "en" : "vi";
  const sw = document.getElementById("langswitch");
  const u = new URL(location.href); u.searchParams.set("lang", other);
  sw.href = u.pathname + u.search;
}

// ---- Now: live spectrum and waterfall -------------------------------------------------------------------------------
const WF_ROWS = 120;
const bands = {};  // name -> view

// colour map for the waterfall (dark blue -> cyan -> yellow -> red), 256 entries of [r, g, b]
const CMAP = (() => {
  const stops = [[0, 0, 0, 24], [0.25, 16, 40, 140], [0.5, 20, 170, 200], [0.75, 250, 230, 40], [1, 230, 30, 20]];
  const out = [];
  for (let i = 0; i < 256; i++) {
    const x = i / 255; let k = 0;
    while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
    const [x0, r0, g0, b0] = stops[k], [x1, r1, g1, b1] = stops[k + 1];
    const f = (x - x0) / (x1 - x0);
    out.push([r0 + f * (r1 - r0), g0 + f * (g1 - g0), b0 + f * (b1 - b0)].map(Math.round));
  }
  return out;
})();

function bandView(b) {
  if (bands[b.band]) return bands[b.band];
  const spec = el("canvas", { class: "spec", "aria-label": b.band + " spectrum" });
  const wf = el("canvas", { class: "wf", "aria-label": b.band + " " + t("web_waterfall") });
  const info = el("span", { class: "muted" }, t("web_waiting"));
  const card = el("section", { class: "card", id: "band-" + b.band, "data-band": b.band, "data-seq": "0" },
    el("h2", {}, el("span", {}, b.band), el("span", { class: "muted" }, mhz(b.f_lo_hz, 3) + "–" + mhz(b.f_hi_hz, 3) + " MHz"), info),
    spec, wf);
  document.getElementById("bands").append(card);
  const v = { name: b.band, card, spec, wf, info, snap: null, lo: null, hi: null, wfImg: null, wfWidth: 0, f_lo: b.f_lo_hz, f_hi: b.f_hi_hz };
  bands[b.band] = v;
  spec.addEventListener("mousemove", (ev) => hover(v, ev));
  spec.addEventListener("mouseleave", () => { document.getElementById("tip").hidden = true; });
  spec.addEventListener("click", (ev) => hover(v, ev));
  return v;
}

function fitCanvas(c) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(100, Math.round(c.clientWidth * dpr)), h = Math.max(50, Math.round(c.clientHeight * dpr));
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  return [w, h, dpr];
}

function levelRange(v, levels) {
  const finite = levels.filter((x) => x !== null && isFinite(x)).slice().sort((a, b) => a - b);
  if (!finite.length) return;
  const lo = finite[Math.floor(finite.length * 0.02)] - 6, hi = finite[finite.length - 1] + 6;
  // expand at once, shrink slowly: the axis does not jump from sweep to sweep
  v.lo = v.lo === null ? lo : Math.min(lo, v.lo * 0.8 + lo * 0.2);
  v.hi = v.hi === null ? hi : Math.max(hi, v.hi * 0.8 + hi * 0.2);
}

function xOf(v, hz, w) { return (hz - v.snap.f_lo_hz) / (v.snap.f_hi_hz - v.snap.f_lo_hz) * w; }

function niceStep(span, n) {
  const raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function drawSpectrum(v) {
  const s = v.snap; if (!s || !s.levels.length) return;
  const c = v.spec, [w, h, dpr] = fitCanvas(c), g = c.getContext("2d");
  const padL = 34 * dpr, padB = 16 * dpr, pw = w - padL, ph = h - padB;
  g.clearRect(0, 0, w, h);
  g.font = (10 * dpr) + "px sans-serif"; g.fillStyle = "#9aa4b1"; g.strokeStyle = "#2c333d"; g.lineWidth = 1;
  const lo = v.lo, hi = v.hi, yOf = (db) => ph - (db - lo) / (hi - lo) * ph;
  const dbStep = niceStep(hi - lo, 4);
  for (let d = Math.ceil(lo / dbStep) * dbStep; d <= hi; d += dbStep) {
    const y = yOf(d); g.beginPath(); g.moveTo(padL, y); g.lineTo(w, y); g.stroke();
    g.fillText(d.toFixed(0), 2, y + 3 * dpr);
  }
  const span = s.f_hi_hz - s.f_lo_hz, fStep = niceStep(span, Math.max(2, Math.floor(pw / (90 * dpr))));
  for (let f = Math.ceil(s.f_lo_hz / fStep) * fStep; f <= s.f_hi_hz; f += fStep) {
    const x = padL + (f - s.f_lo_hz) / span * pw; g.beginPath(); g.moveTo(x, 0); g.lineTo(x, ph); g.stroke();
    g.fillText((f / 1e6).toFixed(fStep < 1e5 ? 3 : fStep < 1e6 ? 2 : 1), x + 2 * dpr, h - 4 * dpr);
  }
  // emissions: their occupied band shaded in their class colour, a bar on top
  for (const e of s.emissions) {
    const x0 = padL + (e.f_lo_hz - s.f_lo_hz) / span * pw, x1 = padL + (e.f_hi_hz - s.f_lo_hz) / span * pw;
    const col = CLASS_COLOURS[e.class] || "#888", wd = Math.max(2 * dpr, x1 - x0);
    g.globalAlpha = 0.28; g.fillStyle = col; g.fillRect(x0, 0, wd, ph);
    g.globalAlpha = 1; g.fillRect(x0, 0, wd, 4 * dpr);
  }
  g.strokeStyle = "#e6e9ee"; g.lineWidth = Math.max(1, dpr); g.beginPath();
  const n = s.levels.length;
  for (let i = 0; i < n; i++) {
    const x = padL + ((s.f0_hz + i * s.df_hz) - s.f_lo_hz) / span * pw;
    const y = Math.max(0, Math.min(ph, yOf(s.levels[i] === null ? lo : s.levels[i])));
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  }
  g.stroke();
  if (s.noise_dbfs_hz !== null) {
    g.setLineDash([4 * dpr, 4 * dpr]); g.strokeStyle = "#7cb7ff88"; g.beginPath();
    g.moveTo(padL, yOf(s.noise_dbfs_hz)); g.lineTo(w, yOf(s.noise_dbfs_hz)); g.stroke(); g.setLineDash([]);
  }
  v.geom = { padL, pw, dpr };
}

function wfRow(v, levels) {
  const n = levels.length;
  if (!v.wfImg || v.wfWidth !== n) {
    v.wfCanvas = document.createElement("canvas"); v.wfCanvas.width = n; v.wfCanvas.height = WF_ROWS;
    v.wfCtx = v.wfCanvas.getContext("2d"); v.wfCtx.fillStyle = "#000"; v.wfCtx.fillRect(0, 0, n, WF_ROWS);
    v.wfImg = v.wfCtx.createImageData(n, 1); v.wfWidth = n;
  }
  // scroll down one row, the newest sweep on top
  v.wfCtx.drawImage(v.wfCanvas, 0, 0, n, WF_ROWS - 1, 0, 1, n, WF_ROWS - 1);
  const lo = v.lo, hi = v.hi, d = v.wfImg.data;
  for (let i = 0; i < n; i++) {
    const x = levels[i] === null ? 0 : Math.max(0, Math.min(255, Math.round((levels[i] - lo) / (hi - lo) * 255)));
    const [r, g, b] = CMAP[x]; d[4 * i] = r; d[4 * i + 1] = g; d[4 * i + 2] = b; d[4 * i + 3] = 255;
  }
  v.wfCtx.putImageData(v.wfImg, 0, 0);
}

function drawWaterfall(v) {
  if (!v.wfCanvas) return;
  const [w, h, dpr] = fitCanvas(v.wf), g = v.wf.getContext("2d"), padL = 34 * dpr;
  g.imageSmoothingEnabled = false; g.clearRect(0, 0, w, h);
  g.drawImage(v.wfCanvas, 0, 0, v.wfWidth, WF_ROWS, padL, 0, w - padL, h);
}

function onSpectrum(msg) {
  const v = bandView(msg);
  v.snap = msg;
  levelRange(v, msg.levels);
  if (msg.waterfall) for (const row of msg.waterfall) wfRow(v, row[2]);
  else wfRow(v, msg.levels);
  v.card.dataset.seq = String(msg.seq);
  v.card.dataset.sweep = String(msg.sweep);
  const nviol = msg.emissions.filter((e) => CLASSES.includes(e.class)).length;
  v.info.textContent = `${t("web_sweep")} ${msg.sweep} · ${utc(msg.time_utc)} UTC · ${msg.emissions.length} ${t("web_emissions").toLowerCase()}` +
    (nviol ? ` · ${nviol} ${t("web_violations")}` : "");
  drawSpectrum(v); drawWaterfall(v);
}

function hover(v, ev) {
  const s = v.snap, tip = document.getElementById("tip");
  if (!s || !v.geom) return;
  const r = v.spec.getBoundingClientRect(), { padL, pw, dpr } = v.geom;
  const x = (ev.clientX - r.left) * dpr - padL;
  if (x < 0) { tip.hidden = true; return; }
  const f = s.f_lo_hz + x / pw * (s.f_hi_hz - s.f_lo_hz);
  const tol = 4 * dpr / pw * (s.f_hi_hz - s.f_lo_hz);
  const e = s.emissions.find((m) => f >= m.f_lo_hz - tol && f <= m.f_hi_hz + tol);
  tip.replaceChildren();
  if (e) {
    tip.append(...[el("div", {}, el("span", { class: "sw", style: "background:" + (CLASS_COLOURS[e.class] || "#888") }), el("b", {}, t(e.class))),
      el("div", {}, `${t("web_frequency")}: ${mhz(e.center_hz)} MHz`),
      el("div", {}, `${t("web_power")}: ${num(e.power_dbfs, 1, "dBFS")} (SNR ${num(e.snr_db, 1, "dB")})`),
      e.calibration ? el("div", { class: "level" }, `${t("level_dbm")}: ${dbm(e)}`) : null,
      field(e) ? el("div", {}, `${t("field_strength")}: ${field(e)}`) : null,
      e.calibration ? el("div", { class: "muted" }, `${t("calibration")}: ${calText(e.calibration)}`) : null,
      el("div", {}, `${t("bandwidth")}: ${khz(e.bandwidth_hz)} kHz`),
      el("div", {}, `${t("licence")}: ${e.licences.length ? e.licences.join(", ") : "–"}`),
      e.note ? el("div", { class: "muted" }, e.note) : null].filter(Boolean));
  } else {
    const i = Math.max(0, Math.min(s.levels.length - 1, Math.round((f - s.f0_hz) / (s.df_hz || 1))));
    tip.append(el("div", {}, `${t("web_frequency")}: ${mhz(f, 4)} MHz`),
      el("div", {}, `${t("web_level")}: ${num(s.levels[i], 1, "dBFS/Hz")}`));
  }
  tip.hidden = false;
  tip.style.left = Math.min(window.innerWidth - 260, ev.clientX + 12) + "px";
  tip.style.top = (ev.clientY + 12) + "px";
}

function pageNow() {
  const main = document.getElementById("main");
  const legend = el("div", { class: "legend" },
    ["licensed", "exempt", "unknown", ...CLASSES].map((k) => el("span", {}, el("span", { class: "sw", style: "background:" + CLASS_COLOURS[k] }), t(k))));
  main.replaceChildren(el("h1", {}, t("web_now")), legend, el("div", { id: "bands" }));
  let delay = 1000;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => { setConn(true); delay = 1000; };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "hello") msg.bands.forEach(bandView);
      else if (msg.type === "spectrum") onSpectrum(msg);
    };
    ws.onclose = () => { setConn(false); setTimeout(connect, delay); delay = Math.min(30000, delay * 2); };
  }
  connect();
  window.addEventListener("resize", () => Object.values(bands).forEach((v) => { drawSpectrum(v); drawWaterfall(v); }));
}

// ---- Health ------------------------------------------------------------------------------------------------------
function kv(pairs) {
  return el("dl", { class: "kv" }, pairs.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}
function stateSpan(value, good) {
  return el("span", { class: value === good ? "ok" : "bad" }, value === null || value === undefined ? "–" : value);
}

function renderHealth(h) {
  const main = document.getElementById("main");
  const clock = h.clock.synchronised === null ? el("span", { class: "warn" }, t("web_unknown"))
    : h.clock.synchronised ? el("span", { class: "ok" }, t("web_synced")) : el("span", { class: "bad" }, t("web_not_synced"));
  const spool = h.spool || {};
  const cards = [
    el("section", { class: "card", id: "station-card" }, el("h2", {}, t("station")), kv([
      [t("station"), `${h.station.id} (${h.station.name})`],
      [t("latitude") + ", " + t("longitude"), `${h.station.latitude.toFixed(4)}, ${h.station.longitude.toFixed(4)}`],
      [t("web_uptime"), duration(h.uptime_s)],
      [t("web_clock"), clock],
      [t("web_cpu"), num(h.cpu_pct, 0, "%")],
      [t("web_temperature"), h.temperature_c === null ? el("span", { class: "muted" }, t("web_not_readable")) : num(h.temperature_c, 1, "°C")],
    ])),
    el("section", { class: "card", id: "store-card" }, el("h2", {}, t("store")), kv([
      [t("state"), stateSpan(h.store.state, "ok")],
      [t("store"), el("span", { class: "mono" }, h.store.path)],
      [t("web_size"), bytes(h.store.size_bytes)],
      [t("web_disk_free"), h.store.disk ? bytes(h.store.disk.free_bytes) + " / " + bytes(h.store.disk.total_bytes) : "–"],
      [t("web_spool"), `${spool.spool_depth ?? "–"} ${t("web_spool_points")}` + (spool.spool_age_s ? `, ${t("web_spool_age")} ${num(spool.spool_age_s, 0, "s")}` : "")],
      [t("web_sinks"), stateSpan(h.sinks, "ok")],
    ])),
  ];
  const rx = el("section", { class: "card", id: "receivers-card" }, el("h2", {}, t("web_receivers")),
    el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {},
      ["", t("state"), t("web_errors"), t("web_reopens"), t("web_last_error")].map((x, i) => el("th", { class: i === 2 || i === 3 ? "num" : "" }, x)))),
    el("tbody", {}, h.receivers.map((r) => el("tr", {},
      el("td", {}, el("b", {}, r.name), el("div", { class: "muted mono" }, r.uri)), el("td", {}, stateSpan(r.state, "ok")),
      el("td", { class: "num" }, r.errors), el("td", { class: "num" }, r.reopens), el("td", {}, r.last_error || "–")))))));
  const bandsCard = el("section", { class: "card", id: "bands-card" }, el("h2", {}, t("web_bands")),
    el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {},
      [t("web_band"), "MHz", t("web_sweep"), t("web_updated"), t("web_duration"), t("web_revisit"), t("web_emissions")].map((x, i) => el("th", { class: i >= 2 && i !== 3 ? "num" : "" }, x)))),
    el("tbody", {}, h.bands.map((b) => el("tr", {},
      el("td", {}, b.band), el("td", {}, mhz(b.f_lo_hz, 3) + "–" + mhz(b.f_hi_hz, 3)), el("td", { class: "num" }, b.sweep),
      el("td", {}, utc(b.time_utc)), el("td", { class: "num" }, num(b.duration_s, 2, "s")), el("td", { class: "num" }, num(b.revisit_s, 1, "s")),
      el("td", { class: "num" }, b.emissions ?? "–")))))));
  main.replaceChildren(el("h1", {}, t("web_health")), el("div", { class: "grid" }, cards), rx, bandsCard);
}

function pageHealth() {
  async function tick() {
    try { renderHealth(await getJSON("/api/health")); setConn(true); } catch (e) { setConn(false); }
  }
  tick(); setInterval(tick, 5000);
}

// ---- Cases ---------------------------------------------------------------------------------------------------------
function pageCases() {
  const main = document.getElementById("main");
  const q = new URLSearchParams(location.search);
  const state = el("select", { name: "state", "aria-label": t("state") },
    [["open", t("web_open")], ["", t("all")], ...STATES.map((s) => [s, t(s)])].map(([v, txt]) => el("option", { value: v }, txt)));
  const klass = el("select", { name: "class", "aria-label": t("class") },
    [["", t("all")], ...CLASSES.map((c) => [c, t(c)])].map(([v, txt]) => el("option", { value: v }, txt)));
  const search = el("input", { name: "q", type: "search", placeholder: t("web_search_hint"), "aria-label": t("web_search") });
  state.value = q.has("state") ? q.get("state") : "open"; klass.value = q.get("class") || ""; search.value = q.get("q") || "";
  const form = el("form", { class: "filters", method: "get", action: "/cases" }, state, klass, search, el("button", { type: "submit" }, t("web_search")));
  [state, klass].forEach((s) => s.addEventListener("change", () => form.requestSubmit()));
  const list = el("div", { id: "case-list" });
  main.replaceChildren(el("h1", {}, t("web_cases")), form, list);
  const params = new URLSearchParams({ state: state.value, class: klass.value, q: search.value });
  getJSON("/api/cases?" + params).then((r) => {
    if (!r.cases.length) {
      list.replaceChildren(el("div", { class: "empty card" }, state.value === "open" && !klass.value && !search.value ? t("web_no_open_cases") : t("no_cases")));
      return;
    }
    // columns in reading order; "keep" is the priority when the screen is narrow (1 = always shown)
    const cols = [
      { h: t("case_id"), keep: 1, td: (c) => el("td", { class: "nowrap" }, el("a", { href: "/cases/" + encodeURIComponent(c.case_id) }, c.case_id)) },
      { h: t("class"), keep: 2, td: (c) => el("td", {}, badge(c.class, CLASS_COLOURS)) },
      { h: "MHz", keep: 3, num: true, td: (c) => el("td", { class: "num" }, mhz(c.center_hz, 4)) },
      { h: t("state"), keep: 4, td: (c) => el("td", {}, badge(c.state, STATE_COLOURS)) },
      { h: t("level_dbm"), keep: 5, td: (c) => el("td", { class: "level" }, el("span", { class: "nowrap" }, dbm(c)),
        c.calibration ? el("div", { class: "muted small" }, calText(c.calibration)) : null) },
      { h: t("last_seen"), keep: 6, td: (c) => el("td", {}, utc(c.last_seen)) },
      { h: "kHz", keep: 7, num: true, td: (c) => el("td", { class: "num" }, khz(c.bandwidth_hz)) },
      { h: t("max_power_dbfs"), keep: 8, num: true, td: (c) => el("td", { class: "num" }, num(c.max_power_dbfs, 1)) },
      { h: t("licence"), keep: 9, td: (c) => el("td", {}, c.licences.join(", ") || "–") },
      { h: t("n_obs"), keep: 10, num: true, td: (c) => el("td", { class: "num" }, c.n_obs) },
    ];
    const tableEl = el("table", { id: "cases-table" },
      el("thead", {}, el("tr", {}, cols.map((col) => el("th", { class: col.num ? "num" : "", "data-keep": col.keep }, col.h)))),
      el("tbody", {}, r.cases.map((c) => el("tr", {}, cols.map((col) => { const td = col.td(c); td.dataset.keep = col.keep; return td; })))));
    const box = el("div", { class: "scroll card" }, tableEl);
    list.replaceChildren(box);
    fitColumns(box, tableEl); window.addEventListener("resize", () => fitColumns(box, tableEl));
  }).catch((e) => list.replaceChildren(el("div", { class: "empty card bad" }, String(e))));
}

// Show as many columns as fit the width, dropping the lowest priority (highest data-keep) first: on a phone the
// case id, class, MHz and state stay readable without scrolling sideways.
function fitColumns(box, tableEl) {
  const cells = (k) => tableEl.querySelectorAll(`[data-keep="${k}"]`);
  const keeps = [...new Set([...tableEl.querySelectorAll("th[data-keep]")].map((th) => +th.dataset.keep))].sort((a, b) => a - b);
  keeps.forEach((k) => cells(k).forEach((c) => { c.hidden = false; }));
  for (let i = keeps.length - 1; i > 0 && tableEl.scrollWidth > box.clientWidth; i--) {
    cells(keeps[i]).forEach((c) => { c.hidden = true; });
  }
  tableEl.dataset.columns = keeps.filter((k) => !cells(k)[0].hidden).join(",");
}

// ---- Case ------------------------------------------------------------------------------------------------------------
function table(headers, rows, id) {
  return el("div", { class: "scroll" }, el("table", { id }, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", {}, c)))))));
}

function renderCase(c) {
  const main = document.getElementById("main");
  const d = c.downloads;
  const ver = c.verification;
  const bad = ver.files.filter((f) => f.state !== "ok").map((f) => `${f.name}: ${f.state}`);
  const verNode = ver.state === "ok" ? el("p", { class: "ok", id: "verification" }, "✔ " + t("web_verified_ok"))
    : el("div", { id: "verification", class: ver.state === "failed" ? "bad" : "warn" },
      ver.state === "failed" ? t("web_verified_failed") : t("web_verified_incomplete"),
      el("ul", {}, [...ver.chain, ...bad, ...ver.missing].map((p) => el("li", {}, p))));
  const measurements = kv([
    [t("class"), badge(c.class, CLASS_COLOURS)], [t("state"), badge(c.state, STATE_COLOURS)],
    [t("center_mhz"), mhz(c.center_hz) + " MHz"], [t("bandwidth"), khz(c.bandwidth_hz) + " kHz"],
    [t("level_dbm"), el("span", { id: "case-level" }, dbm(c))],
    field(c) ? [t("field_strength"), field(c)] : null,
    [t("calibration"), calText(c.calibration)],
    [t("max_power_dbfs"), num(c.max_power_dbfs, 1)], [t("mean_power_dbfs"), num(c.mean_power_dbfs, 1)],
    [t("snr_db"), num(c.snr_db, 1)], [t("n_obs"), c.n_obs],
    [t("first_seen"), utc(c.first_seen)], [t("last_seen"), utc(c.last_seen)],
    [t("licence"), c.licences.join(", ") || "–"], [t("licensee"), c.licensee || "–"],
    [t("reason"), c.reason], [t("indicative"), c.indicative ? t("yes") : t("no")],
    [t("stations"), c.stations.map((s) => `${s.station} (${num(s.latitude, 4)}, ${num(s.longitude, 4)})`).join("; ")],
    [t("track_id"), c.track_ids.join(", ") || "–"],
    c.previous_case_id ? [t("previous_case_id"), el("a", { href: "/cases/" + c.previous_case_id }, c.previous_case_id)] : null,
  ]);
  const audioWhy = el("p", { class: "muted", id: "audio-why" });
  const audio = d.audio_wav
    ? [el("audio", { controls: true, preload: "none", src: d.audio_wav, id: "evidence-audio",
      onerror: () => fetch(d.audio_wav).then((r) => r.text()).then((txt) => { audioWhy.textContent = txt; }) }), audioWhy]
    : el("p", { class: "muted" }, t("web_no_audio"));
  const downloads = el("ul", { id: "downloads" },
    d.bundle_zip ? el("li", {}, el("a", { href: d.bundle_zip, download: c.case_id + "-evidence.zip", id: "bundle-link" }, t("web_bundle"))) : null,
    d.iq.length ? el("li", {}, t("web_iq") + ": ", d.iq.map((u, i) => [i ? ", " : "", el("a", { href: u, download: true }, u.split("/").pop())])) : null,
    d.audio_wav ? el("li", {}, el("a", { href: d.audio_wav, download: c.case_id + ".wav" }, "WAV")) : null);
  const register = c.register.length
    ? table([t("licence"), t("licensee"), t("assigned"), t("designator"), t("tolerance"), t("valid"), t("status")],
      c.register.map((a) => [a.licence, a.licensee, a.frequency_mhz ? a.frequency_mhz + " MHz" : `${a.lower_mhz}–${a.upper_mhz} MHz`,
        a.designator || "–", a.tolerance_hz ? a.tolerance_hz + " Hz" : (a.tolerance_ppm ? a.tolerance_ppm + " ppm" : "–"),
        `${a.valid_from || "…"} – ${a.valid_to || "…"}`,
        (t(a.status) || a.status) + (a.register_status && a.register_status !== a.status
          ? ` (${t("status_register")}: ${t(a.register_status) || a.register_status})` : "")]), "register-table")
    : el("p", { class: "muted" }, t("no_register"));
  const history = table([t("web_time"), t("web_event"), t("web_author")],
    c.events.map((e) => [utc(e.time_utc), e.kind === "state" ? [badge(e.state, STATE_COLOURS), e.text ? " " + e.text : ""] : e.text, e.author || "–"]), "history-table");
  const obs = table([t("web_time"), t("station"), "MHz", "kHz", "dBFS", "dBm", "SNR dB", t("web_offset") + " kHz"],
    c.observations.map((o) => [utc(o.time_utc), o.station, mhz(o.center_hz), khz(o.bandwidth_hz), num(o.power_dbfs, 1),
      o.power_dbm === null || o.power_dbm === undefined ? "–" : `${o.power_dbm.toFixed(1)} ± ${num(o.power_dbm_u95, 1)}`,
      num(o.snr_db, 1), khz(o.offset_hz, 3)]), "observations-table");
  const files = table([t("web_files"), t("web_size"), t("sha256")],
    c.evidence.map((f) => [el("a", { href: f.url }, f.name), bytes(f.size_bytes), el("span", { class: "mono" }, f.sha256)]), "files-table");
  main.replaceChildren(
    el("p", {}, el("a", { href: "/cases" }, "← " + t("web_back"))),
    el("h1", {}, `${t("case")} ${c.case_id} · ${mhz(c.center_hz)} MHz`),
    el("section", { class: "card" }, el("h2", {}, t("measurements")), measurements),
    el("section", { class: "card" }, el("h2", {}, t("web_verification")), verNode),
    el("section", { class: "card" }, el("h2", {}, t("spectrum")),
      d.spectrum_png ? el("img", { class: "evidence", src: d.spectrum_png, alt: t("spectrum"), id: "spectrum-img" }) : el("p", { class: "muted" }, t("no_spectrum"))),
    el("section", { class: "card" }, el("h2", {}, t("web_spectrogram")),
      d.spectrogram_png ? el("img", { class: "evidence", src: d.spectrogram_png, alt: t("web_spectrogram"), id: "spectrogram-img" }) : el("p", { class: "muted" }, t("web_no_spectrogram"))),
    el("section", { class: "card" }, el("h2", {}, t("web_audio")), audio),
    el("section", { class: "card" }, el("h2", {}, t("web_downloads")), downloads, files),
    el("section", { class: "card" }, el("h2", {}, t("register")), register),
    el("section", { class: "card" }, el("h2", {}, t("notes")), history),
    el("section", { class: "card" }, el("h2", {}, t("web_observations")), obs));
}

function pageCase() {
  getJSON("/api/cases/" + encodeURIComponent(DATA.case_id)).then(renderCase)
    .catch((e) => document.getElementById("main").replaceChildren(el("div", { class: "empty card bad" }, e.status === 404 ? t("web_not_found") : String(e))));
}

chrome();
({ now: pageNow, health: pageHealth, cases: pageCases, case: pageCase })[DATA.page]();
