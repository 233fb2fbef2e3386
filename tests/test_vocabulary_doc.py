"""docs/VOCABULARY.md is exactly what ``specmon vocabulary --markdown`` prints, and the vocabulary keeps the
rules the stores rely on (typed fields, bounded tags, station/band everywhere, settings on every result)."""

from __future__ import annotations

import re

from station.cli import main
from station.commands.vocabulary import render_markdown
from station.outputs.vocabulary import COMMON_TAGS, MEASUREMENTS, SETTINGS_FIELDS
from tests.conftest import PROJECT_ROOT


def test_committed_vocabulary_doc_equals_the_generated_text(capsys):
    assert main(["vocabulary", "--markdown"]) == 0
    generated = capsys.readouterr().out
    assert generated == render_markdown() + "\n"
    committed = (PROJECT_ROOT / "docs" / "VOCABULARY.md").read_text()
    assert committed == generated, "docs/VOCABULARY.md is stale: run `specmon vocabulary --markdown > docs/VOCABULARY.md`"


def test_vocabulary_rules():
    for m in MEASUREMENTS.values():
        assert set(COMMON_TAGS) <= set(m.tags), m.name
        # the network service's points have constant station/band ('network'/'all'): their series are one per
        # network case (x class, determined by the case; x outline vertex, a fixed 48)
        fixed = 2 if m.name in ("network_case", "network_region") else 0
        assert len(m.tags) - fixed <= 3, f"{m.name}: tags must stay few (bounded cardinality)"
        for k, f in m.fields.items():
            assert f.type in ("float", "int", "str", "bool"), (m.name, k)
            assert re.fullmatch(r"[a-z][a-z0-9_]*", k), (m.name, k)
            assert not re.search(r"\d{3,}", k), f"{m.name}.{k}: no field per frequency"
            assert f.description
        assert not set(m.tags) & set(m.fields), m.name
        if m.name not in ("station_health", "network_case", "network_region", "network_link",
                          "case_checkpoint"):  # not made by a sweep
            assert set(SETTINGS_FIELDS) <= set(m.fields), m.name
