"""Fixtures for the reference library tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture()
def library_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a ``coach`` subprocess with a private library and data folder."""
    env = dict(os.environ)
    env["COACH_LIBRARY"] = str(tmp_path / "own")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return env
