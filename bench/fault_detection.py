"""Labelled benchmark: does the score separate good attempts from attempts with form faults,
and does the first cue name the fault?

Good attempts are real recordings (the real model on the bundled clips) of the reference's
own movement, time-warped (a smoothly varying speed, 0.8-1.25x on average) with landmark
jitter; for the pose2sim movement also the other three camera views of the same movement.
Bad attempts are the same good attempts with one realistic fault added:

- rounded_back: upper body (head, shoulders, arms) rotated forward about the hips by 15-30 deg
  and the head a further half of that about the shoulders (world plane only: a front camera
  without depth cannot see it);
- lateral_lean: upper body rotated sideways about the hips by 10-20 deg, to a random side;
- raised_shoulder: one shoulder and its arm lifted 5-8 cm along the vertical;
- cut_range: every landmark brought toward the starting pose, keeping 40-60% of the motion;
- rushed_tempo: the movement played 1.8-2.5x faster.

Printed: per fault the mean scores, ROC AUC (probability that a good attempt outscores a bad
one) and how often the first cue names the fault (rounded back: trunk flexion, spine curve or
forward head; lean: lateral bend, right side; shoulder: shoulder level, right side; cut range:
a feature the fault moved in the cue's direction by at least half the largest change; rushed:
"Slow down"), for same-view and cross-view pairs separately.

Usage: .venv/bin/python bench/fault_detection.py [--seeds N] [--cache DIR]
"""

from __future__ import annotations

import argparse
import logging
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from coach.extract import extract_sequence
from coach.features import SPECS, body_axes, compute_features, estimate_up
from coach.landmarks import Landmark as L
from coach.pose import PoseSequence
from coach.recording import load_keraal, load_recording, save_recording
from coach.scoring import score
from coach.template import Template, template_from_sequence

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
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
UPPER = np.arange(0, 23)  # head, shoulders, arms, hands
HEAD = np.arange(0, 11)
ARM = {"left": [L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX,
                L.LEFT_THUMB],
       "right": [L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_PINKY, L.RIGHT_INDEX,
                 L.RIGHT_THUMB]}
FAULTS = ("rounded_back", "lateral_lean", "raised_shoulder", "cut_range", "rushed_tempo")


