"""Shared fixtures. Real recordings live in ../shared/data (relative to the project root) and are never copied
into the repository; tests that need them skip with a reason when the folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared_file(relpath: str) -> Path:
    """Path of a file in ../shared/data, or skip the calling test with the reason."""
    path = SHARED_DATA / relpath
    if not path.is_file():
        pytest.skip(f"real recording {relpath} not available ({SHARED_DATA} absent)")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real recordings folder {SHARED_DATA} is absent")
    return SHARED_DATA
