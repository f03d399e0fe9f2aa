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


def resample_speed(seq, speed: float):  # noqa: ANN001, ANN201 - PoseSequence in and out
    """The same movement ``speed`` times as fast: landmarks interpolated in time, same fps.

    A real recording stays real in shape; only its timing changes (0.5 = half speed).
    """
    import numpy as np

    from coach.pose import PoseSequence

    ts = seq.timestamps_ms - seq.timestamps_ms[0]
    period = 1000.0 / seq.fps
    new_ts = np.arange(0.0, ts[-1] / speed + 1e-9, period)
    src = new_ts * speed

    def interp(values: np.ndarray) -> np.ndarray:
        flat = values.reshape(len(values), -1)
        out = np.stack([np.interp(src, ts, flat[:, k]) for k in range(flat.shape[1])], axis=1)
        return out.reshape((len(src),) + values.shape[1:])

    return PoseSequence(interp(seq.image_xyz), interp(seq.visibility),
                        None if seq.world_xyz is None else interp(seq.world_xyz),
                        new_ts + seq.timestamps_ms[0], seq.fps, f"{seq.source} x{speed:g}",
                        seq.image_size)
