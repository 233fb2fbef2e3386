"""What ``specmon run`` shows while it runs.

- :class:`TtyReporter`: a live terminal view when stdout is a TTY (ANSI redraw, at most 4 frames/s): station
  and receiver state, every band with its sweep progress and achieved revisit, the latest emissions with their
  compliance class, open violation cases, sink/spool state, recent events.
- :class:`LogReporter`: structured ``key=value`` log lines (to stderr through :mod:`logging`) otherwise, e.g.
  under systemd/journald.

Both receive the same calls from the daemon: ``start``, ``sweep_started``, ``hop_progress``, ``sweep_done``,
``health``, ``event``, ``stop``. Neither ever raises into the daemon: a broken terminal must not stop a
station.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import sys
import textwrap
import time
from collections import deque

log = logging.getLogger("specmon.station")

_CLASS_COLOUR = {
    "licensed": "32", "exempt": "36", "unknown": "37",
    "unlicensed": "1;31", "off_frequency": "1;33", "excess_bandwidth": "1;33", "expired": "1;35",
    "not_yet_valid": "1;35", "exempt_nonconforming": "1;33",
}


def make_reporter(mode: str = "auto", stream=None):
    """``auto``: a live view when ``stream`` (default stdout) is a TTY, else log lines; ``on``; ``off``."""
    stream = stream or sys.stdout
    tty = False
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        pass
    if mode == "on" or (mode == "auto" and tty):
        return TtyReporter(stream)
    return LogReporter()


def _kv(**items) -> str:
    out = []
    for k, v in items.items():
        if v is None:
            continue
        if isinstance(v, float):
            v = f"{v:.3f}" if abs(v) < 1e5 else f"{v:.0f}"
        s = str(v)
        out.append(f"{k}={s!r}" if (" " in s or "=" in s) else f"{k}={s}")
    return " ".join(out)


class LogReporter:
    """Structured log lines, one per sweep, health tick and event."""

    def start(self, daemon) -> None:
        cfg = daemon.config
        log.info("start %s", _kv(station=cfg.station.id, bands=",".join(b.name for b in cfg.bands),
                                 receivers=",".join(r.uri for r in cfg.receivers), data_dir=cfg.store.data_dir))

    def sweep_started(self, band, n: int) -> None:
        log.debug("sweep_start %s", _kv(band=band.name, sweep=n))

    def hop_progress(self, done: int, total: int) -> None:
        pass

    def sweep_done(self, report) -> None:
        t = report.timings_s
        log.info("sweep %s", _kv(
            band=report.band, sweep=report.sweep_no, hops=report.n_hops, duration_s=report.duration_s,
            revisit_s=report.revisit_s, emissions=len(report.results), violations=report.n_violations,
            new_cases=len(report.new_cases), noise_dbfs_hz=report.noise_median_dbfs_hz,
            **{f"{k}_s": v for k, v in t.items()}))

    def health(self, health: dict) -> None:
        log.info("health %s", _kv(**{k: health.get(k) for k in (
            "receiver_state", "receiver_errors", "dropped_reads", "spool_depth", "spool_age_s", "store_state",
            "memory_depth", "points_lost", "emissions_lost", "violations_lost", "sink_state", "cpu_pct",
            "uptime_s")}))

    def event(self, message: str) -> None:
        log.warning("event %s", _kv(message=message))

    def stop(self, summary) -> None:
        log.info("stop %s", _kv(reason=summary.stopped_by, sweeps=summary.sweeps, new_cases=summary.new_cases,
                                receiver_errors=summary.receiver_errors, elapsed_s=summary.elapsed_s))


class TtyReporter:
    """A live full-screen view redrawn in place with ANSI escapes (no curses: works over any ssh)."""

    MAX_FPS = 4.0

    def __init__(self, stream):
        self.stream = stream
        self.daemon = None
        self.current: tuple[str, int] | None = None  # (band, sweep no)
        self.progress = (0, 0)
        self.last_reports: dict[str, object] = {}
        self.emissions: dict = {}  # (band, transmitter) -> Judged, most recent last (one row per transmitter)
        self._cases: tuple[float, list] = (float("-inf"), [])  # (when read, open cases), re-read every 2 s
        self.events: deque = deque(maxlen=5)
        self.health_snapshot: dict = {}
        self._last_draw = 0.0
        self._started = time.monotonic()

    # ---- reporter calls --------------------------------------------------------------------------------
    def start(self, daemon) -> None:
        self.daemon = daemon
        self._capture_logs()
        self._write("\x1b[?25l\x1b[2J")  # hide cursor, clear
        self._draw(force=True)

    def _capture_logs(self) -> None:
        """While the view owns the terminal, log lines would scribble over it: warnings and errors go to the
        view's event pane instead, and the stderr handlers are muted until :meth:`stop`."""
        view = self

        class ToEvents(logging.Handler):
            def emit(self, record):
                if record.name != log.name:  # the view's own log lines are already shown
                    view.events.appendleft(f"{time.strftime('%H:%M:%S')} {record.levelname.lower()}: "
                                           f"{record.getMessage()}"[:300])

        root = logging.getLogger()
        self._muted = [(h, h.level) for h in root.handlers if isinstance(h, logging.StreamHandler)
                       and getattr(h.stream, "isatty", lambda: False)()]
        for h, _ in self._muted:
            h.setLevel(logging.CRITICAL + 1)
        self._handler = ToEvents(level=logging.WARNING)
        root.addHandler(self._handler)

    def sweep_started(self, band, n: int) -> None:
        self.current = (band.name, n)
        self.progress = (0, 0)
        self._draw()

    def hop_progress(self, done: int, total: int) -> None:
        self.progress = (done, total)
        self._draw()

    def sweep_done(self, report) -> None:
        try:
            report = dataclasses.replace(report, spectrum=None)  # keep the summary, not the band's spectrum
        except TypeError:
            pass
        self.last_reports[report.band] = report
        for r in report.results:
            key = (report.band, _transmitter(r))
            self.emissions.pop(key, None)  # the same transmitter seen again moves to the top, not a second row
            self.emissions[key] = r
        while len(self.emissions) > 12:
            self.emissions.pop(next(iter(self.emissions)))
        self.current = None
        self._draw(force=True)

    def health(self, health: dict) -> None:
        self.health_snapshot = dict(health)
        self._draw()

    def event(self, message: str) -> None:
        self.events.appendleft(f"{time.strftime('%H:%M:%S')} {message}")
        self._draw(force=True)

    def stop(self, summary) -> None:
        self._draw(force=True)
        self._write("\x1b[?25h\n")  # show the cursor again
        handler = getattr(self, "_handler", None)
        if handler is not None:
            logging.getLogger().removeHandler(handler)
        for h, level in getattr(self, "_muted", []):
            h.setLevel(level)

    # ---- drawing -----------------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 1.0 / self.MAX_FPS:
            return
        self._last_draw = now
        try:
            text = self.render()
        except Exception as exc:  # a view bug must never stop the station
            text = f"(view error: {exc})"
        self._write("\x1b[H" + text.replace("\n", "\x1b[K\n") + "\x1b[J")

    def render(self) -> str:
        d = self.daemon
        if d is None:
            return ""
        width = shutil.get_terminal_size((100, 40)).columns
        cfg = d.config
        h = self.health_snapshot
        up = time.monotonic() - self._started
        lines = [
            f"\x1b[1mspecmon\x1b[0m station {cfg.station.id} ({cfg.station.name})  "
            f"{cfg.station.latitude:.4f}N {cfg.station.longitude:.4f}E  up {up:6.0f} s",
        ]
        for name, sup in d.receivers.items():
            st = sup.state
            col = "32" if st == "ok" else "31"
            extra = f"  last error: {sup.last_error}" if sup.last_error and st != "ok" else ""
            lines.append(f"receiver {name}: {sup.cfg.uri}  \x1b[{col}m{st}\x1b[0m  errors {sup.counters.errors}"
                         f"  reopens {sup.counters.reopens}{extra}")
        lines.append(f"store {h.get('store_state', 'ok')}  sinks {h.get('sink_state', '-')}  spool "
                     f"{h.get('spool_depth', '-')} points (oldest {h.get('spool_age_s') or 0:.0f} s)  cpu "
                     f"{h.get('cpu_pct') or 0:.0f} %")
        lines.append("")
        lines.append(f"{'band':<10} {'MHz':<17} {'sweeps':>6} {'revisit s':>9} {'emis':>5} {'viol':>5}  state")
        for b in cfg.bands:
            r = self.last_reports.get(b.name)
            stats = d.scheduler.stats(b.name) if b.name in d.scheduler.bands else None
            if self.current and self.current[0] == b.name:
                done, total = self.progress
                bar = _bar(done, total, 20)
                state = f"\x1b[1msweeping\x1b[0m {bar} {done}/{total}"
            else:
                wait = max(0.0, d.scheduler.due_at(b.name) - d._clock()) if stats else 0.0
                state = f"next in {wait:5.1f} s" if stats and stats.sweeps else "waiting"
            lines.append(
                f"{b.name:<10} {b.f_lo_hz / 1e6:7.3f}-{b.f_hi_hz / 1e6:<9.3f} {stats.sweeps if stats else 0:>6} "
                f"{(stats.last_s if stats and stats.last_s else 0):>9.1f} {len(r.results) if r else 0:>5} "
                f"{r.n_violations if r else 0:>5}  {state}")
        lines.append("")
        lines.append("\x1b[1mlatest emissions\x1b[0m")
        if not self.emissions:
            lines.append("  none yet (waiting for the first sweep)" if not self.last_reports else "  none detected")
        else:
            lines.append(f"{'band':<8} {'MHz':>11} {'BW kHz':>8} {'dBFS':>7} {'SNR dB':>7} {'occ':>5}  class")
        for (band, _), r in list(reversed(self.emissions.items()))[:10]:
            e = r.emission
            klass = r.klass
            col = _CLASS_COLOUR.get(klass, "37")
            lines.append(f"{band:<8} {e.center_hz / 1e6:11.5f} {e.bandwidth_hz / 1e3:8.1f} {e.power_dbfs:7.1f} "
                         f"{e.snr_db:7.1f} {e.occupancy:5.2f}  \x1b[{col}m{klass}\x1b[0m")
        lines.append("")
        cases = self._open_cases(d)
        if not cases:
            lines.append("\x1b[1mopen violation cases\x1b[0m: none")
        else:
            shown = cases[:8]
            more = f", {len(cases) - len(shown)} more: specmon violations list" if len(cases) > len(shown) else ""
            lines.append(f"\x1b[1mopen violation cases\x1b[0m ({len(cases)}{more})")
            lines.extend(case_table(shown, width))
        if self.events:
            lines.append("")
            lines.append("\x1b[1mevents\x1b[0m")
            for e in self.events:  # free text: wrapped, never cut
                lines.extend(textwrap.wrap(e, width=max(20, width - 1), initial_indent="  ",
                                           subsequent_indent="      ") or [""])
        return "\n".join(_clip(line, width) for line in lines)

    def _open_cases(self, d) -> list:
        """The open cases (newest first), read from the case store at most every 2 s."""
        now = time.monotonic()
        if now - self._cases[0] < 2.0:
            return self._cases[1]
        cases = []
        store = getattr(d.pipeline, "cases", None)
        try:
            if store is not None and hasattr(store, "cases"):
                cases = store.cases(state=("new", "confirmed", "exported"))
                cases.sort(key=lambda c: c.last_seen, reverse=True)
        except Exception:
            cases = []
        self._cases = (now, cases)
        return cases


