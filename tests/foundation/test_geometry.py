"""Body geometry on synthetic landmark arrays: a person standing, lying, turned, cut off."""

from __future__ import annotations

import numpy as np
import pytest

from coach.geometry import (
    CAMERA_UP,
    FRONT_MAX_YAW_DEG,
    SIDE_MIN_YAW_DEG,
    angle_between_deg,
    aspect_ratio,
    body_axes,
    camera_view,
    cross,
    estimate_up,
    facing_deg,
    heading_change_deg,
    inside_picture,
    picture_xy,
    seen,
    shoulder_width_ratio,
    spine_points,
    trunk_length,
    trunk_vector,
    view_yaw_deg,
    width_ratio_yaw_deg,
)
from coach.landmarks import NUM_LANDMARKS, Landmark

L = Landmark

#: A person standing upright and facing the camera, world metres in camera axes (x right,
#: y down, z away from the camera), hips at the origin: their left is the camera's +x.
_STANDING = {
    L.NOSE: (0.0, -0.65, -0.1), L.LEFT_EAR: (0.07, -0.62, 0.0), L.RIGHT_EAR: (-0.07, -0.62, 0.0),
    L.LEFT_SHOULDER: (0.2, -0.5, 0.0), L.RIGHT_SHOULDER: (-0.2, -0.5, 0.0),
    L.LEFT_ELBOW: (0.25, -0.22, 0.0), L.RIGHT_ELBOW: (-0.25, -0.22, 0.0),
    L.LEFT_WRIST: (0.27, 0.05, 0.0), L.RIGHT_WRIST: (-0.27, 0.05, 0.0),
    L.LEFT_HIP: (0.1, 0.0, 0.0), L.RIGHT_HIP: (-0.1, 0.0, 0.0),
    L.LEFT_KNEE: (0.1, 0.45, 0.0), L.RIGHT_KNEE: (-0.1, 0.45, 0.0),
    L.LEFT_ANKLE: (0.1, 0.9, 0.0), L.RIGHT_ANKLE: (-0.1, 0.9, 0.0),
}


def standing() -> np.ndarray:
    """(33, 3) world points of the standing person; landmarks not listed are NaN."""
    points = np.full((NUM_LANDMARKS, 3), np.nan)
    for landmark, xyz in _STANDING.items():
        points[landmark] = xyz
    return points


