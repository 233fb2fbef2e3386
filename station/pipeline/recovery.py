"""Evidence that survives the station stopping: the capture queue on disk, and its recovery at start-up.

A new case's evidence is captured after its sweep (the pipeline's queue), seconds later. When the station is
killed in between (SIGKILL, power cut, a crash), the case used to keep nothing, or the snapshot PNG alone
(drawn first, never recorded), and nothing completed it. Now:

- when a case is queued, ``DATA_DIR/evidence/.pending/<case id>.pkl`` keeps what the capture needs (the band,
  the judged result, the cropped spectrum) until the capture is recorded, then it is removed;
- at start-up, :func:`recover` queues every case of the store without an evidence manifest and without a
  recorded reason (``CaseStore.incomplete_evidence``): from its pending file, or rebuilt from the store's rows
  (the latest observation: centre, bandwidth, power, SNR, and so the noise density; no spectrum, so no
  snapshot) when it has none. The capture then records the IQ *now*, which its manifest says (``recovery``).
- a case that cannot be completed gets an event note ``evidence incomplete: <why>`` (closed already, band no
  longer configured, nothing to rebuild it from), so ``violations show --verify`` says why it is MISSING.

Pending files are the station's own (written and read by it in its data directory), pickled.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)

PENDING_DIR = ".pending"


def pending_path(data_dir: Path, case_id: str) -> Path:
    return Path(data_dir) / "evidence" / PENDING_DIR / f"{case_id}.pkl"


def save_pending(data_dir: Path, item: tuple) -> None:
    """Persist one queue item ``(band, result, case_id, spectrum)`` (atomic write; errors only logged: the
    capture itself may still succeed)."""
    band, result, case_id, spec = item
    path = pending_path(data_dir, case_id)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump({"band": band, "result": result, "case_id": case_id, "spectrum": spec,
                         "queued_utc": datetime.now(timezone.utc)}, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not keep the evidence queue entry of %s on disk (%s): a kill before its capture "
                    "loses its snapshot", case_id, exc)


def drop_pending(data_dir: Path, case_id: str) -> None:
    try:
        pending_path(data_dir, case_id).unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove %s: %s", pending_path(data_dir, case_id), exc)


def _load_pending(path: Path):
    try:
        with open(path, "rb") as f:
            d = pickle.load(f)
        return d["band"], d["result"], d["case_id"], d["spectrum"]
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError, ImportError, TypeError) as exc:
        log.warning("evidence recovery: %s cannot be read (%s); rebuilding the case from the store", path, exc)
        return None


def rebuild_result(store, case_id: str):
    """(band, ComplianceResult) of the case's latest observation, from the store's rows (no spectrum)."""
    from detectors.records import Emission
    from station.compliance.records import ComplianceClass, ComplianceResult

    o = store.latest_observation(case_id)
    if o is None:
        return None
    t_ns, klass, track, c, bw, p, peak, snr, occ, off, ind, lic, reason, settings = (o[k] for k in (
        "time_ns", "klass", "track_id", "center_hz", "bandwidth_hz", "power_dbfs", "peak_dbfs", "snr_db", "occupancy",
        "offset_hz", "indicative", "licences", "reason", "settings_json"))
    when = datetime.fromtimestamp(t_ns / 1e9, tz=timezone.utc)
    snr = snr if snr is not None and math.isfinite(snr) else 10.0
    noise = p - snr - 10 * math.log10(max(bw, 1.0))  # the noise density the sweep measured under it
    e = Emission(center_hz=c, peak_hz=c, f_lo_hz=c - bw / 2, f_hi_hz=c + bw / 2, bandwidth_hz=bw,
                 xdb_bandwidth_hz=None, xdb_valid=False, power_dbfs=p, peak_dbfs=peak if peak is not None else p,
                 snr_db=snr, noise_dbfs_hz=noise, occupancy=occ if occ is not None else 1.0, first_seen=when,
                 last_seen=when)
    result = ComplianceResult(e, ComplianceClass(klass), tuple(x for x in lic.split(",") if x), reason,
                              indicative=bool(ind), track_id=track, offset_hz=off)
    try:
        band = json.loads(settings).get("band")
    except ValueError:
        band = None
    return band, result


def recover(pipeline) -> list[str]:
    """Queue the evidence of interrupted captures (see the module docstring); returns the case ids queued."""
    from station.compliance.cases.store import EVIDENCE_NOTE

    store, cfg = pipeline.cases, pipeline.config
    if store is None or not cfg.evidence.enabled:
        return []
    data_dir = cfg.store.data_dir
    bands = {b.name: b for b in cfg.bands}
    queued, given_up = [], []
    incomplete = store.incomplete_evidence()
    closed = {c.case_id for c in store.cases(state="closed")} if incomplete else set()
    for case_id in incomplete:
        if case_id in closed:  # handled already: recording the air now would prove nothing about it
            store.add_note(case_id, f"{EVIDENCE_NOTE} the capture was interrupted and the case is closed",
                           author=cfg.station.id)
            given_up.append(case_id)
            continue
        item = None
        p = pending_path(data_dir, case_id)
        if p.is_file():
            item = _load_pending(p)
        if item is None:
            rebuilt = rebuild_result(store, case_id)
            if rebuilt is None:
                why = "the case has no observation to rebuild the capture from"
            else:
                band, result = rebuilt
                fc = result.emission.center_hz
                if band not in bands or not bands[band].f_lo_hz <= fc <= bands[band].f_hi_hz:
                    band = next((b.name for b in cfg.bands if b.f_lo_hz <= fc <= b.f_hi_hz), None)
                item = (band, result, case_id, None) if band else None
                why = f"no configured band covers {result.emission.center_hz / 1e6:.6f} MHz any more"
            if item is None:
                store.add_note(case_id, f"{EVIDENCE_NOTE} the capture was interrupted and cannot be redone: {why}",
                               author=cfg.station.id)
                given_up.append(case_id)
                continue
        elif item[0] not in bands:
            store.add_note(case_id, f"{EVIDENCE_NOTE} the capture was interrupted and band {item[0]!r} is no longer "
                           f"configured", author=cfg.station.id)
            given_up.append(case_id)
            continue
        pipeline._evidence_queue.append(item)
        pipeline._recovered.add(case_id)
        queued.append(case_id)
    if queued:
        log.warning("evidence recovery: %d case(s) whose evidence capture was interrupted are queued for capture: %s",
                    len(queued), ", ".join(queued))
    if given_up:
        log.warning("evidence recovery: %d case(s) cannot be completed (noted in their history): %s",
                    len(given_up), ", ".join(given_up))
    return queued


__all__ = ["drop_pending", "pending_path", "rebuild_result", "recover", "save_pending"]
