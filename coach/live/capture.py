"""The threads that feed the coaching loop: frame capture, and the pose model.

Live sources (cameras, streams) keep only the newest frame: when the loop is slower than the
camera, older frames are dropped, so no queue grows and no lag builds up. Files and other
non-live sources hand over every frame in order (the reader waits for the loop).

When a live source stops giving frames (unplugged camera, dropped stream, a read error), the
thread reports "reconnecting", opens the source again every ``retry_interval_s``, and carries
on; frame times and indices continue from where they were, so the session and the pose model
(which needs increasing times) never see time run backwards.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from coach.errors import CoachError
from coach.pose import FramePose
from coach.sources import Frame, FrameSource

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds between attempts to reopen a source that stopped.
RETRY_INTERVAL_S = 1.0
#: Played at its own speed, a file waits at most this long (s) for its next frame's time.
MAX_FRAME_WAIT_S = 2.0


@dataclass(frozen=True)
class CaptureStatus:
    """The capture's state: ``state`` is "running", "reconnecting" or "ended".

    message: a plain sentence for the screen while reconnecting or after the end.
    attempts: reopen attempts since the source stopped.
    dropped: live frames replaced by a newer one before the loop took them.
    failed: the capture ended because the source failed, not at its natural end.
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
        """Hand ``item`` over; False when ``stop`` was set while waiting."""
        with self.cond:
            if not self.keep_newest:
                self.cond.wait_for(lambda: self._item is None or stop.is_set())
                if stop.is_set():
                    return False
            elif self._item is not None:
                self.dropped += 1
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
        """The producer has stopped (with ``error`` when it failed)."""
        with self.cond:
            self.done = True
            self._error = error
            self.cond.notify_all()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()


class FrameCapture:
    """Read frames from ``open_source()`` in a background thread.

    open_source: opens (or reopens) the source; may raise CoachError or OSError.
    live: keep only the newest frame and reconnect when the source stops (cameras, streams);
        False: hand over every frame, and end at the source's end (files).
    give_up_after_s: stop reconnecting after this many seconds without a frame (None: never).
    real_time: hand over a file's frames no faster than their timestamps (a video plays at its
        own speed, as a camera would give it); False: as fast as the loop takes them.
    """

    def __init__(self, open_source: Callable[[], FrameSource], live: bool,
                 retry_interval_s: float = RETRY_INTERVAL_S,
                 give_up_after_s: float | None = None,
                 first_source: FrameSource | None = None, real_time: bool = False) -> None:
        self._open = open_source
        self.live = live
        self.real_time = real_time and not live
        self.retry_interval_s = retry_interval_s
        self.give_up_after_s = give_up_after_s
        self._source = first_source
        self._handoff: _Handoff[Frame] = _Handoff(keep_newest=live)
        self._stop = threading.Event()
        self._status = CaptureStatus("running")
        self._index = 0
        self._offset_ms = 0.0
        self._last_ms: float | None = None
        self._last_wall: float | None = None
        self._pending_rebase = False
        self._failure = ""
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)

    def start(self) -> FrameCapture:
        self._thread.start()
        return self

    def __enter__(self) -> FrameCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def status(self) -> CaptureStatus:
        with self._handoff.cond:
            return replace(self._status, dropped=self._handoff.dropped)

    @property
    def ended(self) -> bool:
        """True when the capture has stopped for good and its last frame has been taken."""
        return self._handoff.done and self._handoff.empty

    def get(self, timeout_s: float = 0.5) -> Frame | None:
        """The next frame to process (the newest one for live sources), or None when none
        arrived within ``timeout_s`` or the capture has ended (see ``status``).

        An unexpected error in the capture thread is raised here.
        """
        return self._handoff.take(timeout_s)

    def stop(self) -> None:
        """Stop reading and release the source (waits for the thread; a capture stopped
        before it started closes the source it was given)."""
        self._stop.set()
        self._handoff.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        elif self._thread.ident is None and self._source is not None:
            self._source.close()
            self._source = None

    # -- the thread ------------------------------------------------------------------------

    def _set_status(self, state: str, message: str = "", attempts: int = 0,
                    failed: bool = False) -> None:
        with self._handoff.cond:
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
            if self.status.state != "ended":
                self._set_status("ended", self._failure or "The video has ended",
                                 failed=bool(self._failure))
            self._handoff.finish(error)

    def _read_all(self) -> None:
        stopped_at: float | None = None
        attempts = 0
        while not self._stop.is_set():
            if self._source is None:
                try:
                    self._source = self._open()
                except (CoachError, OSError) as err:
                    if not self.live:
                        raise
                    attempts += 1
                    stopped_at = stopped_at or time.monotonic()
                    waited = time.monotonic() - stopped_at
                    if self.give_up_after_s is not None and waited >= self.give_up_after_s:
                        self._set_status("ended", f"The camera did not come back ({err})",
                                         attempts, failed=True)
                        return
                    self._set_status("reconnecting", "Trying to reconnect "
                                     f"(attempt {attempts})", attempts)
                    self._stop.wait(self.retry_interval_s)
                    continue
                self._new_source_times()
            got = self._pump(self._source)
            self._source.close()
            self._source = None
            if not self.live or self._stop.is_set():
                return
            if got:
                stopped_at, attempts = time.monotonic(), 0
            log.warning("live source stopped giving frames; reconnecting")
            self._set_status("reconnecting", "Trying to reconnect", attempts)
            self._stop.wait(self.retry_interval_s)

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
                if count == 0 and self.status.state != "running":
                    self._set_status("running")
                self._hand_over(frame)
                count += 1
        except Exception as err:  # noqa: BLE001 - a camera may fail in any way; files may not
            expected = isinstance(err, CoachError | OSError)
            if not self.live and (not expected or (count == 0 and self._index == 0)):
                raise
            name = getattr(source, "name", "the source")
            log.warning("%s: reading failed after %d frames (%s)", name, count, err)
            self._failure = f"Reading {name} failed after {self._index} frames ({err})"
        return count

    def _hand_over(self, frame: Frame) -> None:
        if self._handoff.put(frame, self._stop):
            self._index += 1
            self._last_ms = frame.timestamp_ms
            self._last_wall = time.monotonic()


class PoseStage:
    """Runs the pose model in a thread of its own, on frames from ``capture``.

    The coaching loop scores and draws one frame while the model already works on the next:
    on two cores, drawing costs no frames per second. Hand-over as in ``FrameCapture``: only
    the newest result for live sources, every result in order otherwise.
    """

    def __init__(self, capture: FrameCapture, detect: Callable[[Frame], FramePose]) -> None:
        self.capture = capture
        self._detect = detect
        self._handoff: _Handoff[tuple[Frame, FramePose]] = _Handoff(keep_newest=capture.live)
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
                frame = self.capture.get(timeout_s=0.1)
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
