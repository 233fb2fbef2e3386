"""Issue 14, the station on a sick disk and the exit codes of runs that cannot work: a read-only data dir (one
line, exit 6), a broken ``sim:`` scenario (a data error at start, exit 4, not a receiver fault retried every
30 s), a bounded run that could do no sweep (exit 5, no empty CSV/PDF), the end-of-run export on a full disk
(one line, exit 6, no traceback). Real filesystems when root (tmpfs via ``mount``), see tests/fs_helpers.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.fs_helpers import fill, read_only_fs, small_fs
from tests.services import free_port
from tests.station_helpers import specmon_argv, unbuffered_env

pytestmark = [pytest.mark.slow]

CONFIG = """
[station]
id = "disk-01"
latitude = 21.0285
longitude = 105.8542

[receiver]
uri = "{uri}"
gain = 30.0
{seed}
reopen_initial = "100ms"
reopen_max = "500ms"

[[bands]]
name = "lmr"
f_lo = "451M"
f_hi = "453M"
rbw = "1k"
dwell = "20ms"
revisit = "100ms"

[compliance]
register = "builtin:demo_register.csv"
exempt_bands = "builtin:exempt_bands.csv"

[store]
data_dir = "{data_dir}"
spectrum_points = 64

[evidence]
enabled = false

[export]
on_exit = {on_exit}
dir = "{export_dir}"

[run]
health_interval = "200ms"
tui = "off"
"""


def write_config(tmp_path: Path, *, uri="sim://city", data_dir=None, on_exit=False, export_dir="exports") -> Path:
    path = tmp_path / "station.toml"
    path.write_text(CONFIG.format(uri=uri, seed="seed = 1" if uri.startswith("sim") else "",
                                  data_dir=data_dir or tmp_path / "data", on_exit=str(on_exit).lower(),
                                  export_dir=export_dir))
    return path


def run(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(specmon_argv(*args), capture_output=True, text=True, env=unbuffered_env(), timeout=timeout)


def assert_one_line_error(p: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert p.returncode == code, p.stderr[-3000:]
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("specmon run: error:")]
    assert len(errors) == 1, p.stderr[-3000:]
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("existing", [False, True], ids=["missing", "existing"])
def test_read_only_data_dir_is_a_clean_error_exit_6(tmp_path, existing):
    """Was: a traceback at the pipeline's StateStore open (pipeline.py:194) for a missing data dir."""
    ro = tmp_path / "ro"
    if existing:  # a data dir that exists on a filesystem that went read-only
        ro.mkdir()
        (ro / "data").mkdir()
    with read_only_fs(ro) as kind:
        if kind == "chmod" and __import__("os").geteuid() == 0:
            pytest.skip("cannot mount a read-only filesystem and root ignores permissions")
        cfg = write_config(tmp_path, data_dir=ro / "data")
        p = run("run", "--config", str(cfg), "--sweeps", "1")
    reason = "read-only file system" if kind == "mount-ro" else "permission denied"
    assert_one_line_error(p, 6, str(ro / "data"), reason)


def test_a_broken_scenario_file_is_a_data_error_at_start_not_a_receiver_fault_retried(tmp_path):
    """Was: `run` retried opening the receiver every 30 s forever (the file never heals by waiting)."""
    scen = tmp_path / "bad.toml"
    scen.write_text('[[transmitters]]\nid = "bad id!"\nfrequency_hz = 452e6\nmodulation = "nbfm"\n'
                    'power_dbm = -60\nbandwidth_hz = 12500\n')
    cfg = write_config(tmp_path, uri=f"sim:{scen}")
    p = run("run", "--config", str(cfg), "--duration", "120", timeout=60)  # a retry loop would time out
    assert_one_line_error(p, 4, f"{scen}:transmitters[0].id")
    assert "retrying in" not in p.stderr


def test_a_bounded_run_without_a_single_sweep_exits_5_and_writes_no_export(tmp_path):
    """Was: `run --duration 12` with no dongle did zero sweeps, exited 0 and wrote an empty CSV and PDF."""
    cfg = write_config(tmp_path, uri=f"rtltcp://127.0.0.1:{free_port()}", on_exit=True)
    p = run("run", "--config", str(cfg), "--duration", "3")
    assert_one_line_error(p, 5, "no band sweep completed", "no export written")
    exports = tmp_path / "data" / "exports"
    assert not exports.exists() or not any(exports.iterdir())


def test_the_end_of_run_export_on_a_full_disk_is_one_line_and_exit_6(tmp_path):
    """Was: the end-of-run export died with an ENOSPC traceback. The run's measurements stay stored."""
    full = tmp_path / "full"
    with small_fs(full, 256 * 1024) as kind:
        if kind != "tmpfs":
            pytest.skip("needs a mounted filesystem to fill (root); the file-size limit case is in "
                        "test_daemon_faults")
        (full / "exports").mkdir()
        fill(full)
        cfg = write_config(tmp_path, on_exit=True, export_dir=full / "exports")
        p = run("run", "--config", str(cfg), "--sweeps", "2")
    line = assert_one_line_error(p, 6, "export failed", "disk full")
    assert len(line) < 400
    assert "stopped (sweeps) after 2 band sweeps" in p.stdout
