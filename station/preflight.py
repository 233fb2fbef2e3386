"""Preflight: the ONE validation a config (and its register) passes before it is used. ``specmon run`` (at
start), a SIGHUP reload, ``specmon config check`` and ``specmon register check`` all call these functions, so a
check command can never accept what the station refuses (issue 14).

:func:`check_config` (beyond the config parser's types and ranges): each receiver URI is parsed as opening it
would (``rtlsdr:/0`` is malformed; a ``sim:`` scenario file is loaded and validated, transmitter ids
included), each band lies in its receiver's tuning range (the range known before opening; a dongle's own tuner
is checked again when it opens) and its rbw is feasible at the receiver's sample rate (``choose_nfft``), and the
register and exempt-band table load without a bad row and build the checker's frequency index.
:func:`check_register` is the register part alone. Errors are :class:`~station.errors.SpecmonError` naming the
file and place; nothing here opens a device, a socket or a store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from station.errors import ConfigError, DataError, SpecmonError

log = logging.getLogger("specmon.preflight")


@dataclass(frozen=True)
class Preflight:
    """What :func:`check_config` built while checking, for the caller to use (no second load)."""

    checker: object | None  # station.compliance.checker.ComplianceChecker, or None without a register
    tuning_ranges_hz: dict[str, tuple[float, float] | None]  # receiver name -> range known before opening


def check_register(path: str | Path, exempt_path: str | Path | None = None, *, station_position=None,
                   monitoring_range_m: float = 30000.0, receiver_uncertainty_ppm: float = 1.0):
    """Load the register (and exempt bands) as the station does and build its checker. Returns
    ``(RegisterFile, exempt bands, ComplianceChecker)``; raises DataError naming ``file:line:column`` of the
    first bad row (and how many more) when any row is bad, or when the checker refuses the rows."""
    from station.compliance.checker import ComplianceChecker
    from station.compliance.register import load_exempt_bands_strict, load_register

    reg = load_register(path)
    reg.raise_for_errors()
    exempt = load_exempt_bands_strict(exempt_path) if exempt_path else []
    try:
        checker = ComplianceChecker(reg.assignments, exempt, station_position=station_position,
                                    monitoring_range_m=monitoring_range_m,
                                    receiver_uncertainty_ppm=receiver_uncertainty_ppm)
    except (ValueError, TypeError, OverflowError) as exc:  # rows the loader passed but the index cannot hold
        raise DataError(f"the register's assignments cannot be indexed: {exc}", where=str(path)) from None
    return reg, exempt, checker


def check_config(config) -> Preflight:
    """Everything ``run`` and a SIGHUP reload check before using ``config`` (a parsed
    :class:`~station.config.Config`); returns the checker built on the way. Raises ConfigError/DataError/
    UsageError naming the file and key (``station.toml:receivers[0].uri``, ``station.toml:bands[1].f_hi``)."""
    from station.pipeline.factories import make_sweep_plan
    from station.receivers import check_receiver_uri

    src = config.source
    ranges: dict[str, tuple[float, float] | None] = {}
    for i, rc in enumerate(config.receivers):
        options = {"settle_samples": rc.settle_samples}
        if rc.seed is not None:
            options["seed"] = rc.seed
        try:
            ranges[rc.name] = check_receiver_uri(rc.uri, **options)
        except ConfigError:
            raise
        except SpecmonError as exc:
            raise type(exc)(f"receiver {rc.name}: {_reason(exc)}", where=f"{src}:receivers[{i}].uri"
                            if not isinstance(exc, DataError) else exc.where) from None
    from station.calibration.levels import load_station_profile

    for rc in config.receivers:
        if getattr(rc, "calibration", None) is not None:
            load_station_profile(rc.calibration)
    for i, band in enumerate(config.bands):
        where = f"{src}:bands[{i}]"
        rng = ranges.get(band.receiver)
        if rng is not None:
            lo, hi = rng
            if band.f_lo_hz < lo or band.f_hi_hz > hi:
                raise ConfigError(f"band {band.name} {band.f_lo_hz / 1e6:g}-{band.f_hi_hz / 1e6:g} MHz is outside the "
                                  f"tuning range {lo / 1e6:g}-{hi / 1e6:g} MHz of receiver {band.receiver}",
                                  where=f"{where}.{'f_lo' if band.f_lo_hz < lo else 'f_hi'}")
        make_sweep_plan(band, config.receiver(band.receiver).sample_rate_hz, rng, where=where)
    from station.pipeline.factories import make_checker

    checker = make_checker(config)
    return Preflight(checker=checker, tuning_ranges_hz=ranges)


def _reason(exc: SpecmonError) -> str:
    text = str(exc)
    if exc.where and text.startswith(f"{exc.where}: "):
        return text[len(exc.where) + 2:]
    return text
