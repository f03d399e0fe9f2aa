"""Skeletons from other tools: UI-PRMD Kinect repetitions (real files) as PoseSequences."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.errors import RecordingError
from coach.features import compute_features
from coach.landmarks import Landmark as L
from coach.library.meta import ExerciseMeta, meta_to_toml
from coach.recording import is_recording_path, load_recording, save_recording
from coach.skeletons import UIPRMD_TO_BLAZEPOSE, load_uiprmd

DATA = Path(__file__).resolve().parent.parent / "data" / "uiprmd"
CORRECT = DATA / "correct" / "kinect" / "positions" / "m07_s01_e01_positions.txt.gz"
INCORRECT = DATA / "incorrect" / "kinect" / "positions" / "m07_s01_e01_positions_inc.txt.gz"
OTHER = DATA / "correct" / "kinect" / "positions" / "m07_s02_e01_positions.txt.gz"


def _bone(seq, a: L, b: L) -> np.ndarray:  # noqa: ANN001
    return np.linalg.norm(seq.world_xyz[:, a] - seq.world_xyz[:, b], axis=-1)


@pytest.mark.parametrize("path", [CORRECT, INCORRECT, OTHER])
def test_uiprmd_repetition_is_a_plausible_body(path: Path) -> None:
    seq = load_recording(path)
    assert is_recording_path(path)
    assert len(seq) > 30 and seq.fps == 30.0 and seq.has_world
    for a, b in ((L.LEFT_HIP, L.LEFT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE),
                 (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST)):
        bone = _bone(seq, a, b)
        assert 0.15 < bone.mean() < 0.5 and bone.std() < 0.03  # metres, constant in time
    first = seq.world_xyz[0]
    # upright (y down in the model's axes): head end above the hips above the ankles
    assert first[L.LEFT_SHOULDER, 1] < first[L.LEFT_HIP, 1] < first[L.LEFT_ANKLE, 1]
    # facing the camera, the person's left is on the right of the picture (x grows)
    assert first[L.LEFT_SHOULDER, 0] > first[L.RIGHT_SHOULDER, 0]
    assert first[L.LEFT_HIP, 0] > first[L.RIGHT_HIP, 0]
    # the hips are the origin, as the pose model gives world landmarks
    np.testing.assert_allclose((first[L.LEFT_HIP] + first[L.RIGHT_HIP]) / 2, 0.0, atol=1e-9)


def test_landmarks_kinect_lacks_are_missing_and_so_are_their_features() -> None:
    seq = load_uiprmd(CORRECT)
    mapped = set(UIPRMD_TO_BLAZEPOSE.values())
    for lm in L:
        if lm in mapped:
            assert (seq.visibility[:, lm] == 1.0).all()
        else:
            assert (seq.visibility[:, lm] == 0.0).all() and np.isnan(seq.world_xyz[:, lm]).all()
    track = compute_features(seq)
    for name in ("spine_curve_deg", "neck_flexion_deg", "neck_lateral_deg",
                 "shoulder_shrug_deg"):  # need the ears
        assert np.isnan(track.column(name)).all()
    assert np.isfinite(track.column("trunk_flexion_deg")).all()


def test_shoulder_abduction_raises_the_working_arm_further_when_correct() -> None:
    """Subject 1 abducts the right arm: about 150 deg at the top when correct (the dataset
    measured 155 vs 123 on average), less when incorrect; the left arm stays down."""
    good = compute_features(load_uiprmd(CORRECT))
    bad = compute_features(load_uiprmd(INCORRECT))
    assert np.nanmax(good.column("right_shoulder_deg")) > 140
    assert np.nanmax(bad.column("right_shoulder_deg")) < np.nanmax(
        good.column("right_shoulder_deg")) - 10
    assert np.nanmax(good.column("left_shoulder_deg")) < 45


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _pair(tmp_path: Path, positions: str, angles: str | None) -> Path:
    pos = _write(tmp_path / "positions" / "m07_s09_e01_positions.txt.gz", positions)
    if angles is not None:
        _write(tmp_path / "angles" / "m07_s09_e01_angles.txt.gz", angles)
    return pos


ROW = ",".join(["1.0"] * 66)


@pytest.mark.parametrize(("positions", "angles", "says"), [
    (ROW + "\n" + ",".join(["1.0"] * 65), ROW + "\n" + ROW, "line 2: expected 66"),
    (ROW.replace("1.0", "x", 1), ROW, "line 1: not a number"),
    (ROW, None, "no such skeleton file"),
    (ROW + "\n" + ROW, ROW, "2 frames but"),
    ("", "", "holds no frames"),
    (ROW.replace("1.0", "inf", 1), ROW, "infinite or NaN"),
    (ROW.replace("1.0", "5000.0", 5), ROW, "beyond 1000 cm"),
])
def test_bad_skeleton_files_are_refused_in_one_line(tmp_path: Path, positions: str,
                                                    angles: str | None, says: str) -> None:
    path = _pair(tmp_path, positions, angles)
    with pytest.raises(RecordingError) as err:
        load_recording(path)
    message = str(err.value)
    assert says in message and "\n" not in message
    assert "m07_s09_e01" in message


def test_a_truncated_gzip_skeleton_is_refused(tmp_path: Path) -> None:
    data = CORRECT.read_bytes()
    path = tmp_path / "positions" / CORRECT.name
    path.parent.mkdir()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match="unreadable skeleton file"):
        load_recording(path)


def test_score_command_takes_a_uiprmd_file(tmp_path: Path) -> None:
    """The real CLI scores one person's repetition, read from its Kinect file, against an
    exercise whose take is another person's repetition."""
    folder = tmp_path / "library" / "shoulder-abduction"
    meta = ExerciseMeta(name="Shoulder abduction", tradition="rehabilitation", kind="flowing",
                        view="front", description="Raise the arm sideways.",
                        teaching_points=("Keep the trunk still",), safety_notes=("Gently",),
                        either_side=True)
    (folder / "takes").mkdir(parents=True)
    (folder / "exercise.toml").write_text(meta_to_toml(meta), encoding="utf-8")
    save_recording(load_uiprmd(CORRECT), folder / "takes" / "take-001.npz")
    proc = subprocess.run(
        [sys.executable, "-m", "coach", "score", str(OTHER), "--exercise", "shoulder-abduction",
         "--library", str(tmp_path / "library"), "--json"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["plane"] == "world" and 0 <= report["overall"] <= 100