def _transmitter(r) -> str:
    """What makes two rows the same transmitter: its track, else its frequency to the kHz."""
    return r.track_id or f"{round(r.emission.center_hz / 1e3)}k"


#: the open-cases table: (header, width, priority, cell); columns of lower priority (higher number) are left
#: out first when the terminal is narrow; the licences get what is left and wrap onto further lines
_CASE_COLUMNS = (
    ("case", 9, 0, lambda c: c.case_id),
    ("class", 16, 0, lambda c: c.klass.value),
    ("MHz", 11, 0, lambda c: f"{c.center_hz / 1e6:11.5f}"),
    ("BW kHz", 7, 2, lambda c: f"{c.bandwidth_hz / 1e3:7.1f}"),
    ("dBFS", 6, 3, lambda c: f"{c.max_power_dbfs:6.1f}"),
    ("obs", 4, 4, lambda c: f"{c.n_obs:4d}"),
    ("state", 9, 1, lambda c: c.state),
    ("last (UTC)", 10, 2, lambda c: c.last_seen.strftime("%H:%M:%SZ")),
)
_MIN_LICENCE = 14


def case_table(cases, width: int) -> list[str]:
    """The open cases as rows that fit ``width`` columns: columns chosen by priority, the licence column takes
    the rest and wraps (no cell is ever cut)."""
    cols = list(_CASE_COLUMNS)

    def used(cs):
        return 2 + sum(w + 1 for _, w, _, _ in cs)

    while len(cols) > 3 and width - used(cols) < _MIN_LICENCE:
        worst = max(p for _, _, p, _ in cols)
        idx = max(i for i, (_, _, p, _) in enumerate(cols) if p == worst)
        cols.pop(idx)
    lic_w = max(_MIN_LICENCE, width - used(cols) - 1)
    head = "  " + " ".join(f"{h:<{w}}" if h not in ("MHz", "BW kHz", "dBFS", "obs") else f"{h:>{w}}"
                           for h, w, _, _ in cols) + " licence"
    out = [head]
    pad = " " * used(cols)
    for c in cases:
        cells = " ".join(f"{get(c):<{w}}" for _, w, _, get in cols)
        col = _CLASS_COLOUR.get(c.klass.value, "37")
        cells = cells.replace(c.klass.value, f"\x1b[{col}m{c.klass.value}\x1b[0m", 1)
        parts = _pack(list(c.licences) or ["-"], lic_w)
        out.append(f"  {cells} {parts[0]}")
        out.extend(pad + p for p in parts[1:])
    return out


