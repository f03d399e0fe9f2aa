"""Core pose types: one frame's pose and a whole ``PoseSequence``, frozen numpy arrays.

Coordinate systems, named in every field:
- ``image_xyz``: normalized image coordinates. x and y in [0, 1] of the image width and height
  (may fall slightly outside when a limb leaves the frame); z is MediaPipe's relative depth,
  on roughly the same scale as x, smaller = nearer the camera.
- ``world_xyz``: metres, origin between the hips; axes follow the camera (x right, y down,
  z away from the camera), not gravity.
A frame with no person is NaN in every landmark and 0 in visibility, never zeros in position.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field, replace

import numpy as np

from coach.landmarks import MIRROR_PERMUTATION, NUM_LANDMARKS

#: Frame times lie within this many milliseconds of 0 (ten days): a video's clock may start
#: late (an MPEG-TS clock wraps after 26.5 hours), but a time beyond this is a broken file,
#: and durations and report timelines built on it would be absurd.
MAX_TIMESTAMP_MS = 10 * 24 * 3600 * 1000.0


def _frozen(array: np.ndarray | None) -> np.ndarray | None:
    if array is None:
        return None
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


def _check_shape(name: str, array: np.ndarray, expected: tuple[int | None, ...]) -> None:
    ok = array.ndim == len(expected) and all(
        e is None or e == s for e, s in zip(expected, array.shape, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("T" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {array.shape}")


@dataclass(frozen=True)
class FramePose:
    """The tracked person's pose in one frame.

    image_xyz: (33, 3) normalized image coordinates; NaN when nobody is seen.
    visibility: (33,) in [0, 1]; 0 when nobody is seen.
    world_xyz: (33, 3) metres, hip-centred; None when the backend gives no world landmarks.
    timestamp_ms: the frame's time from the source, in milliseconds.
    people_seen: how many people the backend found in this frame.
    """

    image_xyz: np.ndarray
    visibility: np.ndarray
    world_xyz: np.ndarray | None
    timestamp_ms: float
    people_seen: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_xyz", _frozen(self.image_xyz))
        object.__setattr__(self, "visibility", _frozen(self.visibility))
        object.__setattr__(self, "world_xyz", _frozen(self.world_xyz))
        _check_shape("image_xyz", self.image_xyz, (NUM_LANDMARKS, 3))
        _check_shape("visibility", self.visibility, (NUM_LANDMARKS,))
        if self.world_xyz is not None:
            _check_shape("world_xyz", self.world_xyz, (NUM_LANDMARKS, 3))

    @classmethod
    def empty(cls, timestamp_ms: float, with_world: bool = True, people_seen: int = 0) -> FramePose:
        """A frame in which nobody (or nobody usable) is seen."""
        nan = np.full((NUM_LANDMARKS, 3), np.nan)
        return cls(nan, np.zeros(NUM_LANDMARKS), nan if with_world else None, timestamp_ms,
                   people_seen)

    @property
    def present(self) -> bool:
        """True when a person was found in this frame."""
        return bool(np.isfinite(self.image_xyz).all(axis=1).any())


@dataclass(frozen=True)
class PoseSequence:
    """The tracked person's pose over time.

    image_xyz: (T, 33, 3) normalized image coordinates, NaN where nobody is seen.
    visibility: (T, 33) in [0, 1].
    world_xyz: (T, 33, 3) metres, hip-centred, camera axes; None for recordings that carry
        image landmarks only (imported from other tools or datasets).
    timestamps_ms: (T,) strictly increasing, from the source (the container for videos).
    fps: nominal frames per second of the source.
    source: where the sequence came from (a file path, a camera, a dataset name).
    image_size: (width, height) in pixels of the frames, when known.
    people_seen: (T,) how many people were in view in each frame.
    """

    image_xyz: np.ndarray
    visibility: np.ndarray
    world_xyz: np.ndarray | None
    timestamps_ms: np.ndarray
    fps: float
    source: str = ""
    image_size: tuple[int, int] | None = None
    #: (T,) people the model found in each frame; None (the default) means one in every frame.
    people_seen: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        for name in ("image_xyz", "visibility", "world_xyz", "timestamps_ms"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        n = self.image_xyz.shape[0] if self.image_xyz.ndim else 0
        _check_shape("image_xyz", self.image_xyz, (None, NUM_LANDMARKS, 3))
        _check_shape("visibility", self.visibility, (n, NUM_LANDMARKS))
        _check_shape("timestamps_ms", self.timestamps_ms, (n,))
        if self.world_xyz is not None:
            _check_shape("world_xyz", self.world_xyz, (n, NUM_LANDMARKS, 3))
        people = np.ones(n, dtype=np.int64) if self.people_seen is None else self.people_seen
        people = np.array(people, dtype=np.int64, copy=True)
        _check_shape("people_seen", people, (n,))
        people.setflags(write=False)
        object.__setattr__(self, "people_seen", people)
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps: expected a positive number, got {self.fps}")
        if n > 1 and not np.all(np.diff(self.timestamps_ms) > 0):
            raise ValueError("timestamps_ms: expected strictly increasing times")
        if self.image_size is not None:
            object.__setattr__(self, "image_size", (int(self.image_size[0]),
                                                    int(self.image_size[1])))

    @classmethod
    def from_frames(cls, frames: list[FramePose], fps: float, source: str = "",
                    image_size: tuple[int, int] | None = None) -> PoseSequence:
        """Stack per-frame poses; world landmarks are kept only if every frame has them."""
        worlds = [f.world_xyz for f in frames if f.world_xyz is not None]
        with_world = len(worlds) == len(frames)
        image = np.stack([f.image_xyz for f in frames]) if frames else np.empty((0, 33, 3))
        return cls(
            image_xyz=image,
            visibility=np.stack([f.visibility for f in frames]) if frames else np.empty((0, 33)),
            world_xyz=(np.stack(worlds) if frames else np.empty((0, 33, 3)))
            if with_world else None,
            timestamps_ms=np.array([f.timestamp_ms for f in frames], dtype=np.float64),
            fps=fps,
            source=source,
            image_size=image_size,
            people_seen=np.array([f.people_seen for f in frames], dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.image_xyz.shape[0])

    @property
    def has_world(self) -> bool:
        """True when metric world landmarks are available (False: image-plane features only)."""
        return self.world_xyz is not None

    @property
    def present(self) -> np.ndarray:
        """(T,) bool: a person was found in the frame."""
        return np.isfinite(self.image_xyz).all(axis=2).any(axis=1)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame plus one frame period, in seconds."""
        if len(self) == 0:
            return 0.0
        return float(self.timestamps_ms[-1] - self.timestamps_ms[0]) / 1000.0 + 1.0 / self.fps

    def frame(self, index: int) -> FramePose:
        """The pose at one frame index."""
        return FramePose(
            self.image_xyz[index], self.visibility[index],
            None if self.world_xyz is None else self.world_xyz[index],
            float(self.timestamps_ms[index]), int(self.people_seen[index]),
        )

    def slice(self, start: int, stop: int | None = None, step: int = 1) -> PoseSequence:
        """Frames ``start:stop:step``, timestamps kept as they were."""
        return self.select(np.s_[start:stop:step])

    def select(self, frames: builtins.slice | np.ndarray) -> PoseSequence:
        """The frames picked by ``frames`` (a slice, a (T,) bool mask or indices), timestamps
        kept as they were."""
        return replace(
            self, image_xyz=self.image_xyz[frames], visibility=self.visibility[frames],
            world_xyz=None if self.world_xyz is None else self.world_xyz[frames],
            timestamps_ms=self.timestamps_ms[frames], people_seen=self.people_seen[frames],
        )

    def mirrored(self) -> PoseSequence:
        """The sequence as its mirror image: x flipped and left/right labels swapped."""
        image = self.image_xyz[:, MIRROR_PERMUTATION].copy()
        image[..., 0] = 1.0 - image[..., 0]
        world = None
        if self.world_xyz is not None:
            world = self.world_xyz[:, MIRROR_PERMUTATION].copy()
            world[..., 0] = -world[..., 0]
        return replace(self, image_xyz=image, visibility=self.visibility[:, MIRROR_PERMUTATION],
                       world_xyz=world)
