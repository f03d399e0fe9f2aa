"""A landmark recording kept compactly while it grows (a live session, a take from a camera).

Frames go into preallocated float32 blocks (about 0.9 kB per frame with world landmarks), so
a long session grows by a known, small amount and never re-copies what it holds. The
recording stops growing at ``max_frames`` (one hour at 30 fps by default) and says so.
"""

from __future__ import annotations

import logging

import numpy as np

from coach.landmarks import NUM_LANDMARKS
from coach.pose import FramePose, PoseSequence

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1024
MAX_FRAMES = 30 * 60 * 60


#: Frame rate given to a recording of fewer than two frames when none was set.
DEFAULT_FPS = 30.0


class PoseRecorder:
    """Append ``FramePose`` objects; ``sequence()`` gives them as one ``PoseSequence``.

    fps: the recording's frame rate, or None to take it from the kept frames' times (the
    median interval): a live loop that drops frames runs slower than its camera.
    """

    def __init__(self, fps: float | None, source: str = "",
                 image_size: tuple[int, int] | None = None,
                 max_frames: int = MAX_FRAMES) -> None:
        self.fps = fps
        self.source = source
        self.image_size = image_size
        self.max_frames = max_frames
        self.truncated = False
        self._blocks: list[dict[str, np.ndarray]] = []
        self._count = 0
        self._with_world = True
        self._last_ms = -np.inf

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the blocks."""
        return sum(a.nbytes for block in self._blocks for a in block.values())

    def clear(self) -> None:
        """Forget every frame (after a restart)."""
        self._blocks.clear()
        self._count = 0
        self._with_world = True
        self._last_ms = -np.inf
        self.truncated = False

    def append(self, pose: FramePose) -> None:
        """Keep one frame (frames whose time does not increase are skipped)."""
        if pose.timestamp_ms <= self._last_ms:
            return
        if self._count >= self.max_frames:
            if not self.truncated:
                log.warning("landmark recording full at %d frames; later frames are not kept",
                            self.max_frames)
            self.truncated = True
            return
        row = self._count % BLOCK_FRAMES
        if row == 0:
            self._blocks.append({
                "image": np.empty((BLOCK_FRAMES, NUM_LANDMARKS, 3), np.float32),
                "world": np.empty((BLOCK_FRAMES, NUM_LANDMARKS, 3), np.float32),
                "visibility": np.empty((BLOCK_FRAMES, NUM_LANDMARKS), np.float32),
                "time": np.empty(BLOCK_FRAMES, np.float64),
                "people": np.empty(BLOCK_FRAMES, np.int16),
            })
        block = self._blocks[-1]
        block["image"][row] = pose.image_xyz
        if pose.world_xyz is None:
            self._with_world = False
        else:
            block["world"][row] = pose.world_xyz
        block["visibility"][row] = pose.visibility
        block["time"][row] = pose.timestamp_ms
        block["people"][row] = pose.people_seen
        self._count += 1
        self._last_ms = pose.timestamp_ms

    def sequence(self) -> PoseSequence:
        """Everything kept so far, as a ``PoseSequence`` (float64, as the type holds it)."""
        def stacked(key: str) -> np.ndarray:
            if not self._blocks:
                shape = {"image": (0, NUM_LANDMARKS, 3), "world": (0, NUM_LANDMARKS, 3),
                         "visibility": (0, NUM_LANDMARKS)}.get(key, (0,))
                return np.empty(shape)
            return np.concatenate([b[key] for b in self._blocks])[:self._count]

        times = stacked("time")
        fps = self.fps
        if fps is None:
            fps = 1000.0 / float(np.median(np.diff(times))) if len(times) > 1 else DEFAULT_FPS
        return PoseSequence(
            image_xyz=stacked("image"), visibility=stacked("visibility"),
            world_xyz=stacked("world") if self._with_world else None,
            timestamps_ms=times, fps=fps, source=self.source,
            image_size=self.image_size, people_seen=stacked("people"),
        )
