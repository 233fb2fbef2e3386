"""The receiver's spur map in the station (detectors.spurs keeps the physics): which receiver it belongs to,
where it is stored, and the two measurements that need a receiver to retune.

* :func:`receiver_key`: the identity a map belongs to: the dongle's serial when it reports one (else its URI)
  and the sample rate (spurs move with the rate);
* :func:`load_map` / :func:`save_map`: the map in the station state store (``station_state`` key
  ``spur_map:<key>``);
* :func:`confirm_by_lo_shift`: re-measure an emission with the LO shifted by a non-integer number of bins
  (``k + 0.5``, more than its width away): a transmitter stays at its RF frequency and moves in baseband, a
  spur stays in baseband. Works with any receiver that tunes (sim://, rtltcp://, rtlsdr://); a ``file:`` source
  cannot retune and answers "unconfirmable";
* :func:`learn_by_dither`: tune at several LO offsets around a centre and keep the narrow lines that stay at the
  same baseband offset in every tuning (with the antenna disconnected, every line found is kept).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from detectors.spurs import SpurMap, SpurParams

log = logging.getLogger("specmon.spurs")

STATE_PREFIX = "spur_map:"


def receiver_key(receiver, sample_rate_hz: float) -> str:
    """``<serial or URI>@<rate>``: one spur map per dongle and sample rate."""
    info = getattr(receiver, "info", None)
    ident = getattr(receiver, "uri", "") or "receiver"
    if info is not None:
        hw = str(getattr(info, "hw", "") or "")
        if "serial" in hw.lower():
            ident = hw
        elif getattr(info, "uri", ""):
            ident = info.uri
    return f"{ident}@{float(sample_rate_hz):.0f}"


def load_map(state, key: str, params: SpurParams | None = None) -> SpurMap:
    """The receiver's map from the state store (a new one when none is saved or the saved one is unusable)."""
    saved = state.load(STATE_PREFIX + key) if state is not None else None
    if saved:
        try:
            return SpurMap.from_state(saved)
        except ValueError as exc:
            log.error("spur map of %s unusable (%s); learning it afresh", key, exc)
    return SpurMap(key, params)


def save_map(state, spur_map: SpurMap) -> None:
    state.save_many({STATE_PREFIX + spur_map.key: spur_map.to_state()})


def saved_maps(state) -> list[SpurMap]:
    """Every spur map in the state store."""
    rows = state._db.execute("SELECT key FROM station_state WHERE key LIKE ? ORDER BY key",
                             (STATE_PREFIX + "%",)).fetchall()
    out = []
    for (k,) in rows:
        try:
            out.append(SpurMap.from_state(state.load(k)))
        except (ValueError, TypeError) as exc:
            log.error("%s: %s", k, exc)
    return out


# ---- measurements that retune --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Confirmation:
    """Verdict of an LO-shift re-measurement: "transmitter" (moved in baseband), "spur" (stayed in
    baseband), "inconclusive" (neither position holds it now: off the air, too weak for one dwell) or
    "unconfirmable" (the source cannot retune: a file)."""

    verdict: str
    detail: str
    shift_hz: float = 0.0
    rf_excess_db: float | None = None  # power over the floor where a transmitter would be
    baseband_excess_db: float | None = None  # ... and where a spur would be


def _can_retune(receiver) -> bool:
    info = getattr(receiver, "info", None)
    return info is not None and getattr(info, "driver", "") != "file"


