"""``sim://NAME`` and ``sim:PATH.toml``: the simulated RTL-SDR (R820T, cu8) over a scenario.

    sim://city                    the built-in city of docs/DESIGN.md (station/data/scenarios/city.toml)
    sim://city?seed=7             the same with another noise/programme seed
    sim:scenarios/test.toml       a scenario file (relative to the working directory, or absolute)

Options (keyword arguments of :meth:`SimReceiver.from_uri`, or URI query parameters): ``seed`` (int, default 0),
``settle_samples`` (samples dropped after each retune, default 16384), ``start_s`` (simulator time of the first
sample, default 0), and for a scenario with ``[propagation]`` (a simulated network) the station's site:
``station`` (id, keys the shadowing), ``lat`` and ``lon`` (degrees; default: the scenario's own station)::

    sim:netcity.toml?station=hn-n&lat=21.055&lon=105.8542

The model and the dBm -> dBFS mapping are in docs/SCENARIO.md.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from station.errors import UsageError
from station.receivers.base import Receiver, ReceiverInfo
from station.sim.engine import R820T_GAINS_DB, Simulator
from station.redact import shown
from station.sim.scenario import (
    TUNING_RANGE_HZ, Scenario, builtin_scenario_path, load_scenario, needs_site, seen_from,
)

_OPTIONS = {"seed", "settle_samples", "start_s", "station", "lat", "lon"}


def _parse_uri(uri: str) -> tuple[Path, dict[str, str]]:
    scheme, sep, rest = uri.partition(":")
    if scheme.lower() != "sim" or not sep:
        raise UsageError(f"not a sim URI: {shown(uri)} (expected sim://NAME or sim:PATH.toml)")
    rest, _, query = rest.partition("?")
    params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=False)) if query else {}
    if rest.startswith("//") and "/" not in rest[2:]:
        name = rest[2:]
        if not name:
            raise UsageError(f"sim URI {shown(uri)} names no scenario (e.g. sim://city)")
        return builtin_scenario_path(name), params
    path = rest[2:] if rest.startswith("///") else rest
    if not path:
        raise UsageError(f"sim URI {shown(uri)} names no scenario file (e.g. sim:my-city.toml)")
    return Path(path), params


def _int_option(name: str, value, uri: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            return int(value.strip(), 10)
        if float(value) != int(value):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise UsageError(f"option {name} must be an integer, got {shown(value)}", where=uri) from None


def _site(params: dict, scenario: Scenario, uri: str) -> tuple[str, float, float]:
    """(station id, latitude, longitude) of a simulated network station, from the URI or the scenario."""
    out = []
    for key, default, lo, hi in (("lat", scenario.latitude_deg, -90, 90), ("lon", scenario.longitude_deg, -180, 180)):
        raw = params.get(key, default)
        if raw is None:
            raise UsageError(f"scenario {shown(scenario.name)} computes levels from EIRP: give the station site "
                             f"(?station=ID&lat=DEG&lon=DEG)", where=uri)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise UsageError(f"option {key} must be degrees, got {shown(raw)}", where=uri) from None
        if not lo <= value <= hi:
            raise UsageError(f"option {key} must be in {lo}..{hi} degrees, got {value:g}", where=uri)
        out.append(value)
    station = params.get("station") or scenario.station_id or f"{out[0]:.5f},{out[1]:.5f}"
    return station, out[0], out[1]


class SimReceiver(Receiver):
    """A simulated RTL2832U + R820T dongle: tuning range 24-1766 MHz, the R820T gain table, AGC, ppm,
    cu8 samples. Reproducible: same scenario, seed and sequence of calls -> identical bytes."""

    def __init__(self, uri: str, scenario: Scenario, *, seed: int = 0, settle_samples: int = 16384,
                 start_s: float = 0.0):
        super().__init__(uri, settle_samples=settle_samples)
        self.scenario = scenario
        self.seed = int(seed)
        self.simulator = Simulator(scenario, seed=self.seed, start_s=start_s)
        self._info = ReceiverInfo(
            uri=uri,
            driver="sim",
            hw=f"simulated RTL2832U/R820T, scenario {shown(scenario.name)}, seed {self.seed}",
            tuner="R820T",
            tuning_range_hz=TUNING_RANGE_HZ,
            gains_db=R820T_GAINS_DB,
            native_format="cu8",
            frequency_uncertainty_ppm=abs(scenario.receiver.ppm_error),
        )
        self.set_sample_rate(2.4e6)
        self.set_center_freq(100e6)

    @classmethod
    def check_uri(cls, uri: str, **options) -> tuple[float, float]:
        """Parse the URI and load and validate its scenario (transmitters, ids, site), without simulating."""
        cls._parse(uri, **options)
        return TUNING_RANGE_HZ

    @classmethod
    def from_uri(cls, uri: str, **options) -> SimReceiver:
        scenario, kw = cls._parse(uri, **options)
        return cls(uri, scenario, **kw)

    @classmethod
    def _parse(cls, uri: str, *, seed: int | str | None = None, settle_samples: int | str | None = None,
               start_s: float | str | None = None, **options) -> tuple[Scenario, dict]:
        """Open ``sim://NAME`` or ``sim:PATH.toml``. Keyword options override URI query parameters.

        Raises UsageError for an unknown option or a bad value, DataError for a missing or malformed scenario.
        """
        if options:
            raise UsageError(f"unknown sim receiver option(s) {', '.join(sorted(options))}; "
                             f"known: {', '.join(sorted(_OPTIONS))}", where=uri)
        path, params = _parse_uri(uri)
        for key in params:
            if key not in _OPTIONS:
                raise UsageError(f"unknown sim URI parameter {shown(key)}; known: {', '.join(sorted(_OPTIONS))}",
                                 where=uri)
        seed_v = _int_option("seed", params.get("seed", 0) if seed is None else seed, uri)
        settle_v = _int_option("settle_samples", params.get("settle_samples", 16384) if settle_samples is None
                               else settle_samples, uri)
        if settle_v < 0:
            raise UsageError(f"option settle_samples must be >= 0, got {settle_v}", where=uri)
        start_raw = params.get("start_s", 0.0) if start_s is None else start_s
        try:
            start_v = float(start_raw)
            if not (0 <= start_v <= 1e9):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise UsageError(f"option start_s must be a number of seconds, got {shown(start_raw)}", where=uri) from None
        scenario = load_scenario(path)
        if needs_site(scenario):
            scenario = seen_from(scenario, *_site(params, scenario, uri))
        elif {"station", "lat", "lon"} & set(params):
            raise UsageError("station/lat/lon only apply to a scenario with [propagation] and eirp_dbm "
                             "transmitters", where=uri)
        return scenario, {"seed": seed_v, "settle_samples": settle_v, "start_s": start_v}

    # ---- reporting ---------------------------------------------------------------------------------------
    @property
    def info(self) -> ReceiverInfo:
        return self._info

    @property
    def effective_gain_db(self) -> float:
        """The gain really applied (dB): the manual gain, or the automatic gain's choice for this tuning."""
        return self.simulator.gain_db

    @property
    def time_s(self) -> float:
        """Simulator time (s) of the next sample the dongle will produce."""
        return self.simulator.time_s

    def on_air(self, duration_s: float) -> list:
        """Ground truth for the next ``duration_s`` seconds of samples at the current tuning (after the settle
        discard still pending): a list of :class:`station.sim.engine.OnAir`, for tests and demos."""
        start = self.simulator.time_s + self._discard / self.sample_rate_hz
        return self.simulator.on_air(start, start + float(duration_s))

    # ---- hooks -------------------------------------------------------------------------------------------
    def _set_center_freq(self, freq_hz: float) -> float:
        self.simulator.tune(freq_hz)
        return freq_hz

    def _set_sample_rate(self, rate_hz: float) -> float:
        from station.receivers._rtl2832 import check_sample_rate, real_sample_rate_hz

        check_sample_rate(rate_hz, self.uri)
        real = real_sample_rate_hz(rate_hz)
        self.simulator.set_rate(real)
        return real

    def _set_gain(self, gain_db: float | None) -> float | None:
        if gain_db is None:
            self.simulator.set_gain(None)
            return None
        nearest = min(R820T_GAINS_DB, key=lambda g: abs(g - gain_db))
        self.simulator.set_gain(nearest)
        return nearest

    def _set_ppm(self, ppm: int) -> None:
        self.simulator.set_ppm(ppm)

    def _read_raw(self, n_samples: int) -> np.ndarray:
        return self.simulator.read_cu8(int(n_samples))


__all__ = ["SimReceiver"]
