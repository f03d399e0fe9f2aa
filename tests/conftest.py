"""Shared fixtures: the bundled sample clips, and their poses extracted once per test session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from coach.pose import PoseSequence

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

#: Short names of the sample files the tests use.
SAMPLE_FILES: dict[str, Path] = {
    "squats": SAMPLES / "tfjs_squats" / "pose_squats.mp4",
    "squats_expected": SAMPLES / "tfjs_squats" / "pose_squats.full.json",
    "warrior": SAMPLES / "tfjs_squats" / "pose.jpg",
    "dance": SAMPLES / "mediapipe_dance" / "pose_segmentation.mp4",
    "cam01": SAMPLES / "pose2sim_lunge" / "cam01.mp4",
    "cam02": SAMPLES / "pose2sim_lunge" / "cam02.mp4",
    "cam03": SAMPLES / "pose2sim_lunge" / "cam03.mp4",
    "cam04": SAMPLES / "pose2sim_lunge" / "cam04.mp4",
    "multi": SAMPLES / "sports2d_multi" / "demo.mp4",
    "keraal_RTK": SAMPLES / "keraal_lowback" / "G3-BP-RTK-P1T1-Unknown-C-0.json",
    "keraal_ELK": SAMPLES / "keraal_lowback" / "G3-BP-ELK-P1T1-Unknown-C-0.json",
    "keraal_CTK": SAMPLES / "keraal_lowback" / "G3-BP-CTK-P1T1-Unknown-C-0.json",
}

_extracted: dict[str, PoseSequence] = {}


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The bundled sample folder."""
    return SAMPLES


@pytest.fixture(scope="session")
def sample_path() -> Callable[[str], Path]:
    """Path of a sample by short name (see SAMPLE_FILES)."""
    return SAMPLE_FILES.__getitem__


@pytest.fixture(scope="session")
def real_sequence() -> Callable[[str], PoseSequence]:
    """Poses of a sample by short name, from the real model (extracted once per session).

    KERAAL samples are loaded from their published landmark files (image landmarks only).
    """
    from coach.extract import extract_sequence
    from coach.recording import load_keraal

    def get(name: str) -> PoseSequence:
        if name not in _extracted:
            path = SAMPLE_FILES[name]
            _extracted[name] = (load_keraal(path) if name.startswith("keraal")
                                else extract_sequence(path))
        return _extracted[name]

    return get
