"""A take's own video, for the follow-along panel.

An instructor may keep the video a take was recorded from beside its landmarks, under the
same name: ``takes/take-001.mp4`` beside ``takes/take-001.npz`` (``coach record
--keep-video`` writes it with ``TakeVideoWriter``, or it is placed by hand). Its frames carry
the times the take's landmarks carry (both are the source's presentation times), so the
frame shown with the take's landmark frame ``i`` is the video's frame at ``timestamps_ms[i]``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from coach.errors import CoachError
from coach.library.store import take_video_path
from coach.pose import PoseSequence
from coach.sources import SAME_FRAME_MS, Frame, VideoFileSource
from coach.video_writer import VideoWriter

log = logging.getLogger(__name__)

#: Frames are kept at most this many pixels on their longer side (the follow-along panel is
#: smaller, even on a 1080p picture), compressed as JPEG at this quality: a 640x360 frame
#: takes about 30 kB, so a minute of video at 30 fps about 50 MB.
MAX_SIDE_PX = 640
JPEG_QUALITY = 90
#: Encoder threads while recording: one, leaving the other cores to the pose model.
ENCODER_THREADS = 1


def downscaled(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) picture ``rgb`` made at most ``MAX_SIDE_PX`` on its longer side (itself when
    it is not larger)."""
    scale = MAX_SIDE_PX / max(rgb.shape[:2])
    if scale >= 1.0:
        return rgb
    return cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                      interpolation=cv2.INTER_AREA)


class TakeVideoWriter:
    """Keeps the frames of a recording as a take's video at ``path``: H.264
    (``coach.video_writer``), each frame at most ``MAX_SIDE_PX`` on its longer side and at the
    time it was recorded (``Frame.timestamp_ms``, counted from 0), so that ``TakeVideo`` shows
    it with the take's landmark frame of that time.

    A context manager: the file appears at ``path`` when the block completes, and not at all
    when it fails. fps: the source's rate (frames per second), the stream's nominal rate. A
    frame of another size than the first (a camera that came back in another mode) is
    scaled to the first's.
    """

    def __init__(self, path: Path, fps: float) -> None:
        self.path = Path(path)
        self._writer = VideoWriter(self.path, fps, threads=ENCODER_THREADS, origin_ms=0.0)
        self._size: tuple[int, int] | None = None  # (width, height) of the first frame

    def __enter__(self) -> TakeVideoWriter:
        self._writer.__enter__()
        return self

    def __exit__(self, *exc: Any) -> bool | None:
        return self._writer.__exit__(*exc)

    def write(self, frame: Frame) -> None:
        """Encode ``frame`` at its own time."""
        picture = downscaled(frame.rgb)
        size = (picture.shape[1], picture.shape[0])
        if self._size is None:
            self._size = size
        elif size != self._size:
            picture = cv2.resize(picture, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(picture, frame.timestamp_ms)


class TakeVideo:
    """The frames of a video shown at given times, one per frame of a pose sequence.

    ``frame(i)`` is the RGB picture (at most ``MAX_SIDE_PX`` on its longer side) shown at
    ``times_ms[i]``, or the nearest earlier one when the video has no frame at that time;
    None before its first frame. Frames are kept JPEG-compressed and decoded when asked for
    (the last one is kept decoded).
    """

    def __init__(self, path: Path, times_ms: np.ndarray) -> None:
        self.path = Path(path)
        times = np.asarray(times_ms, dtype=np.float64)
        found_ms: list[float] = []
        self._jpegs: list[bytes] = []
        for frame in VideoFileSource(self.path, decode_threads=1).frames_at(times):
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(downscaled(frame.rgb),
                                                         cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if ok:
                found_ms.append(frame.timestamp_ms)
                self._jpegs.append(jpeg.tobytes())
        # frame i is the last kept frame shown at or before times[i]
        self._which = np.searchsorted(np.array(found_ms), times + SAME_FRAME_MS, side="right") - 1
        self._last: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        """How many of the asked-for times have a frame at or before them."""
        return int((self._which >= 0).sum())

    def frame(self, index: int) -> np.ndarray | None:
        """The (H, W, 3) RGB picture for time ``index``, or None (see the class)."""
        if not 0 <= index < len(self._which) or self._which[index] < 0:
            return None
        kept = int(self._which[index])
        if self._last is None or self._last[0] != kept:
            bgr = cv2.imdecode(np.frombuffer(self._jpegs[kept], np.uint8), cv2.IMREAD_COLOR)
            assert bgr is not None, "a JPEG encoded by cv2.imencode above decodes"
            self._last = kept, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return self._last[1]


def reference_video(pose: PoseSequence) -> TakeVideo | None:
    """The kept video of the take ``pose`` was made from (its ``source`` names the take
    file), at ``pose``'s times; None when the take has no video, or when the video cannot be
    read (said in the log: the figure is drawn instead)."""
    if not pose.source:
        return None
    path = take_video_path(Path(pose.source))
    if path is None:
        return None
    try:
        video = TakeVideo(path, pose.timestamps_ms)
    except CoachError as err:
        log.warning("the take's video cannot be shown, the figure is drawn instead: %s", err)
        return None
    if not len(video):
        log.warning("%s: no frame at the take's times, the figure is drawn instead", path)
        return None
    return video
