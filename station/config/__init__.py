"""The station configuration: typed, frozen records read from TOML and validated once at start-up.

Every problem is a :class:`station.errors.ConfigError` whose message names the file, the key and the reason,
e.g. ``station.toml:bands[2].rbw: '10q' is not a frequency``; TOML syntax errors name ``file:line:col``.
Unknown keys are errors too (a typo must not silently fall back to a default).

Frequencies accept numbers (Hz) or strings with k/M/G suffixes (``"433.92M"``); durations accept numbers (s)
or strings (``"250ms"``, ``"2min"``); gains accept ``"auto"`` or dB. Relative paths in the file are relative
to the directory of the config file; relative store paths (``sqlite:specmon.db``) and the export directory
are relative to ``store.data_dir``. ``builtin:NAME`` names a file shipped in ``station/data/``.

See ``station/data/station.sample.toml`` (``specmon config sample``) for every key with a comment.

The package: ``schema`` (the frozen records), ``reader`` (one TOML table and its typed getters), ``load``
(file/text -> Config, one parser per section), ``sample`` (the built-in demo and the commented sample).
Import from here: ``from station.config import Config, load_config``.
"""

from station.config.load import config_from_dict, load_config, parse_config
from station.config.reader import resolve_file
from station.config.sample import DEMO_PATH, SAMPLE_PATH, demo_config, sample_text
from station.config.schema import (
    DATA_DIR,
    EXPORT_FORMATS,
    SWEEP_MODES,
    WINDOWS,
    BandConfig,
    ChannelPlan,
    ComplianceConfig,
    Config,
    DetectorConfig,
    EvidenceConfig,
    ExportConfig,
    ReceiverConfig,
    RunConfig,
    StationInfo,
    StoreConfig,
    WebConfig,
    is_loopback,
    resolve_sqlite_path,
)

__all__ = [
    "BandConfig", "ChannelPlan", "ComplianceConfig", "Config", "DetectorConfig", "EvidenceConfig",
    "ExportConfig", "ReceiverConfig", "RunConfig", "StationInfo", "StoreConfig", "WebConfig", "config_from_dict",
    "demo_config", "is_loopback", "load_config", "parse_config",
    "resolve_file", "resolve_sqlite_path", "sample_text",
]
