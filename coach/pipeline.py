"""The frame pipeline: a source's frames -> the pose model -> (frame, pose), for live
coaching, recording a take and extraction alike.

Two ways through it, one per kind of source:

- ``file_poses``: every ``stride``-th frame of a file (or any source read to its end), in
  order; decoding, and copying each frame into the model's image, run in a thread ahead of
  the model, with a progress bar for long videos.
- ``FrameCapture`` + ``PoseStage`` (or ``live_poses`` over them): a camera or stream read in
  a thread of its own, the model in another, so the caller draws one frame while the model
  works on the next. A live source that stops giving frames (unplugged camera, dropped
  stream, a read error, a read that hangs) is reported as reconnecting after ``STALL_S`` and,
  when no frame has come for ``give_up_after_s``, as lost: the capture ends as failed with
  one plain sentence saying why, never a hang.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from tqdm import tqdm

from coach.backend import model_image
from coach.errors import CoachError, InputError
from coach.pose import FramePose
from coach.prefetch import prefetch
from coach.sources import Frame, FrameSource, iterating

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds between attempts to reopen a source that stopped.
RETRY_INTERVAL_S = 1.0
#: Played at its own speed, a file waits at most this long (s) for its next frame's time.
MAX_FRAME_WAIT_S = 2.0
#: A live source that has given no frame for this long (s) is reported as reconnecting.
STALL_S = 2.0
#: Videos shorter than this many frames get no progress bar.
PROGRESS_MIN_FRAMES = 150
#: How often (s) ``live_poses`` reports while it waits for a frame.
POLL_S = 0.1
#: Seconds ``FrameCapture.stop`` waits for a capture thread stuck in a read of a lost source.
STUCK_JOIN_S = 0.2


class CameraLostError(InputError):
    """A live source gave no frame for longer than the capture waits for it."""


class FrameStream(Protocol):
    """What ``file_poses`` reads: frames in order, with a name, a rate (frames per second)
    and a length when known (any ``FrameSource`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def fps(self) -> float: ...
    @property
    def frame_count(self) -> int | None: ...
    def __iter__(self) -> Iterator[Frame]: ...


def file_poses(source: FrameStream, detect: Callable[[Frame, object], FramePose], *,
               stride: int = 1, progress: bool = False) -> Iterator[tuple[Frame, FramePose]]:
    """(frame, pose) for every ``stride``-th frame of ``source``, read to its end, in order.

    detect: the pose backend's ``detect(frame, model_image)``. progress: a progress bar
    (frames read) for sources of unknown length or at least ``PROGRESS_MIN_FRAMES`` frames.
    """
    if stride < 1:
        raise ValueError(f"stride: expected 1 or more, got {stride}")
    total = source.frame_count
    show = progress and (total is None or total >= PROGRESS_MIN_FRAMES)
    with tqdm(total=total, unit="frame", desc=Path(source.name).name, disable=not show,
              leave=False) as bar:
        for frame, image in prefetch(_with_model_images(source, stride)):
            bar.update(1)
            if image is not None:
                yield frame, detect(frame, image)


def _with_model_images(source: FrameStream, stride: int
                       ) -> Iterator[tuple[Frame, object | None]]:
    """Each frame with its model image, or None for a frame the stride skips.

    Stopped early, it closes the source's iterator, so a video file is closed by the thread
    that decodes it.
    """
    with iterating(source) as frames:
        for frame in frames:
            yield frame, None if frame.index % stride else model_image(frame.rgb)


@dataclass(frozen=True)
class CaptureStatus:
    """The capture's state: ``state`` is "running", "reconnecting" or "ended".

    message: a plain sentence for the screen while reconnecting or after the end.
    attempts: reopen attempts since the source stopped.
    dropped: live frames replaced by a newer one before the loop took them.
    failed: the capture ended because the source failed or was lost, not at its natural end.
    """

    state: str
    message: str = ""
    attempts: int = 0
    dropped: int = 0
    failed: bool = False


class _Handoff(Generic[T]):
    """One item at a time from a producer thread to the coaching loop: only the newest item
    (``keep_newest``: live sources; older ones are counted in ``dropped``), or every item in
    order (the producer waits until the loop has taken the last one)."""

    def __init__(self, keep_newest: bool) -> None:
        self.cond = threading.Condition()
        self.keep_newest = keep_newest
        self.dropped = 0
        self.done = False
        self._item: T | None = None
        self._error: BaseException | None = None

    @property
    def empty(self) -> bool:
        with self.cond:
            return self._item is None

    def put(self, item: T, stop: threading.Event) -> bool:
        """Hand ``item`` over; False when ``stop`` was set while waiting, or when the
        hand-over has already finished (a source declared lost gave a late frame)."""
        with self.cond:
            if not self.keep_newest:
                self.cond.wait_for(lambda: self._item is None or stop.is_set() or self.done)
                if stop.is_set():
                    return False
            elif self._item is not None:
                self.dropped += 1
            if self.done:
                return False
            self._item = item
            self.cond.notify_all()
            return True

    def take(self, timeout_s: float) -> T | None:
        """The item, or None on timeout or when done; the producer's error is raised here."""
        with self.cond:
            self.cond.wait_for(lambda: self._item is not None or self.done, timeout_s)
            item, self._item = self._item, None
            self.cond.notify_all()
            if item is None and self._error is not None:
                error, self._error = self._error, None
                raise error
            return item

    def finish(self, error: BaseException | None = None) -> None:
        """The producer has stopped (with ``error`` when it failed); only the first call
        counts."""
        with self.cond:
            if self.done:
                return
            self.done = True
            self._error = error
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


class FrameCapture:
    """Read frames from ``open_source()`` in a background thread.

    open_source: opens (or reopens) the source; may raise CoachError or OSError.
    live: reconnect when the source stops, and watch for a source that stops giving frames
        (cameras, streams); False: end at the source's end (files).
    keep_newest: hand over only the newest frame, dropping older ones the loop did not take
        in time (None: as ``live``); False: every frame, the reader waits for the loop.
    give_up_after_s: a live source that has given no frame for this long (reopen attempts
        included) is lost and the capture ends as failed (None: wait for it forever).
    real_time: hand over a file's frames no faster than their timestamps (a video plays at its
        own speed, as a camera would give it); False: as fast as the loop takes them.

    Frame times and indices continue across a reconnection from where they were, so the
    caller and the pose model (which needs increasing times) never see time run backwards.
    """

    def __init__(self, open_source: Callable[[], FrameSource], live: bool,
                 retry_interval_s: float = RETRY_INTERVAL_S,
                 give_up_after_s: float | None = None,
                 first_source: FrameSource | None = None, real_time: bool = False,
                 keep_newest: bool | None = None) -> None:
        self._open = open_source
        self.live = live
        self.keep_newest = live if keep_newest is None else keep_newest
        self.real_time = real_time and not live
        self.retry_interval_s = retry_interval_s
        self.give_up_after_s = give_up_after_s
        self._source = first_source
        self._name = getattr(first_source, "name", "") or "the camera"
        self._handoff: _Handoff[Frame] = _Handoff(keep_newest=self.keep_newest)
        self._stop = threading.Event()
        self._status = CaptureStatus("running")
        self._index = 0
        self._offset_ms = 0.0
        self._last_ms: float | None = None
        self._last_wall: float | None = None
        self._waiting_since: float | None = None  # asked the source, no frame yet (monotonic)
        self._call_since: float | None = None  # when the current open or read began
        self._pending_rebase = False
        self._failure = ""
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> FrameCapture:
        self._waiting_since = time.monotonic()
        self._thread.start()
        return self

    def __enter__(self) -> FrameCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def status(self) -> CaptureStatus:
        """The state now; a live source silent for ``STALL_S`` after its first frame reads
        as reconnecting (before it, a camera may still be starting)."""
        with self._handoff.cond:
            status = replace(self._status, dropped=self._handoff.dropped)
        silent_s = self._silent_s()
        if status.state == "running" and self._index > 0 and silent_s >= STALL_S:
            status = replace(status, state="reconnecting",
                             message=f"No picture from {self._name} for {silent_s:.0f} s")
        return status

    @property
    def ended(self) -> bool:
        """True when the capture has stopped for good and its last frame has been taken."""
        return self._handoff.done and self._handoff.empty

    @property
    def source_name(self) -> str:
        """The source's name as it says it ("camera 0", a file), for messages."""
        return self._name

    def get(self, timeout_s: float = 0.5) -> Frame | None:
        """The next frame to process (the newest one when ``keep_newest``), or None when none
        arrived within ``timeout_s`` or the capture has ended (see ``status``).

        An unexpected error in the capture thread is raised here.
        """
        frame = self._handoff.take(timeout_s)
        if frame is None:
            self._check_lost()
        return frame

    def stop(self) -> None:
        """Stop reading and release the source (waits for the thread, briefly when it is
        stuck in a read of a lost source; a capture stopped before it started closes the
        source it was given)."""
        self._stop.set()
        self._handoff.wake()
        if self._thread.is_alive():
            lost = self._handoff.done and self._status.failed
            self._thread.join(timeout=STUCK_JOIN_S if lost else 5.0)
            if self._thread.is_alive():
                log.warning("%s: the read did not return; the source is left open", self._name)
        elif self._thread.ident is None and self._source is not None:
            self._source.close()
            self._source = None

    # -- loss ------------------------------------------------------------------------------

    def _silent_s(self) -> float:
        """Seconds a live source has been asked for a frame without giving one (0 for files,
        and while a frame waits for the loop)."""
        since = self._waiting_since
        return 0.0 if not self.live or since is None else time.monotonic() - since

    def _check_lost(self) -> None:
        """End the capture as failed when one call to a live source (a read or an open) has
        not returned for ``give_up_after_s``: it hangs. Between calls, the thread gives up
        by itself."""
        call_since, waiting_since = self._call_since, self._waiting_since
        if self.give_up_after_s is None or self._handoff.done or call_since is None \
                or waiting_since is None:
            return
        hanging_s = time.monotonic() - max(call_since, waiting_since)
        if hanging_s >= self.give_up_after_s and hanging_s > 0:
            message = f"No picture for {self._silent_s():.0f} s"
            log.warning("%s: lost (%s)", self._name, message)
            self._set_status("ended", message, self._status.attempts, failed=True)
            self._handoff.finish()

    # -- the thread ------------------------------------------------------------------------

    def _set_status(self, state: str, message: str = "", attempts: int = 0,
                    failed: bool = False) -> None:
        with self._handoff.cond:
            if self._status.state == "ended":
                return
            self._status = replace(self._status, state=state, message=message,
                                   attempts=attempts, failed=failed)
            self._handoff.cond.notify_all()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._read_all()
        except BaseException as err:  # noqa: BLE001 - handed to the loop through get()
            log.exception("capture thread failed")
            error = err
        finally:
            if self._source is not None:
                self._source.close()
            self._set_status("ended", self._failure or "The video has ended",
                             failed=bool(self._failure))
            self._handoff.finish(error)

    def _read_all(self) -> None:
        attempts = 0
        while not self._stop.is_set():
            if self._source is None:
                try:
                    self._source = self._open_watched()
                except (CoachError, OSError) as err:
                    if not self.live:
                        raise
                    attempts += 1
                    if self._given_up(f"The camera did not come back ({err})", attempts):
                        return
                    self._set_status("reconnecting", "Trying to reconnect "
                                     f"(attempt {attempts})", attempts)
                    self._stop.wait(self.retry_interval_s)
                    continue
                self._name = getattr(self._source, "name", "") or self._name
                self._new_source_times()
            got = self._pump(self._source)
            self._source.close()
            self._source = None
            if not self.live or self._stop.is_set():
                return
            if got:
                attempts = 0
            if self._given_up(self._failure or "No picture", attempts):
                return
            log.warning("live source stopped giving frames; reconnecting")
            self._set_status("reconnecting", "Trying to reconnect", attempts)
            self._stop.wait(self.retry_interval_s)

    def _open_watched(self) -> FrameSource:
        """``open_source()``, watched by ``_check_lost`` while it runs."""
        self._call_since = time.monotonic()
        try:
            return self._open()
        finally:
            self._call_since = None

    def _given_up(self, message: str, attempts: int) -> bool:
        """End as failed with ``message`` when the source has been silent too long."""
        if self.give_up_after_s is None or self._silent_s() < self.give_up_after_s:
            return False
        self._failure = message
        self._set_status("ended", message, attempts, failed=True)
        return True

    def _new_source_times(self) -> None:
        """Make the next source's times continue after the last frame handed over."""
        if self._last_ms is not None and self._last_wall is not None:
            gap_ms = (time.monotonic() - self._last_wall) * 1000.0
            self._offset_ms = self._last_ms + max(gap_ms, 1.0)
            self._pending_rebase = True
        else:
            self._pending_rebase = False

    def _pump(self, source: FrameSource) -> int:
        """Hand over frames from ``source`` until it ends, fails or we stop; returns how many."""
        count = 0
        first_ms: float | None = None
        clock_start: tuple[float, float] | None = None
        self._call_since = time.monotonic()
        try:
            for raw in source:
                if self._stop.is_set():
                    break
                if self.real_time:
                    if clock_start is None:
                        clock_start = (time.monotonic(), raw.timestamp_ms)
                    due = clock_start[0] + (raw.timestamp_ms - clock_start[1]) / 1000.0
                    wait = due - time.monotonic()
                    if wait > MAX_FRAME_WAIT_S:  # a gap in the file's times: play on
                        clock_start = (clock_start[0] - wait + MAX_FRAME_WAIT_S,
                                       clock_start[1])
                        wait = MAX_FRAME_WAIT_S
                    if self._stop.wait(max(0.0, wait)):
                        break
                if first_ms is None:
                    first_ms = raw.timestamp_ms if self._pending_rebase else 0.0
                frame = Frame(raw.rgb, self._offset_ms + raw.timestamp_ms - first_ms,
                              self._index)
                if count == 0:
                    self._failure = ""
                    self._set_status("running")
                self._waiting_since = None
                self._hand_over(frame)
                self._waiting_since = time.monotonic()
                count += 1
        except Exception as err:  # noqa: BLE001 - a camera may fail in any way; files may not
            expected = isinstance(err, CoachError | OSError)
            if not self.live and (not expected or (count == 0 and self._index == 0)):
                raise
            name = getattr(source, "name", "the source")
            log.warning("%s: reading failed after %d frames (%s)", name, count, err)
            self._failure = f"Reading {name} failed after {self._index} frames ({err})"
        finally:
            self._call_since = None
        return count

    def _hand_over(self, frame: Frame) -> None:
        if self._handoff.put(frame, self._stop):
            self._index += 1
            self._last_ms = frame.timestamp_ms
            self._last_wall = time.monotonic()


class PoseStage:
    """Runs the pose model in a thread of its own, on frames from ``capture``.

    The caller scores and draws one frame while the model already works on the next: on two
    cores, drawing costs no frames per second. Hand-over as in ``FrameCapture``: only the
    newest result when the capture keeps only the newest frame, every result in order
    otherwise.
    """

    def __init__(self, capture: FrameCapture, detect: Callable[[Frame], FramePose]) -> None:
        self.capture = capture
        self._detect = detect
        self._handoff: _Handoff[tuple[Frame, FramePose]] = _Handoff(
            keep_newest=capture.keep_newest)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pose", daemon=True)

    def __enter__(self) -> PoseStage:
        self.capture.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def dropped(self) -> int:
        """Pose results replaced by a newer one before the loop took them (live sources)."""
        return self._handoff.dropped

    @property
    def ended(self) -> bool:
        """True when the capture has ended and every result has been taken."""
        return self._handoff.done and self._handoff.empty

    def get(self, timeout_s: float = 0.5) -> tuple[Frame, FramePose] | None:
        """The next (frame, pose), or None on timeout or at the end; errors are raised here."""
        return self._handoff.take(timeout_s)

    def stop(self) -> None:
        """Stop the model thread and the capture."""
        self._stop.set()
        self._handoff.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        self.capture.stop()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            while not self._stop.is_set():
                frame = self.capture.get(timeout_s=POLL_S)
                if frame is None:
                    if self.capture.ended:
                        break
                    continue
                self._handoff.put((frame, self._detect(frame)), self._stop)
        except BaseException as err:  # noqa: BLE001 - handed to the loop through get()
            log.exception("pose thread failed")
            error = err
        finally:
            self._handoff.finish(error)


def live_poses(capture: FrameCapture, detect: Callable[[Frame], FramePose]
               ) -> Generator[tuple[Frame, FramePose] | CaptureStatus, None, None]:
    """(frame, pose) from a live capture as the model gives them; while no frame comes, the
    capture's status every ``POLL_S`` (the caller may redraw, or stop iterating).

    Ends at the capture's natural end; raises ``CameraLostError`` (one line naming the
    source and why) when the capture ended because its source was lost or failed.
    """
    with PoseStage(capture, detect) as stage:
        while True:
            item = stage.get(timeout_s=POLL_S)
            if item is not None:
                yield item
                continue
            status = capture.status
            if stage.ended:
                if status.failed:
                    why = status.message[:1].lower() + status.message[1:]
                    raise CameraLostError(f"{capture.source_name}: camera lost: {why}")
                return
            yield status
