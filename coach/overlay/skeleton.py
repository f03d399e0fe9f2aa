"""The person's skeleton, coloured per body region, with the spine line standing out."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from coach.geometry import SEEN_VISIBILITY, TRUNK_LANDMARKS, spine_points
from coach.landmarks import SEGMENTS, Landmark
from coach.pose import FramePose

RGB = tuple[int, int, int]

#: Neutral colour of every region when no deviation is known (RGB).
NEUTRAL: RGB = (235, 235, 235)
#: Colour of the spine line when no deviation is known (RGB): neutral like the rest (not
#: amber, which means "at the tolerance"); the spine stands out by its width and outline.
SPINE_NEUTRAL: RGB = NEUTRAL


def spine_line(points: np.ndarray, visible: np.ndarray) -> np.ndarray | None:
    """The spine as a polyline in whole pixels, (3, 2) or (2, 2) int32, from (33, 2) pixel
    ``points`` and their (33,) ``visible`` flags: mid-hip to mid-shoulder, on to mid-ear when
    both ears are seen; None unless both hips and both shoulders are seen."""
    if not visible[list(TRUNK_LANDMARKS)].all():
        return None
    spine = spine_points(points)
    if not (visible[Landmark.LEFT_EAR] and visible[Landmark.RIGHT_EAR]):
        spine = spine[:2]
    return np.round(spine).astype(np.int32)


@dataclass
class SkeletonAnnotator:
    """Draws segments, joints and the spine line of one pose.

    min_visibility: landmarks less visible than this are not drawn (the person's own landmarks
        are drawn when seen, ``coach.geometry.SEEN_VISIBILITY``).
    thickness: segment width in pixels at 720 px image height (scaled with the image).
    """

    min_visibility: float = SEEN_VISIBILITY
    thickness: int = 4
    joint_radius: int = 5
    region_colours: dict[str, RGB] = field(default_factory=dict)

    def annotate(self, scene: np.ndarray, pose: FramePose,
                 region_colours: dict[str, RGB] | None = None) -> np.ndarray:
        """Draw ``pose`` on ``scene`` (H, W, 3 RGB uint8); colours per region override defaults."""
        if not pose.present:
            return scene
        height, width = scene.shape[:2]
        scale = max(height / 720.0, 0.5)
        colours = {**self.region_colours, **(region_colours or {})}
        points = pose.image_xyz[:, :2] * np.array([width, height])
        visible = (pose.visibility >= self.min_visibility) & np.isfinite(points).all(axis=1)
        width_px = max(1, int(round(self.thickness * scale)))
        for start, end, region in SEGMENTS:
            if region == "spine" or not (visible[start] and visible[end]):
                continue
            cv2.line(scene, _px(points[start]), _px(points[end]),
                     colours.get(region, NEUTRAL), width_px, cv2.LINE_AA)
        spine = spine_line(points, visible)
        if spine is not None:
            colour = colours.get("spine", SPINE_NEUTRAL)
            cv2.polylines(scene, [spine], False, (0, 0, 0), width_px * 2 + 4, cv2.LINE_AA)
            cv2.polylines(scene, [spine], False, colour, width_px * 2, cv2.LINE_AA)
        radius = max(2, int(round(self.joint_radius * scale)))
        for index in np.flatnonzero(visible[11:]) + 11:  # body joints; the face stays clear
            cv2.circle(scene, _px(points[index]), radius, (40, 40, 40), -1, cv2.LINE_AA)
            cv2.circle(scene, _px(points[index]), max(1, radius - 2), NEUTRAL, -1, cv2.LINE_AA)
        return scene


def _px(point: np.ndarray) -> tuple[int, int]:
    return int(round(float(point[0]))), int(round(float(point[1])))
