"""Recording an instructor's take from a camera or a video file (the I/O edge of ``record``).

From a camera, through the frame pipeline's capture and pose threads (``coach.pipeline``):
the setup check of a live session (``coach.live.setup``: in the picture, at the right
distance and view, enough light) until it has been right for a moment, then the countdown
(frames go to the model but are not kept, so it has locked on by the start), then the
recording until ``duration_s``, Ctrl-C, or "quit" from the preview. A camera that drops out
is waited for; one that gives no picture for ``lost_after_s`` ends the recording with
``CameraLostError`` and nothing is kept. From a video file: every frame, no countdown.
Either way the recorded frames may also be kept as the take's video
(``coach.library.take_video``). Trimming and the quality check follow in
``coach.library.takes``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend
from coach.errors import InputError
from coach.extract import extract_from_source
from coach.library.take_video import TakeVideoWriter
from coach.live.setup import SetupGate, check_setup, frame_brightness
from coach.overlay.countdown import CountdownAnnotator
from coach.overlay.message import MessageAnnotator
from coach.overlay.mirror import mirror_for_display, mirror_picture
from coach.overlay.note import NoteAnnotator
from coach.overlay.progress import ProgressAnnotator
from coach.overlay.skeleton import SkeletonAnnotator
from coach.pipeline import CameraLostError, CaptureStatus, FrameCapture, live_poses
from coach.pose import FramePose, PoseSequence
from coach.pose_recorder import PoseRecorder
from coach.recording import is_recording_path, load_recording
from coach.sources import Frame, FrameSource, iterating, open_source

log = logging.getLogger(__name__)

#: Default countdown before a camera recording starts, in seconds.
COUNTDOWN_S = 5.0
#: A camera that gives no picture for this long (s) is lost and the recording ends.
LOST_AFTER_S = 5.0
#: Seconds between attempts to open again a camera that dropped out (short: every second
#: the camera is away is a hole in the take).
REOPEN_INTERVAL_S = 0.2
#: Every plain sentence the preview shows, in one place.
TEXTS = {
    "setup": "Setting up",
    "hold_still": "Hold still",
    "countdown": "Recording starts in",
    "recording": "Recording",
    "stop_keys": "Q or Esc stops the recording",
    "camera_lost": "Camera lost",
    "camera_detail": "Check the cable or the stream; the recording waits for it",
}


@dataclass(frozen=True)
class TakeMoment:
    """One moment of a camera recording, for the preview or the terminal.

    phase: "setup", "countdown", "recording", or "waiting" (no picture from the camera).
    frame / pose: the newest picture and its pose (None while waiting).
    lines: what to change (setup), or why there is no picture (waiting).
    seconds: seconds left (countdown) or recorded so far (recording).
    """

    phase: str
    frame: Frame | None = None
    pose: FramePose | None = None
    lines: tuple[str, ...] = ()
    seconds: float = 0.0


#: Shown each moment of a camera recording; returning "quit" stops it.
Watcher = Callable[[TakeMoment], str | None]
#: Given every recorded frame (``Frame.timestamp_ms`` is its landmark frame's time).
FrameKeeper = Callable[[Frame], None]


class _KeptFrames:
    """A video file whose frames also go to ``keep`` as they are read (in the thread that
    decodes ahead of the model), those of the first ``duration_s`` seconds (None: all)."""

    def __init__(self, source: FrameSource, keep: FrameKeeper,
                 duration_s: float | None) -> None:
        self.source = source
        self.keep = keep
        self.duration_s = duration_s
        self.name, self.fps, self.frame_count = source.name, source.fps, source.frame_count

    def __iter__(self) -> Iterator[Frame]:
        stop_ms: float | None = None
        with iterating(self.source) as frames:
            for frame in frames:
                if stop_ms is None:
                    stop_ms = frame.timestamp_ms + (math.inf if self.duration_s is None
                                                    else self.duration_s * 1000.0)
                if frame.timestamp_ms < stop_ms:
                    self.keep(frame)
                yield frame

    def shortfall(self) -> str | None:
        """The source's note on frames it could not decode (see ``VideoFileSource``)."""
        note = getattr(self.source, "shortfall", None)
        return note() if callable(note) else None


