"""The reference "ghost": the instructor's pose at the aligned moment, drawn faintly over the
person, scaled to their body and standing where they stand (hip centre on hip centre).

``place_ghost`` is the geometry (pure numpy); ``GhostAnnotator`` draws it.
"""

from __future__ import annotations

import cv2
import numpy as np

from coach.geometry import (
    CAMERA_UP,
    USABLE_VISIBILITY,
    facing_deg,
    hip_centre,
    trunk_length,
    trunk_vector,
)
from coach.landmarks import SEGMENTS, Landmark
from coach.overlay.skeleton import spine_line
from coach.pose import FramePose

L = Landmark
GHOST_COLOUR = (150, 220, 255)
#: Ghost torso (mid-hip to mid-shoulder) shorter than this in world metres is not trusted.
MIN_TORSO_M = 0.05
#: ... and in pixels.
MIN_TORSO_PX = 4.0
#: Thighs (left, right) then shins (left, right), as start and end landmark indices.
_LEG_START = np.array([L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE])
_LEG_END = np.array([L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE])
#: The limb segments drawn for the ghost (the spine is drawn as one line through its middle).
_LIMBS = np.array([(a, b) for a, b, region in SEGMENTS if region != "spine"])


def body_size_m(world_xyz: np.ndarray) -> tuple[float, float]:
    """(trunk length, mean thigh + shin length) in metres of (33, 3) world points; the leg
    length is NaN when the legs are not seen. Both are pose-independent body sizes."""
    torso = float(trunk_length(world_xyz))
    legs = np.sqrt(np.sum((world_xyz[_LEG_START] - world_xyz[_LEG_END]) ** 2, axis=1))
    leg = float(legs.sum() / 2.0) if np.all(np.isfinite(legs)) else np.nan
    return torso, leg


def turned_like(ghost_xyz: np.ndarray, person_xyz: np.ndarray) -> np.ndarray:
    """(33, 3) ghost world points turned about the vertical (y) axis so that its hip line
    points the way the person's does: a reference filmed from another angle then faces the
    way the person faces (``coach.geometry.facing_deg`` about the camera's vertical)."""
    delta = np.radians(float(facing_deg(person_xyz, CAMERA_UP) - facing_deg(ghost_xyz, CAMERA_UP)))
    if not np.isfinite(delta):
        return ghost_xyz
    c, s = np.cos(delta), np.sin(delta)
    x, z = ghost_xyz[:, 0], ghost_xyz[:, 2]
    return np.stack([x * c - z * s, ghost_xyz[:, 1], x * s + z * c], axis=1)


def place_ghost(ghost: FramePose, person: FramePose,
                image_size: tuple[int, int],
                ghost_image_size: tuple[int, int] | None = None) -> np.ndarray | None:
    """Pixel positions (33, 2) of the ghost's landmarks over ``person`` in an image of
    ``image_size`` (width, height), or None when either pose lacks hips and shoulders.

    With world landmarks on both: the ghost's world pose (x right, y down), turned to face
    the way the person faces (``turned_like``), is scaled by the person's pixels per metre
    and by the ratio of their body sizes (torso plus legs), so a taller instructor does not
    dwarf the person. Otherwise the ghost's image pose is scaled
    torso to torso. ``ghost_image_size`` (width, height) gives the ghost's image aspect.
    """
    width, height = image_size
    person_px = person.image_xyz[:, :2] * np.array([width, height], dtype=np.float64)
    torso_px = float(trunk_length(person_px))
    if not (np.isfinite(torso_px) and torso_px >= MIN_TORSO_PX):
        return None
    anchor = hip_centre(person_px)
    if ghost.world_xyz is not None and person.world_xyz is not None:
        person_torso_xy = float(np.hypot(*trunk_vector(person.world_xyz)[:2]))
        ghost_torso, ghost_leg = body_size_m(ghost.world_xyz)
        person_torso, person_leg = body_size_m(person.world_xyz)
        if np.isfinite(ghost_leg) and np.isfinite(person_leg):
            size_ratio = (person_torso + person_leg) / (ghost_torso + ghost_leg)
        else:
            size_ratio = person_torso / ghost_torso
        if person_torso_xy >= MIN_TORSO_M and ghost_torso >= MIN_TORSO_M and \
                np.isfinite(size_ratio):
            px_per_m = torso_px / person_torso_xy
            turned = turned_like(ghost.world_xyz, person.world_xyz)
            offset = turned[:, :2] - hip_centre(turned)[:2]
            return anchor + offset * px_per_m * size_ratio
    gw, gh = ghost_image_size or image_size
    ghost_px = ghost.image_xyz[:, :2] * np.array([gw, gh], dtype=np.float64)
    ghost_torso_px = float(trunk_length(ghost_px))
    if not (np.isfinite(ghost_torso_px) and ghost_torso_px >= MIN_TORSO_PX):
        return None
    return anchor + (ghost_px - hip_centre(ghost_px)) * (
        torso_px / ghost_torso_px)


class GhostAnnotator:
    """Draw the reference pose faintly (``alpha``) over the person: thin limbs and spine."""

    def __init__(self, colour: tuple[int, int, int] = GHOST_COLOUR, alpha: float = 0.6,
                 thickness: int = 3, min_visibility: float = USABLE_VISIBILITY) -> None:
        self.colour = colour
        self.alpha = alpha
        self.thickness = thickness
        self.min_visibility = min_visibility

    def annotate(self, scene: np.ndarray, ghost: FramePose | None, person: FramePose,
                 ghost_image_size: tuple[int, int] | None = None) -> np.ndarray:
        """Draw ``ghost`` placed over ``person`` (both in display coordinates); nothing when
        either is missing."""
        if ghost is None or not ghost.present or not person.present:
            return scene
        height, width = scene.shape[:2]
        points = place_ghost(ghost, person, (width, height), ghost_image_size)
        if points is None:
            return scene
        usable = np.isfinite(points).all(axis=1) & (ghost.visibility >= self.min_visibility)
        if ghost.world_xyz is not None:
            usable &= np.isfinite(ghost.world_xyz).all(axis=1)
        if not usable.any():
            return scene
        pad = 8
        x0 = int(max(0, np.floor(points[usable, 0].min()) - pad))
        y0 = int(max(0, np.floor(points[usable, 1].min()) - pad))
        x1 = int(min(width, np.ceil(points[usable, 0].max()) + pad))
        y1 = int(min(height, np.ceil(points[usable, 1].max()) + pad))
        if x1 <= x0 or y1 <= y0:
            return scene
        roi = scene[y0:y1, x0:x1]
        layer = roi.copy()
        local = np.round(points - (x0, y0)).astype(np.int32)
        thickness = max(1, int(round(self.thickness * max(height / 720.0, 0.5))))
        drawn = usable[_LIMBS].all(axis=1)
        if drawn.any():
            cv2.polylines(layer, list(local[_LIMBS[drawn]]), False, self.colour, thickness,
                          cv2.LINE_AA)
        spine = spine_line(points - (x0, y0), usable)
        if spine is not None:
            cv2.polylines(layer, [spine], False, self.colour, thickness * 2, cv2.LINE_AA)
        if usable[L.NOSE]:
            cv2.circle(layer, tuple(local[L.NOSE]), thickness * 3, self.colour, thickness,
                       cv2.LINE_AA)
        cv2.addWeighted(layer, self.alpha, roi, 1.0 - self.alpha, 0.0, dst=roi)
        return scene
