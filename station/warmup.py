"""Compile the numba kernels the station uses before any receiver is read (issue 14).

numba compiles a kernel the first time it is called with a new type signature; with an empty cache that took
99 s for the demo on slow hardware, counted against the receiver's ``read_timeout`` (a false receiver error).
:func:`warm_up` runs the station's real code paths once on tiny inputs, with the types the station uses: one
hop of each configured band on the simulated receiver (cu8 samples -> conversion, Welch PSD, stitching, the
simulator's own kernels), the band's detector (noise floor, energy detection, bursts), and the evidence audio
demodulators. Every kernel is ``@njit(cache=True)``, so the machine code lands in numba's cache
(``NUMBA_CACHE_DIR``) and later starts only load it. ``specmon warmup`` runs it on purpose (at install, or as
the systemd unit's ``ExecStartPre``); ``specmon run`` runs it before its first sweep.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

log = logging.getLogger("specmon.warmup")


@dataclass(frozen=True)
class WarmupReport:
    bands: int  # bands whose sweep and detection paths ran
    seconds: float  # wall time (compilation, or loading from the cache)
    problems: tuple[str, ...] = ()  # paths that could not be warmed (logged; the run compiles them lazily)


def warm_up(config=None) -> WarmupReport:
    """Run each code path with numba kernels once on tiny inputs (see the module). ``config``: the station
    config (its bands' rbw, window and detector settings); None: the built-in demo's. Never raises for a
    path that cannot be warmed: it is listed in ``problems`` and logged (that kernel compiles on first use)."""
    from station.config import demo_config

    t0 = time.perf_counter()
    config = config or demo_config("specmon-data")
    problems: list[str] = []
    # first, while little else is resident: the noise tables the station's own simulated receivers will read
    try:
        _build_noise_tables(config)
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the run itself reports errors
        problems.append(f"simulator noise tables: {type(exc).__name__}: {exc}")
    done = 0
    borrowed = False  # a band warmed on a stand-in simulator (its receiver is not simulated)
    for band in config.bands:
        try:
            borrowed |= _warm_band(config, band)
            done += 1
        except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the run itself reports errors
            problems.append(f"band {band.name}: {type(exc).__name__}: {exc}")
    try:
        _warm_demod()
    except Exception as exc:  # noqa: BLE001
        problems.append(f"demodulators: {type(exc).__name__}: {exc}")
    if borrowed:
        # the stand-in simulator (sim://city, seed 0) left its noise tables in the shared cache; the station's
        # receivers never read them: 8 MB each, resident for the whole run otherwise
        from station.sim.engine import _noise_table

        _noise_table.cache_clear()
        try:
            _build_noise_tables(config)  # (a station mixing simulated and real receivers: its own again)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"simulator noise tables: {type(exc).__name__}: {exc}")
    for p in problems:
        log.warning("warm-up: %s (its kernels compile on first use)", p)
    return WarmupReport(done, time.perf_counter() - t0, tuple(problems))


def kernel_cache_cold() -> bool:
    """True when numba's cache holds no usable machine code for kernels the warm-up compiles (a fresh install,
    a new checkout, edited sources): then :func:`warm_up` would compile, which takes far more memory than
    loading (the demo: ~470 MB peak compiling in the station process, ~330 MB loading). False when they are
    cached, or when the cache cannot be inspected (numba's private API changed: the warm-up runs in-process
    as before)."""
    try:
        from detectors._energy_kernels import mark_multiresolution
        from dsp.psd import _accumulate_fast
        from station.sim.kernels import finish_cu8

        for kernel in (_accumulate_fast, mark_multiresolution, finish_cu8):  # used by every band's warm-up
            cache = getattr(kernel, "_cache", None)
            if cache is None or not cache._cache_file._load_index():  # absent, or stale for the source
                return True
        return False
    except Exception:  # noqa: BLE001 - private numba structures; an unknown layout is not a reason to fail
        return False


def compile_in_child(config, *, timeout_s: float = 1800.0) -> WarmupReport | None:
    """Compile the kernels into numba's cache in a short-lived child process (station.childproc) when the cache
    is cold, so the compiler's memory leaves with the child and the station only loads the machine code. None
    when the cache was warm or the child could not run (logged; the in-process warm-up then compiles)."""
    if not kernel_cache_cold():
        return None
    from station.childproc import ChildFailed, call_in_child

    try:
        report = call_in_child(warm_up, config, timeout_s=timeout_s)
    except ChildFailed as exc:
        log.warning("kernels not compiled in a child process (%s): compiling in the station", exc)
        return None
    log.info("kernels compiled in a child process in %.1f s", report.seconds)
    return report


def _build_noise_tables(config) -> None:
    """Build the noise tables the station's simulated receivers will read (their own seed, at the sweep rate and
    at the evidence IQ rate) now, while little else is resident. Building one needs ~45 MB of FFT scratch for a
    moment; built mid-run (the evidence rate at the first case) that scratch came on top of everything the
    station holds and set its peak RSS. The tables are the same values whenever they are built (a pure function
    of seed and rate, cached), so the run's samples do not change."""
    from station.daemon.supervision import open_configured_receiver

    for rcfg in config.receivers:
        if not rcfg.uri.startswith("sim://"):
            continue
        rx = open_configured_receiver(rcfg)
        try:
            sim = getattr(rx, "simulator", None)
            if sim is None:
                continue
            sim._noise(sim.rate_hz)
            ev = config.evidence
            if ev.enabled and ev.sample_rate_hz:
                rx.set_sample_rate(ev.sample_rate_hz)
                sim._noise(sim.rate_hz)
        finally:
            rx.close()