class _StartGate:
    """When a camera recording starts: after the setup check for ``view`` has passed and the
    countdown has run (``coach.live.setup.SetupGate``), or, with ``view`` None, after the
    countdown alone, counted from the first frame. Times come from the frames (ms)."""

    def __init__(self, countdown_s: float, view: str | None) -> None:
        self.countdown_ms = countdown_s * 1000.0
        self._setup = None if view is None else (SetupGate(countdown_ms=self.countdown_ms),
                                                 view)
        self._first_ms: float | None = None

    def update(self, frame: Frame, pose: FramePose) -> TakeMoment:
        """The phase at this frame: "setup", "countdown" or "recording"."""
        if self._setup is None:
            if self._first_ms is None:
                self._first_ms = frame.timestamp_ms
            left_s = (self.countdown_ms - (frame.timestamp_ms - self._first_ms)) / 1000.0
            phase = "countdown" if left_s > 0 else "recording"
            return TakeMoment(phase, frame, pose, seconds=max(left_s, 0.0))
        gate, view = self._setup
        report = check_setup(pose, view, frame_brightness(frame.rgb))
        state = gate.update(report, frame.timestamp_ms)
        if state.phase == "checking":
            return TakeMoment("setup", frame, pose,
                              report.instructions or (TEXTS["hold_still"],))
        if state.phase == "countdown":
            return TakeMoment("countdown", frame, pose, seconds=state.seconds_left)
        return TakeMoment("recording", frame, pose)


def record_from_source(source: FrameSource, backend: PoseBackend, *,
                       countdown_s: float = COUNTDOWN_S, duration_s: float | None = None,
                       on_countdown: Callable[[int], None] | None = None,
                       on_start: Callable[[], None] | None = None,
                       reopen: Callable[[], FrameSource] | None = None,
                       setup_view: str | None = None, watch: Watcher | None = None,
                       lost_after_s: float = LOST_AFTER_S,
                       keep: FrameKeeper | None = None) -> PoseSequence:
    """Record the followed person's poses from an open ``source``; ``keep`` (when given)
    sees every recorded frame.

    A live source goes through the pipeline's capture: the setup check for the camera view
    ``setup_view`` ("front" or "side"; None: no check), the countdown
    (``on_countdown(seconds_left)`` once per whole second, ``on_start()`` when recording
    begins), then the recording until ``duration_s``, Ctrl-C or ``watch`` returning "quit".
    ``watch`` sees every moment (the preview); ``reopen`` opens the camera again after it
    drops out (None: it cannot come back). Raises ``CameraLostError`` when the camera gave no
    picture for ``lost_after_s``. A file is read to its end (or to ``duration_s``). Raises
    ``InputError`` if nothing was recorded.
    """
    if not source.is_live:
        read = source if keep is None else _KeptFrames(source, keep, duration_s)
        seq = extract_from_source(read, backend, progress=True)
        return seq if duration_s is None else _first_seconds(seq, duration_s)

    def cannot_reopen() -> FrameSource:
        raise InputError(f"{source.name}: the camera stopped")

    capture = FrameCapture(reopen or cannot_reopen, live=True, keep_newest=False,
                           first_source=source, give_up_after_s=lost_after_s,
                           retry_interval_s=REOPEN_INTERVAL_S)
    recorder = PoseRecorder(fps=None, source=source.name)
    start = _StartGate(countdown_s, setup_view)
    start_ms: float | None = None
    last_shown: int | None = None
    try:
        with closing(live_poses(capture, backend.detect)) as poses:
            for item in poses:
                if isinstance(item, CaptureStatus):
                    if item.state != "reconnecting":
                        continue
                    moment = TakeMoment("waiting", lines=(item.message,))
                else:
                    frame, pose = item
                    if start_ms is None:
                        moment = start.update(frame, pose)
                        if moment.phase == "countdown":
                            left = math.ceil(moment.seconds)
                            if left != last_shown and on_countdown is not None:
                                on_countdown(left)
                            last_shown = left
                        elif moment.phase == "recording":
                            start_ms = frame.timestamp_ms
                            if on_start is not None:
                                on_start()
                    if start_ms is not None:
                        elapsed_s = (frame.timestamp_ms - start_ms) / 1000.0
                        if duration_s is not None and elapsed_s > duration_s:
                            break
                        if recorder.image_size is None:
                            recorder.image_size = (frame.rgb.shape[1], frame.rgb.shape[0])
                        recorder.append(pose)
                        if keep is not None:
                            keep(frame)
                        moment = TakeMoment("recording", frame, pose, seconds=elapsed_s)
                if watch is not None and watch(moment) == "quit":
                    break
    except KeyboardInterrupt:
        log.info("recording stopped by the user after %d frames", len(recorder))
    except CameraLostError as err:
        raise CameraLostError(f"{err}; {len(recorder)} frames were recorded, the take was "
                              "not saved") from None
    if not len(recorder):
        raise InputError(f"{source.name}: nothing was recorded")
    return recorder.sequence()


