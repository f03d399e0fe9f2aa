"""Following one person among several, on the real multi-person clip and on synthetic poses."""

from __future__ import annotations

import numpy as np

from coach.landmarks import Landmark
from coach.tracking import PersonFollower

TORSO = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]


def synthetic_person(cx: float, cy: float, height: float) -> np.ndarray:
    points = np.zeros((33, 3))
    points[:, 0] = cx + np.linspace(-0.1, 0.1, 33) * height
    points[:, 1] = cy + np.linspace(-0.5, 0.5, 33) * height
    points[Landmark.LEFT_SHOULDER, :2] = (cx + 0.1 * height, cy - 0.25 * height)
    points[Landmark.RIGHT_SHOULDER, :2] = (cx - 0.1 * height, cy - 0.25 * height)
    points[Landmark.LEFT_HIP, :2] = (cx + 0.08 * height, cy + 0.05 * height)
    points[Landmark.RIGHT_HIP, :2] = (cx - 0.08 * height, cy + 0.05 * height)
    return points


def test_start_picks_the_largest_central_person_then_keeps_them():
    follower = PersonFollower(aspect=16 / 9)
    small = synthetic_person(0.2, 0.5, 0.3)
    big = synthetic_person(0.5, 0.5, 0.8)
    assert follower.choose([small, big], 0.0) == 1
    # A larger newcomer walks in right next to the followed person: keep the first.
    newcomer = synthetic_person(0.8, 0.5, 0.95)
    assert follower.choose([newcomer, synthetic_person(0.51, 0.5, 0.8)], 33.0) == 1
    # The followed person leaves; only the newcomer is in view: nobody is coached.
    assert follower.choose([newcomer], 66.0) is None
    # Long gone: choose afresh.
    assert follower.choose([newcomer], 66.0 + 2000.0) == 0


def test_multi_person_clip_never_jumps_between_people(real_sequence):
    sequence = real_sequence("multi")
    assert sequence.people_seen.max() >= 2, "the clip shows several people"
    width, height = sequence.image_size
    present = np.flatnonzero(sequence.present)
    torso = sequence.image_xyz[:, TORSO, :2].mean(axis=1) * [width, height]
    assert len(present) > 0.5 * len(sequence)
    gaps = np.diff(present)
    steps = np.linalg.norm(np.diff(torso[present], axis=0), axis=1) / gaps
    # At 30 fps even a flip moves the torso under 100 px a frame; the other people are 400 px
    # and more away, so a switch between people shows as a jump far above this bound.
    assert steps.max() < 120, f"tracked torso jumped {steps.max():.0f} px in one frame"
    # While two people are in view, the followed one is the man on the box (left half).
    both = present[(sequence.people_seen[present] >= 2) & (present < 150)]
    assert len(both) > 50
    assert np.all(torso[both, 0] < width * 0.55)


def test_looking_for_one_person_finds_the_same_person_in_a_one_person_clip(real_sequence,
                                                                          sample_path):
    """``max_people=1`` skips the search for more people: in a clip with one person it finds
    them in the same frames, at nearly the same places (the model's box comes from the last
    frame's landmarks instead of a fresh detection)."""
    from coach.extract import extract_sequence

    default = real_sequence("cam01")
    single = extract_sequence(sample_path("cam01"), max_people=1)
    np.testing.assert_array_equal(single.present, default.present)
    width, height = default.image_size
    apart = np.linalg.norm((single.image_xyz[..., :2] - default.image_xyz[..., :2])
                           * [width, height], axis=-1)
    assert np.nanmedian(apart) < 20, f"median {np.nanmedian(apart):.1f} px apart"
