"""Property-based fuzzing (hypothesis) of every input parser (issue 14): the config, the register (CSV and
JSON), scenarios, SigMF metadata, sweep files (rtl_power CSV, JSON Lines, .rfs) and the rtl_tcp command
decoder. No input gives a traceback: only the project's own errors (SpecmonError subclasses). Every accepted
file round-trips (write -> read gives the same records).

Short in the normal suite (``HYPOTHESIS_PROFILE`` unset: 200 examples per property); ``HYPOTHESIS_PROFILE=soak``
runs 20,000 per property (benchmarks/fuzz_soak.py runs that and reports)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import string
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from station.errors import SpecmonError  # noqa: E402

settings.register_profile("default", max_examples=200, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("soak", max_examples=int(os.environ.get("SPECMON_FUZZ_EXAMPLES", "20000")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

TMP = Path(tempfile.mkdtemp(prefix="specmon-fuzz-"))

# ---- building blocks: numbers as users and attackers write them ------------------------------------------
NUM_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**500), max_value=10**500).map(str),
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e308", "1e-308", "1" + "0" * 400, "", " ", "0x10", "1_000",
                     "٣", "1e", ".", "-0", "+5", "\u00a0", "x" * 10_000]),
    st.text(max_size=12),
)
TOML_VALUE = st.one_of(
    st.integers(min_value=-(10**450), max_value=10**450).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: "nan" if math.isnan(f) else
                                                        ("inf" if f == math.inf else "-inf" if f == -math.inf
                                                         else repr(f))),
    NUM_TEXT.map(json.dumps), st.sampled_from(["true", "[]", "{}", "[1, 2]", '"auto"', '"10k"', '"1s"']),
)


def own_errors_only(fn, *args, **kw):
    """Call fn; a SpecmonError is an accepted outcome (returns None), anything else fails the property."""
    try:
        return fn(*args, **kw)
    except SpecmonError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 800, str(exc)
        return None


# ---- config ------------------------------------------------------------------------------------------------
BASE_CONFIG = {
    ("station", "latitude"): "21.0", ("station", "longitude"): "105.8", ("station", "altitude_m"): "10",
    ("receiver", "gain"): "30", ("receiver", "ppm"): "0", ("receiver", "sample_rate"): '"2.4M"',
    ("receiver", "settle_samples"): "16384", ("receiver", "read_timeout"): '"5s"',
    ("bands", "f_lo"): '"450M"', ("bands", "f_hi"): '"452M"', ("bands", "rbw"): '"1k"', ("bands", "dwell"): '"50ms"',
    ("bands", "revisit"): '"60s"', ("bands", "priority"): "5", ("detector", "pfa"): "1e-3",
    ("detector", "min_snr_db"): "6", ("store", "spool_max_mb"): "64", ("store", "spectrum_points"): "512",
    ("evidence", "iq_duration"): '"0.25s"', ("evidence", "max_per_sweep"): "2", ("run", "sweeps"): "1",
    ("run", "health_interval"): '"10s"', ("compliance", "monitoring_range_m"): "30000",
    # keys added after the first soak (hardening): each got a plausible range
    ("receiver", "reopen_initial"): '"0.5s"', ("receiver", "reopen_max"): '"30s"', ("receiver", "seed"): "1",
    ("bands", "antenna_factor_db_m"): "10", ("bands", "antenna_factor_u_db"): "1",
    ("detector", "integrate_revisits"): "4", ("detector", "min_bandwidth"): '"0"',
    ("channels", "start"): '"450.0125M"', ("channels", "spacing"): '"25k"', ("channels", "width"): '"12.5k"',
    ("channels", "period"): '"15min"', ("channels", "pfa"): "1e-3", ("channels", "threshold_dbfs"): "-90",
    ("compliance", "case_pfa"): "1e-6", ("compliance", "confirm_revisits"): "20",
    ("store", "reserve_mb"): "50", ("store", "memory_points"): "50000", ("store", "checkpoint_interval_s"): "60",
    ("run", "duration"): "0", ("run", "revisit_jitter"): "0.25",
}


def config_text(values: dict) -> str:
    v = {**BASE_CONFIG, **values}
    sections: dict[str, list[str]] = {}
    for (sec, key), val in v.items():
        sections.setdefault(sec, []).append(f"{key} = {val}")
    body = lambda sec: "\n".join(sections[sec])  # noqa: E731
    return f"""[station]\nid = "fz"\n{body('station')}
