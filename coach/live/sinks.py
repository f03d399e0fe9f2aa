"""Where annotated frames go: the window (which also gives key commands) and the video file.

A sink has ``show(scene, timestamp_ms) -> command or None`` and ``close()``. The video sink
encodes in its own thread, so H.264 encoding overlaps the pose model instead of adding to it;
no frame is ever dropped from the video: when the encoder falls behind, the loop waits for it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from coach.video_writer import VideoWriter

if TYPE_CHECKING:
    from coach.live.window import Window

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Receives every annotated frame."""

    def show(self, scene: np.ndarray, timestamp_ms: float) -> str | None: ...
    def close(self, completed: bool = True) -> None: ...


class WindowSink:
    """Shows frames in the coaching window; returns key commands ("pause", "restart", "quit")."""

    interactive = True

    def __init__(self, window: Window) -> None:
        self.window = window

    def show(self, scene: np.ndarray, timestamp_ms: float) -> str | None:
        return self.window.show(scene)

    def close(self, completed: bool = True) -> None:
        """The window stays open (the summary is shown in it); its owner closes it."""


#: A picture (H, W, 3) and its time (ms) for the encoder; None tells it to stop.
_Item = tuple[np.ndarray, float] | None
#: Encoder threads of a live session's video: one keeps the other cores for the pose model,
#: and encodes a 640x480 picture in a few milliseconds (FFmpeg's default starts one thread
#: per core and more, which compete with the model).
ENCODER_THREADS = 1
#: x264's preset for a live session's video. Measured on a 640x480 clip with the overlays at
#: crf 23, one thread: "ultrafast" took 3.7 ms of CPU a frame against 6.9 ms for "veryfast",
#: with at least the same picture quality (PSNR 36.7 against 35.5 dB, text 43 against 41 dB),
#: in files four times as large (about 1 Mbit/s, 8 MB a minute). On two cores the CPU the
#: encoder saves goes to the pose model.
LIVE_PRESET = "ultrafast"


class VideoSink:
    """Writes frames to an H.264 mp4 (``coach.video_writer``) from a background thread.

    The file appears at ``path`` when ``close(completed=True)`` finishes; ``close(False)``
    (or an encoding error) leaves no file. Frames are copied before queueing, so the caller
    may draw on its array again at once; at most ``depth`` frames wait, and when that many
    are waiting ``show`` blocks until the encoder takes one (``frames_waited`` and
    ``waited_s`` say how often and how long, in seconds). An encoding error never stops the
    session: later frames are not encoded, and ``close`` raises the error.
    """

    interactive = False

    def __init__(self, path: str | Path, fps: float, depth: int = 8) -> None:
        self.path = Path(path)
        self._writer = VideoWriter(self.path, fps, threads=ENCODER_THREADS, preset=LIVE_PRESET)
        self._queue: queue.Queue[_Item] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._completed = False
        self.frames_waited = 0
        self.waited_s = 0.0
        self._thread = threading.Thread(target=self._run, name="video-writer", daemon=True)
        self._thread.start()

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    def show(self, scene: np.ndarray, timestamp_ms: float) -> str | None:
        item: _Item = (scene.copy(), timestamp_ms)
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            started = time.perf_counter()
            self._put(item)
            self.frames_waited += 1
            self.waited_s += time.perf_counter() - started
        return None

    def close(self, completed: bool = True) -> None:
        self._completed = completed
        if self._thread.is_alive():
            self._put(None)
            self._thread.join()
        if self.frames_waited:
            log.info("%s: the session waited for the encoder %d times, %.2f s in all",
                     self.path, self.frames_waited, self.waited_s)
        self._raise_error()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def _put(self, item: _Item) -> None:
        while True:
            if self._error is not None or not self._thread.is_alive():
                return  # the writer stopped: the error is raised by close()
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        try:
            with self._writer:
                while True:
                    item = self._queue.get()
                    if item is None:
                        break
                    scene, timestamp_ms = item
                    self._writer.write(scene, timestamp_ms)
                if not self._completed or self._writer.frames_written == 0:
                    raise _Discard
        except _Discard:
            log.info("no video written to %s", self.path)
        except BaseException as error:  # noqa: BLE001 - re-raised in the session's thread
            self._error = error


class _Discard(Exception):
    """Raised inside the writer's block to drop the temp file instead of publishing it."""
