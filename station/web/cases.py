"""The web app's read-only view of the case store: case summaries and details as JSON, evidence files by
their recorded name only (no path from a request ever reaches the file system), the verification state of a
case's evidence, and the downloads (audio, bundle).

The connection is opened read-only (``mode=ro``): the web app cannot change a case even through a bug. All
calls are blocking; the server runs them in its one database thread.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from station.compliance.cases import STATES, Case, CaseDetail, CaseStore, EvidenceFile, sha256_of
from station.errors import SpecmonError

#: what a case id looks like (anything else is a 404 before the store is asked)
CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def open_readonly(path: str | Path) -> CaseStore:
    """The case store at ``path`` opened read-only (:meth:`CaseStore.open_readonly`: ``mode=ro``, writes refused)."""
    return CaseStore.open_readonly(path)


def _observation_level(settings_json: str | None, center_hz, power_dbfs) -> dict:
    """dBm (+/- U95 of the single reading) of one stored observation with its own stored conversion."""
    import json

    from station.calibration.levels import stored_level

    try:
        settings = json.loads(settings_json or "{}")
        lvl = stored_level(settings, float(center_hz), power_dbfs) if isinstance(settings, dict) else None
    except (ValueError, TypeError):
        lvl = None
    if lvl is None:
        return {"power_dbm": None, "power_dbm_u95": None}
    return {"power_dbm": _num(lvl.power_dbm, 1), "power_dbm_u95": _num(lvl.u95_db, 1)}


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(x, nd=1):
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return round(x, nd) if x == x and abs(x) != float("inf") else None


def case_json(c: Case) -> dict:
    """One case summary (the list and the case page)."""
    return {
        "case_id": c.case_id, "class": c.klass.value, "state": c.state,
        "first_seen": _iso(c.first_seen), "last_seen": _iso(c.last_seen), "n_obs": c.n_obs,
        "center_hz": _num(c.center_hz), "bandwidth_hz": _num(c.bandwidth_hz),
        "opened_center_hz": _num(c.opened_center_hz), "max_power_dbfs": _num(c.max_power_dbfs, 2),
        "mean_power_dbfs": _num(c.mean_power_dbfs, 2), "snr_db": _num(c.snr_db, 2),
        "licences": list(c.licences), "reason": c.reason, "latest_reason": c.latest_reason,
        "indicative": c.indicative, "track_ids": list(c.track_ids), "previous_case_id": c.previous_case_id,
        "stations": [{"station": s.station, "latitude": s.latitude, "longitude": s.longitude} for s in c.stations],
        "licensee": c.register[0].get("licensee", "") if c.register else "",
    }


def level_json(m) -> dict:
    """The case's level at the antenna port from its canonical measurement (:class:`CaseMeasurement`, or None):
    ``power_dbm`` +/- ``power_dbm_u95`` (dB, k = 2), ``field_dbuv_m`` +/- ``field_dbuv_m_u95`` where the band has
    an antenna factor, ``calibration`` ('calibrated on DATE' / 'nominal (uncalibrated)'; '' when unknown), the
    numbers and words of the PDF report. All None when the level cannot be given in dBm (automatic gain, a store
    from before calibration)."""
    out = {"power_dbm": None, "power_dbm_u95": None, "field_dbuv_m": None, "field_dbuv_m_u95": None,
           "calibration": None}
    if m is None:
        return out
    out["calibration"] = m.calibration or None
    if m.power_dbm is not None:
        out.update(power_dbm=_num(m.power_dbm.value, 1), power_dbm_u95=_num(m.power_dbm.u95, 1),
                   field_dbuv_m=_num(m.field_dbuv_m, 1), field_dbuv_m_u95=_num(m.field_u95_db, 1))
    return out


@dataclass(frozen=True, slots=True)
class EvidenceLink:
    """An evidence file as the web app serves it: ``/cases/<id>/files/<name>``."""

    name: str  # unique within the case (the recorded file's name, numbered when two share one)
    file: EvidenceFile
    path: Path


class CaseReader:
    """Read-only queries for the web app over the case store at ``db_path``."""

    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self._store: CaseStore | None = None
        self._levels: dict[str, tuple[tuple, dict]] = {}  # case_id -> ((n_obs, last_seen), level_json)
        self.root = self.db_path.resolve().parent  # evidence files must live under the store's directory

    @property
    def store(self) -> CaseStore | None:
        if self._store is None and self.db_path.is_file():
            try:
                self._store = open_readonly(self.db_path)
                self._store.cases(state="new")  # fails now if the file is not a case store yet
            except (sqlite3.Error, SpecmonError):
                self._store = None
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def cases(self, *, state: str | None = None, klass: str | None = None, since: datetime | None = None,
              query: str = "", limit: int = 500) -> list[dict]:
        """Case summaries newest first, filtered (``query``: substring of id, licence, reason or MHz)."""
        store = self.store
        if store is None:
            return []
        if state == "open":
            states = tuple(s for s in STATES if s != "closed")
        elif state:
            states = (state,)
        else:
            states = None
        rows = store.cases(state=states, klass=klass or None, since=since)
        rows.reverse()
        q = query.strip().lower()
        out = []
        for c in rows:
            j = case_json(c)
            j.update(self.level(c))
            if q and q not in " ".join([c.case_id, ",".join(c.licences), c.reason, j["licensee"],
                                        f"{c.center_hz / 1e6:.6f}"]).lower():
                continue
            out.append(j)
            if len(out) >= limit:
                break
        return out

    def level(self, c: Case) -> dict:
        """:func:`level_json` of the case, recomputed only when the case has new observations."""
        mark = (c.n_obs, c.last_seen)
        hit = self._levels.get(c.case_id)
        if hit is None or hit[0] != mark:
            try:
                value = level_json(self.store.measurement(c.case_id))
            except (sqlite3.Error, ValueError, ArithmeticError):
                value = level_json(None)
            hit = self._levels[c.case_id] = (mark, value)
        return hit[1]

    def counts(self) -> dict[str, dict[str, int]]:
        """Cases per state and class (for /metrics): {state: {class: n}}."""
        store = self.store
        out: dict[str, dict[str, int]] = {}
        if store is None:
            return out
        for c in store.cases():
            d = out.setdefault(c.state, {})
            d[c.klass.value] = d.get(c.klass.value, 0) + 1
        return out

    def exists(self, case_id: str) -> bool:
        store = self.store
        if store is None or not CASE_ID.fullmatch(case_id):
            return False
        with store._lock:
            return store._db.execute("SELECT 1 FROM cases WHERE case_id=?", (case_id,)).fetchone() is not None

    def detail(self, case_id: str) -> CaseDetail | None:
        if not self.exists(case_id):
            return None
        return self.store.detail(case_id)

    def observations(self, case_id: str, limit: int = 200) -> list[dict]:
        """The case's latest observations (newest first)."""
        store = self.store
        with store._lock:
            rows = store._db.execute(
                "SELECT time_ns, station, center_hz, bandwidth_hz, power_dbfs, snr_db, occupancy, offset_hz, klass,"
                " reason, settings_json FROM case_observations WHERE case_id=? ORDER BY id DESC LIMIT ?",
                (case_id, int(limit)),
            ).fetchall()
        return [{"time_utc": _iso(datetime.fromtimestamp(t / 1e9, tz=timezone.utc)), "station": st,
                 "center_hz": _num(c), "bandwidth_hz": _num(b), "power_dbfs": _num(p, 2), "snr_db": _num(s, 2),
                 **_observation_level(settings, c, p),
                 "occupancy": _num(o, 3), "offset_hz": _num(off), "class": k, "reason": r}
                for t, st, c, b, p, s, o, off, k, r, settings in rows]

    def evidence(self, detail: CaseDetail) -> list[EvidenceLink]:
        """The case's evidence files with the names the web app serves them under (files outside the store's
        directory are not served)."""
        out: list[EvidenceLink] = []
        seen: dict[str, int] = {}
        for ev in detail.evidence:
            p = self.store.evidence_path(ev).resolve()
            try:
                p.relative_to(self.root)
            except ValueError:
                continue
            name = p.name
            if name in seen:
                seen[name] += 1
                stem, dot, ext = name.partition(".")
                name = f"{stem}-{seen[name]}{dot}{ext}"
            else:
                seen[name] = 1
            out.append(EvidenceLink(name, ev, p))
        return out

    def evidence_file(self, case_id: str, name: str) -> EvidenceLink | None:
        """The evidence file ``name`` of the case, or None (unknown case, unknown name, file gone)."""
        detail = self.detail(case_id)
        if detail is None:
            return None
        for link in self.evidence(detail):
            if link.name == name and link.path.is_file():
                return link
        return None

    def verification(self, detail: CaseDetail) -> dict:
        """What ``specmon violations show --verify`` checks: the case's hash chain (every stored row linked and
        unchanged), each evidence file against the SHA-256 recorded at capture, and evidence that should be
        there and is not. ``state``: ok, failed (a changed row or file), incomplete (only missing evidence)."""
        cid = detail.case.case_id
        files = []
        for link in self.evidence(detail):
            if not link.path.is_file():
                state = "missing"
            elif sha256_of(link.path) != link.file.sha256:
                state = "changed"
            else:
                state = "ok"
            files.append({"name": link.name, "state": state})
        store = self.store
        chain = store.verify_chain(cid) if hasattr(store, "verify_chain") else []
        missing = store.missing_evidence(cid) if hasattr(store, "missing_evidence") else []
        changed = [f for f in files if f["state"] != "ok"]
        state = "failed" if chain or changed else ("incomplete" if missing or not files else "ok")
        return {"state": state, "chain": chain, "missing": missing, "files": files,
                "method": "hash chain of the case's stored rows; SHA-256 of each evidence file"}

    def detail_json(self, case_id: str, lang: str = "en") -> dict | None:
        """The case page's data: the case's canonical measurement (the same numbers and reason, in ``lang``, as
        the PDF/CSV reports) and its register rows with their status as judged at the first observation."""
        from station.compliance.exports._common import canonical, judged_status, reason_text

        detail = self.detail(case_id)
        if detail is None:
            return None
        out = case_json(detail.case)
        out.update(level_json(detail.measurement))
        m = canonical(detail)
        out.update(center_hz=_num(m.center_hz.value), center_hz_u95=_num(m.center_hz.u95),
                   bandwidth_hz=_num(m.bandwidth_hz.value), bandwidth_hz_u95=_num(m.bandwidth_hz.u95),
                   reason=reason_text(detail, lang))
        base = f"/cases/{case_id}"
        links = self.evidence(detail)
        rows = []
        for row in detail.case.register:
            judged, registered = judged_status(dict(row), detail.case.first_seen)
            rows.append({**row, "status": judged, "register_status": registered})
        out["register"] = rows
        out["settings"] = detail.settings
        out["events"] = [{"time_utc": _iso(e.time), "kind": e.kind, "state": e.state, "text": e.text,
                          "author": e.author} for e in detail.events]
        out["evidence"] = [{"name": lk.name, "kind": lk.file.kind, "sha256": lk.file.sha256,
                            "size_bytes": lk.file.size_bytes, "description": lk.file.description,
                            "time_utc": _iso(lk.file.time), "url": f"{base}/files/{lk.name}"} for lk in links]
        out["observations"] = self.observations(case_id)
        out["verification"] = self.verification(detail)
        has_iq = self.iq_meta(detail) is not None
        out["downloads"] = {
            "spectrum_png": next((f"{base}/files/{lk.name}" for lk in reversed(links)
                                  if lk.file.kind == "spectrum_png"), None),
            "spectrogram_png": f"{base}/spectrogram.png" if has_iq else None,
            "audio_wav": f"{base}/audio.wav" if has_iq else None,
            "iq": [f"{base}/files/{lk.name}" for lk in links if lk.file.kind.startswith("iq_")],
            "bundle_zip": f"{base}/bundle.zip",
        }
        return out

    def iq_meta(self, detail: CaseDetail) -> Path | None:
        """The case's latest IQ recording (its SigMF meta file) when both files are on disk."""
        links = self.evidence(detail)
        meta = [lk for lk in links if lk.file.kind == "iq_sigmf_meta" and lk.path.is_file()]
        data = [lk for lk in links if lk.file.kind == "iq_sigmf_data" and lk.path.is_file()]
        return meta[-1].path if meta and data else None
