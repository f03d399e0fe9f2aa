"""One Euro smoothing: less jitter, little lag, NaN kept, live equals file."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scoring_synth import make_sequence

from coach.smoothing import LandmarkSmoother, OneEuroFilter, smooth_sequence


def test_jitter_on_a_still_pose_is_reduced() -> None:
    seq = make_sequence(n=1, still=120, noise=0.01, seed=4)
    clean = make_sequence(n=1, still=120)
    smooth = smooth_sequence(seq)
    raw_err = np.abs(seq.world_xyz - clean.world_xyz)[30:].mean()
    smooth_err = np.abs(smooth.world_xyz - clean.world_xyz)[30:].mean()
    assert smooth_err < raw_err / 2


def test_fast_movement_is_followed_with_little_lag() -> None:
    f = OneEuroFilter()
    t = np.arange(60) * 1000 / 30
    x = np.where(t < 1000, 0.0, 0.5)  # a 0.5 m jump (metres or image units)
    out = np.array([f(np.array([v]), ts)[0] for v, ts in zip(x, t, strict=True)])
    assert out[30 + 5] > 0.45  # within 5 frames of the jump


def _gap(seq, gap: slice, landmarks: slice = slice(None)):
    world, image, vis = (np.array(seq.world_xyz), np.array(seq.image_xyz),
                         np.array(seq.visibility))
    world[gap, landmarks], image[gap, landmarks], vis[gap, landmarks] = np.nan, np.nan, 0.0
    return replace(seq, world_xyz=world, image_xyz=image, visibility=vis)


def test_nan_is_kept_and_a_long_absence_restarts() -> None:
    seq = make_sequence(n=60, still=0)
    short = smooth_sequence(_gap(seq, slice(10, 14)))
    assert np.isnan(short.world_xyz[10:14]).all()
    assert np.isfinite(short.world_xyz[14:]).all()
    long = smooth_sequence(_gap(seq, slice(10, 30)))  # 0.67 s with nobody
    np.testing.assert_allclose(long.world_xyz[30], seq.world_xyz[30])  # afresh, no drag


def test_a_lost_landmark_restarts_alone() -> None:
    seq = make_sequence(n=40, still=0)
    smooth = smooth_sequence(_gap(seq, slice(10, 14), slice(15, 16)))  # left wrist lost
    assert np.isnan(smooth.world_xyz[10:14, 15]).all()
    np.testing.assert_allclose(smooth.world_xyz[14, 15], seq.world_xyz[14, 15])
    assert np.isfinite(smooth.world_xyz[10:14, :15]).all()


def test_live_and_file_smoothing_agree() -> None:
    seq = make_sequence(n=50, noise=0.005)
    live = LandmarkSmoother()
    frames = [live.update(seq.frame(i)) for i in range(len(seq))]
    np.testing.assert_allclose(np.stack([f.world_xyz for f in frames]),
                               smooth_sequence(seq).world_xyz)
