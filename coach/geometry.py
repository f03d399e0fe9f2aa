"""Body geometry from pose landmarks, defined once: the trunk, the body's "up", which way the
body faces and how the camera sees it, whether it is inside the picture, when a landmark
counts as seen.

Pure numpy. Points are landmark arrays (..., 33, D) as in ``coach.pose``: normalized image
coordinates (x right, y down, in [0, 1] of the picture's width and height), picture points
(the same with x scaled by the aspect ratio, so both axes are in picture heights, see
``picture_xy``) or world coordinates (metres, camera axes: x right, y down, z away from the
camera). NaN in gives NaN out; a missing landmark is never taken as a position.
"""

from __future__ import annotations

import logging

import numpy as np

from coach.landmarks import Landmark, midpoint

log = logging.getLogger(__name__)

L = Landmark

# --- constants -------------------------------------------------------------------------------

#: A landmark of the person counts as seen when at least this visible (and inside the
#: picture): the setup check, the take check's body parts, the ankles for the vertical, and
#: the person's own skeleton drawn over them.
SEEN_VISIBILITY = 0.5
#: A landmark at least this visible is placed well enough to use, though the model is not
#: sure it is in view: a feature measured from landmarks this visible counts (its confidence
#: is their lowest visibility), and reference figures (the ghost over the person, the
#: follow-along figure, the reference sheet) draw them, so a limb half hidden in the
#: instructor's take still shows.
USABLE_VISIBILITY = 0.3
#: A landmark is inside the picture when at least this far (normalized image units) inside
#: every edge. The setup check used this, the take check allowed landmarks up to 0.02 outside;
#: one is kept, the stricter: a landmark placed on or beyond the edge is the model's guess at a
#: part it cannot see (an ankle on the edge has its foot cut off).
PICTURE_MARGIN = 0.01

#: "Up" in MediaPipe world (camera) axes, whose y points down: the camera's vertical.
CAMERA_UP = np.array([0.0, -1.0, 0.0])
CAMERA_UP.setflags(write=False)
#: "Up" in picture points (y points down).
PICTURE_UP = np.array([0.0, -1.0])
PICTURE_UP.setflags(write=False)
#: An estimated vertical further than this from the camera's (degrees) is not trusted: the
#: person starts lying or kneeling. The pose2sim cameras pitch 18-23 deg and one rolls 23 deg,
#: which leans its estimate 42 deg from the camera's axis.
MAX_UP_TILT_DEG = 50.0
#: Seconds of the start used to estimate "up" (the person standing or sitting still).
UP_WINDOW_S = 1.0

#: The camera view: the shoulder line's angle out of the picture plane (degrees, 0 facing the
#: camera or facing away, 90 side-on) is a front view up to ``FRONT_MAX_YAW_DEG`` and a side
#: view from ``SIDE_MIN_YAW_DEG``; in between it is neither.
FRONT_MAX_YAW_DEG = 35.0
SIDE_MIN_YAW_DEG = 50.0
#: Shoulder width / trunk length in the picture of a person facing the camera: the ratio
#: shrinks with the cosine of the view angle. Measured with the bundled model on the sample
#: clips (ratio / cos(angle from world landmarks)): medians 0.67-0.84.
FACING_WIDTH_RATIO = 0.7

#: The landmarks that make up each body part, for "is this part in the picture, is it seen".
BODY_PARTS: dict[str, tuple[Landmark, ...]] = {
    "head": (L.NOSE, L.LEFT_EAR, L.RIGHT_EAR),
    "shoulders": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "hands": (L.LEFT_WRIST, L.RIGHT_WRIST),
    "hips": (L.LEFT_HIP, L.RIGHT_HIP),
    "knees": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "feet": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
}
#: Shoulders and hips: the trunk's corners, the most stable points of a body.
TRUNK_LANDMARKS: tuple[Landmark, ...] = BODY_PARTS["shoulders"] + BODY_PARTS["hips"]


# --- vectors (..., D) ------------------------------------------------------------------------

def unit(v: np.ndarray) -> np.ndarray:
    """Vectors (..., D) scaled to length 1; NaN where a vector is missing or of length 0."""
    n = np.sqrt(np.sum(v * v, axis=-1, keepdims=True))
    ok = n > 1e-9  # False for NaN too
    return np.divide(v, n, out=np.full(np.broadcast(v, n).shape, np.nan), where=ok)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products (...,) of vectors (..., D)."""
    return np.sum(a * b, axis=-1)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross products (..., 3) of 3-vectors (..., 3): ``np.cross`` without its axis handling,
    which costs more than the arithmetic for the few vectors of one frame."""
    return np.stack((a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]), axis=-1)


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (...,) in degrees, 0-180, between vectors (..., D)."""
    return np.degrees(np.arccos(np.clip(dot(unit(a), unit(b)), -1.0, 1.0)))


# --- the trunk -------------------------------------------------------------------------------

def hip_centre(points: np.ndarray) -> np.ndarray:
    """Mid-hip (..., D) of points (..., 33, D)."""
    return midpoint(points, L.LEFT_HIP, L.RIGHT_HIP)


def shoulder_centre(points: np.ndarray) -> np.ndarray:
    """Mid-shoulder (..., D) of points (..., 33, D)."""
    return midpoint(points, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)


def ear_centre(points: np.ndarray) -> np.ndarray:
    """Mid-ear (..., D) of points (..., 33, D): the head's centre on the spine line."""
    return midpoint(points, L.LEFT_EAR, L.RIGHT_EAR)


