"""Mirrored display for a selfie camera: the picture is flipped, the labels are not.

The pose model runs on the camera's own picture, so "left" stays the person's own left (and
cues say "your left shoulder" correctly). Only what is drawn is flipped: the picture, and the
landmark x positions drawn over it.
"""

from __future__ import annotations

import cv2
import numpy as np

from coach.pose import FramePose


def mirror_picture(rgb: np.ndarray) -> np.ndarray:
    """The (H, W, 3) picture flipped left to right (a new array)."""
    return cv2.flip(rgb, 1)


def mirror_for_display(pose: FramePose) -> FramePose:
    """``pose`` drawn on a flipped picture: image x -> 1 - x and world x -> -x, each landmark
    keeping its own label (unlike ``PoseSequence.mirrored``, which also swaps left and right)."""
    image = pose.image_xyz.copy()
    image[:, 0] = 1.0 - image[:, 0]
    world = None
    if pose.world_xyz is not None:
        world = pose.world_xyz.copy()
        world[:, 0] = -world[:, 0]
    return FramePose(image, pose.visibility, world, pose.timestamp_ms, pose.people_seen)
