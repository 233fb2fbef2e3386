"""Frequency responses of the simulated dongle (pure functions; see docs/SCENARIO.md, "The level model")."""

from __future__ import annotations

import numpy as np

from station.sim.scenario import TUNING_RANGE_HZ, ReceiverModel


def frontend_response_db(offset_hz: np.ndarray | float, rate_hz: float, model: ReceiverModel):
    """Front-end (tuner IF + RTL2832 decimation filter) gain in dB at baseband offset(s) ``offset_hz``."""
    half = rate_hz / 2.0
    knee = model.passband_fraction * half
    f = np.abs(np.asarray(offset_hz, dtype=float))
    if half <= knee:
        x = np.zeros_like(f)
    else:
        x = np.clip((f - knee) / (half - knee), 0.0, None)
    return -model.edge_rolloff_db * x * x


def rf_response_db(frequency_hz: float, model: ReceiverModel) -> float:
    """Tuner RF gain (dB, <= 0) at an RF frequency: 0 between the knees, falling quadratically (in dB) to
    -rf_edge_rolloff_db at the tuning range limits (24 MHz below, 1766 MHz above)."""
    lo, hi = TUNING_RANGE_HZ
    if frequency_hz < model.rf_low_knee_hz and model.rf_low_knee_hz > lo:
        x = min(1.0, (model.rf_low_knee_hz - frequency_hz) / (model.rf_low_knee_hz - lo))
        return -model.rf_edge_rolloff_db * x * x
    if frequency_hz > model.rf_high_knee_hz and hi > model.rf_high_knee_hz:
        x = min(1.0, (frequency_hz - model.rf_high_knee_hz) / (hi - model.rf_high_knee_hz))
        return -model.rf_edge_rolloff_db * x * x
    return 0.0


__all__ = ["frontend_response_db", "rf_response_db"]
