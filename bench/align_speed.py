"""Alignment speed: ``coach.align`` against dtaidistance on the same data, and the online cost.

Two 2-minute feature sequences at 30 fps (3,600 frames each, 16 world features) are built
from real recordings (the real model on two pose2sim views of one movement, replayed at
varying speed and looped), then aligned:

- ``coach.align.align``: confidence-weighted cost with per-moment tolerances, open begin and
  end, the path (band 0.3 and no band);
- dtaidistance (C): ``dtw_ndim.distance`` (distance only) and ``dtw_ndim.warping_path`` (with
  the path) on the same features scaled by sqrt(weight) / tolerance, same band as a window.

Then the online aligner (``OnlineAligner.update``) and the whole live scorer
(``LiveScorer.update``) per frame, early and late in a 10-minute stream: the cost per frame
must not grow with the session.

Usage: .venv/bin/python bench/align_speed.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from clips import blank_mirrored, load_all, time_warp
from dtaidistance import dtw_ndim

from coach.align import OnlineAligner, ReferenceModel, align
from coach.features import SPECS, compute_features
from coach.live_scoring import LiveScorer
from coach.params import DEFAULT_PARAMS
from coach.pose import PoseSequence
from coach.template import template_from_sequence

FRAMES = 3600
BAND = 0.3


def long_take(seq: PoseSequence, frames: int, seed: int) -> PoseSequence:
    """``seq`` replayed at 0.6-1.4x speeds, looped, until ``frames`` frames at 30 fps."""
    rng = np.random.default_rng(seed)
    parts: list[PoseSequence] = []
    total = 0
    while total < frames:
        part = time_warp(seq, rng.uniform(0.6, 1.4), rng)
        parts.append(part)
        total += len(part)
    image = np.concatenate([p.image_xyz for p in parts])[:frames]
    world = np.concatenate([p.world_xyz for p in parts])[:frames]
    vis = np.concatenate([p.visibility for p in parts])[:frames]
    return PoseSequence(image, vis, world, np.arange(frames) * 1000 / 30, 30.0, seq.source)


def best_of(fn, repeat: int = 3) -> float:
    """Fastest of ``repeat`` runs, seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="folder to keep extracted recordings in")
    args = parser.parse_args()
    seqs = load_all(args.cache)
    ref_seq = long_take(blank_mirrored(seqs["cam01"]), FRAMES, 1)
    att_seq = long_take(blank_mirrored(seqs["cam03"]), FRAMES, 2)
    ref, att = compute_features(ref_seq), compute_features(att_seq)
    names = ref.names
    tol = np.array([DEFAULT_PARAMS.tolerance(n) for n in names])
    w = np.array([SPECS[n].weight for n in names])
    model = ReferenceModel(ref.values, np.broadcast_to(tol, ref.values.shape), w)
    print(f"sequences: {FRAMES} x {FRAMES} frames, {len(names)} features")

    ours_band = best_of(lambda: align(att.values, att.confidence, model, band=BAND))
    ours_full = best_of(lambda: align(att.values, att.confidence, model, band=None))

    scale = np.sqrt(w) / tol

    def filled(v: np.ndarray) -> np.ndarray:
        out = np.array(v)
        for f in range(out.shape[1]):
            ok = np.isfinite(out[:, f])
            out[~ok, f] = np.interp(np.flatnonzero(~ok), np.flatnonzero(ok), out[ok, f])
        return np.ascontiguousarray(out * scale)

    a, r = filled(att.values), filled(ref.values)
    window = int(BAND * FRAMES)
    dtai_dist_band = best_of(lambda: dtw_ndim.distance(a, r, window=window, use_c=True))
    dtai_dist_full = best_of(lambda: dtw_ndim.distance(a, r, use_c=True))
    dtai_path_band = best_of(lambda: dtw_ndim.warping_path(a, r, window=window, use_c=True), 1)

    print(f"\n{'offline DTW, 3,600 x 3,600':44s} {'seconds':>8s} {'ratio':>7s}")
    rows = [
        (f"dtaidistance distance only, window {window}", dtai_dist_band),
        (f"dtaidistance warping_path, window {window}", dtai_path_band),
        ("dtaidistance distance only, no window", dtai_dist_full),
        (f"coach.align with path, band {BAND}", ours_band),
        ("coach.align with path, no band", ours_full),
    ]
    for label, sec in rows:
        print(f"{label:44s} {sec:8.3f} {sec / dtai_path_band:6.2f}x")
    print("(ratio: against dtaidistance warping_path with the same band, which gives a path "
          "as coach.align does)")

    online = OnlineAligner(model)
    stream = att.values
    conf = att.confidence
    n = 10 * 60 * 30  # a 10-minute session
    per_frame = []
    for k in range(n):
        t0 = time.perf_counter()
        online.update(stream[k % FRAMES], conf[k % FRAMES], k * 1000 / 30)
        per_frame.append(time.perf_counter() - t0)
    per_frame_ms = np.array(per_frame) * 1000
    early, late = np.median(per_frame_ms[:1800]), np.median(per_frame_ms[-1800:])
    print(f"\nonline alignment, reference of {FRAMES} moments: {early:.3f} ms/frame in the "
          f"first minute, {late:.3f} ms/frame in the tenth (ratio {late / early:.2f})")

    short = template_from_sequence(seqs["cam01"], "lunge")
    live = LiveScorer(short, image_size=seqs["cam03"].image_size)
    frames = [att_seq.frame(i) for i in range(FRAMES)]
    times = []
    for k in range(n):
        t0 = time.perf_counter()
        live.update(frames[k % FRAMES])
        times.append(time.perf_counter() - t0)
    live_ms = np.array(times) * 1000
    print(f"LiveScorer.update (smoothing, features, alignment, scores, cue), reference of "
          f"{len(short)} moments: {np.median(live_ms[:1800]):.3f} ms/frame in the first "
          f"minute, {np.median(live_ms[-1800:]):.3f} in the tenth, p99 "
          f"{np.percentile(live_ms, 99):.3f}")


if __name__ == "__main__":
    main()
