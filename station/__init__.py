"""specmon station: everything that touches the world (receivers, sweeps, daemon, stores, sinks, exports, CLI)."""

__version__ = "0.1.0"
