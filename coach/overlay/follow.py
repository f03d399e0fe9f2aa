"""The follow-along figure: the instructor's movement drawn as a clean stick figure in a panel
beside the person, from the reference's own camera view, so a beginner can see what to do.

``FollowAlong`` holds the reference's pixel positions (computed once) and draws any of its
frames fitted into a box; the figure keeps one scale for the whole movement, so it moves the
way the instructor moved instead of being re-fitted frame by frame. When the instructor kept
the take's video (``coach.library.take_video``), the panel shows the video instead of the
figure, at the same moment of the movement.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from coach.landmarks import SEGMENTS, Landmark
from coach.overlay.draw import WHITE, put_text, shade, text_size, ui_scale
from coach.overlay.skeleton import spine_line
from coach.pose import PoseSequence

L = Landmark
#: The figure's colours (RGB): limbs, the spine line, the head.
LIMB_COLOUR = (235, 240, 255)
SPINE_COLOUR = (120, 200, 255)
#: Landmarks less visible than this in the reference are not drawn.
MIN_VISIBILITY = 0.3
#: The panel's share of the picture: width of a landscape picture, of a portrait one; height.
PANEL_WIDTH_SHARE = (0.24, 0.36)
PANEL_HEIGHT_SHARE = 0.42
_LIMBS = np.array([(a, b) for a, b, region in SEGMENTS if region != "spine"])


class PanelVideo(Protocol):
    """Pictures of the reference movement, one per frame of its pose (see
    ``coach.library.take_video.TakeVideo``)."""

    def frame(self, index: int) -> np.ndarray | None:
        """The (H, W, 3) RGB picture of frame ``index``, or None when there is none."""
        ...


class FollowAlong:
    """The reference movement ``pose`` (R frames, image landmarks in its own view), drawn one
    frame at a time in a panel.

    mirror: draw it flipped left to right (when the person's picture is shown as a mirror).
    video: the take's own video, one picture per frame of ``pose``, shown instead of the
        figure (the figure is drawn for a frame it has no picture for); None: the figure.
    """

    def __init__(self, pose: PoseSequence, mirror: bool = False,
                 video: PanelVideo | None = None) -> None:
        self.mirror = mirror
        self.video = video
        self._fitted: tuple[int, tuple[int, int], np.ndarray] | None = None
        width, height = pose.image_size or (1, 1)
        xy = pose.image_xyz[:, :, :2] * np.array([width, height], dtype=np.float64)
        if mirror:
            xy[:, :, 0] = width - xy[:, :, 0]
        usable = (pose.visibility >= MIN_VISIBILITY) & np.isfinite(xy).all(axis=2)
        usable[:, :11] = False  # the face is drawn as one head circle
        usable[:, L.NOSE] = (pose.visibility[:, L.NOSE] >= MIN_VISIBILITY) & \
            np.isfinite(xy[:, L.NOSE]).all(axis=1)
        self.points = xy
        self.usable = usable
        self.fps = float(pose.fps)
        seen = xy[usable]
        if len(seen):
            self._low = seen.min(axis=0)
            self._span = np.maximum(seen.max(axis=0) - self._low, 1e-6)
        else:
            self._low, self._span = np.zeros(2), np.ones(2)

    def __len__(self) -> int:
        return len(self.points)

    def index_at(self, progress: float | None, lead_s: float = 0.0) -> int:
        """The frame at ``progress`` (0-1 through the movement) plus ``lead_s`` seconds."""
        n = len(self)
        p = 0.0 if progress is None or not np.isfinite(progress) else float(progress)
        index = int(round(np.clip(p, 0.0, 1.0) * (n - 1) + lead_s * self.fps))
        return min(max(index, 0), n - 1)

    def index_looping(self, elapsed_ms: float) -> int:
        """The frame ``elapsed_ms`` into the movement played in a loop (the preview)."""
        return int(elapsed_ms / 1000.0 * self.fps) % max(1, len(self))

    def panel_box(self, scene: np.ndarray) -> tuple[int, int, int, int]:
        """Where the panel goes on ``scene``: the right edge, under the progress bar."""
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        share = PANEL_WIDTH_SHARE[1] if height > width else PANEL_WIDTH_SHARE[0]
        x1 = width - int(8 * s)
        y0 = int(84 * s)  # under the progress bar and the processing rate
        return x1 - int(width * share), y0, x1, y0 + int(height * PANEL_HEIGHT_SHARE)

    def annotate(self, scene: np.ndarray, index: int, caption: str = "Follow",
                 box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """Draw frame ``index`` in ``box`` (x0, y0, x1, y1; default ``panel_box``), on a
        darkened panel with ``caption`` above the figure."""
        x0, y0, x1, y1 = self.panel_box(scene) if box is None else box
        if x1 - x0 < 8 or y1 - y0 < 8:
            return scene
        s = ui_scale(scene)
        shade(scene, x0, y0, x1, y1, alpha=0.6)
        font_scale = 0.55 * s
        _, text_h, depth = text_size(caption, font_scale, 1)
        pad = int(6 * s)
        put_text(scene, caption, (x0 + pad, y0 + pad + text_h), font_scale, WHITE, 1)
        i = min(max(int(index), 0), len(self) - 1)
        below_caption = y0 + pad + text_h + depth + pad
        if self.video is not None and self._paste_video(
                scene, i, x0 + pad, below_caption, x1 - x0 - 2 * pad, y1 - below_caption - pad):
            return scene
        thickness = max(2, int(round(3 * s)))
        edge = pad + 3 * thickness  # room for the head circle and the line ends
        top = below_caption - pad + edge
        inner_w, inner_h = x1 - x0 - 2 * edge, y1 - top - edge
        if inner_w < 4 or inner_h < 4:
            return scene
        scale = min(inner_w / self._span[0], inner_h / self._span[1])
        offset = np.array([x0 + edge + (inner_w - self._span[0] * scale) / 2,
                           top + (inner_h - self._span[1] * scale) / 2])
        usable = self.usable[i]
        points = (self.points[i] - self._low) * scale + offset
        local = np.round(np.nan_to_num(points, nan=-1.0)).astype(np.int32)
        drawn = usable[_LIMBS].all(axis=1)
        if drawn.any():
            cv2.polylines(scene, list(local[_LIMBS[drawn]]), False, LIMB_COLOUR, thickness,
                          cv2.LINE_AA)
        spine = spine_line(points, usable)
        if spine is not None:
            cv2.polylines(scene, [spine], False, SPINE_COLOUR, thickness * 2, cv2.LINE_AA)
        if usable[L.NOSE]:
            nose = tuple(int(v) for v in local[L.NOSE])
            if usable[L.LEFT_SHOULDER] and usable[L.RIGHT_SHOULDER]:  # the neck
                neck = (local[L.LEFT_SHOULDER] + local[L.RIGHT_SHOULDER]) // 2
                cv2.line(scene, (int(neck[0]), int(neck[1])), nose, LIMB_COLOUR, thickness,
                         cv2.LINE_AA)
            cv2.circle(scene, nose, thickness * 3, (20, 20, 24), -1, cv2.LINE_AA)
            cv2.circle(scene, nose, thickness * 3, LIMB_COLOUR, thickness, cv2.LINE_AA)
        joints = local[np.flatnonzero(usable[11:]) + 11]
        if len(joints):  # one dot per joint: a line of no length, in one call
            cv2.polylines(scene, list(np.repeat(joints[:, None], 2, axis=1)), False,
                          LIMB_COLOUR, 2 * thickness, cv2.LINE_AA)
        return scene

    def _paste_video(self, scene: np.ndarray, index: int, x: int, y: int, width: int,
                     height: int) -> bool:
        """Paste the video's picture of frame ``index`` fitted into the ``width`` x
        ``height`` box at (x, y), centred; False when the video has no picture for it."""
        picture = self.video.frame(index)  # type: ignore[union-attr]
        if picture is None or width < 4 or height < 4:
            return False
        scale = min(width / picture.shape[1], height / picture.shape[0])
        size = (max(1, int(picture.shape[1] * scale)), max(1, int(picture.shape[0] * scale)))
        if self._fitted is None or self._fitted[:2] != (index, size):
            fitted = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
            self._fitted = index, size, cv2.flip(fitted, 1) if self.mirror else fitted
        left, top = x + (width - size[0]) // 2, y + (height - size[1]) // 2
        scene[top:top + size[1], left:left + size[0]] = self._fitted[2]
        return True
