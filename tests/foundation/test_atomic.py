"""Atomic writes to places that cannot be written: one clear error, nothing left behind."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coach.atomic import atomic_write
from coach.errors import OutputError


def test_folder_that_is_a_file_is_an_output_error(tmp_path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(OutputError, match="plain.txt is a file, not a folder"), \
            atomic_write(blocker / "deeper" / "out.json", "w"):
        pytest.fail("the block must not run")


def test_target_that_is_a_folder_is_an_output_error_and_leaves_no_temp(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside.txt").write_text("kept")
    with pytest.raises(OutputError, match="taken"), atomic_write(target, "w") as handle:
        handle.write("data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (target / "inside.txt").read_text() == "kept"


def test_cli_unwritable_output_is_one_line(tmp_path):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("a file, not a folder")
    result = subprocess.run([sys.executable, "-m", "coach", "references", "export", "squat",
                             "-o", str(blocker / "squat.zip")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("coach: error: ") and "plain.txt" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
