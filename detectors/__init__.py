"""specmon detectors: noise floor, energy detection, emission measurement, artifacts, bursts, tracking, occupancy.

Typed records in, typed records out; a detector never tunes, writes, logs to a sink or prints.
"""
