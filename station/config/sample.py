"""The built-in demo configuration and the commented sample (``specmon config sample``)."""

from __future__ import annotations

from pathlib import Path

from station.config.load import parse_config
from station.config.schema import DATA_DIR, Config

SAMPLE_PATH = DATA_DIR / "station.sample.toml"
DEMO_PATH = DATA_DIR / "demo.toml"


def sample_text() -> str:
    """The commented sample config (``specmon config sample``)."""
    return SAMPLE_PATH.read_text(encoding="utf-8")


def demo_config(data_dir: str | Path = "specmon-data") -> Config:
    """The built-in demo: sim://city, the demo register, SQLite in ``data_dir``, the demo bands of
    docs/DESIGN.md, bounded to a few sweeps, exporting CSV + PDF at the end."""
    cfg = parse_config(DEMO_PATH.read_text(encoding="utf-8"), source="<demo>", base_dir=DATA_DIR)
    return cfg.with_data_dir(Path(data_dir).expanduser().absolute())

