"""A held posture's target drawn as a figure: the posture's target angles (``[hold.targets]``
of its metadata) put together into a stick figure seen from the side.

Held postures have no recording to follow, only target angles; this turns them into a picture
of the pose to take. The figure faces right (+x forward, +y up, hips at the origin) and is
built joint by joint in the sagittal plane, with the sign conventions of ``coach.features``:
trunk flexion from vertical (+ forward), the hip, knee and elbow included angles (180 =
straight), the shoulder angle between the trunk and the upper arm (0 along the trunk, 180
overhead) and the neck's flexion (+ head forward). An included angle does not say which way
a joint bends, so: knees bend backwards and elbows forwards; hips bend forwards, except an
open hip (over ``OPEN_HIP_DEG``) under a trunk leaning far forward (over ``PRONE_TRUNK_DEG``),
as in lying on the front, which opens backwards; with the trunk upright the arms swing
forwards, otherwise they take the lower of the two ways (towards the floor they rest on). A
target the posture leaves free takes the standing value; one side missing takes the other
side's. Left and right overlap, as seen from the side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from coach.landmarks import NUM_LANDMARKS, Landmark
from coach.pose import PoseSequence

L = Landmark
#: Angles of a person standing at ease, for targets a posture does not set (degrees).
STANDING = {"trunk_flexion_deg": 0.0, "neck_flexion_deg": 0.0, "hip_deg": 180.0,
            "knee_deg": 180.0, "shoulder_deg": 10.0, "elbow_deg": 170.0}
#: Segment lengths as a share of the body's height.
TRUNK, NECK, THIGH, SHIN, UPPER_ARM, FOREARM = 0.30, 0.10, 0.245, 0.245, 0.17, 0.15
#: See the module docstring: when a hip opens backwards, and when the trunk counts as upright.
OPEN_HIP_DEG, PRONE_TRUNK_DEG, UPRIGHT_TRUNK_DEG = 120.0, 45.0, 45.0
#: The picture the figure's normalized image coordinates refer to (square, in pixels).
IMAGE_SIZE = (1000, 1000)


def _turn(v: np.ndarray, degrees: float) -> np.ndarray:
    """``v`` (2,) turned counter-clockwise (towards +y from +x) by ``degrees``."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _side(targets: Mapping[str, float], joint: str, side: str) -> float:
    other = "right" if side == "left" else "left"
    return float(targets.get(f"{side}_{joint}", targets.get(f"{other}_{joint}",
                                                           STANDING[joint])))


def target_points(targets: Mapping[str, float]) -> dict[int, np.ndarray]:
    """Landmark index -> (2,) position (forward, up) of the figure, hips at the origin."""
    flexion = float(targets.get("trunk_flexion_deg", 0.0))
    trunk = _turn(np.array([0.0, 1.0]), -flexion)
    down = -trunk
    points: dict[int, np.ndarray] = {}
    shoulder = trunk * TRUNK
    neck = _turn(trunk, -float(targets.get("neck_flexion_deg", 0.0)))
    head = shoulder + neck * NECK
    points[L.NOSE] = head + neck * 0.05 + _turn(trunk, -90.0) * 0.04
    for side in ("left", "right"):
        hip_i, knee_i, ankle_i = ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE) if side == "left"
                                  else (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE))
        sh_i, el_i, wr_i, ear_i = ((L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_EAR)
                                   if side == "left" else
                                   (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST,
                                    L.RIGHT_EAR))
        hip = _side(targets, "hip_deg", side)
        backwards = hip > OPEN_HIP_DEG and flexion > PRONE_TRUNK_DEG
        thigh = _turn(down, (hip - 180.0) if backwards else (180.0 - hip))
        shin = _turn(thigh, -(180.0 - _side(targets, "knee_deg", side)))
        arm = _side(targets, "shoulder_deg", side)
        upper = _turn(down, arm)
        if abs(flexion) > UPRIGHT_TRUNK_DEG and _turn(down, -arm)[1] < upper[1]:
            upper = _turn(down, -arm)  # the arm rests towards the floor
        forearm = _turn(upper, 180.0 - _side(targets, "elbow_deg", side))
        points[hip_i] = np.zeros(2)
        points[knee_i] = thigh * THIGH
        points[ankle_i] = points[knee_i] + shin * SHIN
        points[sh_i] = shoulder
        points[el_i] = shoulder + upper * UPPER_ARM
        points[wr_i] = points[el_i] + forearm * FOREARM
        points[ear_i] = head
    return points


def target_pose(targets: Mapping[str, float]) -> PoseSequence:
    """The target figure as a one-frame pose (image landmarks only, in ``IMAGE_SIZE``) that
    ``coach.overlay.follow.FollowAlong`` draws; landmarks the figure lacks are NaN."""
    points = target_points(targets)
    xy = np.stack(list(points.values()))
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = float(max(high - low)) or 1.0
    image = np.full((1, NUM_LANDMARKS, 3), np.nan)
    visibility = np.zeros((1, NUM_LANDMARKS))
    for index, (x, y) in points.items():  # up is -y in the picture
        image[0, index] = (0.1 + 0.8 * (x - low[0]) / span, 0.9 - 0.8 * (y - low[1]) / span,
                           0.0)
        visibility[0, index] = 1.0
    return PoseSequence(image, visibility, None, np.zeros(1), 1.0, "target pose", IMAGE_SIZE)
