"""The live view's layout: columns chosen by the terminal's width with nothing cut (licences wrap), one row per
transmitter under "latest emissions", and plain empty states."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from station.compliance.records import ComplianceClass
from station.tui import _ANSI, TtyReporter, case_table
from tests.test_daemon_tui import report
from tests.test_daemon_unit import ScriptedPipeline, ScriptedReceiver, make_daemon

LICENCES = ("LM-CONS-158200-HANOI-NORTH", "LM-CONS-158200-HANOI-SOUTH", "BC-001129")


@dataclass
class _Case:
    case_id: str = "VC-000002"
    klass: ComplianceClass = ComplianceClass.EXPIRED
    center_hz: float = 158.19989e6
    bandwidth_hz: float = 12.4e3
    max_power_dbfs: float = -34.3
    n_obs: int = 12
    state: str = "new"
    last_seen: datetime = datetime(2026, 12, 4, 23, 43, 48, tzinfo=timezone.utc)
    licences: tuple = LICENCES


def _visible(line: str) -> str:
    return _ANSI.sub("", line)


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160, 220])
def test_case_table_fits_and_cuts_nothing(width):
    rows = case_table([_Case(), _Case(case_id="VC-000003", licences=())], width)
    assert all(len(_visible(r)) <= width for r in rows), [len(_visible(r)) for r in rows]
    text = " ".join(_visible(r) for r in rows)
    start = _visible(rows[0]).index("licence")  # the licence column, wrapped onto further rows when narrow
    column = "".join(_visible(r)[start:].strip() for r in rows[1:])
    for lic in LICENCES:  # every licence complete (wrapped, never cut)
        assert lic in column.replace(" ", "")
    assert "VC-000002" in text and "VC-000003" in text and "158.19989" in text
    if width >= 120:
        assert "state" in rows[0] and "obs" in rows[0]
    assert ("BW kHz" in rows[0]) == (width >= 80)


def test_latest_emissions_has_one_row_per_transmitter_and_empty_states(tmp_path):
    view = TtyReporter(io.StringIO())
    d = make_daemon(tmp_path, factory=lambda cfg: ScriptedReceiver(), pipeline=ScriptedPipeline())
    view.daemon = d
    text = _visible(view.render())
    assert "none yet (waiting for the first sweep)" in text
    assert "open violation cases: none" in text and "0 shown" not in text
    for _ in range(4):
        view.sweep_done(report("a"))
    text = _visible(view.render())
    latest = text.split("latest emissions")[1].split("open violation cases")[0]
    assert latest.count("147.25000") == 1 and latest.count("150.12500") == 1 and latest.count("145.50000") == 1
