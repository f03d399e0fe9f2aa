"""A wheel built from the project carries the pose model and the built-in references, and coach
installed from it (not from the source tree) finds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What building the wheel needs from the source tree.
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "coach", "models", "reference_poses")

pytestmark = pytest.mark.slow


def test_coach_installed_from_its_wheel_scores_with_the_shipped_model_and_library(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    source = tmp_path / "source"
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(tmp_path / "dist"), str(source)], check=True, capture_output=True,
                   timeout=600)
    wheel, = (tmp_path / "dist").glob("coach-*.whl")
    installed = tmp_path / "installed"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(installed)  # a pure-Python wheel: unpacking it is installing it
    assert "coach/_bundled/models/pose_landmarker_full.task" in names
    assert "coach/_bundled/reference_poses/squat/takes/take-001.npz" in names

    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env["PYTHONPATH"] = str(installed)
    where = subprocess.run(
        [sys.executable, "-c", "import coach.backend as b, coach.library as l; "
         "print(b.default_model_path()); print(l.BUILTIN_DIR)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    model, library = map(Path, where.stdout.split())
    assert model.is_relative_to(installed) and model.is_file()
    assert library.is_relative_to(installed) and (library / "squat").is_dir()

    scored = subprocess.run(
        [sys.executable, "-m", "coach", "score", str(sample_path("squats")), "--exercise",
         "squat"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stderr
    assert "Score 100/100 against 'squat'" in scored.stdout  # the clip the reference is from