def _warm_band(config, band) -> bool:
    """One short hop of ``band`` on the simulated receiver at the band's sample rate (the band's own when it is
    simulated, else a stand-in sim://city), then its detector. True when the stand-in was used."""
    from station.pipeline.factories import make_detector, make_occupancy, make_sweep_plan
    from station.receivers import open_receiver
    from station.sweep import prepare_receiver, sweep_band

    rate = config.receiver(band.receiver).sample_rate_hz
    span = min(band.f_hi_hz - band.f_lo_hz, 0.25 * rate)
    f_lo = min(max(band.f_lo_hz, 30e6), 1.6e9)  # inside the simulated tuner's range
    tiny = replace(band, f_lo_hz=f_lo, f_hi_hz=f_lo + span, dwell_s=min(band.dwell_s, 0.01))
    plan = make_sweep_plan(tiny, rate, None, where=f"warm-up:bands.{band.name}")
    rcfg = config.receiver(band.receiver)
    own = rcfg.uri.startswith("sim://")  # the station's own simulator (same tables as its run), else a stand-in
    if own:
        options = {"settle_samples": 0} if rcfg.seed is None else {"settle_samples": 0, "seed": rcfg.seed}
        rx = open_receiver(rcfg.uri, **options)
    else:
        rx = open_receiver("sim://city", seed=0, settle_samples=0)
    try:
        rx.set_sample_rate(rate)
        rx.set_gain(30.0)
        prepare_receiver(rx, plan)
        spec = sweep_band(rx, plan, plan.bands[0]).spectrum
    finally:
        rx.close()
    detector = make_detector(band)
    detector.noise_floor(spec)
    detector.detect(spec)
    if band.channels:
        make_occupancy(band, None).update(spec)
    return not own


def _warm_demod() -> None:
    """The evidence audio path (mix + FIR decimation, discriminator, de-emphasis, AM envelope) on 0.1 s of
    complex64 noise at the evidence sample rate."""
    from dsp.demod import MODES, demodulate

    rate = 1.024e6
    rng = np.random.default_rng(0)
    iq = (rng.standard_normal(int(rate * 0.1)) + 1j * rng.standard_normal(int(rate * 0.1))).astype(np.complex64)
    for mode in MODES:
        demodulate(iq, rate, 10e3, mode)