[receiver]\nuri = "sim://city"\n{body('receiver')}
[[bands]]\nname = "b"\n{body('bands')}
[bands.detector]\n{body('detector')}
[bands.channels]\n{body('channels')}
[compliance]\n{body('compliance')}
[store]\ndata_dir = "d"\n{body('store')}
[evidence]\n{body('evidence')}
[run]\n{body('run')}
"""


@given(st.dictionaries(st.sampled_from(sorted(BASE_CONFIG)), TOML_VALUE, min_size=1, max_size=4))
def test_config_fuzz_numbers(values):
    from station.config import parse_config
    from station.preflight import check_config

    cfg = own_errors_only(parse_config, config_text(values), source="fz.toml", base_dir=TMP)
    if cfg is not None:
        for x in (cfg.station.latitude, cfg.bands[0].f_lo_hz, cfg.bands[0].f_hi_hz, cfg.bands[0].rbw_hz,
                  cfg.bands[0].dwell_s, cfg.bands[0].detector.pfa, cfg.receivers[0].sample_rate_hz):
            assert math.isfinite(x)
        for part in (cfg.station, cfg.receivers[0], cfg.bands[0], cfg.bands[0].detector, cfg.bands[0].channels,
                     cfg.compliance, cfg.store, cfg.evidence, cfg.run):
            for f in dataclasses.fields(part):
                x = getattr(part, f.name)
                if isinstance(x, float):
                    assert math.isfinite(x), (f.name, x)
        # plausible: nothing that would spin the daemon or overflow a period computation
        assert cfg.run.health_interval_s >= 0.01 and cfg.receivers[0].read_timeout_s >= 0.1
        assert cfg.bands[0].channels.period_s >= 1.0 and cfg.bands[0].channels.width_hz >= 1.0
        own_errors_only(check_config, cfg)


@given(st.text(max_size=400))
def test_config_fuzz_text(text):
    from station.config import parse_config

    own_errors_only(parse_config, text, source="fz.toml", base_dir=TMP)


# ---- register ----------------------------------------------------------------------------------------------
REG_NUMERIC = ("frequency_mhz", "lower_mhz", "upper_mhz", "channel_khz", "tolerance_hz", "tolerance_ppm", "latitude",
               "longitude", "radius_km", "max_power_dbw")
GOOD_ROW = {"licence": "L1", "licensee": "A", "service": "land mobile", "frequency_mhz": "451.2",
            "designator": "11K0F3E", "tolerance_hz": "100", "latitude": "21.0", "longitude": "105.8",
            "radius_km": "25", "max_power_dbw": "10", "valid_from": "2024-01-01", "valid_to": "2030-12-31"}
CELL = st.one_of(NUM_TEXT, st.text(alphabet=string.printable + "éü\u00a0\ufeff", max_size=20))


def _write_csv(path: Path, rows: list[dict]) -> None:
    import csv

    from station.compliance.register import COLUMNS

    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLUMNS})


@given(st.lists(st.dictionaries(st.sampled_from(REG_NUMERIC + ("designator", "status", "valid_from", "valid_to",
                                                                 "power_reference", "licence")), CELL, max_size=4),
                min_size=1, max_size=4))
def test_register_fuzz_and_round_trip(mutations):
    from station.compliance.register import load_register, write_register_csv, write_register_json
    from station.preflight import check_register

    path = TMP / "fz_register.csv"
    _write_csv(path, [dict(GOOD_ROW, **m) for m in mutations])
    reg = own_errors_only(load_register, path)
    if reg is None:
        return
    for a in reg.assignments:
        assert math.isfinite(a.center_hz) and math.isfinite(a.bandwidth_hz) and math.isfinite(a.frequency_tolerance_hz)
    if not reg.errors:
        own_errors_only(check_register, path)  # what the loader accepts, the checker accepts
        for writer, name in ((write_register_csv, "rt.csv"), (write_register_json, "rt.json")):
            out = TMP / name
            writer(reg.assignments, out)
            back = load_register(out)
            assert not back.errors, [str(p) for p in back.errors]
            assert [_key(a) for a in back.assignments] == [_key(a) for a in reg.assignments]


def _key(a):
    from station.compliance.register import assignment_to_fields

    return assignment_to_fields(a)


@given(st.text(max_size=600))
def test_register_json_fuzz_text(text):
    from station.compliance.register import load_register

    path = TMP / "fz.json"
    path.write_text(text, encoding="utf-8")
    own_errors_only(load_register, path)


# ---- scenario ------------------------------------------------------------------------------------------------
SCEN_KEYS = ("frequency", "power_dbm", "bandwidth", "duty", "period", "eirp_dbm")


@given(st.dictionaries(st.sampled_from(SCEN_KEYS), TOML_VALUE, max_size=3), st.text(max_size=12))
def test_scenario_fuzz(values, tx_id):
    from station.sim.scenario import parse_scenario

    fields = {"frequency": '"451.2M"', "power_dbm": "-60", **values}
    tx = "\n".join(f"{k} = {v}" for k, v in fields.items())
    text = f'[scenario]\nname = "fz"\n[[transmitters]]\nid = {json.dumps(tx_id)}\nmodulation = "nbfm"\n{tx}\n'
    own_errors_only(parse_scenario, text, where="fz.toml")


# ---- SigMF ---------------------------------------------------------------------------------------------------
JSONISH = st.recursive(st.none() | st.booleans() | st.integers(min_value=-(10**400), max_value=10**400)
                       | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
                       lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                       max_leaves=6)
SIGMF_KEYS = ("core:datatype", "core:sample_rate", "core:num_channels", "core:geolocation", "core:sha512")


@given(st.dictionaries(st.sampled_from(SIGMF_KEYS), JSONISH, max_size=3),
       st.lists(st.dictionaries(st.sampled_from(("core:sample_start", "core:frequency", "core:datetime",
                                                 "core:header_bytes")), JSONISH, max_size=3), max_size=2),
       st.integers(min_value=0, max_value=70))
def test_sigmf_fuzz(global_values, captures, data_bytes):
    from station.formats.sigmf import read_meta

    g = {"core:datatype": "cu8", "core:sample_rate": 1e6, "core:version": "1.2.0", **global_values}
    meta = TMP / "fz.sigmf-meta"
    (TMP / "fz.sigmf-data").write_bytes(b"\x80" * data_bytes)
    meta.write_text(json.dumps({"global": g, "captures": captures, "annotations": []}), encoding="utf-8")
    own_errors_only(read_meta, meta)


# ---- sweep files ---------------------------------------------------------------------------------------------
@given(st.lists(NUM_TEXT, min_size=4, max_size=6), st.lists(NUM_TEXT, min_size=1, max_size=5), st.booleans())
def test_rtl_power_fuzz(header_nums, values, bom):
    from station.formats.sweepio import read_sweeps

    line = "2024-01-01, 10:00:00, " + ", ".join(header_nums[:4]) + ", " + ", ".join(values) + "\n"
    path = TMP / "fz.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + line.encode("utf-8", "surrogatepass"))
    spectra = own_errors_only(read_sweeps, path)
    for s in spectra or []:
        assert all(math.isfinite(x) for x in s.psd_dbfs_hz) and all(math.isfinite(x) for x in s.freqs_hz)


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=2, max_value=20),
       st.lists(st.floats(min_value=-150, max_value=30), min_size=2, max_size=80),
       st.sampled_from([1000, 10000, 25000, 1000000]), st.integers(min_value=24_000_000, max_value=1_700_000_000))
def test_rtl_power_accepted_file_round_trips(n_hops, bins, levels, step, f0):
    """An accepted rtl_power file, written back by specmon and read again, gives the same bins and levels (to
    the 0.01 dB the format prints)."""
    import io

    import numpy as np

    from station.formats.sweepcsv import write_rtl_power
    from station.formats.sweepio import read_sweeps

    lines = []
    for h in range(n_hops):
        lo = f0 + h * bins * step
        vals = [levels[(h * bins + k) % len(levels)] for k in range(bins)]
        lines.append(f"2024-01-01, 10:00:00, {lo}, {lo + bins * step}, {step:.2f}, 12, "
                     + ", ".join(f"{v:.2f}" for v in vals + vals[-1:]))
    path = TMP / "rt_in.csv"
    path.write_text("\n".join(lines) + "\n")
    first = read_sweeps(path)
    buf = io.StringIO()
    write_rtl_power(first, buf)
    out = TMP / "rt_out.csv"
    out.write_text(buf.getvalue())
    again = read_sweeps(out)
    assert len(again) == len(first)
    for x, y in zip(first, again):
        assert np.allclose(x.freqs_hz, y.freqs_hz, rtol=0, atol=0.5)
        assert np.allclose(x.psd_dbfs_hz, y.psd_dbfs_hz, atol=0.006)


@given(st.text(max_size=400))
def test_sweep_files_fuzz_text(text):
    from station.formats.sweepio import read_sweeps

    for name in ("fz.jsonl", "fz.rfs", "fz2.csv"):
        path = TMP / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass") if False else path.write_bytes(
            text.encode("utf-8", "replace"))
        own_errors_only(read_sweeps, path)


@given(st.dictionaries(st.text(max_size=12), st.dictionaries(st.text(max_size=8), JSONISH, max_size=4), max_size=3))
def test_rfs_fuzz(spectrum):
    from station.formats.sweepio import read_sweeps

    path = TMP / "fz_struct.rfs"
    path.write_text(json.dumps(["RTLSDR Scanner", {"Spectrum": spectrum, "Nfft": 1024}]))
    own_errors_only(read_sweeps, path)


# ---- rtl_tcp command decoder -------------------------------------------------------------------------------------
@given(st.binary(max_size=200))
def test_rtltcp_command_decoder_fuzz(data):
    import struct

    from station.receivers import open_receiver
    from station.rtltcp_server import RtlTcpServer

    rx = _rx()
    srv = RtlTcpServer(rx, port=0)
    for i in range(0, len(data) - len(data) % 5, 5):
        cmd, param = struct.unpack(">BI", data[i:i + 5])
        srv.apply_command(cmd, param)  # never raises: refused values are logged
    lo, hi = rx.info.tuning_range_hz
    assert lo <= rx.center_freq_hz <= hi and rx.sample_rate_hz > 0
    assert len(srv.commands_applied) <= 256
    del open_receiver


_RX = []


def _rx():
    if not _RX:
        from station.receivers import open_receiver

        rx = open_receiver("sim://city")
        rx.set_sample_rate(2.4e6)
        rx.set_center_freq(451e6)
        _RX.append(rx)
    return _RX[0]


# ---- regressions found by the soak of the extended config keys (hardening) ----------------------------------
@pytest.mark.parametrize("key, value, message", [
    # was: OverflowError (cannot convert float infinity to integer) counting the channels
    (("channels", "spacing"), "5e-324", "channels.spacing: 5e-324 is below 1 Hz"),
    # were accepted: a channel 5e-324 Hz wide; an occupancy period of 5e-324 s (the period start overflowed at
    # run time); health every 1e-300 s, read timeout 1e-300 s (a busy loop / every read a fault)
    (("channels", "width"), "5e-324", "channels.width: 5e-324 is below 1 Hz"),
    (("channels", "period"), "5e-324", "channels.period: 5e-324 is shorter than 1 s"),
    (("run", "health_interval"), "1e-300", "run.health_interval: 1e-300 is shorter than 0.01 s"),
    (("receiver", "read_timeout"), "1e-300", "receiver.read_timeout: 1e-300 is shorter than 0.1 s"),
    (("receiver", "reopen_initial"), "1e-300", "receiver.reopen_initial: 1e-300 is shorter than 0.01 s"),
    (("evidence", "iq_duration"), "1e-9", "evidence.iq_duration: 1e-09 is shorter than 0.001 s"),
])
def test_implausible_config_values_are_one_line_errors(key, value, message):
    from station.config import parse_config
    from station.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        parse_config(config_text({key: value}), source="fz.toml", base_dir=TMP)
    assert message in str(exc.value) and "\n" not in str(exc.value)
