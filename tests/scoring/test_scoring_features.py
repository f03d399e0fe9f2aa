"""Features: sign conventions, invariances, estimated vertical, mirrored frames, NaN handling."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scoring_synth import body_pose, make_sequence, to_camera

from coach.features import (
    FEATURES,
    SPECS,
    compute_features,
    feature_names,
    frame_features,
    mirror_indices,
)
from coach.landmarks import REGIONS, Landmark
from coach.live_scoring import LiveFeatures
from coach.params import DEFAULT_PARAMS
from coach.pose import PoseSequence


def _one(**kw: float) -> dict[str, float]:
    """Features of a still pose held for 40 frames (up estimated from it)."""
    base = body_pose(**kw)
    world = np.repeat(to_camera(base)[None], 40, axis=0)
    image = 0.5 + world / 2.5
    seq = PoseSequence(image, np.full((40, 33), 0.9), world, np.arange(40) * 33.3, 30.0)
    # the vertical comes from the legs, which these faults leave alone
    track = compute_features(seq)
    return dict(zip(track.names, track.values[-1], strict=True))


def test_catalogue_is_complete_and_consistent() -> None:
    assert {s.region for s in FEATURES} <= set(REGIONS)
    for s in FEATURES:
        assert s.unit == "deg" and DEFAULT_PARAMS.tolerance(s.name) > 0 and s.weight > 0
        assert SPECS[s.mirror_name].mirror_name == s.name
    assert set(feature_names("image")) < set(feature_names("world"))
    with pytest.raises(ValueError):
        feature_names("space")


@pytest.mark.parametrize(("kw", "name", "expected"), [
    ({"flexion": 30.0}, "trunk_flexion_deg", 30.0),
    ({"flexion": -15.0}, "trunk_flexion_deg", -15.0),
    ({"lateral": 20.0}, "lateral_bend_deg", 20.0),
    ({"lateral": -20.0}, "lateral_bend_deg", -20.0),
    ({"twist": 25.0}, "axial_twist_deg", 25.0),
    ({"neck": 20.0}, "neck_flexion_deg", 20.0),
    ({"arm_left": 90.0}, "left_shoulder_deg", 70.0),
    ({"arm_right": 150.0}, "right_shoulder_deg", 130.0),
    ({"knee": 120.0}, "left_knee_deg", -60.0),
    # shoulders 4 cm up: atan(0.18 / 0.13) - atan(0.18 / 0.17)
    ({"shrug": 0.04}, "shoulder_shrug_deg", 7.6),
    ({"neck": 25.0}, "shoulder_shrug_deg", 0.0),
    ({"lateral": 20.0}, "shoulder_shrug_deg", 0.0),
])
def test_sign_conventions(kw: dict, name: str, expected: float) -> None:
    """The change from a neutral stance (arms 20 deg out, knees straight) has the documented
    sign and size."""
    assert _one(**kw)[name] - _one()[name] == pytest.approx(expected, abs=1.5)


def test_raised_left_shoulder_is_positive_level() -> None:
    f = _one(shoulder_raise=0.06)
    assert f["shoulder_level_deg"] > 5.0
    assert abs(f["lateral_bend_deg"]) < 4.0


def test_pitched_camera_is_not_trunk_lean() -> None:
    """World axes follow the camera: a 25 deg pitch must not read as 25 deg of flexion."""
    level = compute_features(make_sequence(pitch=0.0))
    pitched = compute_features(make_sequence(pitch=25.0, yaw=40.0))
    diff = np.abs(level.values - pitched.values)
    assert np.nanmax(diff) < 1.0
    assert np.degrees(np.arccos(-pitched.up[1])) == pytest.approx(25.0, abs=1.0)


def test_translate_scale_and_yaw_leave_features_unchanged() -> None:
    a = compute_features(make_sequence())
    b = compute_features(make_sequence(yaw=-70.0, scale=1.3, shift=(0.4, -0.2, 1.0)))
    np.testing.assert_allclose(a.values, b.values, atol=1e-4)


def test_mirrored_sequence_features_follow_the_mirror_table() -> None:
    seq = make_sequence(extra={"lateral": 10.0, "twist": 10.0, "shoulder_raise": 0.03})
    a = compute_features(seq)
    b = compute_features(seq.mirrored())
    perm, signs = mirror_indices(a.names)
    np.testing.assert_allclose(b.values, a.values[:, perm] * signs, atol=1e-6)


def test_whole_body_flipped_frames_become_nan() -> None:
    seq = make_sequence(n=90)
    world = np.array(seq.world_xyz)
    flipped = slice(40, 52)
    # the model's failure: the body appears turned round (depth and sides flipped)
    world[flipped, :, 0] *= -1
    world[flipped, :, 2] *= -1
    track = compute_features(replace(seq, world_xyz=world))
    expected = np.zeros(len(seq), dtype=bool)
    expected[flipped] = True
    np.testing.assert_array_equal(track.mirrored, expected)
    assert np.isnan(track.values[flipped]).all()
    assert np.isfinite(track.values[~expected]).all()


def test_missing_landmarks_give_nan_never_zero() -> None:
    seq = make_sequence(n=30, still=0)
    world = np.array(seq.world_xyz)
    vis = np.array(seq.visibility)
    world[5:8, 13] = np.nan  # left elbow lost
    vis[5:8, 13] = 0.0
    world[10] = np.nan  # nobody
    track = compute_features(replace(seq, world_xyz=world, visibility=vis))
    col = track.names.index("left_elbow_deg")
    assert np.isnan(track.values[5:8, col]).all()
    assert (track.confidence[5:8, col] == 0).all()
    assert np.isnan(track.values[10]).all() and not track.usable[10]
    assert np.isfinite(track.values[5:8, track.names.index("trunk_flexion_deg")]).all()


def test_image_plane_for_recordings_without_world() -> None:
    seq = make_sequence(extra={"lateral": 15.0})
    image_only = replace(seq, world_xyz=None)
    track = compute_features(image_only)
    assert track.plane == "image" and track.up is None
    assert track.names == feature_names("image")
    assert "shoulder_shrug_deg" not in track.names  # the picture's shoulder width turns
    lat = track.column("lateral_bend_deg")
    assert np.nanmedian(lat[:15]) == pytest.approx(15.0, abs=2.0)


def test_frame_features_match_the_sequence() -> None:
    seq = make_sequence()
    track = compute_features(seq)
    values, conf = frame_features(seq.frame(50), track.up)
    np.testing.assert_allclose(values, track.values[50], atol=1e-9)
    np.testing.assert_allclose(conf, track.confidence[50])


def test_forward_fold_past_horizontal_keeps_lateral_features_continuous() -> None:
    """A fold from upright to 150 deg with a constant 6 deg lean to the left: the lateral
    features stay with the lean all the way (an angle against the vertical alone wraps
    through +-180 once the trunk passes horizontal)."""
    flexion = np.linspace(0.0, 150.0, 76)
    upright = body_pose(lateral=6.0, neck=10.0)  # x = the person's left, y = up, z = forward

    def fold(deg: float) -> np.ndarray:  # the whole body turned forward about the hip line
        a = np.radians(deg)
        rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
        return upright @ rot.T

    body = np.stack([fold(f) for f in flexion])
    world = to_camera(body)
    image = np.full_like(world, 0.5)
    seq = PoseSequence(image, np.ones((len(flexion), 33)), world,
                       np.arange(len(flexion)) * 100.0, 10.0)
    track = compute_features(seq, up=np.array([0.0, -1.0, 0.0]))
    lateral = track.column("lateral_bend_deg")
    neck_lateral = track.column("neck_lateral_deg")
    assert np.isfinite(lateral).all() and np.isfinite(neck_lateral).all()
    np.testing.assert_allclose(lateral, 6.0, atol=0.5)
    assert np.abs(neck_lateral).max() < 2.0
    assert np.abs(np.diff(lateral)).max() < 1.0
    np.testing.assert_allclose(track.column("trunk_flexion_deg"), flexion, atol=0.5)


def test_one_mirror_glitch_drops_that_frame_and_keeps_the_frames_after_it() -> None:
    """A glitch that turns the body 70 deg in one frame and comes back in two steps (the second
    below the jump size) drops the glitch frame only; the frames after it are kept."""
    seq = make_sequence(n=75, still=15)
    world = np.array(seq.world_xyz)
    turn = {30: 70.0, 31: 20.0}
    for frame, deg in turn.items():
        a = np.radians(deg)
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        world[frame] = world[frame] @ rot.T
    track = compute_features(replace(seq, world_xyz=world))
    assert np.flatnonzero(track.mirrored).tolist() == [30]
    kept = np.ones(len(seq), dtype=bool)
    kept[30] = False
    assert np.isfinite(track.values[kept]).all()


def _shoulders_swapped(seq: PoseSequence, frames: list[int]) -> PoseSequence:
    """``seq`` with the left and right shoulders exchanged in ``frames`` (world and image), the
    hips left as they are: the pose model turning the upper body round on its own."""
    world, image = np.array(seq.world_xyz), np.array(seq.image_xyz)
    pair = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
    for arr in (world, image):
        arr[np.ix_(frames, pair)] = arr[np.ix_(frames, pair[::-1])]
    return replace(seq, world_xyz=world, image_xyz=image)


def test_upper_body_turned_round_alone_drops_that_frame_only() -> None:
    """One frame with the shoulders swapped over unswapped hips reads as a twist of about
    180 deg; it is dropped, offline and live, and the frames around it are kept."""
    seq = make_sequence(n=75, still=15)
    glitched = _shoulders_swapped(seq, [40])
    track = compute_features(glitched)
    assert np.flatnonzero(track.mirrored).tolist() == [40]
    assert np.isfinite(track.column("axial_twist_deg")[np.arange(len(seq)) != 40]).all()
    live = LiveFeatures(world=True, image_size=seq.image_size, source="synthetic")
    accepted = [live.update(glitched.frame(i)) is not None for i in range(len(seq))]
    assert [i for i, ok in enumerate(accepted) if not ok] == [40]
