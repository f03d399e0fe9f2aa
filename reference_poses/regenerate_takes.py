"""Rebuild the built-in library's takes from the real sample recordings in ``samples/``.

    .venv/bin/python reference_poses/regenerate_takes.py

KERAAL exercises: their BlazePose landmark files, converted (image landmarks only). Squat and
lunge-and-reach: landmarks extracted from the sample clips with the bundled pose model (set
``COACH_MODEL`` to use another bundle). Each exercise folder also receives the sample's LICENSE.
The metadata files (``exercise.toml``) are written by hand and left alone.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "samples"
sys.path.insert(0, str(HERE.parent))

from coach.extract import extract_sequence  # noqa: E402
from coach.library.store import TAKES_DIR, check_take  # noqa: E402
from coach.recording import load_keraal, save_recording  # noqa: E402

#: exercise slug -> (sample file relative to samples/, how to read it)
TAKES: dict[str, tuple[str, str]] = {
    "keraal-trunk-rotation": ("keraal_lowback/G3-BP-RTK-P1T1-Unknown-C-0.json", "keraal"),
    "keraal-flank-stretch": ("keraal_lowback/G3-BP-ELK-P1T1-Unknown-C-0.json", "keraal"),
    "keraal-arm-raises": ("keraal_lowback/G3-BP-CTK-P1T1-Unknown-C-0.json", "keraal"),
    "squat": ("tfjs_squats/pose_squats.mp4", "video"),
    "lunge-and-reach": ("pose2sim_lunge/cam01.mp4", "video"),
}


def main() -> int:
    for slug, (relative, how) in TAKES.items():
        sample = SAMPLES / relative
        seq = load_keraal(sample) if how == "keraal" else extract_sequence(sample)
        seq = check_take(replace(seq, source=f"samples/{relative}"), str(sample))
        folder = HERE / slug
        save_recording(seq, folder / TAKES_DIR / "take-001.npz")
        shutil.copyfile(sample.parent / "LICENSE", folder / "LICENSE")
        print(f"{slug}: {len(seq)} frames from samples/{relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
