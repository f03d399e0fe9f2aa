"""Test doubles for the live session: sources that fail like real cameras do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from coach.sources import Frame, VideoFileSource


class FlakySource:
    """Frames of a real clip that stop with an OSError (an unplugged camera) after
    ``fail_after`` frames. ``live`` says whether it poses as a camera."""

    still_images = False

    def __init__(self, path: Path, fail_after: int | None, live: bool = True,
                 blank_every: int | None = None) -> None:
        self._inner = VideoFileSource(path)
        self.name = f"flaky:{path.name}"
        self.fps = self._inner.fps
        self.frame_count = None
        self.is_live = live
        self.fail_after = fail_after
        self.blank_every = blank_every
        self.delivered = 0

    def __iter__(self) -> Iterator[Frame]:
        for frame in self._inner:
            if self.fail_after is not None and self.delivered >= self.fail_after:
                raise OSError("camera unplugged")
            rgb = frame.rgb
            if self.blank_every and frame.index % self.blank_every == 0:
                rgb = np.zeros_like(rgb)  # nobody in view in this frame
            self.delivered += 1
            yield Frame(rgb, frame.timestamp_ms, frame.index)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> FlakySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
