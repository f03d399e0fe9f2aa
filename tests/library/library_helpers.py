"""Helpers for the reference library tests: tree hashes, the CLI, small exercise folders."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COACH = Path(sys.executable).parent / "coach"

FLOWING_TOML = """\
format_version = 1
name = "Test flow"
tradition = "qigong"
kind = "flowing"
view = "front"
description = "A movement used by the tests."
teaching_points = ["Move slowly."]
safety_notes = ["Stop if it hurts."]

[weights]
trunk_flexion_deg = 2.0

[tolerances]
trunk_flexion_deg = 10.0
"""


def tree_hash(root: Path) -> str:
    """Hash of every file's relative path and bytes under ``root`` (hidden files included)."""
    digest = hashlib.sha256()
    if root.exists():
        for path in sorted(root.rglob("*")):
            digest.update(str(path.relative_to(root)).encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()


def run_coach(args: list[str], env: dict[str, str], timeout: float = 300.0
              ) -> subprocess.CompletedProcess[str]:
    """Run the installed ``coach`` command and capture its output."""
    return subprocess.run([str(COACH), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, check=False)


def write_exercise(folder: Path, toml_text: str = FLOWING_TOML,
                   takes: dict[str, bytes] | None = None) -> Path:
    """An exercise folder with the given metadata text and take files (name -> bytes)."""
    (folder / "takes").mkdir(parents=True, exist_ok=True)
    (folder / "exercise.toml").write_text(toml_text, encoding="utf-8")
    for name, data in (takes or {}).items():
        (folder / "takes" / name).write_bytes(data)
    return folder