def _pack(items: list[str], width: int) -> list[str]:
    """``items`` joined by ", " into lines of at most ``width``; an item longer than a line is split."""
    lines, cur = [], ""
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if cur and len(cur) + 1 + len(piece) <= width:
            cur += " " + piece
            continue
        if cur:
            lines.append(cur)
        while len(piece) > width:
            lines.append(piece[:width])
            piece = piece[width:]
        cur = piece
    if cur:
        lines.append(cur)
    return lines


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clip(line: str, width: int) -> str:
    """Cut ``line`` to ``width`` visible columns; ANSI colour codes do not count and are kept (then reset)."""
    out, visible, pos = [], 0, 0
    for m in _ANSI.finditer(line):
        text = line[pos:m.start()]
        if visible + len(text) > width:
            out.append(text[: width - visible])
            return "".join(out) + "\x1b[0m"
        out.append(text)
        visible += len(text)
        out.append(m.group())
        pos = m.end()
    text = line[pos:]
    out.append(text[: max(0, width - visible)])
    return "".join(out)


def _bar(done: int, total: int, width: int) -> str:
    if total <= 0:
        return "[" + " " * width + "]"
    n = int(round(width * done / total))
    return "[" + "#" * n + "." * (width - n) + "]"


__all__ = ["LogReporter", "TtyReporter", "case_table", "make_reporter"]
