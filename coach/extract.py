"""The extract path: frames from a source -> pose backend -> a ``PoseSequence``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend, model_image
from coach.errors import InputError
from coach.pose import FramePose, PoseSequence
from coach.prefetch import prefetch
from coach.sources import Frame, FrameSource, open_source

log = logging.getLogger(__name__)

#: Videos shorter than this many frames get no progress bar.
PROGRESS_MIN_FRAMES = 150


def extract_from_source(source: FrameSource, backend: PoseBackend, *, stride: int = 1,
                        progress: bool = False) -> PoseSequence:
    """Run ``backend`` on every ``stride``-th frame of ``source``; timestamps stay the source's.

    Decoding, and copying each scored frame into the model's image, run in a thread ahead of
    the model. Raises InputError if the source gives no frame.
    """
    if stride < 1:
        raise ValueError(f"stride: expected 1 or more, got {stride}")
    frames: list[FramePose] = []
    image_size: tuple[int, int] | None = None
    total = source.frame_count
    show = progress and (total is None or total >= PROGRESS_MIN_FRAMES)
    with tqdm(total=total, unit="frame", desc=Path(source.name).name, disable=not show,
              leave=False) as bar:
        for frame, image in prefetch(_with_model_images(source, stride)):
            bar.update(1)
            if image is None:
                continue
            if image_size is None:
                image_size = (frame.rgb.shape[1], frame.rgb.shape[0])
            frames.append(backend.detect(frame, image))
    if not frames:
        raise InputError(f"{source.name}: no frames could be read")
    shortfall = getattr(source, "shortfall", None)
    note = shortfall() if callable(shortfall) else None
    if note:
        log.warning("%s", note)
    return PoseSequence.from_frames(frames, fps=source.fps / stride, source=source.name,
                                    image_size=image_size)


def _with_model_images(source: FrameSource, stride: int
                       ) -> Iterator[tuple[Frame, object | None]]:
    """Each frame with its model image, or None for a frame the stride skips.

    Stopped early, it closes the source's iterator, so a video file is closed by the thread
    that decodes it.
    """
    frames = iter(source)
    try:
        for frame in frames:
            yield frame, None if frame.index % stride else model_image(frame.rgb)
    finally:
        close = getattr(frames, "close", None)
        if callable(close):
            close()


def extract_sequence(spec: str | int | Path, model_path: str | Path | None = None, *,
                     max_people: int = DEFAULT_MAX_PEOPLE, progress: bool = False,
                     stride: int = 1) -> PoseSequence:
    """Open ``spec`` (video file, image folder, camera) and extract the followed person's poses.

    Image folders run the model in IMAGE mode (each still on its own), everything else in
    VIDEO mode. max_people: people the model looks for in each frame (see ``PoseBackend``).
    """
    with open_source(spec) as source:
        mode = "image" if source.still_images else "video"
        with PoseBackend(model_path, mode=mode, max_people=max_people) as backend:
            return extract_from_source(source, backend, stride=stride, progress=progress)
