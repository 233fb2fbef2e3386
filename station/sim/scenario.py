"""Scenario files of the simulated RTL-SDR: parsing and validation into typed, frozen records.

A scenario is a TOML file (format in docs/SCENARIO.md) with a ``[scenario]`` table (name, station site), a
``[receiver]`` table (the dongle model: noise figure, ppm error, IQ imbalance, DC level, ...) and an array of
``[[transmitters]]``. Every problem is a :class:`station.errors.DataError` whose ``where`` names the file and the
offending key, e.g. ``city.toml:transmitters[3].power_dbm: must be a number, got 'loud'``.

Built-in scenarios live in ``station/data/scenarios/NAME.toml`` and are opened as ``sim://NAME``.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from station.errors import DataError
from station.redact import shown

#: R820T tuning range of the simulated dongle (Hz)
TUNING_RANGE_HZ = (24e6, 1766e6)

#: modulation name -> (default occupied bandwidth Hz, one-line description)
MODULATIONS: dict[str, tuple[float, str]] = {
    "cw": (0.0, "unmodulated carrier"),
    "am": (6e3, "AM voice (A3E), band-limited noise audio"),
    "nbfm": (11e3, "narrow-band FM voice (F3E), band-limited noise audio"),
    "wbfm": (200e3, "broadcast FM (F8E), noise audio + optional 19 kHz stereo pilot"),
    "4fsk": (7.6e3, "4FSK digital voice (DMR-like), 4800 symbols/s"),
    "ofdm": (1.536e6, "OFDM-like block (DAB-like), QPSK on ~1 kHz spaced carriers"),
    "ook": (20e3, "on-off keyed pulse-width code (ISM remote controls and sensors)"),
}

_KNOWN_TOP = {"scenario", "receiver", "transmitters", "propagation"}


@dataclass(frozen=True, slots=True)
class ReceiverModel:
    """The simulated dongle's imperfections. Levels in dB/dBm/dBFS, frequencies in Hz.

    See docs/SCENARIO.md for the model each parameter feeds.
    """

    tuner: str = "R820T"
    noise_figure_db: float = 6.0  # thermal noise density at the antenna: -174 dBm/Hz + noise_figure_db
    fullscale_dbm: float = -10.0  # antenna power of a 0 dBFS tone at 0 dB gain, mid passband
    ppm_error: float = 0.0  # tuner crystal error: true LO = set LO * (1 + (ppm_error - ppm_correction)/1e6)
    image_rejection_db: float = 32.0  # IQ-imbalance image, dB below the signal, mirrored about the centre
    image_phase_deg: float = 30.0  # phase of the image coefficient (cosmetic; changes the image's phase only)
    dc_offset_dbfs: float = -35.0  # DC spike (LO leakage + ADC offset) level, dBFS, independent of gain
    adc_noise_lsb: float = 0.5  # ADC noise, LSB rms per component (cu8: 1 LSB = 1/127.5 of full scale)
    passband_fraction: float = 0.8  # flat response for |offset| <= passband_fraction * sample_rate / 2
    edge_rolloff_db: float = 6.0  # attenuation at |offset| = sample_rate / 2 (quadratic in dB from the knee)
    rf_low_knee_hz: float = 50e6  # below this the tuner's RF gain falls (quadratic in dB) ...
    rf_high_knee_hz: float = 1300e6  # ... and above this,
    rf_edge_rolloff_db: float = 10.0  # reaching this loss at the tuning range limits (24 and 1766 MHz)
    retune_junk_samples: int = 8192  # stale samples at the old tuning delivered after each retune
    agc_target_dbfs: float = -20.0  # automatic gain: highest gain keeping the total in-span power <= this
    baseband_spurs_hz: tuple[float, ...] = ()  # receiver spurs: fixed offsets (Hz) from the true LO, any tuning
    baseband_spur_dbfs: float = -62.0  # their level (dBFS, after the gain, like the DC offset)
    reference_spur_dbm: float | None = None  # harmonics of the 28.8 MHz reference at this antenna level (fixed RF)


@dataclass(frozen=True, slots=True)
class Transmitter:
    """One simulated transmitter. ``power_dbm`` is the mean power at the antenna while transmitting (for OOK:
    the carrier power during a mark); ``bandwidth_hz`` the nominal occupied (99 %) bandwidth."""

    id: str
    frequency_hz: float
    modulation: str  # a key of MODULATIONS
    power_dbm: float
    bandwidth_hz: float
    duty_cycle: float = 1.0  # fraction of slots on the air (random-slot schedule); 1.0 = continuous
    slot_s: float = 2.0  # slot length of the random-slot schedule (s)
    burst_period_s: float = 0.0  # > 0: periodic bursts instead of slots
    burst_s: float = 0.0  # burst length (s)
    burst_phase_s: float = 0.0  # first burst starts at this simulator time (s)
    stereo: bool = False  # wbfm: add the 19 kHz pilot
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    description: str = ""
    eirp_dbm: float | None = None  # with [propagation]: power_dbm is computed per station from this
    height_m: float = 30.0  # antenna height above ground (m), for the Hata model

    @property
    def continuous(self) -> bool:
        return self.burst_period_s <= 0 and self.duty_cycle >= 1.0


@dataclass(frozen=True, slots=True)
class Propagation:
    """How a simulated station receives transmitters that give ``eirp_dbm`` (docs/SCENARIO.md, Network).

    Parameters
    ----------
    model : str
        'log-distance' or 'hata-urban' (station.network.propagation).
    exponent : float
        Path-loss exponent of the log-distance model.
    shadowing_db : float
        Standard deviation of the log-normal shadowing, drawn once per (seed, station, transmitter).
    seed : int
        Shadowing seed (the same for every station of one simulated city).
    station_height_m : float
        Monitoring antenna height above ground (m), for the Hata model.
    """

    model: str = "log-distance"
    exponent: float = 3.0
    shadowing_db: float = 6.0
    seed: int = 0
    station_height_m: float = 10.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed scenario file."""

    name: str
    path: str
    receiver: ReceiverModel
    transmitters: tuple[Transmitter, ...]
    description: str = ""
    station_id: str = ""
    latitude_deg: float | None = None
    longitude_deg: float | None = None
    propagation: Propagation | None = None

    def transmitter(self, tx_id: str) -> Transmitter:
        for tx in self.transmitters:
            if tx.id == tx_id:
                return tx
        raise KeyError(tx_id)


