"""Frames per second of the whole extract path against the bare PoseLandmarker loop.

The bare loop runs ``PoseLandmarker.detect_for_video`` (same model, same options) on frames
decoded beforehand into memory; the extract path decodes, runs the model, follows one person
and builds the PoseSequence. Goal: the extract path keeps at least 0.9 of the bare rate
(decoding overlaps inference on the second core).

The two are measured in pairs, back to back and in alternating order, so that both halves of
a pair meet the same machine load; a clip's figure is the median of its pairs' ratios.

    python bench/pose_throughput.py [VIDEO ...] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend, default_model_path
from coach.extract import extract_from_source
from coach.sources import Frame, open_source

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLIPS = [ROOT / "samples/pose2sim_lunge/cam01.mp4",
                 ROOT / "samples/mediapipe_dance/pose_segmentation.mp4",
                 ROOT / "samples/tfjs_squats/pose_squats.mp4"]
GOAL = 0.9


def bare_fps(frames: list) -> float:
    """Rate of the bare detect_for_video loop over decoded RGB frames (frames per second)."""
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(default_model_path())),
        running_mode=vision.RunningMode.VIDEO, num_poses=DEFAULT_MAX_PEOPLE)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        start = time.perf_counter()
        for frame in frames:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=frame.rgb)
            landmarker.detect_for_video(image, int(frame.timestamp_ms))
        return len(frames) / (time.perf_counter() - start)


def extract_fps(path: Path) -> float:
    """Rate of the whole extract path, decode included (frames per second).

    The model is loaded before the clock starts, as in the bare loop.
    """
    with PoseBackend() as backend:
        start = time.perf_counter()
        with open_source(path) as source:
            sequence = extract_from_source(source, backend)
        return len(sequence) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, default=DEFAULT_CLIPS)
    parser.add_argument("--repeats", type=int, default=7, help="measured pairs per clip")
    args = parser.parse_args()
    worst = float("inf")
    print(f"{'clip':<28}{'frames':>7}{'bare fps':>10}{'extract fps':>13}{'ratio':>8}"
          f"{'pair ratios min-max':>22}")
    for path in args.videos:
        with open_source(path) as source:  # pixels made now, before any clock starts
            frames = [Frame(f.rgb, f.timestamp_ms, f.index) for f in source]
        bare, full = [], []
        for repeat in range(args.repeats):
            if repeat % 2:
                full.append(extract_fps(path))
                bare.append(bare_fps(frames))
            else:
                bare.append(bare_fps(frames))
                full.append(extract_fps(path))
        ratios = [f / b for f, b in zip(full, bare, strict=True)]
        ratio = statistics.median(ratios)
        worst = min(worst, ratio)
        print(f"{path.name:<28}{len(frames):>7}{statistics.median(bare):>10.1f}"
              f"{statistics.median(full):>13.1f}{ratio:>8.2f}"
              f"{min(ratios):>14.2f} - {max(ratios):.2f}")
    verdict = "meets" if worst >= GOAL else "MISSES"
    print(f"worst median ratio extract/bare: {worst:.2f} ({verdict} the {GOAL} goal)")
    return 0 if worst >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
