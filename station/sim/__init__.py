"""The simulated RTL-SDR and its scenarios (``sim://city``, ``sim:PATH.toml``).

- :mod:`station.sim.scenario`: the scenario file format, parsed into frozen records (docs/SCENARIO.md).
- :mod:`station.sim.signals`: one generator per modulation (CW, AM, NBFM, WBFM, 4FSK, OFDM, OOK).
- :mod:`station.sim.schedule`: when each transmitter is on the air (continuous, random slots, bursts).
- :mod:`station.sim.response`: the front-end (baseband) and tuner RF frequency responses.
- :mod:`station.sim.engine`: the dongle model and the sample clock (:class:`Simulator`).
- :mod:`station.sim.kernels`: the numba inner loops.

The receiver interface on top is :class:`station.receivers.sim.SimReceiver`.
"""

from station.sim.engine import Simulator, frontend_response_db, rf_response_db, thermal_noise_dbfs_hz, tone_dbfs
from station.sim.scenario import (
    MODULATIONS,
    ReceiverModel,
    Scenario,
    Transmitter,
    builtin_scenario_path,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "MODULATIONS",
    "ReceiverModel",
    "Scenario",
    "Simulator",
    "Transmitter",
    "builtin_scenario_path",
    "builtin_scenarios",
    "frontend_response_db",
    "load_scenario",
    "parse_scenario",
    "rf_response_db",
    "thermal_noise_dbfs_hz",
    "tone_dbfs",
]
