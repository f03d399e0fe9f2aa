"""Following one person when several are in view: pure geometry on image landmarks.

At the start the person with the largest, most central body is chosen; after that, the
candidate nearest to where the followed person was is kept, so the coach never jumps to
someone who walks into the picture. If the followed person is lost for longer than
``LOST_AFTER_MS``, the start rule picks again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coach.landmarks import Landmark

#: Shoulders and hips: the most stable points to follow a body by.
TORSO = np.array([Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER,
                  Landmark.LEFT_HIP, Landmark.RIGHT_HIP])
#: A candidate farther than this from the followed torso (in torso lengths) is someone else.
MAX_JUMP_TORSO_LENGTHS = 1.5
#: After this long without the followed person, choose afresh by size and centrality (ms).
LOST_AFTER_MS = 1500.0


def body_box(image_xyz: np.ndarray, aspect: float) -> tuple[float, float, float]:
    """Size and centre of a body: (area in height units squared, centre x, centre y).

    image_xyz: (33, 3) normalized landmarks; aspect: image width / height, so that areas and
    distances are measured in the same unit on both axes.
    """
    xs = image_xyz[:, 0] * aspect
    ys = image_xyz[:, 1]
    width = float(np.nanmax(xs) - np.nanmin(xs))
    height = float(np.nanmax(ys) - np.nanmin(ys))
    return width * height, float(np.nanmean(xs)), float(np.nanmean(ys))


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
    """Mean distance of the torso points of two (33, 3) poses, in torso lengths of ``a``."""
    scale = np.array([aspect, 1.0])
    pa, pb = a[TORSO, :2] * scale, b[TORSO, :2] * scale
    torso = np.linalg.norm((pa[0] + pa[1]) / 2 - (pa[2] + pa[3]) / 2)
    return float(np.mean(np.linalg.norm(pa - pb, axis=1)) / max(torso, 1e-6))


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
        lost = (self._last_points is None
                or timestamp_ms - self._last_seen_ms > LOST_AFTER_MS)
        if lost:
            index = start_choice(candidates, self.aspect)
        else:
            distances = [torso_distance(self._last_points, c, self.aspect) for c in candidates]
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
