"""Preparing a take: trimming the still start and end, the quality check, the recorder."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coach.backend import PoseBackend
from coach.landmarks import Landmark
from coach.library import TakeRejected, check_quality, prepare_take, trim_still
from coach.library.recorder import record_from_source
from coach.library.takes import TRIM_MARGIN_S, estimate_view, whole_body_in_frame
from coach.pose import PoseSequence
from coach.sources import VideoFileSource

L = Landmark


def pad_still(seq: PoseSequence, seconds: float, seed: int = 0) -> PoseSequence:
    """The take with ``seconds`` of standing still added before and after (first and last
    real pose held, with landmark jitter of the size the model shows at rest)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * seq.fps))
    period = 1000.0 / seq.fps

    def hold(i: int) -> np.ndarray:
        return seq.image_xyz[i][None] + rng.normal(0, 0.002, (n, 33, 3))

    def hold_world(i: int) -> np.ndarray:
        return seq.world_xyz[i][None] + rng.normal(0, 0.004, (n, 33, 3))

    t0, t1 = seq.timestamps_ms[0], seq.timestamps_ms[-1]
    return PoseSequence(
        np.concatenate([hold(0), seq.image_xyz, hold(-1)]),
        np.concatenate([np.repeat(seq.visibility[:1], n, 0), seq.visibility,
                        np.repeat(seq.visibility[-1:], n, 0)]),
        np.concatenate([hold_world(0), seq.world_xyz, hold_world(-1)]),
        np.concatenate([t0 - period * np.arange(n, 0, -1), seq.timestamps_ms,
                        t1 + period * np.arange(1, n + 1)]),
        seq.fps, seq.source, seq.image_size)


@pytest.fixture(scope="module")
def squats(real_sequence) -> PoseSequence:  # noqa: ANN001
    return real_sequence("squats")


def test_still_start_and_end_are_trimmed(squats: PoseSequence) -> None:
    padded = pad_still(squats, 3.0)
    assert len(padded) == len(squats) + 30
    trimmed = trim_still(padded)
    start, stop = trimmed.timestamps_ms[0], trimmed.timestamps_ms[-1]
    margin = TRIM_MARGIN_S * 1000 + 1000.0 / squats.fps
    assert squats.timestamps_ms[0] - margin - 500 <= start <= squats.timestamps_ms[0] + 1500
    assert squats.timestamps_ms[-1] - 1500 <= stop <= squats.timestamps_ms[-1] + margin + 500
    assert len(trimmed) < len(padded) - 15


def test_a_take_without_movement_is_refused(squats: PoseSequence) -> None:
    still = pad_still(squats.slice(0, 1), 3.0)
    with pytest.raises(TakeRejected, match="no movement"):
        trim_still(still)
    assert len(trim_still(still, keep_still=True)) == len(still)


def test_a_good_take_passes(squats: PoseSequence) -> None:
    take, quality = prepare_take(squats, "front")
    assert quality.ok and quality.view == "front" and quality.in_frame_fraction == 1.0
    assert len(take) == len(squats)


def test_feet_out_of_the_picture_are_refused(squats: PoseSequence) -> None:
    low = squats.image_xyz.copy()
    low[..., 1] += 0.3  # the camera tilted up: the feet leave the bottom of the picture
    with pytest.raises(TakeRejected, match=r"the (feet|knees) leave it"):
        prepare_take(replace(squats, image_xyz=low), "front")


def test_hidden_landmarks_are_refused(squats: PoseSequence) -> None:
    vis = squats.visibility.copy()
    vis[:, [L.LEFT_ANKLE, L.RIGHT_ANKLE]] *= 0.3
    quality = check_quality(replace(squats, visibility=vis), "front")
    assert not quality.ok
    assert any("feet are hard to see" in p for p in quality.problems)


def test_wrong_camera_view_is_refused(squats: PoseSequence) -> None:
    with pytest.raises(TakeRejected, match="from the front .* filmed from the side"):
        prepare_take(squats, "side")
    # Turned about 75 degrees, the body's widths shrink to a quarter in the picture.
    side = squats.image_xyz.copy()
    centre = np.nanmean(side[..., 0], axis=1, keepdims=True)
    side[..., 0] = centre + 0.25 * (side[..., 0] - centre)
    ratio, view = estimate_view(replace(squats, image_xyz=side))
    assert view == "side" and ratio < 0.2


