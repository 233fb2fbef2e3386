"""Receiver calibration profiles: the conversion from dBm at the antenna port to dBFS, per frequency and gain.

A profile holds, on a grid of RF frequencies (Hz) x gain settings (dB, as the tuner labels them), the
receiver's *conversion* ``conversion_db = level_dbfs - power_dbm``: what a carrier of P dBm at the antenna
port reads in dBFS (docs/DESIGN.md's full scale) at that frequency and gain, in the flat part of the
baseband passband. So

    power_dbm = level_dbfs - conversion_db(frequency, gain)

Every node carries its own standard uncertainty ``u_db`` (k = 1). A profile is either ``nominal`` (typical
figures for a tuner family, shipped in ``station/data/calibration/``, never measured on this receiver) or
``calibrated`` (measured by ``specmon calibrate`` against a stated reference, with the date of the
measurement). The file is JSON (format ``specmon-calibration/1``, documented in docs/CALIBRATION.md); a bad
file raises :class:`station.errors.DataError` naming the file and the key.

Lookup (:meth:`CalibrationProfile.conversion`): linear interpolation in frequency between nodes and in gain
between gain nodes, with an interpolation term added to the uncertainty (zero on a node; in frequency the larger of
|step| x 2 sqrt(t(1-t)) / sqrt(3) and :data:`U_SHAPE_DB_PER_OCTAVE` per octave from the nearer node, in gain
a third of the departure from the gain labels' step half-way; node uncertainties are treated as fully
correlated, they share the reference); outside the profile's frequency or gain range the nearest edge
is used (for gain: shifted by the difference of the gain labels) and the uncertainty is raised to at least
:data:`OUTSIDE_U_DB`. Pure computation once loaded: no I/O except :func:`load_profile` / :meth:`save`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import numpy as np

from station.errors import DataError

FORMAT = "specmon-calibration/1"
STATUSES = ("nominal", "calibrated")
#: standard uncertainty (dB, k=1) at least applied outside a profile's measured frequency or gain range
OUTSIDE_U_DB = 3.0
#: the shipped nominal profile of an RTL2832U + R820T dongle (station/data/calibration/)
NOMINAL_R820T = "r820t_nominal.json"
#: how far (dB, k=1) the response between two frequency nodes may depart from the straight line joining
#: them, per octave of distance to the nearer node: a tuner's RF roll-off near the band edges is curved
#: (calibrate close to the frequencies you monitor; docs/CALIBRATION.md)
U_SHAPE_DB_PER_OCTAVE = 0.5
#: two gains closer than this (dB) are the same setting (tuner gain labels have one decimal)
GAIN_MATCH_DB = 0.05


@dataclass(frozen=True, slots=True)
class Conversion:
    """The profile's answer for one frequency and gain.

    Parameters
    ----------
    conversion_db : float
        level_dbfs - power_dbm at the antenna port (dBFS per dBm).
    u_db : float
        Standard uncertainty (k = 1) of ``conversion_db`` in dB, interpolation included.
    status : str
        ``"calibrated"`` (inside a measured profile's range), ``"nominal"`` (a nominal profile), or
        ``"outside"`` (a calibrated profile used beyond its measured frequencies or gains).
    """

    conversion_db: float
    u_db: float
    status: str


@dataclass(frozen=True, slots=True, eq=False)
class CalibrationProfile:
    """Gain vs frequency and gain setting of one receiver (or a nominal tuner family).

    Parameters
    ----------
    status : str
        ``"nominal"`` or ``"calibrated"``.
    receiver : str
        What was calibrated: hardware description / serial, or the tuner family for a nominal profile.
    tuner : str
        Tuner name (``"R820T"``); a profile for another tuner is refused when the receiver reports its tuner.
    frequencies_hz : np.ndarray
        (n_f,) float64, strictly ascending RF frequencies of the nodes.
    gains_db : np.ndarray
        (n_g,) float64, strictly ascending gain settings of the nodes (dB, as labelled by the tuner).
    conversion_db : np.ndarray
        (n_g, n_f) float64, level_dbfs - power_dbm; NaN where the node was not measured.
    u_db : np.ndarray
        (n_g, n_f) float64, standard uncertainty (k = 1) of each node, dB; NaN where not measured.
    date : datetime or None
        UTC time of the calibration (None for a nominal profile).
    reference : str
        The reference used ("signal generator ... dBm ... u 0.3 dB"), or where nominal figures come from.
    source : str
        The file it was read from ("" when built in memory).
    notes : str
        Free text.
    """

    status: str
    receiver: str
    tuner: str
    frequencies_hz: np.ndarray
    gains_db: np.ndarray
    conversion_db: np.ndarray
    u_db: np.ndarray
    date: datetime | None = None
    reference: str = ""
    source: str = ""
    notes: str = ""
    sample_rate_hz: float | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        where = self.source or "calibration profile"
        if self.status not in STATUSES:
            raise DataError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}", where=f"{where}:status")
        f = np.asarray(self.frequencies_hz, dtype=np.float64)
        g = np.asarray(self.gains_db, dtype=np.float64)
        c = np.asarray(self.conversion_db, dtype=np.float64)
        u = np.asarray(self.u_db, dtype=np.float64)
        if f.ndim != 1 or f.size == 0 or not np.all(np.isfinite(f)) or np.any(np.diff(f) <= 0) or f[0] <= 0:
            raise DataError("must be a non-empty list of positive, strictly ascending frequencies (Hz)",
                            where=f"{where}:frequencies_hz")
        if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)) or np.any(np.diff(g) <= 0):
            raise DataError("must be a non-empty list of strictly ascending gains (dB)", where=f"{where}:gains_db")
        for name, arr in (("conversion_db", c), ("u_db", u)):
            if arr.shape != (g.size, f.size):
                raise DataError(f"must be {g.size} rows (one per gain) of {f.size} values (one per frequency), "
                                f"got shape {arr.shape}", where=f"{where}:{name}")
        if np.any(np.isnan(c) != np.isnan(u)):
            raise DataError("a node has a conversion but no uncertainty (or the reverse)", where=f"{where}:u_db")
        ok = ~np.isnan(u)
        if np.any(~np.isfinite(u[ok])) or np.any(u[ok] < 0) or np.any(~np.isfinite(c[ok])):
            raise DataError("uncertainties must be finite and >= 0, conversions finite", where=f"{where}:u_db")
        if not ok.any():
            raise DataError("no node has a value: nothing was measured", where=f"{where}:conversion_db")
        if self.status == "calibrated" and self.date is None:
            raise DataError("a calibrated profile needs its date", where=f"{where}:date")
        if self.date is not None and self.date.tzinfo is None:
            raise DataError("date must carry a time zone (UTC)", where=f"{where}:date")
        for name, arr in (("frequencies_hz", f), ("gains_db", g), ("conversion_db", c), ("u_db", u)):
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    # ---- describing --------------------------------------------------------------------------------------
    @property
    def is_nominal(self) -> bool:
        return self.status == "nominal"

    def label(self) -> str:
        """'calibrated on 2026-03-01' or 'nominal (uncalibrated)' (English; exports translate)."""
        if self.is_nominal or self.date is None:
            return "nominal (uncalibrated)"
        return f"calibrated on {self.date.astimezone(timezone.utc).date().isoformat()}"

    def describe(self) -> dict:
        """A small JSON-able summary for manifests and reports."""
        return {
            "status": self.status,
            "date": None if self.date is None else self.date.astimezone(timezone.utc).isoformat(),
            "label": self.label(),
            "receiver": self.receiver,
            "tuner": self.tuner,
            "reference": self.reference,
            "source": self.source,
            "frequency_range_hz": [float(self.frequencies_hz[0]), float(self.frequencies_hz[-1])],
        }

    # ---- lookup ------------------------------------------------------------------------------------------
    def conversion(self, frequency_hz: float, gain_db: float) -> Conversion:
        """Conversion (level_dbfs - power_dbm) and its standard uncertainty at ``frequency_hz``, ``gain_db``.

        Raises ValueError for a non-finite frequency or gain (automatic gain has no calibrated level: the
        caller must know the gain actually applied)."""
        fr = float(frequency_hz)
        gn = float(gain_db)
        if not (math.isfinite(fr) and math.isfinite(gn)):
            raise ValueError(f"frequency {frequency_hz!r} and gain {gain_db!r} must be finite numbers")
        outside = False
        g = self.gains_db
        # the gain rows bracketing gn (or the nearest one)
        j = int(np.searchsorted(g, gn))
        rows: list[tuple[int, float]]
        if j < g.size and abs(g[j] - gn) <= GAIN_MATCH_DB:
            rows = [(j, 1.0)]
        elif j > 0 and abs(g[j - 1] - gn) <= GAIN_MATCH_DB:
            rows = [(j - 1, 1.0)]
        elif 0 < j < g.size:
            t = (gn - g[j - 1]) / (g[j] - g[j - 1])
            rows = [(j - 1, 1.0 - t), (j, t)]
        else:
            rows = [(0 if j == 0 else g.size - 1, 1.0)]
            outside = True
        values = []
        for row, w in rows:
            c, u, out = self._along_frequency(row, fr)
            if c is None:  # this gain row has no measured node at all
                return self._nearest_measured_row(fr, gn)
            outside |= out
            if len(rows) == 1 and abs(g[row] - gn) > GAIN_MATCH_DB:
                c += gn - g[row]  # beyond the gain range: trust the gain labels' differences
            values.append((c, u, w))
        if len(values) == 1:
            c, u, _ = values[0]
        else:
            (c0, u0, w0), (c1, u1, w1) = values
            c = w0 * c0 + w1 * c1
            # interpolation term: the curve between two gain steps is unknown; zero on a node, |step|/3 midway
            u_interp = abs(c1 - c0 - (g[rows[1][0]] - g[rows[0][0]])) * (4 * w0 * w1) / 3
            u = math.hypot(w0 * u0 + w1 * u1, u_interp)  # nodes share the reference: correlated
        status = "nominal" if self.is_nominal else ("outside" if outside else "calibrated")
        if outside:
            u = max(u, OUTSIDE_U_DB)
        return Conversion(float(c), float(u), status)

    def _along_frequency(self, row: int, fr: float) -> tuple[float | None, float, bool]:
        """Interpolate one gain row in frequency over its measured nodes: (conversion, u, outside)."""
        ok = ~np.isnan(self.conversion_db[row])
        if not ok.any():
            return None, 0.0, True
        f = self.frequencies_hz[ok]
        c = self.conversion_db[row][ok]
        u = self.u_db[row][ok]
        if fr <= f[0] or fr >= f[-1]:
            k = 0 if fr <= f[0] else f.size - 1
            return float(c[k]), float(u[k]), not math.isclose(fr, f[k], rel_tol=0, abs_tol=1.0)
        i = int(np.searchsorted(f, fr)) - 1
        t = (fr - f[i]) / (f[i + 1] - f[i])
        ci = (1 - t) * c[i] + t * c[i + 1]
        octaves = min(math.log2(fr / f[i]), math.log2(f[i + 1] / fr))
        # the truth may lie anywhere between the two node values (a monotone roll-off whose knee is unknown):
        # |step| * 2 sqrt(t(1-t)) / sqrt(3), zero on the nodes; and ripple of a flat stretch, per octave
        u_interp = max(abs(c[i + 1] - c[i]) * 2 * math.sqrt(t * (1 - t)) / math.sqrt(3), U_SHAPE_DB_PER_OCTAVE * octaves)
        ui = math.hypot((1 - t) * u[i] + t * u[i + 1], u_interp)  # nodes share the reference: correlated
        return float(ci), float(ui), False

    def _nearest_measured_row(self, fr: float, gn: float) -> Conversion:
        rows = [r for r in range(self.gains_db.size) if not np.isnan(self.conversion_db[r]).all()]
        r = min(rows, key=lambda k: abs(self.gains_db[k] - gn))
        c, u, _ = self._along_frequency(r, fr)
        status = "nominal" if self.is_nominal else "outside"
        return Conversion(float(c + gn - self.gains_db[r]), float(max(u, OUTSIDE_U_DB)), status)

    # ---- files -------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        def rows(a):
            return [[None if math.isnan(v) else round(float(v), 4) for v in r] for r in a]

        return {
            "format": FORMAT,
            "status": self.status,
            "date": None if self.date is None else self.date.astimezone(timezone.utc).isoformat(),
            "receiver": self.receiver,
            "tuner": self.tuner,
            "reference": self.reference,
            "notes": self.notes,
            "sample_rate_hz": self.sample_rate_hz,
            "frequencies_hz": [float(v) for v in self.frequencies_hz],
            "gains_db": [float(v) for v in self.gains_db],
            "conversion_db": rows(self.conversion_db),
            "u_db": rows(self.u_db),
            **({"extra": self.extra} if self.extra else {}),
        }

    def save(self, path: str | Path) -> Path:
        """Write the profile as JSON (atomically: a temporary file renamed over the target)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(dumps(self.to_json()), encoding="utf-8")
        tmp.replace(p)
        return p


def dumps(doc: dict) -> str:
    """JSON text of a profile document: one key per line, each matrix row on one line (diffable, readable)."""
    lines = []
    for key, value in doc.items():
        if key in ("conversion_db", "u_db"):
            rows = ",\n  ".join(json.dumps(r) for r in value)
            lines.append(f" {json.dumps(key)}: [\n  {rows}\n ]")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _matrix(doc: dict, key: str, where: str) -> np.ndarray:
    rows = doc.get(key)
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise DataError("must be a list of rows (one list per gain)", where=f"{where}:{key}")
    out = []
    for i, r in enumerate(rows):
        vals = []
        for k, v in enumerate(r):
            if v is None:
                vals.append(math.nan)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                vals.append(float(v))
            else:
                raise DataError(f"must be a number or null, got {v!r}", where=f"{where}:{key}[{i}][{k}]")
        out.append(vals)
    try:
        return np.array(out, dtype=np.float64)
    except ValueError:
        raise DataError("rows must all have one value per frequency", where=f"{where}:{key}") from None


def profile_from_json(doc, where: str) -> CalibrationProfile:
    """Build a profile from a parsed JSON document; ``where`` names the file in errors."""
    if not isinstance(doc, dict):
        raise DataError("a calibration profile must be a JSON object", where=where)
    if doc.get("format") != FORMAT:
        raise DataError(f"format must be {FORMAT!r}, got {doc.get('format')!r}", where=f"{where}:format")
    date = doc.get("date")
    if date is not None:
        try:
            date = datetime.fromisoformat(str(date))
        except ValueError:
            raise DataError(f"not an ISO 8601 date-time: {date!r}", where=f"{where}:date") from None
    for key in ("frequencies_hz", "gains_db"):
        v = doc.get(key)
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise DataError("must be a list of numbers", where=f"{where}:{key}")
    for key in ("receiver", "tuner", "reference", "notes"):
        if not isinstance(doc.get(key, ""), str):
            raise DataError("must be a string", where=f"{where}:{key}")
    rate = doc.get("sample_rate_hz")
    if rate is not None and not (isinstance(rate, (int, float)) and rate > 0):
        raise DataError(f"must be a positive number or null, got {rate!r}", where=f"{where}:sample_rate_hz")
    return CalibrationProfile(
        status=doc.get("status"),
        receiver=doc.get("receiver", ""),
        tuner=doc.get("tuner", ""),
        frequencies_hz=np.array(doc["frequencies_hz"], dtype=np.float64),
        gains_db=np.array(doc["gains_db"], dtype=np.float64),
        conversion_db=_matrix(doc, "conversion_db", where),
        u_db=_matrix(doc, "u_db", where),
        date=date,
        reference=doc.get("reference", ""),
        source=where,
        notes=doc.get("notes", ""),
        sample_rate_hz=None if rate is None else float(rate),
        extra=doc.get("extra", {}) if isinstance(doc.get("extra", {}), dict) else {},
    )


def load_profile(path: str | Path) -> CalibrationProfile:
    """Read a profile file. Raises DataError (missing file, bad JSON, bad key) naming the file and key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("calibration profile not found", where=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read calibration profile: {exc}", where=str(p)) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"JSON syntax error: {exc.msg}", where=f"{p}:{exc.lineno}:{exc.colno}") from None
    return profile_from_json(doc, str(p))


def nominal_profile(name: str = NOMINAL_R820T) -> CalibrationProfile:
    """The shipped nominal profile (``station/data/calibration/NAME``), status ``nominal``."""
    ref = resources.files("station").joinpath("data", "calibration", name)
    with resources.as_file(ref) as p:
        prof = load_profile(p)
    if not prof.is_nominal:
        raise DataError("a shipped profile must be marked nominal", where=f"{prof.source}:status")
    return prof


__all__ = ["CalibrationProfile", "Conversion", "FORMAT", "NOMINAL_R820T", "OUTSIDE_U_DB", "STATUSES",
           "load_profile", "nominal_profile", "profile_from_json"]
