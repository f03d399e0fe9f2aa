"""The extract path: the frame pipeline's poses of a whole source, as a ``PoseSequence``."""

from __future__ import annotations

import logging
from pathlib import Path

from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend
from coach.errors import InputError
from coach.pipeline import FrameStream, file_poses
from coach.pose import PoseSequence
from coach.sources import open_source

log = logging.getLogger(__name__)


def extract_from_source(source: FrameStream, backend: PoseBackend, *, stride: int = 1,
                        progress: bool = False) -> PoseSequence:
    """Run ``backend`` on every ``stride``-th frame of ``source``; timestamps stay the source's.

    Decoding runs ahead of the model (``coach.pipeline.file_poses``). A camera or stream is
    read until it ends or Ctrl-C: then the frames so far are kept (a file is read to its end;
    Ctrl-C there stops with nothing). Raises InputError if the source gives no frame.
    """
    poses = []
    image_size: tuple[int, int] | None = None
    try:
        for frame, pose in file_poses(source, backend.detect, stride=stride, progress=progress):
            if image_size is None:
                image_size = (frame.rgb.shape[1], frame.rgb.shape[0])
            poses.append(pose)
    except KeyboardInterrupt:
        if not (getattr(source, "is_live", False) and poses):
            raise
        log.warning("%s: stopped after %d frames (Ctrl-C); they are kept", source.name,
                    len(poses))
    if not poses:
        raise InputError(f"{source.name}: no frames could be read")
    shortfall = getattr(source, "shortfall", None)
    note = shortfall() if callable(shortfall) else None
    if note:
        log.warning("%s", note)
    return PoseSequence.from_frames(poses, fps=source.fps / stride, source=source.name,
                                    image_size=image_size)


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
