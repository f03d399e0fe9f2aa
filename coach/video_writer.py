"""Browser-playable video output: H.264 in mp4, yuv420p, moov atom first, written atomically.

OpenCV's wheel cannot encode H.264, so this goes through PyAV (FFmpeg's libx264). The file
appears under its final name only when the writer closes without an error; until then frames go
to a hidden temp file beside it (see ``coach.atomic``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Final

import av
import cv2
import numpy as np

from coach.atomic import atomic_path

log = logging.getLogger(__name__)

#: Encoder settings: constant quality and the profile every browser decodes.
CODEC: Final = "libx264"
PIXEL_FORMAT = "yuv420p"
ENCODER_OPTIONS = {"crf": "23", "profile": "high"}
#: x264's speed preset unless told otherwise: small files for videos rendered offline.
DEFAULT_PRESET = "veryfast"
#: Presentation times are kept in ticks of the MPEG clock (90 kHz), so variable frame timing
#: survives and a reader finds each frame within 0.01 ms of the time it was given.
TICKS_PER_MS = 90
TIME_BASE = Fraction(1, 1000 * TICKS_PER_MS)
#: A pause between two frames longer than this (ms) is shortened to it: a camera that was
#: away for an hour shows its last picture for this long, and times stay far inside what the
#: mp4 muxer can hold.
MAX_GAP_MS = 10_000.0
#: yuv420p needs even sizes of at least this many pixels; smaller pictures are padded.
MIN_SIZE_PX = 2


class VideoWriter:
    """Write RGB frames to an H.264 mp4 at ``path``; use as a context manager.

    The frame size is taken from the first frame (odd widths or heights lose their last pixel
    column or row: yuv420p needs even sizes; a picture under 2 pixels is padded to 2). Frames
    carry their own time in milliseconds when given, else they are spaced ``1000 / fps``
    apart; a time that is not a finite number counts as the next frame's, and a gap longer
    than ``MAX_GAP_MS`` is shortened to it. ``threads``: encoder threads (None: FFmpeg's
    choice, one per core and more). ``preset``: x264's speed preset ("ultrafast" ...
    "veryslow"): a faster one takes less CPU for larger files. ``origin_ms``: times are
    counted from this time (ms) instead of from the first frame's, and no gap is shortened,
    so a reader sees each frame at the time it was given (times before the origin count as
    the origin).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 threads: int | None = None, preset: str = DEFAULT_PRESET,
                 origin_ms: float | None = None) -> None:
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps: expected a positive number, got {fps}")
        self.path = Path(path)
        self.fps = float(fps)
        self.threads = threads
        self.preset = preset
        self.frames_written = 0
        self._stack = contextlib.ExitStack()
        self._tmp: Path | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._size: tuple[int, int] | None = None
        self._first_ms: float | None = origin_ms
        self._keep_gaps = origin_ms is not None
        self._last_ms: float | None = None
        self._last_pts = -1

    def __enter__(self) -> VideoWriter:
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool | None:
        try:
            if exc_type is None:
                self._finish()
            elif self._container is not None:
                self._container.close()
        except BaseException:
            self._stack.__exit__(*sys.exc_info())
            raise
        return self._stack.__exit__(exc_type, exc, tb)

    def write(self, rgb: np.ndarray, timestamp_ms: float | None = None) -> None:
        """Encode one (H, W, 3) uint8 RGB frame, at ``timestamp_ms`` when given."""
        if self._tmp is None:
            raise RuntimeError("VideoWriter.write called outside its 'with' block")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"frame: expected (H, W, 3) uint8 RGB, got {rgb.shape} {rgb.dtype}")
        if self._container is None:
            self._open(rgb.shape[1], rgb.shape[0])
        width, height = self._size  # type: ignore[misc]
        if rgb.shape[1] < width or rgb.shape[0] < height:
            if rgb.shape[1] < MIN_SIZE_PX or rgb.shape[0] < MIN_SIZE_PX:
                rgb = np.pad(rgb, ((0, max(0, height - rgb.shape[0])),
                                   (0, max(0, width - rgb.shape[1])), (0, 0)), mode="edge")
            else:
                raise ValueError(f"frame: expected at least {width}x{height} like the first "
                                 f"frame, got {rgb.shape[1]}x{rgb.shape[0]}")
        # OpenCV's conversion (BT.601, limited range, as FFmpeg's default) takes about a
        # quarter of the time FFmpeg's scaler takes, outside the interpreter lock
        yuv = cv2.cvtColor(np.ascontiguousarray(rgb[:height, :width]), cv2.COLOR_RGB2YUV_I420)
        frame = av.VideoFrame.from_ndarray(yuv.astype(np.uint8, copy=False), format=PIXEL_FORMAT)
        frame.pts = self._pts(timestamp_ms)
        frame.time_base = TIME_BASE
        for packet in self._stream.encode(frame):  # type: ignore[union-attr]
            self._container.mux(packet)  # type: ignore[union-attr]
        self.frames_written += 1

    def _pts(self, timestamp_ms: float | None) -> int:
        if timestamp_ms is None or not np.isfinite(timestamp_ms):
            pts = round(self.frames_written * 1000.0 * TICKS_PER_MS / self.fps)
        else:
            if self._first_ms is None:
                self._first_ms = timestamp_ms
            elif not self._keep_gaps and self._last_ms is not None \
                    and timestamp_ms - self._last_ms > MAX_GAP_MS:
                gap = timestamp_ms - self._last_ms
                log.info("%s: a %.0f s pause between frames is shown as %.0f s", self.path,
                         gap / 1000.0, MAX_GAP_MS / 1000.0)
                self._first_ms += gap - MAX_GAP_MS
            self._last_ms = timestamp_ms
            pts = round((timestamp_ms - self._first_ms) * TICKS_PER_MS)
        pts = max(pts, self._last_pts + 1)  # the muxer needs strictly increasing times
        self._last_pts = pts
        return pts

    def _open(self, width: int, height: int) -> None:
        width = max(MIN_SIZE_PX, width - width % 2)
        height = max(MIN_SIZE_PX, height - height % 2)
        container = av.open(str(self._tmp), mode="w", format="mp4",
                            container_options={"movflags": "+faststart"})
        options = {**ENCODER_OPTIONS, "preset": self.preset}
        if self.threads is not None:
            options["threads"] = str(self.threads)
        stream = container.add_stream(CODEC, rate=Fraction(self.fps).limit_denominator(1001),
                                      options=options)
        stream.width, stream.height = width, height
        stream.pix_fmt = PIXEL_FORMAT
        # the encoder's clock too: on its default, 1 / fps, times would snap to that grid
        stream.time_base = stream.codec_context.time_base = TIME_BASE
        self._container, self._stream, self._size = container, stream, (width, height)
        log.debug("encoding %dx%d H.264 to %s", width, height, self.path)

    def _finish(self) -> None:
        if self._container is None:
            raise ValueError(f"{self.path}: no frames were written")
        for packet in self._stream.encode():  # type: ignore[union-attr]
            self._container.mux(packet)
        self._container.close()

