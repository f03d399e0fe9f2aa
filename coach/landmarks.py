"""The BlazePose 33-landmark model: names, skeleton segments and body regions, as data.

Left and right are the person's own, as MediaPipe labels them.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_LANDMARKS = 33


class Landmark(IntEnum):
    """Index of each BlazePose landmark in a (..., 33, ...) array."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


L = Landmark

#: Skeleton segments (start, end) with the body region each belongs to, for drawing and colouring.
#: The spine is drawn as the virtual line mid-hip -> mid-shoulder -> mid-ear (see ``spine_points``).
SEGMENTS: tuple[tuple[Landmark, Landmark, str], ...] = (
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, "shoulders"),
    (L.LEFT_HIP, L.RIGHT_HIP, "hips"),
    (L.LEFT_SHOULDER, L.LEFT_HIP, "spine"),
    (L.RIGHT_SHOULDER, L.RIGHT_HIP, "spine"),
    (L.LEFT_SHOULDER, L.LEFT_ELBOW, "arms"),
    (L.LEFT_ELBOW, L.LEFT_WRIST, "arms"),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, "arms"),
    (L.RIGHT_ELBOW, L.RIGHT_WRIST, "arms"),
    (L.LEFT_HIP, L.LEFT_KNEE, "legs"),
    (L.LEFT_KNEE, L.LEFT_ANKLE, "legs"),
    (L.RIGHT_HIP, L.RIGHT_KNEE, "legs"),
    (L.RIGHT_KNEE, L.RIGHT_ANKLE, "legs"),
    (L.LEFT_ANKLE, L.LEFT_HEEL, "legs"),
    (L.LEFT_HEEL, L.LEFT_FOOT_INDEX, "legs"),
    (L.RIGHT_ANKLE, L.RIGHT_HEEL, "legs"),
    (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX, "legs"),
    (L.LEFT_EAR, L.LEFT_EYE, "neck"),
    (L.RIGHT_EAR, L.RIGHT_EYE, "neck"),
    (L.LEFT_EYE, L.NOSE, "neck"),
    (L.RIGHT_EYE, L.NOSE, "neck"),
)

#: Body regions a score is broken into, in the order reports show them.
REGIONS: tuple[str, ...] = ("spine", "neck", "shoulders", "hips", "arms", "legs")


def _mirror_permutation() -> np.ndarray:
    """Index array (33,) that swaps every left landmark with its right twin."""
    perm = np.arange(NUM_LANDMARKS)
    for lm in Landmark:
        if lm.name.startswith("LEFT_"):
            twin = Landmark[lm.name.replace("LEFT_", "RIGHT_", 1)]
            perm[lm], perm[twin] = twin, lm
    return perm


#: ``points[..., MIRROR_PERMUTATION, :]`` relabels a pose as its own mirror image's labels.
MIRROR_PERMUTATION: np.ndarray = _mirror_permutation()
MIRROR_PERMUTATION.setflags(write=False)


def landmark_from_name(name: str) -> Landmark:
    """Look up a landmark by a name such as ``"Left_shoulder"`` or ``"LEFT_SHOULDER"``."""
    return Landmark[name.strip().upper().replace(" ", "_")]


def midpoint(points: np.ndarray, a: Landmark, b: Landmark) -> np.ndarray:
    """The virtual marker halfway between landmarks ``a`` and ``b`` of ``points`` (..., 33, D),
    shape (..., D), in the points' own coordinates (NaN when either is missing)."""
    return (points[..., a, :] + points[..., b, :]) / 2.0