class LiveClip(VideoFileSource):
    """A video file played as if it were a camera (frames arrive with their own times)."""

    is_live = True


def test_camera_recording_counts_down_then_records(sample_path) -> None:  # noqa: ANN001
    shown: list[int] = []
    started: list[bool] = []
    with LiveClip(sample_path("squats")) as source, PoseBackend() as backend:
        seq = record_from_source(source, backend, countdown_s=3.0, duration_s=5.0,
                                 on_countdown=shown.append,
                                 on_start=lambda: started.append(True))
    assert shown == [3, 2, 1] and started == [True]
    assert seq.timestamps_ms[0] >= 3000.0
    assert seq.timestamps_ms[-1] - seq.timestamps_ms[0] <= 5000.0
    assert 20 <= len(seq) <= 26 and seq.present.all()


def test_stepping_into_the_picture_is_trimmed(squats: PoseSequence) -> None:
    entering = squats.slice(0, 10)
    image = entering.image_xyz.copy()
    image[..., 0] += np.linspace(0.7, 0.3, len(entering))[:, None]  # walking in from the right
    before_ms = squats.timestamps_ms[0] - 2200.0  # two seconds before the squats start
    step_in = replace(entering, image_xyz=image,
                      timestamps_ms=entering.timestamps_ms - entering.timestamps_ms[0] + before_ms)
    joined = PoseSequence(
        np.concatenate([step_in.image_xyz, squats.image_xyz]),
        np.concatenate([step_in.visibility, squats.visibility]),
        np.concatenate([step_in.world_xyz, squats.world_xyz]),
        np.concatenate([step_in.timestamps_ms, squats.timestamps_ms]), squats.fps,
        squats.source, squats.image_size)
    partial = ~whole_body_in_frame(step_in)
    assert partial[:3].all()
    trimmed = trim_still(joined)
    assert whole_body_in_frame(trimmed)[0]
    assert len(trimmed) <= len(joined) - int(partial.sum())
    assert check_quality(trimmed, "front").in_frame_fraction > 0.95


def test_a_slow_arm_only_phase_keeps_its_frames(squats: PoseSequence) -> None:
    """After the squats, the arms alone rise slowly for 6 s (a qigong-like phase, legs and
    trunk still): the arms moving are movement, so the trim keeps that phase."""
    rng = np.random.default_rng(3)
    last = squats.image_xyz[-1]
    torso = np.linalg.norm((last[L.LEFT_SHOULDER] + last[L.RIGHT_SHOULDER]) / 2
                           - (last[L.LEFT_HIP] + last[L.RIGHT_HIP]) / 2)
    n = int(6.0 * squats.fps)
    rise = np.linspace(0.0, 0.25 * torso * 6.0, n)  # 0.25 torso lengths per second
    frames = np.repeat(last[None], n, axis=0) + rng.normal(0, 0.002, (n, 33, 3))
    for lm in (L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_ELBOW, L.RIGHT_ELBOW, L.LEFT_PINKY,
               L.RIGHT_PINKY, L.LEFT_INDEX, L.RIGHT_INDEX, L.LEFT_THUMB, L.RIGHT_THUMB):
        frames[:, lm, 1] -= rise * (0.5 if lm in (L.LEFT_ELBOW, L.RIGHT_ELBOW) else 1.0)
    period = 1000.0 / squats.fps
    slow = PoseSequence(
        np.concatenate([squats.image_xyz, frames]),
        np.concatenate([squats.visibility, np.repeat(squats.visibility[-1:], n, 0)]),
        np.concatenate([squats.world_xyz, np.repeat(squats.world_xyz[-1:], n, 0)]),
        np.concatenate([squats.timestamps_ms,
                        squats.timestamps_ms[-1] + period * np.arange(1, n + 1)]),
        squats.fps, squats.source, squats.image_size)
    trimmed = trim_still(pad_still(slow, 2.0))
    # the whole slow phase is still there, up to the trim margin at its end
    assert trimmed.timestamps_ms[-1] >= slow.timestamps_ms[-1] - 1000.0
    assert len(trimmed) >= len(slow) - 5