def _rotation(axis: str, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def turned(points: np.ndarray, axis: str, degrees: float) -> np.ndarray:
    """``points`` (..., 33, 3) rotated about a camera axis through the hips."""
    return points @ _rotation(axis, degrees).T


def in_picture(points: np.ndarray, shift_x: float = 0.0) -> np.ndarray:
    """Normalized image landmarks (33, 3) of world points seen by a square camera: the body
    fills about 80% of the picture's height, centred unless shifted."""
    image = points.copy()
    image[:, 0] = 0.5 + shift_x + points[:, 0] * 0.5
    image[:, 1] = 0.42 + points[:, 1] * 0.5
    return image


def test_standing_trunk_points_up_and_has_its_length() -> None:
    body = standing()
    trunk = trunk_vector(body)
    assert trunk == pytest.approx([0.0, -0.5, 0.0])
    assert float(trunk_length(body)) == pytest.approx(0.5)
    assert float(angle_between_deg(trunk, CAMERA_UP)) == pytest.approx(0.0, abs=1e-6)


def test_lying_down_has_a_horizontal_trunk_of_the_same_length() -> None:
    lying = turned(standing(), "z", 90.0)
    assert float(angle_between_deg(trunk_vector(lying), CAMERA_UP)) == pytest.approx(90.0)
    assert float(trunk_length(lying)) == pytest.approx(0.5)


def test_trunk_and_spine_over_time_keep_their_shapes() -> None:
    frames = np.stack([standing(), turned(standing(), "z", 90.0), standing()])  # (3, 33, 3)
    frames[2, L.LEFT_HIP] = np.nan
    assert trunk_vector(frames).shape == (3, 3)
    lengths = trunk_length(frames)
    assert lengths[:2] == pytest.approx([0.5, 0.5]) and np.isnan(lengths[2])
    spine = spine_points(frames)
    assert spine.shape == (3, 3, 3)
    assert spine[0, 2] == pytest.approx([0.0, -0.62, 0.0])  # mid-ear


def _still(body: np.ndarray, seconds: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = int(seconds * 10)
    world = np.repeat(body[None], n, axis=0)
    visibility = np.where(np.isfinite(body).all(axis=1), 0.9, 0.0)
    return world, np.repeat(visibility[None], n, axis=0), np.arange(n) * 100.0


def test_up_is_the_vertical_of_a_pitched_camera() -> None:
    pitched = turned(standing(), "x", 20.0)  # a camera looking down at 20 degrees
    up = estimate_up(*_still(pitched))
    expected = _rotation("x", 20.0) @ CAMERA_UP
    assert float(angle_between_deg(up, expected)) < 0.5
    assert float(angle_between_deg(up, CAMERA_UP)) == pytest.approx(20.0, abs=0.5)


def test_up_from_the_trunk_when_the_ankles_are_hidden() -> None:
    body = standing()
    body[[L.LEFT_ANKLE, L.RIGHT_ANKLE], 0] += 0.3  # legs out to the side: only the trunk is up
    world, visibility, times = _still(turned(body, "x", 10.0))
    visibility[:, [L.LEFT_ANKLE, L.RIGHT_ANKLE]] = 0.2
    up = estimate_up(world, visibility, times)
    assert float(angle_between_deg(up, _rotation("x", 10.0) @ CAMERA_UP)) < 0.5


def test_a_lying_start_keeps_the_cameras_up() -> None:
    up = estimate_up(*_still(turned(standing(), "z", 90.0)))
    assert up == pytest.approx(CAMERA_UP)
    world, visibility, times = _still(standing())
    world[:] = np.nan
    assert estimate_up(world, visibility, times) == pytest.approx(CAMERA_UP)


def test_facing_the_camera_then_turned_a_quarter() -> None:
    left, forward = body_axes(standing(), CAMERA_UP)
    assert left == pytest.approx([1.0, 0.0, 0.0])
    assert forward == pytest.approx([0.0, 0.0, -1.0])  # towards the camera
    assert float(facing_deg(standing(), CAMERA_UP)) == pytest.approx(-90.0)
    quarter = float(facing_deg(turned(standing(), "y", 90.0), CAMERA_UP))
    assert heading_change_deg(-90.0, quarter) == pytest.approx(90.0)
    assert heading_change_deg(170.0, -170.0) == pytest.approx(20.0)


def test_camera_view_front_side_and_between() -> None:
    assert float(view_yaw_deg(standing())) == pytest.approx(0.0, abs=1e-6)
    assert camera_view(float(view_yaw_deg(standing()))) == "front"
    assert camera_view(float(view_yaw_deg(turned(standing(), "y", 180.0)))) == "front"  # back
    sideways = float(view_yaw_deg(turned(standing(), "y", 80.0)))
    assert sideways == pytest.approx(80.0) and camera_view(sideways) == "side"
    assert camera_view(float(view_yaw_deg(turned(standing(), "y", -42.0)))) == "between"
    assert camera_view(FRONT_MAX_YAW_DEG) == "front" and camera_view(SIDE_MIN_YAW_DEG) == "side"
    no_shoulders = standing()
    no_shoulders[L.LEFT_SHOULDER] = np.nan
    assert camera_view(float(view_yaw_deg(no_shoulders))) == "unknown"


def test_camera_view_from_the_picture_alone() -> None:
    facing = picture_xy(in_picture(standing()), 1.0)
    side = picture_xy(in_picture(turned(standing(), "y", 70.0)), 1.0)
    assert float(shoulder_width_ratio(facing)) == pytest.approx(0.8)
    assert camera_view(float(width_ratio_yaw_deg(shoulder_width_ratio(facing)))) == "front"
    assert camera_view(float(width_ratio_yaw_deg(shoulder_width_ratio(side)))) == "side"
    collapsed = facing.copy()
    collapsed[[L.LEFT_HIP, L.RIGHT_HIP]] = collapsed[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER]]
    assert np.isnan(shoulder_width_ratio(collapsed))  # no trunk length: no view


def test_picture_points_are_in_picture_heights() -> None:
    assert aspect_ratio((1280, 720)) == pytest.approx(16 / 9)
    assert aspect_ratio(None) == 1.0
    image = in_picture(standing())
    points = picture_xy(image, aspect_ratio((1280, 720)))
    assert points.shape == (NUM_LANDMARKS, 2)
    assert points[L.LEFT_HIP] == pytest.approx([image[L.LEFT_HIP, 0] * 16 / 9,
                                                image[L.LEFT_HIP, 1]])


def test_a_person_half_out_of_the_picture_is_not_inside_it() -> None:
    centred = in_picture(standing())
    assert inside_picture(centred[list(_STANDING), :2]).all()
    half_out = in_picture(standing(), shift_x=0.45)  # their left side past the right edge
    inside = inside_picture(half_out[:, :2])
    assert not inside[[L.LEFT_SHOULDER, L.LEFT_WRIST, L.LEFT_HIP]].any()
    assert inside[[L.RIGHT_SHOULDER, L.RIGHT_HIP]].all()
    assert not inside_picture(np.array([0.995, 0.5]))  # on the edge: a guess of the model
    assert not inside_picture(np.array([np.nan, 0.5]))


def test_seen_needs_the_picture_and_the_visibility() -> None:
    image = in_picture(standing())
    visibility = np.where(np.isfinite(image).all(axis=1), 0.9, 0.0)
    visibility[L.LEFT_KNEE] = 0.4
    image[L.RIGHT_ANKLE, 1] = 1.05
    visible = seen(image, visibility)
    assert visible.shape == (NUM_LANDMARKS,)
    assert visible[L.LEFT_ANKLE] and visible[L.NOSE]
    assert not visible[L.LEFT_KNEE] and not visible[L.RIGHT_ANKLE]
    assert not visible[L.LEFT_EYE]  # not in the pose at all


def test_cross_matches_numpy_on_broadcast_shapes():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(4, 2, 3)), rng.normal(size=3)
    assert np.allclose(cross(a, b), np.cross(a, b))
    assert np.allclose(cross(b, a), np.cross(b, a))
    assert np.isnan(cross(np.full(3, np.nan), b)).all()
