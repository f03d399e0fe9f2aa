"""Small synthetic pose sequences for unit tests of pure code."""

from __future__ import annotations

import numpy as np

from coach.pose import PoseSequence


def tiny_sequence(frames: int = 4, with_gap: bool = False) -> PoseSequence:
    """A (frames, 33, 3) sequence of random but valid landmarks; frame 2 empty if ``with_gap``."""
    rng = np.random.default_rng(7)
    image = rng.uniform(0.2, 0.8, (frames, 33, 3))
    world = rng.uniform(-0.5, 0.5, (frames, 33, 3))
    visibility = rng.uniform(0.5, 1.0, (frames, 33))
    if with_gap:
        image[2] = np.nan
        world[2] = np.nan
        visibility[2] = 0.0
    return PoseSequence(image, visibility, world, np.arange(frames) * 1000 / 30, 30.0,
                        source="synthetic", image_size=(640, 480),
                        people_seen=np.ones(frames, dtype=int))