def preview_scene(moment: TakeMoment, title: str, last_scene: np.ndarray | None,
                  duration_s: float | None = None, mirror: bool = True) -> np.ndarray:
    """The preview of one moment as an RGB picture: the picture (as in a mirror when
    ``mirror``) with the skeleton and what to do now; while waiting for the camera,
    ``last_scene`` dimmed (black when None) with why. duration_s: the recording's length,
    for its progress bar (None: no bar)."""
    if moment.frame is None or moment.pose is None:
        scene = np.zeros((480, 640, 3), np.uint8) if last_scene is None else last_scene // 3
        MessageAnnotator().annotate(scene, TEXTS["camera_lost"],
                                    (*moment.lines, TEXTS["camera_detail"]))
        return scene
    rgb = moment.frame.rgb
    scene = mirror_picture(rgb) if mirror else rgb.copy()
    SkeletonAnnotator().annotate(scene, mirror_for_display(moment.pose) if mirror
                                 else moment.pose)
    if moment.phase == "setup":
        MessageAnnotator().annotate(scene, TEXTS["setup"], moment.lines)
        ProgressAnnotator().annotate(scene, title)
    elif moment.phase == "countdown":
        CountdownAnnotator().annotate(scene, moment.seconds, TEXTS["countdown"])
        ProgressAnnotator().annotate(scene, title)
    else:
        fraction = None if not duration_s else min(1.0, moment.seconds / duration_s)
        ProgressAnnotator().annotate(scene, f"{TEXTS['recording']} {title}  "
                                            f"{moment.seconds:.0f} s", fraction)
        NoteAnnotator().annotate(scene, TEXTS["stop_keys"])
    return scene


def _first_seconds(seq: PoseSequence, duration_s: float) -> PoseSequence:
    """The frames of the first ``duration_s`` seconds of ``seq``."""
    stop = seq.timestamps_ms[0] + duration_s * 1000.0
    return seq.slice(0, int((seq.timestamps_ms < stop).sum()))


def record_take(spec: str | int | Path, *, model_path: str | Path | None = None,
                max_people: int = DEFAULT_MAX_PEOPLE, countdown_s: float = COUNTDOWN_S,
                duration_s: float | None = None,
                on_countdown: Callable[[int], None] | None = None,
                on_start: Callable[[], None] | None = None,
                setup_view: str | None = None, watch: Watcher | None = None,
                lost_after_s: float = LOST_AFTER_S,
                opener: Callable[[str | int | Path], FrameSource] = open_source,
                video: Path | None = None) -> PoseSequence:
    """Open a camera index, stream URL, video file or image folder with ``opener`` and
    record a raw take (max_people: people the pose model looks for in each frame; the other
    options as in ``record_from_source``); a landmark recording (``.npz``/``.json``) is read
    as it is, without the model.

    video: keep the recorded frames there as the take's video (``TakeVideoWriter``; the file
    appears only when the recording succeeds). Refused (``InputError``, before the model
    runs) for a landmark recording or an image folder, which have no video to keep.
    """
    if not isinstance(spec, int) and is_recording_path(spec):
        if video is not None:
            raise InputError(_no_video(spec, "a landmark recording"))
        seq = load_recording(spec)
        return seq if duration_s is None else _first_seconds(seq, duration_s)
    with opener(spec) as source, ExitStack() as stack:
        if video is not None and source.still_images:
            raise InputError(_no_video(spec, "an image folder"))
        keep = None if video is None else stack.enter_context(
            TakeVideoWriter(video, source.fps)).write
        mode = "image" if source.still_images else "video"
        with PoseBackend(model_path, mode=mode, max_people=max_people) as backend:
            return record_from_source(source, backend, countdown_s=countdown_s,
                                      duration_s=duration_s, on_countdown=on_countdown,
                                      on_start=on_start, reopen=lambda: opener(spec),
                                      setup_view=setup_view, watch=watch,
                                      lost_after_s=lost_after_s, keep=keep)


def _no_video(spec: str | int | Path, kind: str) -> str:
    """Why ``--keep-video`` cannot be used with the source ``spec``, which is ``kind``."""
    return (f"--keep-video: {spec} is {kind}, which has no video to keep (record from a "
            "camera or a video file)")