def _rotate(points: np.ndarray, centre: np.ndarray, axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotate points (T, K, 3) about per-frame centres (T, 3) and unit axes (T, 3)."""
    a = np.radians(deg)
    v = points - centre[:, None]
    k = axis[:, None]
    cross = np.cross(k, v)
    dot = np.sum(k * v, axis=-1, keepdims=True)
    return centre[:, None] + v * np.cos(a) + cross * np.sin(a) + k * dot * (1 - np.cos(a))


def _frame(seq: PoseSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Points (T, 33, 3) the scorer reads, up (T, 3), left (T, 3), forward (T, 3)."""
    if seq.has_world:
        p = np.array(seq.world_xyz)
        up = estimate_up(p, seq.visibility, seq.timestamps_ms)
        left, fwd = body_axes(p, up)
        return p, np.broadcast_to(up, left.shape).copy(), left, fwd
    p = np.array(seq.image_xyz)
    p[..., 2] = 0.0
    lr = p[:, L.LEFT_HIP, 0] - p[:, L.RIGHT_HIP, 0] + p[:, L.LEFT_SHOULDER, 0] \
        - p[:, L.RIGHT_SHOULDER, 0]
    left = np.zeros((len(p), 3))
    left[:, 0] = np.sign(lr)
    up = np.tile([0.0, -1.0, 0.0], (len(p), 1))
    return p, up, left, np.cross(left, up)


def _with_points(seq: PoseSequence, p: np.ndarray) -> PoseSequence:
    if seq.has_world:
        return replace(seq, world_xyz=p)
    image = np.array(seq.image_xyz)
    image[..., :2] = p[..., :2]
    return replace(seq, image_xyz=image)


def add_fault(seq: PoseSequence, fault: str, rng: np.random.Generator) -> tuple[PoseSequence,
                                                                               str]:
    """``seq`` with ``fault`` added; returns it and a label with the side/size."""
    p, up, left, fwd = _frame(seq)
    hip = (p[:, L.LEFT_HIP] + p[:, L.RIGHT_HIP]) / 2
    sh = (p[:, L.LEFT_SHOULDER] + p[:, L.RIGHT_SHOULDER]) / 2
    out = p.copy()
    if fault == "rounded_back":
        deg = rng.uniform(15, 30)
        out[:, UPPER] = _rotate(p[:, UPPER], hip, left, deg)
        sh2 = (out[:, L.LEFT_SHOULDER] + out[:, L.RIGHT_SHOULDER]) / 2
        out[:, HEAD] = _rotate(out[:, HEAD], sh2, left, deg / 2)
        return _with_points(seq, out), f"rounded_back {deg:.0f} deg"
    if fault == "lateral_lean":
        deg, side = rng.uniform(10, 20), rng.choice(["left", "right"])
        # positive rotation about forward moves up toward the person's right
        out[:, UPPER] = _rotate(p[:, UPPER], hip, fwd, deg if side == "right" else -deg)
        return _with_points(seq, out), f"lateral_lean {side} {deg:.0f} deg"
    if fault == "raised_shoulder":
        side = rng.choice(["left", "right"])
        body = np.linalg.norm(sh - hip, axis=1, keepdims=True)  # trunk length, scales image
        lift = rng.uniform(0.05, 0.08) / 0.5  # metres per 0.5 m of trunk
        out[:, ARM[side]] = p[:, ARM[side]] + (lift * body * up)[:, None]
        return _with_points(seq, out), f"raised_shoulder {side} {lift * 50:.0f} cm"
    if fault == "cut_range":
        keep = rng.uniform(0.4, 0.6)
        rel = p - hip[:, None]
        first = np.flatnonzero(np.isfinite(rel).all(axis=(1, 2)))[0]
        out = hip[:, None] + rel[first] + keep * (rel - rel[first])
        return _with_points(seq, out), f"cut_range keep {keep:.0%}"
    if fault == "rushed_tempo":
        speed = rng.uniform(1.8, 2.5)
        return time_warp(seq, speed, rng, wobble=0.0), f"rushed_tempo {speed:.1f}x"
    raise ValueError(fault)


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


def jitter(seq: PoseSequence, rng: np.random.Generator) -> PoseSequence:
    """Landmark noise: 6 mm (world) / 0.3% of the image (image)."""
    world = None if seq.world_xyz is None else seq.world_xyz + rng.normal(
        0, 0.006, seq.world_xyz.shape)
    image = seq.image_xyz + rng.normal(0, 0.003, seq.image_xyz.shape) * [1, 1, 0]
    return replace(seq, image_xyz=image, world_xyz=world)


def expected_hit(fault_label: str, good: PoseSequence, bad: PoseSequence,
                 template: Template) -> set[tuple[str, str]]:
    """The cue keys that name this fault."""
    kind = fault_label.split()[0]
    if kind == "rounded_back":
        return {("trunk_flexion_deg", "+"), ("spine_curve_deg", "+"), ("neck_flexion_deg", "+")}
    if kind == "lateral_lean":
        return {("lateral_bend_deg", "+" if "left" in fault_label else "-")}
    if kind == "raised_shoulder":
        return {("shoulder_level_deg", "+" if "left" in fault_label else "-")}
    if kind == "rushed_tempo":
        return {("tempo", "+")}
    a, b = compute_features(good), compute_features(bad)
    cols = [a.names.index(n) for n in template.feature_names]
    tol = np.array([SPECS[n].default_tolerance for n in template.feature_names])
    delta = np.nanmean(b.values[:, cols] - a.values[:, cols], axis=0) / tol
    big = np.nanmax(np.abs(delta))
    return {(n, "+" if d > 0 else "-") for n, d in zip(template.feature_names, delta,
                                                       strict=True)
            if np.isfinite(d) and abs(d) >= big / 2}


def load_all(cache: Path | None) -> dict[str, PoseSequence]:
    """The benchmark's recordings: the real model on the clips (cached as npz in ``cache``)."""
    out = {}
    for name, path in CLIPS.items():
        cached = None if cache is None else cache / f"{name}.npz"
        if cached is not None and cached.exists():
            out[name] = load_recording(cached)
            continue
        out[name] = load_keraal(path) if name.startswith("keraal") else extract_sequence(path)
        if cached is not None:
            cache.mkdir(parents=True, exist_ok=True)
            save_recording(out[name], cached)
    return out


def auc(good: list[float], bad: list[float]) -> float:
    """ROC AUC: probability that a good attempt scores higher than a bad one (ties half)."""
    g, b = np.asarray(good)[:, None], np.asarray(bad)[None, :]
    return float(np.mean((g > b) + 0.5 * (g == b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2, help="random variants per pair")
    parser.add_argument("--cache", type=Path, help="folder to keep extracted recordings in")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    seqs = {n: blank_mirrored(s) for n, s in load_all(args.cache).items()}
    print(f"loaded {len(seqs)} recordings in {time.perf_counter() - t0:.0f} s")
    cams = [n for n in seqs if n.startswith("cam")]
    pairs = [(r, a) for r in cams for a in cams]
    pairs += [(n, n) for n in seqs if not n.startswith("cam")]
    rows = []
    t1 = time.perf_counter()
    for ref_name, att_name in pairs:
        template = template_from_sequence(seqs[ref_name], ref_name)
        for seed in range(args.seeds):
            rng = np.random.default_rng(zlib.crc32(f"{ref_name}/{att_name}/{seed}".encode()))
            base = time_warp(seqs[att_name], rng.uniform(0.8, 1.25), rng)
            good = jitter(base, rng)
            view = "same view" if ref_name == att_name else "cross view"
            g = score(good, template, mirror=False)
            rows.append((view, f"{ref_name}<-{att_name}", "good", "", g.overall, None))
            for fault in FAULTS:
                if fault == "rounded_back" and not seqs[att_name].has_world:
                    continue
                bad_base, label = add_fault(base, fault, rng)
                bad = jitter(bad_base, rng)
                b = score(bad, template, mirror=False)
                hit = bool(b.cue_keys) and b.cue_keys[0] in expected_hit(label, base, bad_base,
                                                                         template)
                rows.append((view, f"{ref_name}<-{att_name}", fault, label, b.overall, hit))
    elapsed = time.perf_counter() - t1
    print(f"scored {len(rows)} attempts in {elapsed:.1f} s ({elapsed / len(rows) * 1000:.0f} ms "
          "each)\n")
    for view in ("same view", "cross view"):
        sub = [r for r in rows if r[0] == view]
        good = [r[4] for r in sub if r[2] == "good"]
        lowest = min((r for r in sub if r[2] == "good"), key=lambda r: r[4])
        print(f"{view}: {len(good)} good attempts, mean score {np.mean(good):.1f} "
              f"(lowest {lowest[4]:.1f}: {lowest[1]})")
        print(f"  {'fault':16s} {'n':>4s} {'mean':>6s} {'AUC':>6s} {'first cue names it':>19s}")
        all_bad = []
        hits = []
        for fault in FAULTS:
            bad = [r for r in sub if r[2] == fault]
            if not bad:
                continue
            scores = [r[4] for r in bad]
            all_bad += scores
            hits += [r[5] for r in bad]
            print(f"  {fault:16s} {len(bad):4d} {np.mean(scores):6.1f} {auc(good, scores):6.3f} "
                  f"{np.mean([r[5] for r in bad]):18.0%}")
        print(f"  {'all faults':16s} {len(all_bad):4d} {np.mean(all_bad):6.1f} "
              f"{auc(good, all_bad):6.3f} {np.mean(hits):18.0%}\n")


if __name__ == "__main__":
    main()
