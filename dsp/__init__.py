"""specmon DSP: pure functions on numpy arrays (no I/O, clocks or logging).

Public functions validate and convert their arguments, then call private ``@njit(cache=True)`` kernels.
Levels: dBFS where a complex tone of amplitude 1.0 is 0 dBFS; densities in dBFS/Hz.
"""
