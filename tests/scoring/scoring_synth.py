"""Synthetic BlazePose-like sequences for unit tests of the pure scoring functions."""

from __future__ import annotations

import numpy as np

from coach.landmarks import Landmark as L
from coach.pose import PoseSequence


def _rot(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation matrix (3, 3) about unit ``axis`` by ``deg`` (right hand)."""
    a = np.radians(deg)
    x, y, z = axis / np.linalg.norm(axis)
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


LEFT, UP, FWD = np.eye(3)


def body_pose(flexion: float = 0.0, lateral: float = 0.0, twist: float = 0.0,
              arm_left: float = 20.0, arm_right: float = 20.0, knee: float = 180.0,
              shoulder_raise: float = 0.0, neck: float = 0.0, shrug: float = 0.0) -> np.ndarray:
    """(33, 3) landmarks in a body frame (x = person's left, y = up, z = forward), metres.
    ``shoulder_raise`` lifts the left shoulder, ``shrug`` both (and the arms with them) towards
    the ears, along the trunk."""
    p = np.zeros((33, 3))
    p[L.LEFT_HIP], p[L.RIGHT_HIP] = 0.1 * LEFT, -0.1 * LEFT
    trunk_rot = _rot(FWD, -lateral) @ _rot(LEFT, flexion)
    trunk = trunk_rot @ UP
    side = trunk_rot @ _rot(UP, twist) @ LEFT
    mid_sh = 0.5 * trunk
    p[L.LEFT_SHOULDER] = mid_sh + 0.18 * side + shoulder_raise * trunk
    p[L.RIGHT_SHOULDER] = mid_sh - 0.18 * side
    neck_dir = trunk_rot @ _rot(LEFT, neck) @ UP
    mid_ear = mid_sh + 0.17 * neck_dir
    fwd = np.cross(side, trunk)
    p[L.LEFT_EAR], p[L.RIGHT_EAR] = mid_ear + 0.07 * side, mid_ear - 0.07 * side
    p[L.NOSE] = mid_ear + 0.09 * fwd + 0.02 * neck_dir
    p[L.LEFT_SHOULDER] += shrug * trunk
    p[L.RIGHT_SHOULDER] += shrug * trunk
    for i, s in ((L.LEFT_EYE_INNER, 0.015), (L.LEFT_EYE, 0.03), (L.LEFT_EYE_OUTER, 0.045),
                 (L.RIGHT_EYE_INNER, -0.015), (L.RIGHT_EYE, -0.03), (L.RIGHT_EYE_OUTER, -0.045)):
        p[i] = p[L.NOSE] + s * side + 0.03 * neck_dir - 0.02 * fwd
    p[L.MOUTH_LEFT] = p[L.NOSE] + 0.025 * side - 0.04 * neck_dir
    p[L.MOUTH_RIGHT] = p[L.NOSE] - 0.025 * side - 0.04 * neck_dir
    for sign, arm, sh, el, wr, pk, ix, th in (
            (1, arm_left, L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY,
             L.LEFT_INDEX, L.LEFT_THUMB),
            (-1, arm_right, L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST, L.RIGHT_PINKY,
             L.RIGHT_INDEX, L.RIGHT_THUMB)):
        a = np.radians(arm)
        upper = np.cos(a) * -trunk + np.sin(a) * sign * side
        fore = _rot(fwd, sign * 15.0) @ upper
        p[el] = p[sh] + 0.28 * upper
        p[wr] = p[el] + 0.25 * fore
        for k, off in ((pk, 0.06), (ix, 0.08), (th, 0.05)):
            p[k] = p[wr] + off * fore
    for hip, kn, an, he, ft in ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL,
                                 L.LEFT_FOOT_INDEX),
                                (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE, L.RIGHT_HEEL,
                                 L.RIGHT_FOOT_INDEX)):
        bend = 180.0 - knee
        thigh = _rot(LEFT, bend / 2) @ -UP
        shin = _rot(LEFT, -bend / 2) @ -UP
        p[kn] = p[hip] + 0.42 * thigh
        p[an] = p[kn] + 0.42 * shin
        p[he] = p[an] - 0.05 * FWD - 0.04 * UP
        p[ft] = p[an] + 0.15 * FWD - 0.06 * UP
    return p


def movement_params(phase: np.ndarray) -> dict[str, np.ndarray]:
    """Joint parameters along a reach-and-bend movement, ``phase`` in [0, 1]."""
    s = np.sin(np.pi * phase)
    s2 = np.sin(2 * np.pi * phase)
    return {"flexion": 25 * s ** 2, "arm_left": 20 + 130 * s, "arm_right": 20 + 80 * s2 ** 2,
            "knee": 180 - 40 * s ** 3, "twist": 20 * s2, "lateral": 8 * s2}


def to_camera(body: np.ndarray, yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> np.ndarray:
    """Body-frame points (..., 33, 3) to MediaPipe world axes (x right, y down, z away)
    for a camera in front of the person, turned by ``yaw_deg`` about the vertical and pitched
    by ``pitch_deg``."""
    to_cam = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])  # left->x, up->-y, fwd->-z
    rot = _rot(np.array([1.0, 0, 0]), pitch_deg) @ to_cam @ _rot(UP, yaw_deg)
    return body @ rot.T


def make_sequence(n: int = 90, fps: float = 30.0, *, yaw: float = 0.0, pitch: float = 0.0,
                  scale: float = 1.0, shift: tuple[float, float, float] = (0.0, 0.0, 0.0),
                  extra: dict[str, float] | None = None, still: int = 15,
                  noise: float = 0.0, seed: int = 0, params=movement_params) -> PoseSequence:
    """A synthetic attempt: ``still`` still frames, then the movement over ``n`` frames.

    ``extra`` adds constant offsets to the joint parameters (a form fault).
    """
    phase = np.concatenate([np.zeros(still), np.linspace(0, 1, n)])
    prm = params(phase)
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(len(phase)):
        kw = {k: float(v[i]) for k, v in prm.items()}
        for k, v in (extra or {}).items():
            kw[k] = kw.get(k, 0.0) + v
        frames.append(body_pose(**kw))
    body = np.stack(frames)
    world = to_camera(body, yaw, pitch)
    world = world + rng.normal(0, noise, world.shape)
    world = world * scale + np.asarray(shift)
    image = np.empty_like(world)
    image[..., 0] = 0.5 + world[..., 0] / 2.5
    image[..., 1] = 0.5 + world[..., 1] / 2.5
    image[..., 2] = world[..., 2] / 2.5
    t = len(phase)
    return PoseSequence(image, np.full((t, 33), 0.95), world, np.arange(t) * 1000.0 / fps, fps,
                        source="synthetic", image_size=(1000, 1000))