def spine_points(points: np.ndarray) -> np.ndarray:
    """The spine's virtual markers (..., 3, D) of points (..., 33, D): mid-hip, mid-shoulder,
    mid-ear."""
    return np.stack([hip_centre(points), shoulder_centre(points), ear_centre(points)], axis=-2)


def trunk_vector(points: np.ndarray) -> np.ndarray:
    """The trunk (..., D) of points (..., 33, D): mid-hip -> mid-shoulder, in their units."""
    return shoulder_centre(points) - hip_centre(points)


def trunk_length(points: np.ndarray) -> np.ndarray:
    """The trunk's (torso's) length (...,), mid-hip to mid-shoulder, of points (..., 33, D) in
    their units: metres for world points, picture heights for ``picture_xy`` points. The
    body's own scale, independent of arms and legs."""
    return np.linalg.norm(trunk_vector(points), axis=-1)


# --- the picture -----------------------------------------------------------------------------

def aspect_ratio(image_size: tuple[int, int] | None) -> float:
    """Picture width / height from ``image_size`` (width, height) in pixels; 1 when unknown."""
    return 1.0 if image_size is None else image_size[0] / image_size[1]


def picture_xy(image_xyz: np.ndarray, aspect: float) -> np.ndarray:
    """Image landmarks (..., 33, 3 or 2) as picture points (..., 33, 2): x and y both in
    picture heights (x scaled by ``aspect``, width / height), so that distances and angles in
    the picture are true."""
    return image_xyz[..., :2] * np.array([aspect, 1.0])


def inside_picture(image_xy: np.ndarray, margin: float = PICTURE_MARGIN) -> np.ndarray:
    """(...,) bool: normalized image points (..., 2) lie at least ``margin`` inside every edge
    of the picture; False for a missing (NaN) point."""
    with np.errstate(invalid="ignore"):
        return np.all((image_xy >= margin) & (image_xy <= 1.0 - margin), axis=-1)


def seen(image_xyz: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """(..., 33) bool: each landmark of image landmarks (..., 33, 2 or 3) with visibility
    (..., 33) is inside the picture and at least ``SEEN_VISIBILITY`` visible."""
    return inside_picture(image_xyz[..., :2]) & (visibility >= SEEN_VISIBILITY)


# --- up, facing, view ------------------------------------------------------------------------

def estimate_up(world_xyz: np.ndarray, visibility: np.ndarray, timestamps_ms: np.ndarray,
                window_s: float = UP_WINDOW_S) -> np.ndarray:
    """Unit vertical (3,) in camera axes from world landmarks (T, 33, 3) with visibility
    (T, 33) and frame times (T,) in ms: from the first ``window_s`` seconds with a person.

    Uses mid-ankle -> mid-hip where both ankles are seen (``SEEN_VISIBILITY``; standing: the
    legs, so that a habitual trunk lean is not taken as vertical), else the trunk (sitting),
    made perpendicular to the hip line (the hips are taken as level at the start, which
    removes most of a camera's roll). Short recordings use their first third at most.
    Falls back to ``CAMERA_UP`` when nothing usable is found or the estimate leans more
    than ``MAX_UP_TILT_DEG`` from it (lying or kneeling starts).
    """
    present = np.isfinite(world_xyz).all(axis=2).any(axis=1)
    idx = np.flatnonzero(present)
    if idx.size == 0:
        return CAMERA_UP.copy()
    first, last = timestamps_ms[idx[0]], timestamps_ms[idx[-1]]
    window_ms = min(window_s * 1000.0, (last - first) / 3.0)
    idx = idx[timestamps_ms[idx] <= first + window_ms]
    p = world_xyz[idx]
    mid_hip = hip_centre(p)
    ankles_seen = visibility[idx][:, [L.LEFT_ANKLE, L.RIGHT_ANKLE]].min(axis=1) >= SEEN_VISIBILITY
    v = np.where(ankles_seen[:, None], unit(mid_hip - midpoint(p, L.LEFT_ANKLE, L.RIGHT_ANKLE)),
                 unit(trunk_vector(p)))
    hip_line = unit(p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP])
    ok = np.isfinite(v).all(axis=1) & np.isfinite(hip_line).all(axis=1)
    if not ok.any():
        return CAMERA_UP.copy()
    up = unit(np.median(v[ok], axis=0))
    across = unit(np.median(hip_line[ok], axis=0))
    up = unit(up - np.dot(up, across) * across)
    tilt = float(angle_between_deg(up, CAMERA_UP))
    if not np.isfinite(tilt) or tilt > MAX_UP_TILT_DEG:
        log.info("estimated vertical leans %.0f deg from the camera's; using the camera's", tilt)
        return CAMERA_UP.copy()
    return up


