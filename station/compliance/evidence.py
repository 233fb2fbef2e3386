"""Evidence captured when a violation case opens, written to ``<evidence dir>/<case id>/`` and recorded in the
case store with the SHA-256 of each file:

    spectrum.png        the band spectrum around the emission: occupied band shaded red, the nearest licensed
                        channels (channel +/- tolerance) shaded green and labelled with their licence numbers
    iq.sigmf-meta/-data an IQ recording (receiver-native datatype, cu8 for an RTL-SDR; 1 s by default) tuned next
                        to the emission (offset so the emission stays clear of the DC spike), triggered on the
                        emission: the recorder watches the emission's band in 10 ms blocks and starts keeping
                        samples 0.1 s before the first block where it is on the air (waiting up to 4 s for a
                        burst), so a bursty or push-to-talk transmitter is caught transmitting; a SigMF
                        annotation spans the blocks where the emission was on, the station's position is
                        core:geolocation
    manifest.json       station id and position, UTC time, the emission's measurements, class, reason,
                        licences, the measurement settings, the receiver, and the SHA-256 of every file above

A part that fails (the receiver errors, the spectrum does not cover the emission) is reported in
:attr:`EvidenceCapture.problems` and the rest is still captured: evidence capture never stops the station.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from station.compliance.records import Assignment, ComplianceResult
from dsp.spectrum import Spectrum
from station.compliance.cases import CaseStore, EvidenceFile, sha256_of
from station.errors import SpecmonError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    """How much evidence to take.

    Parameters
    ----------
    iq_duration_s : float, s in (0, 10]
        Length of the IQ recording (pre-trigger included).
    iq_sample_rate_hz : float or None, Hz
        Sample rate of the IQ recording; None (or a rate too narrow for the emission): keep the receiver's
        current rate.
    burst_wait_s : float, s in [0, 60]
        How long the recorder waits for the emission to come on the air (a burst, a push-to-talk over).
    pretrigger_s : float, s in [0, 1]
        Kept before the first block where the emission is on.
    block_s : float, s in (0, 0.1]
        Trigger block length (rounded to a multiple of 256 samples).
    min_span_hz : float, Hz
        The spectrum snapshot shows at least this span around the emission ...
    span_bandwidths : float, occupied bandwidths
        ... or this many occupied bandwidths of the emission, if wider.
    max_channels_marked : int
        Licensed channels marked on the snapshot at most (the nearest to the emission first).
    """

    iq_duration_s: float = 1.0
    iq_sample_rate_hz: float | None = None
    burst_wait_s: float = 4.0
    pretrigger_s: float = 0.1
    block_s: float = 0.01
    min_span_hz: float = 50_000.0
    span_bandwidths: float = 6.0
    max_channels_marked: int = 8

    def __post_init__(self):
        if not 0 < self.iq_duration_s <= 10:
            raise ValueError(f"iq_duration_s must be in (0, 10] s, got {self.iq_duration_s}")
        if not 0 <= self.burst_wait_s <= 60:
            raise ValueError(f"burst_wait_s must be in [0, 60] s, got {self.burst_wait_s}")
        if not 0 <= self.pretrigger_s <= 1:  # (at most all but one block of the recording is kept before it)
            raise ValueError(f"pretrigger_s must be in [0, 1] s, got {self.pretrigger_s}")
        if not 0 < self.block_s <= 0.1:
            raise ValueError(f"block_s must be in (0, 0.1] s, got {self.block_s}")


@dataclass(frozen=True, slots=True)
class EvidenceCapture:
    case_id: str
    directory: Path
    files: tuple[EvidenceFile, ...]
    problems: tuple[str, ...]  # parts not captured, and why


def snapshot_png(
    spectrum: Spectrum,
    result: ComplianceResult,
    nearby: Sequence[Assignment],
    path: str | Path,
    *,
    title: str,
    settings: EvidenceSettings = EvidenceSettings(),
) -> Path:
    """Draw the spectrum around ``result.emission`` with the nearest licensed channels marked; write PNG.

    Raises ValueError when the spectrum does not cover the emission."""
    from station.formats.plot import spectrum_figure

    e = result.emission
    if not (spectrum.f_lo_hz <= e.center_hz <= spectrum.f_hi_hz):
        raise ValueError(
            f"the spectrum covers {spectrum.f_lo_hz / 1e6:.6f}-{spectrum.f_hi_hz / 1e6:.6f} MHz, not the emission at "
            f"{e.center_hz / 1e6:.6f} MHz"
        )
    half = max(settings.min_span_hz, settings.span_bandwidths * e.bandwidth_hz) / 2
    lo = max(spectrum.f_lo_hz, e.center_hz - half)
    hi = min(spectrum.f_hi_hz, e.center_hz + half)
    fig = spectrum_figure(spectrum, title=title, f_lo_hz=lo, f_hi_hz=hi, markers_hz=(e.center_hz,))
    ax = fig.axes[0]
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ax.axvspan(e.f_lo_hz / 1e6, e.f_hi_hz / 1e6, color="tab:red", alpha=0.18, label="occupied band (99 %)")
    in_view = sorted(
        (a for a in nearby if a.f_hi_hz + a.frequency_tolerance_hz >= lo and a.f_lo_hz - a.frequency_tolerance_hz <= hi),
        key=lambda a: abs(a.center_hz - e.center_hz),
    )[: settings.max_channels_marked]
    ymax = ax.get_ylim()[1]
    for k, a in enumerate(in_view):
        tol = a.frequency_tolerance_hz
        ax.axvspan((a.f_lo_hz - tol) / 1e6, (a.f_hi_hz + tol) / 1e6, color="tab:green", alpha=0.15,
                   label="licensed channel (+/- tolerance)" if k == 0 else None)
        ax.axvline(a.center_hz / 1e6, color="tab:green", lw=0.8)
        ax.text(a.center_hz / 1e6, ymax, f" {a.licence}", rotation=90, va="top", ha="right", fontsize="x-small",
                color="darkgreen")
    ax.legend(loc="lower right", fontsize="x-small")
    fig.savefig(path, format="png")
    fig.clear()  # break the figure's reference cycles now, not at the next garbage collection
    return Path(path)


def save_spectrum_data(spectrum: Spectrum, nearby: Sequence[Assignment], path: str | Path) -> Path:
    """Write the snapshot's spectrum (``freqs_hz``, ``psd_dbfs_hz``, ``maxhold_dbfs_hz``, ``enbw_hz``) and the
    licensed channels near it (``channels``: JSON list of licence, centre, edges, tolerance in Hz) as an
    uncompressed .npz (no pickles), so a report redraws the image (:func:`spectrum_data_figure`)."""
    channels = [{"licence": a.licence, "center_hz": a.center_hz, "f_lo_hz": a.f_lo_hz, "f_hi_hz": a.f_hi_hz,
                 "tolerance_hz": a.frequency_tolerance_hz} for a in nearby]
    arrays = {"freqs_hz": np.asarray(spectrum.freqs_hz, np.float64),
              "psd_dbfs_hz": np.asarray(spectrum.psd_dbfs_hz, np.float32),
              "enbw_hz": np.float64(spectrum.enbw_hz),
              "channels": np.array(json.dumps(channels, ensure_ascii=False))}
    if spectrum.maxhold_dbfs_hz is not None:
        arrays["maxhold_dbfs_hz"] = np.asarray(spectrum.maxhold_dbfs_hz, np.float32)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


def spectrum_data_figure(path: str | Path, *, center_hz: float, bandwidth_hz: float, u_center_hz: float,
                         title: str, words: dict, min_span_hz: float = 50_000.0, span_bandwidths: float = 6.0,
                         max_channels: int = 8):
    """A matplotlib Figure from a :func:`save_spectrum_data` file marking ``center_hz`` (dashed, with its
    +/- ``u_center_hz`` band) and the occupied band ``center_hz +/- bandwidth_hz/2``; every text comes from
    ``words`` (keys: frequency, level, average, maxhold, occupied, licensed, centre) so the caller chooses
    the language."""
    from station.formats.plot import _new_figure

    with np.load(path, allow_pickle=False) as z:
        f = np.asarray(z["freqs_hz"], np.float64)
        psd = np.asarray(z["psd_dbfs_hz"], np.float64)
        mh = np.asarray(z["maxhold_dbfs_hz"], np.float64) if "maxhold_dbfs_hz" in z.files else None
        enbw = float(z["enbw_hz"])
        channels = json.loads(str(z["channels"]))
    if f.size < 2 or not (f[0] <= center_hz <= f[-1]):
        raise ValueError(f"the stored spectrum does not cover {center_hz / 1e6:.6f} MHz")
    off = 10.0 * np.log10(enbw)
    half = max(min_span_hz, span_bandwidths * bandwidth_hz) / 2
    lo, hi = max(f[0], center_hz - half), min(f[-1], center_hz + half)
    fig = _new_figure(10, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    if mh is not None:
        ax.plot(f / 1e6, mh + off, lw=0.6, color="tab:orange", label=words["maxhold"])
    ax.plot(f / 1e6, psd + off, lw=0.8, color="tab:blue", label=words["average"])
    ax.axvspan((center_hz - bandwidth_hz / 2) / 1e6, (center_hz + bandwidth_hz / 2) / 1e6, color="tab:red",
               alpha=0.18, label=words["occupied"])
    ax.axvline(center_hz / 1e6, color="tab:red", lw=0.9, ls="--", label=words["centre"])
    if u_center_hz > 0:
        ax.axvspan((center_hz - u_center_hz) / 1e6, (center_hz + u_center_hz) / 1e6, color="tab:red", alpha=0.35)
    ax.set_xlim(lo / 1e6, hi / 1e6)
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ymax = ax.get_ylim()[1]
    in_view = sorted((c for c in channels if c["f_hi_hz"] + c["tolerance_hz"] >= lo
                      and c["f_lo_hz"] - c["tolerance_hz"] <= hi),
                     key=lambda c: abs(c["center_hz"] - center_hz))[:max_channels]
    for k, c in enumerate(in_view):
        tol = c["tolerance_hz"]
        ax.axvspan((c["f_lo_hz"] - tol) / 1e6, (c["f_hi_hz"] + tol) / 1e6, color="tab:green", alpha=0.15,
                   label=words["licensed"] if k == 0 else None)
        ax.axvline(c["center_hz"] / 1e6, color="tab:green", lw=0.8)
        ax.text(c["center_hz"] / 1e6, ymax, f" {c['licence']}", rotation=90, va="top", ha="right",
                fontsize="x-small", color="darkgreen")
    ax.set_xlabel(words["frequency"])
    ax.set_ylabel(words["level"])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="x-small")
    ax.set_title(title, fontsize="medium")
    return fig


def trigger_threshold_fs2(e) -> float:
    """In-band power (FS^2) above which the emission counts as on the air in a trigger block: the sweep's noise
    in the occupied band raised by half the sweep's SNR, at least 3 dB and at most 10 dB (a burst diluted in
    its block still clears it; noise alone clears it in about 1 block in 10^4 at 3 dB over 10 kHz x 10 ms)."""
    noise_fs2 = 10.0 ** (e.noise_dbfs_hz / 10.0) * max(e.bandwidth_hz, 1.0)
    margin_db = min(10.0, max(3.0, 0.5 * e.snr_db if math.isfinite(e.snr_db) else 3.0))
    return noise_fs2 * 10.0 ** (margin_db / 10.0)


@dataclass(frozen=True, slots=True)
class TriggeredIq:
    """Raw samples kept by :func:`record_triggered` and where the emission was on."""

    raw: list  # native raw chunks, in order
    n_samples: int
    start_offset_s: float  # time of the first kept sample after the recorder started reading
    triggered: bool
    waited_s: float  # from the start of reading to the trigger block (or the whole wait without one)
    on_first: int | None  # first sample of the first block where the emission was on (None: never)
    on_last: int | None  # one past the last sample of the last such block
    on_fraction: float  # fraction of the kept trigger blocks where it was on
    threshold_fs2: float


def record_triggered(read_raw, fmt: str, rate_hz: float, band_hz: tuple[float, float], threshold_fs2: float, *,
                     duration_s: float, wait_s: float, pretrigger_s: float, block_s: float) -> TriggeredIq:
    """Read ``duration_s`` of samples with ``read_raw(n)`` starting ``pretrigger_s`` before the first block
    whose power in ``band_hz`` (offsets from the tuned centre, Hz) exceeds ``threshold_fs2``; wait at most
    ``wait_s`` for such a block (then keep the last samples read, the emission off). Blocks are a multiple of
    256 samples (RTL-SDR USB transfers are multiples of 512 bytes)."""
    from collections import deque

    from dsp.convert import to_complex64
    from dsp.trigger import band_power_blocks

    block = max(256, int(round(block_s * rate_hz / 256.0)) * 256)
    n_total = max(block, int(round(duration_s * rate_hz)))
    n_pre = min(n_total - block, int(round(pretrigger_s * rate_hz / block)) * block)
    ring: deque = deque(maxlen=max(1, n_pre // block) if n_pre else 1)
    keep_pre = n_pre > 0
    read, triggered, chunks = 0, False, []
    while read < wait_s * rate_hz or read == 0:
        raw = read_raw(block)
        read += block
        p = band_power_blocks(to_complex64(raw, fmt), rate_hz, band_hz[0], band_hz[1], block)
        if p.size and p[0] > threshold_fs2:
            triggered = True
            chunks = [*(ring if keep_pre else ()), raw]
            break
        ring.append(raw)
    if not triggered:
        chunks = list(ring)
    waited_s = (read - block) / rate_hz if triggered else read / rate_hz
    kept = sum(len(c) // 2 for c in chunks)
    start_offset_s = (read - kept) / rate_hz
    if kept < n_total:
        chunks.append(read_raw(n_total - kept))
        kept = n_total
    # where the emission was on, over the whole kept recording
    x = to_complex64(np.concatenate(chunks), fmt)
    p = band_power_blocks(x, rate_hz, band_hz[0], band_hz[1], block)
    on = np.flatnonzero(p > threshold_fs2)
    return TriggeredIq(
        raw=chunks, n_samples=kept, start_offset_s=start_offset_s, triggered=triggered, waited_s=waited_s,
        on_first=int(on[0]) * block if on.size else None, on_last=(int(on[-1]) + 1) * block if on.size else None,
        on_fraction=float(on.size / p.size) if p.size else 0.0, threshold_fs2=threshold_fs2,
    )


def _record_iq(receiver, result: ComplianceResult, base: Path, *, case_id: str, station_id: str,
               position: tuple[float, float] | None, when: datetime, settings: EvidenceSettings):
    """Retune ``receiver`` next to the emission, record on the emission (see :func:`record_triggered`),
    restore its previous tuning. Returns (the recording, the TriggeredIq)."""
    from station.formats.sigmf import Annotation, Geolocation, SigmfWriter

    e = result.emission
    previous_hz, previous_rate = receiver.center_freq_hz, receiver.sample_rate_hz
    if settings.iq_sample_rate_hz and settings.iq_sample_rate_hz >= 1.25 * e.bandwidth_hz:
        receiver.set_sample_rate(settings.iq_sample_rate_hz)
    elif not receiver.sample_rate_hz:  # (a configured rate too narrow for the emission keeps the sweep's rate)
        receiver.set_sample_rate(2.4e6)
    rate = receiver.sample_rate_hz
    # keep the emission off the DC spike when it fits inside 80 % of the band with an offset of rate/4
    offset = rate / 4 if e.bandwidth_hz / 2 + rate / 4 <= 0.4 * rate else 0.0
    try:
        tuned = receiver.set_center_freq(e.center_hz - offset)
        info = receiver.info
        t_read = datetime.now(timezone.utc)
        trig = record_triggered(
            receiver.read_raw, info.native_format, rate, (e.f_lo_hz - tuned, e.f_hi_hz - tuned),
            trigger_threshold_fs2(e), duration_s=settings.iq_duration_s, wait_s=settings.burst_wait_s,
            pretrigger_s=settings.pretrigger_s, block_s=settings.block_s)
        geo = Geolocation(position[0], position[1]) if position else None
        with SigmfWriter(
            base, datatype=info.native_format, sample_rate_hz=rate, center_freq_hz=tuned,
            start_utc=t_read + timedelta(seconds=trig.start_offset_s),
            hw=info.hw, description=f"specmon evidence for case {case_id}: {result.klass.value} emission at "
            f"{e.center_hz / 1e6:.6f} MHz", author=f"specmon station {station_id}", geolocation=geo,
            global_extra={"specmon:case_id": case_id, "specmon:gain_db": receiver.gain_db, "specmon:ppm": receiver.ppm},
        ) as w:
            for chunk in trig.raw:
                w.write_raw(chunk)
            on = trig.on_first is not None
            w.add_annotation(Annotation(
                sample_start=trig.on_first if on else 0,
                sample_count=(trig.on_last - trig.on_first) if on else trig.n_samples,
                freq_lower_edge_hz=e.f_lo_hz, freq_upper_edge_hz=e.f_hi_hz,
                label=result.klass.value,
                comment=result.reason if on else f"{result.reason} (the emission was not seen on the air during "
                f"this recording)",
                extra={"specmon:case_id": case_id, "specmon:licences": list(result.licences),
                       "specmon:center_hz": e.center_hz, "specmon:bandwidth_hz": e.bandwidth_hz,
                       "specmon:power_dbfs": e.power_dbfs, "specmon:snr_db": e.snr_db,
                       "specmon:on_air_fraction": round(trig.on_fraction, 4), "specmon:triggered": trig.triggered},
            ))
        return w.close(), trig
    finally:
        try:
            if previous_rate and previous_rate != receiver.sample_rate_hz:
                receiver.set_sample_rate(previous_rate)
            if previous_hz:
                receiver.set_center_freq(previous_hz)
        except SpecmonError as exc:  # the daemon retunes for its next hop anyway
            log.warning("could not restore the receiver's tuning after evidence capture: %s", exc)


def capture_evidence(
    store: CaseStore,
    case_id: str,
    result: ComplianceResult,
    *,
    out_dir: str | Path,
    station_id: str,
    position: tuple[float, float] | None,
    spectrum: Spectrum | None = None,
    receiver=None,
    nearby: Sequence[Assignment] = (),
    measurement: dict | None = None,
    settings: EvidenceSettings = EvidenceSettings(),
    when: datetime | None = None,
    isolate: bool = False,
) -> EvidenceCapture:
    """Capture and record the evidence of a newly opened case (see the module docstring).

    ``spectrum``: the sweep that found the emission (for the snapshot); ``receiver``: a
    :class:`station.receivers.base.Receiver` to record IQ with (None: no IQ); ``nearby``: register
    assignments around the emission (``ComplianceChecker.assignments_near``); ``measurement``: the DSP settings
    (rbw_hz, nfft, window, dwell_s, gain ...) for the manifest. ``isolate``: draw the snapshot in a short-lived
    child process (:mod:`station.childproc`) so matplotlib never loads into the caller (the daemon: ~50 MB
    resident for months otherwise); if the child cannot run, it is drawn in-process."""
    when = when or datetime.now(timezone.utc)
    folder = _fresh_folder(Path(out_dir) / case_id)
    e = result.emission
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    problems: list[str] = []
    files: list[tuple[Path, str, str]] = []

    if spectrum is not None:
        try:
            png = _draw(
                isolate, spectrum, result, tuple(nearby), folder / "spectrum.png", settings=settings,
                title=f"{case_id} {result.klass.value} {e.center_hz / 1e6:.6f} MHz  {station_id}  {stamp}",
            )
            files.append((png, "spectrum_png", "spectrum snapshot around the emission, licensed channels marked"))
            # the numbers behind the snapshot: reports redraw it in their language with the case's canonical values
            files.append((save_spectrum_data(spectrum, tuple(nearby), folder / "spectrum.npz"), "spectrum_data",
                          "spectrum around the emission (frequencies, PSD, max hold) and the licensed channels near it"))
        except (ValueError, OSError) as exc:
            problems.append(f"spectrum snapshot: {exc}")
    else:
        problems.append("spectrum snapshot: no spectrum given")

    recording = trig = None
    if receiver is not None:
        try:
            recording, trig = _record_iq(receiver, result, folder / "iq", case_id=case_id, station_id=station_id,
                                         position=position, when=when, settings=settings)
            if not trig.triggered:
                problems.append(f"IQ recording: the emission did not come on the air within "
                                f"{settings.burst_wait_s:g} s; the recording holds the channel without it")
            files.append((recording.meta_path, "iq_sigmf_meta", "SigMF metadata of the IQ recording"))
            files.append((recording.data_path, "iq_sigmf_data", f"IQ samples ({recording.datatype})"))
        except (SpecmonError, ValueError, OSError) as exc:
            problems.append(f"IQ recording: {exc}")
    else:
        problems.append("IQ recording: no receiver given")

    info = receiver.info if receiver is not None else None
    manifest = {
        "case_id": case_id,
        "station": station_id,
        "position": {"latitude": position[0], "longitude": position[1]} if position else None,
        "time_utc": when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "class": result.klass.value,
        "indicative": result.indicative,
        "licences": list(result.licences),
        "reason": result.reason,
        "emission": {
            "center_hz": e.center_hz, "peak_hz": e.peak_hz, "f_lo_hz": e.f_lo_hz, "f_hi_hz": e.f_hi_hz,
            "bandwidth_hz": e.bandwidth_hz, "xdb_bandwidth_hz": e.xdb_bandwidth_hz, "power_dbfs": e.power_dbfs,
            "peak_dbfs": e.peak_dbfs, "snr_db": e.snr_db, "noise_dbfs_hz": e.noise_dbfs_hz,
            "occupancy": e.occupancy, "offset_hz": result.offset_hz, "tolerance_hz": result.tolerance_hz,
            "necessary_bandwidth_hz": result.necessary_bandwidth_hz,
        },
        "measurement": {
            **({"rbw_hz": spectrum.enbw_hz, "bin_hz": spectrum.bin_hz, "nfft": spectrum.nfft,
                "window": spectrum.window, "average": spectrum.average, "dwell_s": spectrum.dwell_s,
                "sample_rate_hz": spectrum.sample_rate_hz, "source": spectrum.source} if spectrum is not None else {}),
            **(measurement or {}),
        },
        "receiver": None if info is None else {
            "uri": info.uri, "hw": info.hw, "tuner": info.tuner, "native_format": info.native_format,
            "frequency_uncertainty_ppm": info.frequency_uncertainty_ppm, "gain_db": receiver.gain_db,
            "ppm": receiver.ppm,
        },
        "iq": None if recording is None else {
            "center_freq_hz": recording.center_freq_hz, "sample_rate_hz": recording.sample_rate_hz,
            "n_samples": recording.n_samples, "datatype": recording.datatype,
            "duration_s": recording.n_samples / recording.sample_rate_hz,
            "start_utc": recording.start_utc.isoformat().replace("+00:00", "Z") if getattr(
                recording, "start_utc", None) else None,
            "trigger": {"triggered": trig.triggered, "waited_s": round(trig.waited_s, 4),
                        "threshold_dbfs": 10 * math.log10(trig.threshold_fs2), "pretrigger_s": settings.pretrigger_s,
                        "block_s": settings.block_s, "on_air_fraction": round(trig.on_fraction, 4)},
        },
        "files": [{"name": p.name, "kind": k, "sha256": sha256_of(p), "size_bytes": p.stat().st_size}
                  for p, k, _ in files],
        "problems": problems,
    }
    manifest_path = folder / "manifest.json"
    tmp = manifest_path.with_name(".manifest.json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=_json_default) + "\n", encoding="utf-8")
    tmp.replace(manifest_path)
    files.append((manifest_path, "manifest", "station, position, UTC time, measurements, settings, checksums"))
    recorded = tuple(store.add_evidence(case_id, p, kind, description=d, now=when) for p, kind, d in files)
    for p in problems:
        log.warning("evidence for %s: %s", case_id, p)
    return EvidenceCapture(case_id, folder, recorded, tuple(problems))


def _draw(isolate: bool, *args, **kwargs) -> Path:
    if isolate:
        from station.childproc import ChildFailed, call_in_child

        try:
            return call_in_child(snapshot_png, *args, **kwargs)
        except ChildFailed as exc:
            log.warning("%s; drawing the spectrum snapshot in-process", exc)
    return snapshot_png(*args, **kwargs)


def _fresh_folder(folder: Path) -> Path:
    """``folder``, or ``folder/capture-N`` when something was already written there: recorded files (and their
    checksums in the case store) are never overwritten, and the leftovers of a capture a kill interrupted
    (a snapshot drawn but never recorded) stay as they were."""
    candidate, n = folder, 1
    while candidate.is_dir() and any(p.is_file() for p in candidate.iterdir()):
        n += 1
        candidate = folder / f"capture-{n}"
    candidate.mkdir(parents=True, exist_ok=True)
    return candidate


def _json_default(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, datetime):
        return x.isoformat()
    return str(x)
