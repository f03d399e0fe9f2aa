"""The small public API: ``import coach`` then ``coach.score`` on files or sequences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import coach

DATA = Path(__file__).resolve().parent.parent / "data" / "uiprmd" / "correct" / "kinect" / \
    "positions"
REFERENCE = DATA / "m07_s01_e01_positions.txt.gz"
ATTEMPT = DATA / "m07_s02_e01_positions.txt.gz"


def test_score_takes_paths_or_sequences_and_gives_the_same_report() -> None:
    by_path = coach.score(str(ATTEMPT), REFERENCE, mirror="auto")
    by_sequence = coach.score(coach.load_recording(ATTEMPT), coach.load_recording(REFERENCE),
                              mirror="auto")
    assert isinstance(by_path, coach.Report)
    assert by_path.overall == by_sequence.overall and by_path.cues == by_sequence.cues
    assert 0 <= by_path.overall <= 100 and by_path.plane == "world"


def test_public_names_are_listed_and_import_lazily() -> None:
    for name in ("score", "load_recording", "Library", "ScoringParams", "PoseSequence", "Report",
                 "Scorer"):
        assert name in coach.__all__ and getattr(coach, name) is not None
    # importing the package alone does not pull in the scorer, the model or OpenCV
    code = "import sys, coach; print(any(m in sys.modules for m in ('coach.scoring', 'cv2')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
