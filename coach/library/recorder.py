"""Recording an instructor's take from a camera or a video file (the I/O edge of ``record``).

From a camera: a countdown (frames are shown to the model but not kept, so it has locked on
by the start), then the recording until ``duration_s`` or Ctrl-C. From a video file: every
frame, no countdown. Trimming and the quality check follow in ``coach.library.takes``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend
from coach.errors import InputError
from coach.extract import extract_from_source
from coach.pose import FramePose, PoseSequence
from coach.recording import is_recording_path, load_recording
from coach.sources import FrameSource, open_source

log = logging.getLogger(__name__)

#: Default countdown before a camera recording starts, in seconds.
COUNTDOWN_S = 5.0


def record_from_source(source: FrameSource, backend: PoseBackend, *,
                       countdown_s: float = COUNTDOWN_S, duration_s: float | None = None,
                       on_countdown: Callable[[int], None] | None = None,
                       on_start: Callable[[], None] | None = None) -> PoseSequence:
    """Record the followed person's poses from an open ``source``.

    A live source gets the countdown (``on_countdown(seconds_left)`` once per whole second,
    ``on_start()`` when recording begins) and stops after ``duration_s`` or on Ctrl-C; a file
    is read to its end (or to ``duration_s``). Raises ``InputError`` if nothing was recorded.
    """
    if not source.is_live:
        seq = extract_from_source(source, backend, progress=True)
        return seq if duration_s is None else _first_seconds(seq, duration_s)
    frames: list[FramePose] = []
    image_size: tuple[int, int] | None = None
    start_ms: float | None = None
    first_ms: float | None = None
    last_shown: int | None = None
    try:
        for frame in source:
            if first_ms is None:
                first_ms = frame.timestamp_ms
            pose = backend.detect(frame)
            elapsed_s = (frame.timestamp_ms - first_ms) / 1000.0
            if start_ms is None:
                left = math.ceil(countdown_s - elapsed_s)
                if left > 0:
                    if left != last_shown and on_countdown is not None:
                        on_countdown(left)
                    last_shown = left
                    continue
                start_ms = frame.timestamp_ms
                if on_start is not None:
                    on_start()
            if duration_s is not None and frame.timestamp_ms - start_ms > duration_s * 1000.0:
                break
            image_size = (frame.rgb.shape[1], frame.rgb.shape[0])
            frames.append(pose)
    except KeyboardInterrupt:
        log.info("recording stopped by the user after %d frames", len(frames))
    if not frames:
        raise InputError(f"{source.name}: nothing was recorded")
    return PoseSequence.from_frames(frames, fps=source.fps, source=source.name,
                                    image_size=image_size)


def _first_seconds(seq: PoseSequence, duration_s: float) -> PoseSequence:
    """The frames of the first ``duration_s`` seconds of ``seq``."""
    stop = seq.timestamps_ms[0] + duration_s * 1000.0
    return seq.slice(0, int((seq.timestamps_ms < stop).sum()))


def record_take(spec: str | int | Path, *, model_path: str | Path | None = None,
                max_people: int = DEFAULT_MAX_PEOPLE, countdown_s: float = COUNTDOWN_S,
                duration_s: float | None = None,
                on_countdown: Callable[[int], None] | None = None,
                on_start: Callable[[], None] | None = None) -> PoseSequence:
    """Open a camera index, stream URL, video file or image folder and record a raw take
    (max_people: people the pose model looks for in each frame); a landmark recording
    (``.npz``/``.json``) is read as it is, without the model."""
    if not isinstance(spec, int) and is_recording_path(spec):
        seq = load_recording(spec)
        return seq if duration_s is None else _first_seconds(seq, duration_s)
    with open_source(spec) as source:
        mode = "image" if source.still_images else "video"
        with PoseBackend(model_path, mode=mode, max_people=max_people) as backend:
            return record_from_source(source, backend, countdown_s=countdown_s,
                                      duration_s=duration_s, on_countdown=on_countdown,
                                      on_start=on_start)