# ---- locating files ------------------------------------------------------------------------------------


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``station/data/scenarios``."""
    folder = resources.files("station") / "data" / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_scenario_path(name: str) -> Path:
    """Path of a built-in scenario; DataError listing the known names when there is none."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise DataError(f"bad built-in scenario name {shown(name)}; known: {', '.join(builtin_scenarios())}",
                        where=f"sim://{name}")
    path = Path(str(resources.files("station") / "data" / "scenarios" / f"{name}.toml"))
    if not path.is_file():
        raise DataError(f"no built-in scenario {shown(name)}; known: {', '.join(builtin_scenarios())} "
                        f"(or give a file: sim:PATH.toml)", where=f"sim://{name}")
    return path


# ---- parsing ---------------------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Raises DataError naming ``file:key`` (or ``file:line:col``)."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError("scenario file not found", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read scenario file: {exc}", where=where) from None
    return parse_scenario(text, where=where)


_TOML_POS = re.compile(r"^(?P<msg>.*?)\s*\(at line (?P<line>\d+), column (?P<col>\d+)\)\s*$")


def parse_scenario(text: str, *, where: str = "<scenario>") -> Scenario:
    """Parse scenario TOML text; ``where`` (the file name) prefixes every error."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS.match(str(exc))
        if m:
            raise DataError(f"TOML syntax error: {m['msg']}", where=f"{where}:{m['line']}:{m['col']}") from None
        raise DataError(f"TOML syntax error: {exc}", where=where) from None
    return _Parser(where).scenario(doc)


class _Parser:
    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, message: str) -> DataError:
        return DataError(message, where=f"{self.where}:{key}")

    # typed getters --------------------------------------------------------------------------------------
    def table(self, doc: dict, key: str, path: str, required: bool = False) -> dict:
        if key not in doc:
            if required:
                raise self.fail(path, "missing table")
            return {}
        value = doc[key]
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a table, got {type(value).__name__}")
        return value

    def unknown(self, table: dict, known: set[str], path: str) -> None:
        for key in table:
            if key not in known:
                prefix = f"{path}." if path else ""
                raise self.fail(f"{prefix}{key}", f"unknown key; expected one of {', '.join(sorted(known))}")

    def number(self, table: dict, key: str, path: str, default=None, *, lo=None, hi=None, lo_open=False):
        full = f"{path}.{key}"
        if key not in table:
            if default is None:
                raise self.fail(full, "missing key (a number)")
            return default
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(full, f"must be a number, got {shown(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise self.fail(full, f"must be a finite number, got {shown(value)}")
        if lo is not None and (value <= lo if lo_open else value < lo):
            raise self.fail(full, f"must be {'>' if lo_open else '>='} {lo:g}, got {value:g}")
        if hi is not None and value > hi:
            raise self.fail(full, f"must be <= {hi:g}, got {value:g}")
        return value

    def string(self, table: dict, key: str, path: str, default=None) -> str:
        full = f"{path}.{key}"
        if key not in table:
            if default is None:
                raise self.fail(full, "missing key (a string)")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(full, f"must be a string, got {shown(value)}")
        return value

    def boolean(self, table: dict, key: str, path: str, default: bool) -> bool:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", f"must be true or false, got {shown(value)}")
        return value

    def frequency(self, table: dict, key: str, path: str) -> float:
        full = f"{path}.{key}"
        if key not in table:
            raise self.fail(full, "missing key (a frequency in Hz, e.g. 145500000 or \"145.5M\")")
        value = table[key]
        if isinstance(value, str):
            from station.errors import UsageError
            from station.units import parse_hz

            try:
                return parse_hz(value, what=full)
            except UsageError as exc:
                raise self.fail(full, f"cannot parse {shown(value)} as a frequency (e.g. 145500000 or \"145.5M\")") from exc
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(full, f"must be a frequency in Hz (number or string like \"145.5M\"), got {shown(value)}")
        return float(value)

    # sections -------------------------------------------------------------------------------------------
    def scenario(self, doc: dict) -> Scenario:
        self.unknown(doc, _KNOWN_TOP, "")
        head = self.table(doc, "scenario", "scenario")
        self.unknown(head, {"name", "description", "station_id", "latitude_deg", "longitude_deg"}, "scenario")
        name = self.string(head, "name", "scenario", Path(self.where).stem)
        lat = self.number(head, "latitude_deg", "scenario", math.nan, lo=-90, hi=90)
        lon = self.number(head, "longitude_deg", "scenario", math.nan, lo=-180, hi=180)
        receiver = self.receiver(self.table(doc, "receiver", "receiver"))
        if "transmitters" not in doc:
            raise self.fail("transmitters", "missing array of [[transmitters]] tables")
        raw = doc["transmitters"]
        if not isinstance(raw, list):
            raise self.fail("transmitters", f"must be an array of tables ([[transmitters]]), got {type(raw).__name__}")
        txs = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw):
            path = f"transmitters[{index}]"
            if not isinstance(item, dict):
                raise self.fail(path, f"must be a table, got {shown(item)}")
            tx = self.transmitter(item, path)
            if tx.id in seen:
                raise self.fail(f"{path}.id", f"duplicate id {shown(tx.id)} (also transmitters[{seen[tx.id]}])")
            seen[tx.id] = index
            txs.append(tx)
        propagation = None
        if "propagation" in doc:
            propagation = self.propagation(self.table(doc, "propagation", "propagation"))
        for index, tx in enumerate(txs):
            if tx.eirp_dbm is not None and propagation is None:
                raise self.fail(f"transmitters[{index}].eirp_dbm", "needs a [propagation] table (the model that "
                                                                   "turns EIRP into a received level)")
            if tx.eirp_dbm is not None and tx.latitude_deg is None:
                raise self.fail(f"transmitters[{index}].latitude_deg", "missing key (a transmitter with eirp_dbm "
                                                                       "needs its position)")
        return Scenario(
            name=name,
            path=self.where,
            receiver=receiver,
            transmitters=tuple(txs),
            propagation=propagation,
            description=self.string(head, "description", "scenario", ""),
            station_id=self.string(head, "station_id", "scenario", ""),
            latitude_deg=None if math.isnan(lat) else lat,
            longitude_deg=None if math.isnan(lon) else lon,
        )

    def propagation(self, t: dict) -> Propagation:
        from station.network.propagation import MODELS

        p = "propagation"
        d = Propagation()
        self.unknown(t, set(Propagation.__dataclass_fields__), p)
        model = self.string(t, "model", p, d.model)
        if model not in MODELS:
            raise self.fail(f"{p}.model", f"unknown propagation model {shown(model)}; known: {', '.join(MODELS)}")
        seed = self.number(t, "seed", p, float(d.seed), lo=0, hi=2 ** 32 - 1)
        if seed != int(seed):
            raise self.fail(f"{p}.seed", f"must be a whole number, got {seed:g}")
        return Propagation(
            model=model,
            exponent=self.number(t, "exponent", p, d.exponent, lo=1.5, hi=6.0),
            shadowing_db=self.number(t, "shadowing_db", p, d.shadowing_db, lo=0, hi=20),
            seed=int(seed),
            station_height_m=self.number(t, "station_height_m", p, d.station_height_m, lo=1, hi=300),
        )

    def receiver(self, t: dict) -> ReceiverModel:
        p = "receiver"
        d = ReceiverModel()
        self.unknown(t, set(ReceiverModel.__dataclass_fields__), p)
        tuner = self.string(t, "tuner", p, d.tuner)
        if tuner != "R820T":
            raise self.fail(f"{p}.tuner", f"only the R820T tuner is simulated, got {shown(tuner)}")
        lo, hi = TUNING_RANGE_HZ
        rf_low = self.number(t, "rf_low_knee_hz", p, d.rf_low_knee_hz, lo=lo, hi=hi)
        rf_high = self.number(t, "rf_high_knee_hz", p, d.rf_high_knee_hz, lo=lo, hi=hi)
        if rf_high < rf_low:
            raise self.fail(f"{p}.rf_high_knee_hz", f"must be >= rf_low_knee_hz ({rf_low:g}), got {rf_high:g}")
        junk = self.number(t, "retune_junk_samples", p, float(d.retune_junk_samples), lo=0, hi=1 << 22)
        if junk != int(junk):
            raise self.fail(f"{p}.retune_junk_samples", f"must be a whole number of samples, got {junk:g}")
        return ReceiverModel(
            tuner=tuner,
            noise_figure_db=self.number(t, "noise_figure_db", p, d.noise_figure_db, lo=0, hi=40),
            fullscale_dbm=self.number(t, "fullscale_dbm", p, d.fullscale_dbm, lo=-80, hi=30),
            ppm_error=self.number(t, "ppm_error", p, d.ppm_error, lo=-200, hi=200),
            image_rejection_db=self.number(t, "image_rejection_db", p, d.image_rejection_db, lo=10, hi=120),
            image_phase_deg=self.number(t, "image_phase_deg", p, d.image_phase_deg, lo=-360, hi=360),
            dc_offset_dbfs=self.number(t, "dc_offset_dbfs", p, d.dc_offset_dbfs, lo=-200, hi=-6),
            adc_noise_lsb=self.number(t, "adc_noise_lsb", p, d.adc_noise_lsb, lo=0, hi=20),
            passband_fraction=self.number(t, "passband_fraction", p, d.passband_fraction, lo=0.1, hi=1.0),
            edge_rolloff_db=self.number(t, "edge_rolloff_db", p, d.edge_rolloff_db, lo=0, hi=60),
            rf_low_knee_hz=rf_low,
            rf_high_knee_hz=rf_high,
            rf_edge_rolloff_db=self.number(t, "rf_edge_rolloff_db", p, d.rf_edge_rolloff_db, lo=0, hi=60),
            retune_junk_samples=int(junk),
            agc_target_dbfs=self.number(t, "agc_target_dbfs", p, d.agc_target_dbfs, lo=-60, hi=-3),
            baseband_spurs_hz=self.offsets(t, "baseband_spurs_hz", p),
            baseband_spur_dbfs=self.number(t, "baseband_spur_dbfs", p, d.baseband_spur_dbfs, lo=-200, hi=-6),
            reference_spur_dbm=(self.number(t, "reference_spur_dbm", p, lo=-200, hi=0)
                                if "reference_spur_dbm" in t else None),
        )

    def offsets(self, t: dict, key: str, p: str) -> tuple[float, ...]:
        """A list of baseband offsets (Hz, numbers or strings like "312.5k"), each within +-1.6 MHz."""
        value = t.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{p}.{key}", f"must be a list of frequencies, got {value!r}")
        out = []
        for i, v in enumerate(value):
            f = self.frequency({"v": v}, "v", f"{p}.{key}[{i}]") if not isinstance(v, str) or not v.startswith("-") \
                else -self.frequency({"v": v[1:]}, "v", f"{p}.{key}[{i}]")
            if abs(f) > 1.6e6:
                raise self.fail(f"{p}.{key}[{i}]", f"must be within +-1.6 MHz of the LO, got {f:g}")
            out.append(f)
        return tuple(out)

    def transmitter(self, t: dict, p: str) -> Transmitter:
        known = set(Transmitter.__dataclass_fields__)
        self.unknown(t, known, p)
        tx_id = self.string(t, "id", p)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", tx_id):
            raise self.fail(f"{p}.id", f"must be letters, digits, '_', '.', ':' or '-', got {shown(tx_id)}")
        freq = self.frequency(t, "frequency_hz", p)
        lo, hi = TUNING_RANGE_HZ
        if not lo <= freq <= hi:
            raise self.fail(f"{p}.frequency_hz", f"{freq / 1e6:.6f} MHz is outside the simulated tuning range "
                                                f"{lo / 1e6:.0f}-{hi / 1e6:.0f} MHz")
        modulation = self.string(t, "modulation", p).lower()
        if modulation not in MODULATIONS:
            raise self.fail(f"{p}.modulation", f"unknown modulation {shown(modulation)}; known: {', '.join(MODULATIONS)}")
        eirp = self.number(t, "eirp_dbm", p, math.nan, lo=-50, hi=90)
        if not math.isnan(eirp) and "power_dbm" in t:
            raise self.fail(f"{p}.power_dbm", "give either power_dbm (level at the station) or eirp_dbm (level "
                                              "computed per station by [propagation]), not both")
        power = math.nan if not math.isnan(eirp) else self.number(t, "power_dbm", p, lo=-200, hi=30)
        default_bw = MODULATIONS[modulation][0]
        bw = self.number(t, "bandwidth_hz", p, default_bw, lo=0, hi=3.2e6)
        if modulation != "cw" and bw <= 0:
            raise self.fail(f"{p}.bandwidth_hz", f"must be > 0 for {modulation}, got {bw:g}")
        if modulation == "cw" and "bandwidth_hz" in t and bw != 0:
            raise self.fail(f"{p}.bandwidth_hz", "a cw carrier has no bandwidth; leave the key out")
        if modulation in ("nbfm", "am", "4fsk", "ook") and bw > 400e3:
            raise self.fail(f"{p}.bandwidth_hz", f"{bw:g} Hz is too wide for {modulation} (at most 400000)")
        duty = self.number(t, "duty_cycle", p, 1.0, lo=0, hi=1, lo_open=True)
        slot = self.number(t, "slot_s", p, 2.0, lo=0.001, hi=86400)
        period = self.number(t, "burst_period_s", p, 0.0, lo=0, hi=86400)
        burst = self.number(t, "burst_s", p, 0.0, lo=0, hi=86400)
        phase = self.number(t, "burst_phase_s", p, 0.0, lo=0, hi=86400)
        if period > 0:
            if "duty_cycle" in t:
                raise self.fail(f"{p}.duty_cycle", "give either duty_cycle (random slots) or burst_period_s "
                                                   "(periodic bursts), not both")
            if not 0 < burst < period:
                raise self.fail(f"{p}.burst_s", f"must be > 0 and < burst_period_s ({period:g}), got {burst:g}")
        elif "burst_s" in t or "burst_phase_s" in t:
            raise self.fail(f"{p}.burst_period_s", "missing key (needed by burst_s/burst_phase_s)")
        lat = self.number(t, "latitude_deg", p, math.nan, lo=-90, hi=90)
        lon = self.number(t, "longitude_deg", p, math.nan, lo=-180, hi=180)
        stereo = self.boolean(t, "stereo", p, False)
        if stereo and modulation != "wbfm":
            raise self.fail(f"{p}.stereo", f"only wbfm has a stereo pilot, not {modulation}")
        return Transmitter(
            id=tx_id,
            frequency_hz=freq,
            modulation=modulation,
            power_dbm=power,
            bandwidth_hz=bw,
            duty_cycle=duty,
            slot_s=slot,
            burst_period_s=period,
            burst_s=burst,
            burst_phase_s=phase,
            stereo=stereo,
            latitude_deg=None if math.isnan(lat) else lat,
            longitude_deg=None if math.isnan(lon) else lon,
            description=self.string(t, "description", p, ""),
            eirp_dbm=None if math.isnan(eirp) else eirp,
            height_m=self.number(t, "height_m", p, 30.0, lo=1, hi=1000),
        )


def seen_from(scenario: Scenario, station: str, latitude_deg: float, longitude_deg: float) -> Scenario:
    """The scenario as station ``station`` at (latitude, longitude) receives it: every transmitter that gives
    ``eirp_dbm`` gets ``power_dbm = eirp - path loss(distance) + shadowing(seed, station, transmitter)``
    (capped at +20 dBm); the others keep their ``power_dbm``. Pure: every process simulating the same
    station gets the same levels."""
    from dataclasses import replace

    from station.network.geo import distance_m
    from station.network.propagation import path_loss_db, shadowing_db

    prop = scenario.propagation
    if prop is None:
        return scenario
    txs = []
    for tx in scenario.transmitters:
        if tx.eirp_dbm is not None:
            d = max(1.0, distance_m(latitude_deg, longitude_deg, tx.latitude_deg, tx.longitude_deg))
            loss = float(path_loss_db(prop.model, d, tx.frequency_hz, exponent=prop.exponent,
                                      tx_height_m=tx.height_m, rx_height_m=prop.station_height_m))
            power = tx.eirp_dbm - loss + shadowing_db(prop.seed, station, tx.id, prop.shadowing_db)
            tx = replace(tx, power_dbm=min(power, 20.0))
        txs.append(tx)
    return replace(scenario, transmitters=tuple(txs), station_id=station, latitude_deg=latitude_deg,
                   longitude_deg=longitude_deg)


def needs_site(scenario: Scenario) -> bool:
    """True when some transmitter's level depends on where the station is (it gives eirp_dbm)."""
    return any(tx.eirp_dbm is not None for tx in scenario.transmitters)


__all__ = [
    "MODULATIONS",
    "Propagation",
    "needs_site",
    "seen_from",
    "TUNING_RANGE_HZ",
    "ReceiverModel",
    "Scenario",
    "Transmitter",
    "builtin_scenario_path",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
]
