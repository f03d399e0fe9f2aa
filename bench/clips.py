"""The bundled clips the benchmarks share: landmarks from the real pose model (extracted once
and kept in a cache folder), and helpers to make longer or re-timed sequences from them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from coach.extract import extract_sequence
from coach.features import compute_features
from coach.pose import PoseSequence
from coach.recording import load_keraal, load_recording, save_recording

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DEFAULT_CACHE = ROOT / "out" / "bench-cache"
CLIPS = {
    "cam01": SAMPLES / "pose2sim_lunge" / "cam01.mp4",
    "cam02": SAMPLES / "pose2sim_lunge" / "cam02.mp4",
    "cam03": SAMPLES / "pose2sim_lunge" / "cam03.mp4",
    "cam04": SAMPLES / "pose2sim_lunge" / "cam04.mp4",
    "squats": SAMPLES / "tfjs_squats" / "pose_squats.mp4",
    "dance": SAMPLES / "mediapipe_dance" / "pose_segmentation.mp4",
    "keraal_RTK": SAMPLES / "keraal_lowback" / "G3-BP-RTK-P1T1-Unknown-C-0.json",
    "keraal_ELK": SAMPLES / "keraal_lowback" / "G3-BP-ELK-P1T1-Unknown-C-0.json",
    "keraal_CTK": SAMPLES / "keraal_lowback" / "G3-BP-CTK-P1T1-Unknown-C-0.json",
}


def load_clip(name: str, cache: Path | None = DEFAULT_CACHE) -> PoseSequence:
    """One clip's landmarks by name (see ``CLIPS``), from ``cache`` when extracted before."""
    path = CLIPS[name]
    cached = None if cache is None else cache / f"{name}.npz"
    if cached is not None and cached.exists():
        return load_recording(cached)
    seq = load_keraal(path) if name.startswith("keraal") else extract_sequence(path)
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        save_recording(seq, cached)
    return seq


def load_all(cache: Path | None = DEFAULT_CACHE) -> dict[str, PoseSequence]:
    """Every clip of ``CLIPS``."""
    return {name: load_clip(name, cache) for name in CLIPS}


def blank_mirrored(seq: PoseSequence) -> PoseSequence:
    """``seq`` with the model's whole-body mirrored frames blanked (as the scorer drops them),
    so that time warping does not blend a mirrored frame into a good one."""
    if not seq.has_world:
        return seq
    bad = compute_features(seq).mirrored
    world, image = np.array(seq.world_xyz), np.array(seq.image_xyz)
    world[bad], image[bad] = np.nan, np.nan
    return replace(seq, world_xyz=world, image_xyz=image,
                   visibility=np.where(bad[:, None], 0.0, seq.visibility))


def time_warp(seq: PoseSequence, speed: float, rng: np.random.Generator,
              wobble: float = 0.2) -> PoseSequence:
    """``seq`` replayed at ``speed`` x (varying by +-``wobble``), same frame rate."""
    n = len(seq)
    steps, pos = [], 0.0
    phase = rng.uniform(0, 2 * np.pi)
    while pos <= n - 1:
        steps.append(pos)
        pos += speed * (1 + wobble * np.sin(phase + 2 * np.pi * len(steps) / max(n / speed, 2)))
    tau = np.array(steps)
    i0 = np.floor(tau).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = (tau - i0)[:, None, None]

    def lerp(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[i0] * (1 - f) + a[i1] * f

    vis = np.minimum(seq.visibility[i0], seq.visibility[i1])
    ts = seq.timestamps_ms[0] + np.arange(len(tau)) * 1000.0 / seq.fps
    return PoseSequence(lerp(seq.image_xyz), vis, lerp(seq.world_xyz), ts, seq.fps, seq.source,
                        seq.image_size, seq.people_seen[i0])
