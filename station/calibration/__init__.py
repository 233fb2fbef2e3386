"""Receiver calibration: profiles (dBm at the antenna port <-> dBFS), the ``specmon calibrate`` procedure and
calibrated levels with their uncertainty (docs/CALIBRATION.md).

* :mod:`station.calibration.profile`: :class:`CalibrationProfile`, the shipped nominal R820T profile, files.
* :mod:`station.calibration.levels`: dBm at the antenna port, field strength (dBuV/m) and the level budget.
* :mod:`station.calibration.procedure`: measuring a profile through the normal receiver path.
"""

from station.calibration.levels import (
    AntennaLevel,
    antenna_level,
    field_strength_dbuv_m,
    LevelContext,
)
from station.calibration.profile import (
    CalibrationProfile,
    Conversion,
    load_profile,
    nominal_profile,
)

__all__ = ["AntennaLevel", "CalibrationProfile", "Conversion", "antenna_level", "field_strength_dbuv_m",
           "LevelContext", "load_profile", "nominal_profile"]