def _psd(receiver, center_hz: float, sample_rate_hz: float, nfft: int, window: str, dwell_s: float):
    """(baseband offsets (nfft,), linear PSD (nfft,), frames averaged) of one dwell at ``center_hz``."""
    from dsp.psd import welch

    got = receiver.set_center_freq(center_hz)
    n = max(nfft * 4, int(dwell_s * sample_rate_hz))
    raw = receiver.read_raw(n)
    r = welch(raw, sample_rate_hz, fmt=receiver.info.native_format, nfft=nfft, window=window, overlap=0.5,
              remove_dc=True)
    psd = np.asarray(r.mean_lin, dtype=float)
    offsets = (np.arange(nfft) - nfft // 2) * (sample_rate_hz / nfft) + (got - center_hz)
    return offsets, psd, int(getattr(r, "n_frames", 1) or 1)


def _excess(offsets, psd, at_hz: float, width_hz: float, bin_hz: float) -> float:
    """Mean PSD over the local floor (median of the 64 bins either side, the window excluded) in a window of
    ``width_hz`` at baseband ``at_hz``, as a ratio (1 = noise)."""
    k = int(round(at_hz / bin_hz)) + offsets.shape[0] // 2
    half = max(1, int(math.ceil(width_hz / bin_hz / 2)))
    a, b = k - half, k + half + 1
    if a < 1 or b > offsets.shape[0] - 1:
        return float("nan")
    ring = np.concatenate([psd[max(0, a - 64) : a], psd[b : b + 64]])
    floor = float(np.median(ring)) / 0.7 if ring.size else float(np.median(psd))  # median of exp: ln 2 of mean
    return float(np.mean(psd[a:b])) / max(floor, 1e-30)


def confirm_by_lo_shift(receiver, *, rf_hz: float, hop_center_hz: float, bandwidth_hz: float,
                        sample_rate_hz: float, nfft: int, window: str = "hann", dwell_s: float = 0.05,
                        pfa: float = 1e-3) -> Confirmation:
    """Re-measure the emission seen at ``rf_hz`` in the hop tuned to ``hop_center_hz`` with the LO shifted by
    ``k + 0.5`` bins (k: its width plus 8 bins), and say whether it moved in baseband (a transmitter) or not
    (a spur). The receiver is left tuned to the shifted centre; the caller's next hop retunes it."""
    if not _can_retune(receiver):
        return Confirmation("unconfirmable", f"{getattr(receiver, 'uri', 'source')} cannot retune (a recording): "
                            "an LO shift cannot tell a spur from a transmitter")
    from detectors import stats

    bin_hz = sample_rate_hz / nfft
    k = int(math.ceil(max(bandwidth_hz, bin_hz) / bin_hz)) + 8
    shift = (k + 0.5) * bin_hz
    if abs(rf_hz - hop_center_hz) + shift > 0.4 * sample_rate_hz:
        shift = -shift  # shift towards the middle of the passband
    offsets, psd, n_frames = _psd(receiver, hop_center_hz + shift, sample_rate_hz, nfft, window, dwell_s)
    width = max(bandwidth_hz, 2 * bin_hz)
    at_rf = rf_hz - (hop_center_hz + shift)  # where a transmitter is now
    at_bb = rf_hz - hop_center_hz  # where a spur still is
    x_rf = _excess(offsets, psd, at_rf, width, bin_hz)
    x_bb = _excess(offsets, psd, at_bb, width, bin_hz)
    m = max(1, int(round(width / bin_hz)))
    thr = stats.gamma_threshold(stats.relative_variance(window, nfft, 0.5, max(1, n_frames), m), pfa)
    db = lambda r: 10 * math.log10(r) if r and r > 0 and math.isfinite(r) else None  # noqa: E731
    on_rf, on_bb = x_rf > thr, x_bb > thr
    detail = (f"LO shifted {shift / bin_hz:+.1f} bins ({shift:+.0f} Hz): {db(x_rf - 1 if x_rf > 1 else x_rf)} dB "
              f"at the RF position, {db(x_bb - 1 if x_bb > 1 else x_bb)} dB at the baseband position (threshold "
              f"{db(thr - 1)} dB over the floor)")
    if on_rf and (not on_bb or x_rf > 2 * x_bb):
        verdict = "transmitter"
    elif on_bb and (not on_rf or x_bb > 2 * x_rf):
        verdict = "spur"
    else:
        verdict = "inconclusive"
    return Confirmation(verdict, detail, shift, db(x_rf), db(x_bb))


def learn_by_dither(receiver, spur_map: SpurMap, *, center_hz: float, sample_rate_hz: float, nfft: int,
                    n_shifts: int = 5, dwell_s: float = 0.2, window: str = "hann", pfa: float = 1e-4,
                    antenna_off: bool = False) -> list:
    """Tune at ``n_shifts`` LO offsets (non-integer bins apart) around ``center_hz`` and add to ``spur_map``
    the narrow lines found at the same baseband offset in every tuning (``antenna_off``: in any tuning, since
    nothing else can be there). Returns the spurs added."""
    from detectors import stats

    if not _can_retune(receiver):
        raise ValueError(f"{getattr(receiver, 'uri', 'source')} cannot retune: dithering needs a live receiver")
    bin_hz = sample_rate_hz / nfft
    shifts = [(i * 13.37 - (n_shifts - 1) * 13.37 / 2) * bin_hz for i in range(n_shifts)]
    hits: dict[int, list] = {}
    usable = slice(int(nfft * 0.1), int(nfft * 0.9))  # the roll-off at the edges is not judged
    for s in shifts:
        offsets, psd, n_frames = _psd(receiver, center_hz + s, sample_rate_hz, nfft, window, dwell_s)
        from scipy.ndimage import median_filter

        floor = median_filter(psd, size=65, mode="mirror") / 0.7
        ratio = psd / floor
        thr = stats.gamma_threshold(stats.relative_variance(window, nfft, 0.5, max(1, n_frames), 1), pfa)
        idx = np.flatnonzero(ratio > thr)
        for i in idx:
            if not usable.start <= i < usable.stop or abs(i - nfft // 2) <= 2:
                continue  # DC is its own artifact
            if ratio[i] < ratio[max(0, i - 1)] or ratio[i] < ratio[min(nfft - 1, i + 1)]:
                continue  # local maxima only
            hits.setdefault(int(round(offsets[i] / bin_hz)), []).append(10 * math.log10(ratio[i]))
    need = 1 if antenna_off else n_shifts
    added = []
    for k, levels in sorted(hits.items()):
        if len(levels) >= need:
            added.append(spur_map.add(k * bin_hz, float(np.median(levels)), "antenna_off" if antenna_off else "dither"))
    return added