#: The two body lines whose facing direction is followed: the hips (the body's frame) and the
#: shoulders (the upper body, which the pose model sometimes turns round on its own).
HIP_LINE: tuple[Landmark, Landmark] = (L.LEFT_HIP, L.RIGHT_HIP)
SHOULDER_LINE: tuple[Landmark, Landmark] = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)


def _line_axes(world_xyz: np.ndarray, up: np.ndarray, line: tuple[Landmark, Landmark]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal unit axes (left (..., 3), forward (..., 3)) of one body ``line`` (its left
    and right landmarks) of world points (..., 33, 3) about the unit vertical ``up`` (3,)."""
    across = world_xyz[..., line[0], :] - world_xyz[..., line[1], :]
    left = unit(across - dot(across, up)[..., None] * up)
    return left, unit(cross(left, up))


def body_axes(world_xyz: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The body's horizontal unit axes (left (..., 3), forward (..., 3)) of world points
    (..., 33, 3) about the unit vertical ``up`` (3,), in camera axes: left along the hip line
    (towards the person's left hip), forward = left x up (the way the chest faces); NaN where
    the hips are missing. The hips, not the shoulders, set the body's frame: the trunk's
    angles (a twist of the shoulders) are measured against it."""
    return _line_axes(world_xyz, up, HIP_LINE)


def facing_deg(world_xyz: np.ndarray, up: np.ndarray,
               line: tuple[Landmark, Landmark] = HIP_LINE) -> np.ndarray:
    """Heading (...,) of the forward direction of a body line (the hips, ``body_axes``, unless
    ``line`` says otherwise) about ``up``, in degrees in (-180, 180], of world points
    (..., 33, 3): 0 towards the camera's +x, -90 facing the camera (when ``up`` is
    ``CAMERA_UP``)."""
    _, fwd = _line_axes(world_xyz, up, line)
    e1 = unit(np.array([1.0, 0.0, 0.0]) - up[0] * up)
    e2 = cross(up, e1)
    return np.degrees(np.arctan2(dot(fwd, e2), dot(fwd, e1)))


def heading_change_deg(before: np.ndarray | float, after: np.ndarray | float) -> np.ndarray:
    """Absolute change (...,) between headings in degrees (0-180), the short way round."""
    return np.abs((np.asarray(after) - before + 180.0) % 360.0 - 180.0)


def view_yaw_deg(world_xyz: np.ndarray) -> np.ndarray:
    """How the camera sees the body (...,) from world points (..., 33, 3): the shoulder line's
    angle out of the picture plane in degrees, 0 facing the camera (or facing away), 90
    side-on; NaN without both shoulders.

    The shoulders, not the hips (``body_axes``): the view is what the camera sees of the
    trunk, and the shoulders' depth is the steadier: on one camera of the bundled lunge clip
    (pose2sim cam03) the hip line's angle swings over 29-88 deg while the shoulders' stays
    within 14-52.
    """
    line = world_xyz[..., L.LEFT_SHOULDER, :] - world_xyz[..., L.RIGHT_SHOULDER, :]
    return np.degrees(np.arctan2(np.abs(line[..., 2]), np.abs(line[..., 0])))


def shoulder_width_ratio(points_xy: np.ndarray) -> np.ndarray:
    """Shoulder width / trunk length (...,) of picture points (..., 33, 2) (``picture_xy``):
    about ``FACING_WIDTH_RATIO`` facing the camera, near 0 side-on; NaN without shoulders and
    hips."""
    width = np.linalg.norm(points_xy[..., L.LEFT_SHOULDER, :] - points_xy[..., L.RIGHT_SHOULDER, :],
                           axis=-1)
    trunk = trunk_length(points_xy)
    return np.divide(width, trunk, out=np.full(np.shape(trunk), np.nan), where=trunk > 1e-9)


def width_ratio_yaw_deg(ratio: np.ndarray | float) -> np.ndarray | float:
    """``view_yaw_deg`` estimated from the picture alone, from a ``shoulder_width_ratio``: the
    shoulder width in the picture shrinks with the cosine of the angle."""
    return np.degrees(np.arccos(np.clip(np.asarray(ratio) / FACING_WIDTH_RATIO, 0.0, 1.0)))


def camera_view(yaw_deg: float) -> str:
    """The camera view of a ``view_yaw_deg`` angle: "front", "side", "between" (neither, see
    ``FRONT_MAX_YAW_DEG``) or "unknown" (NaN)."""
    if not np.isfinite(yaw_deg):
        return "unknown"
    if yaw_deg <= FRONT_MAX_YAW_DEG:
        return "front"
    return "side" if yaw_deg >= SIDE_MIN_YAW_DEG else "between"
