"""Following one person when several are in view: pure geometry on image landmarks.

At the start the person with the largest, most central body is chosen; after that, the
candidate nearest to where the followed person was is kept, so the coach never jumps to
someone who walks into the picture. If the followed person is lost for longer than
``LOST_AFTER_MS``, the start rule picks again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.geometry import TRUNK_LANDMARKS, picture_xy, trunk_length

#: The points a body is followed by: its trunk's corners (shoulders and hips).
TORSO = np.array(TRUNK_LANDMARKS)
#: A candidate farther than this from the followed torso (in trunk lengths,
#: ``coach.geometry.trunk_length``) is someone else.
MAX_JUMP_TORSO_LENGTHS = 1.5
#: After this long without the followed person, choose afresh by size and centrality (ms).
LOST_AFTER_MS = 1500.0


def body_box(image_xyz: np.ndarray, aspect: float) -> tuple[float, float, float]:
    """Size and centre of a body: (area in height units squared, centre x, centre y).

    image_xyz: (33, 3) normalized landmarks; aspect: image width / height, so that areas and
    distances are measured in the same unit on both axes.
    """
    xy = picture_xy(image_xyz, aspect)
    width, height = np.nanmax(xy, axis=0) - np.nanmin(xy, axis=0)
    centre_x, centre_y = np.nanmean(xy, axis=0)
    return float(width * height), float(centre_x), float(centre_y)


def start_choice(candidates: list[np.ndarray], aspect: float) -> int:
    """Index of the largest, most central body among (33, 3) candidates."""
    best, best_value = 0, -np.inf
    for i, points in enumerate(candidates):
        area, cx, cy = body_box(points, aspect)
        off_centre = np.hypot(cx - aspect / 2, cy - 0.5) / np.hypot(aspect / 2, 0.5)
        value = area * (1.0 - 0.5 * off_centre)
        if value > best_value:
            best, best_value = i, value
    return best


def torso_distance(a: np.ndarray, b: np.ndarray, aspect: float) -> float:
    """Mean distance of the ``TORSO`` points of two (33, 3) poses, in trunk lengths of ``a``;
    ``aspect`` is the image width / height."""
    pa, pb = picture_xy(a, aspect), picture_xy(b, aspect)
    distance = np.mean(np.linalg.norm(pa[TORSO] - pb[TORSO], axis=1))
    return float(distance / max(float(trunk_length(pa)), 1e-6))


@dataclass
class PersonFollower:
    """Chooses, frame by frame, which detected person is the one being coached."""

    aspect: float = 1.0
    _last_points: np.ndarray | None = None
    _last_seen_ms: float = -np.inf

    def choose(self, candidates: list[np.ndarray], timestamp_ms: float) -> int | None:
        """Index into ``candidates`` ((33, 3) each) of the followed person, or None if absent."""
        if not candidates:
            return None
        last = self._last_points
        if last is None or timestamp_ms - self._last_seen_ms > LOST_AFTER_MS:
            index = start_choice(candidates, self.aspect)
        else:
            distances = [torso_distance(last, c, self.aspect) for c in candidates]
            index = int(np.argmin(distances))
            if distances[index] > MAX_JUMP_TORSO_LENGTHS:
                return None
        self._last_points = candidates[index]
        self._last_seen_ms = timestamp_ms
        return index

    def reset(self) -> None:
        """Forget the followed person (a new session or a restart)."""
        self._last_points = None
        self._last_seen_ms = -np.inf
