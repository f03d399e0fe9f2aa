"""The coaching loop: frames in, pose, setup check, live scoring, overlays, frames out.

One ``Session.run()`` scores and draws in the caller's thread; frames are read in the capture
thread, the pose model runs one frame ahead in its own thread, and video is encoded in the
video sink's thread. States: "setup" (the setup
check and countdown), "active" (coaching), with "paused" on top; keys or the window give
"pause", "restart" and "quit". Scoring pauses by itself while nobody is in the picture, and
a second person walking in does not take over (the pose backend keeps following the first).

The session ends when the source ends or fails for good, on "quit", when the window is
closed, or on Ctrl-C; ``run`` then returns a ``SessionOutcome`` with the recording and the
report, which the caller saves.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np

from coach.errors import NotEnoughPoseError
from coach.live.keys import KEY_HELP
from coach.live.setup import SetupGate, check_setup, frame_brightness
from coach.live.sinks import Sink
from coach.overlay.countdown import CountdownAnnotator
from coach.overlay.cue import CueAnnotator
from coach.overlay.draw import score_colour
from coach.overlay.follow import FollowAlong
from coach.overlay.fps import FpsAnnotator
from coach.overlay.gauge import ScoreGauge
from coach.overlay.ghost import GhostAnnotator
from coach.overlay.legend import LegendAnnotator
from coach.overlay.message import MessageAnnotator
from coach.overlay.mirror import mirror_for_display, mirror_picture
from coach.overlay.note import NoteAnnotator
from coach.overlay.progress import ProgressAnnotator
from coach.overlay.skeleton import SkeletonAnnotator
from coach.pipeline import FrameCapture, PoseStage
from coach.pose import FramePose, PoseSequence
from coach.report import Report
from coach.sources import Frame

log = logging.getLogger(__name__)

#: Python's thread switch interval during a session, in seconds (default 0.005). The pose
#: model hands results back through the interpreter lock; with the default interval each
#: hand-back may wait 5 ms behind the drawing thread (measured: a frame's pose took 2.2 times
#: as long next to a busy Python thread at 5 ms, 1.25 times at 0.2 ms).
SWITCH_INTERVAL_S = 0.0002
#: Weight of the newest frame interval in the displayed frames-per-second average.
FPS_SMOOTHING = 0.1
#: The follow-along figure runs this far (seconds of the reference) ahead of the person.
FOLLOW_LEAD_S = 0.5
#: A notice about other people, or about nobody being seen, appears only after its cause has
#: lasted this long (ms), and goes after it has been gone this long: one frame's misdetection
#: does not flash a notice.
NOTICE_ON_MS = 1000.0
NOTICE_OFF_MS = 500.0
#: Shown progress only goes back when the aligned moment jumps back by more than this share
#: of the movement (a new repetition), so it does not wobble back and forth.
PROGRESS_RESTART_DROP = 0.5
#: Every plain sentence the session shows, in one place.
TEXTS = {
    "setup": "Setting up",
    "hold_still": "Hold still",
    "paused": "Paused",
    "paused_keys": "Press Space or P to continue",
    "nobody": "Step back into the picture",
    "nobody_detail": "Scoring is paused while nobody is seen",
    "lost_person": "Scoring is paused until the person being coached is seen again",
    "second_person": "Someone else is in view: still coaching the first person",
    "follow": "Follow",
    "preview": "The movement",
    "target": "Hold this pose",
    "camera_lost": "Camera lost",
    "camera_detail": "Check the cable or the stream; the session is kept",
    "countdown": "Get ready",
}


@dataclass(frozen=True)
class LiveView:
    """What the overlays show for one coached frame.

    score: the current 0-100 score (None before there is one).
    region_scores: region -> 0-100 now (None when not measurable); colours the skeleton.
    cue: the instruction to show, or None.
    progress: 0-1 through a flowing movement, None for a held posture.
    held_s / target_s: seconds held in the zone and asked for (held postures).
    ghost: the reference pose at the aligned moment (camera coordinates), or None.
    ghost_image_size: (width, height) of the ghost's image coordinates, when known.
    frame_score: this frame's own score (None when not scored): what the report's timeline
        holds; ``score`` is it smoothed for the dial's needle.
    """

    score: float | None
    region_scores: dict[str, float | None]
    cue: str | None
    progress: float | None = None
    held_s: float | None = None
    target_s: float | None = None
    ghost: FramePose | None = None
    ghost_image_size: tuple[int, int] | None = None
    frame_score: float | None = None


class Coaching(Protocol):
    """The live scorer behind the session (see ``coach.live.coaching``)."""

    title: str

    def update(self, pose: FramePose) -> LiveView: ...
    def reset(self) -> None: ...
    def recording(self) -> PoseSequence: ...
    def report(self) -> Report: ...


@dataclass(frozen=True)
class SessionConfig:
    """How to run a session.

    view: the camera view the exercise expects ("front" or "side").
    mirror_display: flip the picture like a mirror (selfie cameras); cues keep the person's
        own left and right.
    setup_check: run the setup check and countdown before coaching (live cameras).
    """

    view: str = "front"
    mirror_display: bool = False
    setup_check: bool = True


@dataclass
class SessionOutcome:
    """How a session went; ``report`` is the scorer's report, or None with ``report_error``."""

    reason: str
    message: str
    started_at: datetime
    duration_s: float
    frames_processed: int
    frames_coached: int
    frames_scored: int
    frames_dropped: int
    recording: Any
    report: Report | None = None
    report_error: str = ""
    cue_counts: Counter[str] = field(default_factory=Counter)
    mean_fps: float = float("nan")
    wall_s: float = 0.0  # wall-clock seconds from the first frame shown to the last


@dataclass
class _Overlays:
    skeleton: SkeletonAnnotator = field(default_factory=SkeletonAnnotator)
    ghost: GhostAnnotator = field(default_factory=GhostAnnotator)
    cue: CueAnnotator = field(default_factory=CueAnnotator)
    gauge: ScoreGauge = field(default_factory=ScoreGauge)
    progress: ProgressAnnotator = field(default_factory=ProgressAnnotator)
    fps: FpsAnnotator = field(default_factory=FpsAnnotator)
    message: MessageAnnotator = field(default_factory=MessageAnnotator)
    countdown: CountdownAnnotator = field(default_factory=CountdownAnnotator)
    note: NoteAnnotator = field(default_factory=NoteAnnotator)
    legend: LegendAnnotator = field(default_factory=LegendAnnotator)


class Notice:
    """A condition seen frame by frame, shown only once it has lasted ``on_ms`` and hidden
    once it has been gone for ``off_ms`` (times in ms, from the frames)."""

    def __init__(self, on_ms: float = NOTICE_ON_MS, off_ms: float = NOTICE_OFF_MS) -> None:
        self.on_ms, self.off_ms = on_ms, off_ms
        self.reset()

    def reset(self) -> None:
        self.shown = False
        self._since: float | None = None

    def update(self, condition: bool, timestamp_ms: float) -> bool:
        """Feed one frame; returns whether the notice is shown now."""
        if condition != self.shown:
            if self._since is None:
                self._since = timestamp_ms
            if timestamp_ms - self._since >= (self.on_ms if condition else self.off_ms):
                self.shown, self._since = condition, None
        else:
            self._since = None
        return self.shown


class Session:
    """One coaching session over frames from ``capture``.

    detect: the pose backend's ``detect`` (frame -> FramePose of the followed person).
    sinks: where annotated frames go (window, video); a command from any of them is obeyed.
        The processing rate is drawn only on what interactive sinks (the window) show.
    speak: called with each newly shown cue (spoken cues), or None.
    follow: the reference drawn as a figure to follow (a flowing movement), or a held
        posture's target pose (one frame); None for neither.
    """

    # the state of one run of the exercise (``_reset_run``)
    _state: str
    _paused: bool
    _last_view: LiveView | None
    _first_ms: float | None
    _last_ms: float | None
    _cue_counts: Counter[str]
    _coached: int
    _scored: int
    _progress: float | None
    _setup_ms: float | None
    _spoken: str | None

    def __init__(self, capture: FrameCapture, detect: Callable[[Frame], FramePose],
                 coaching: Coaching, config: SessionConfig, sinks: Sequence[Sink],
                 fps: float,
                 speak: Callable[[str], object] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 follow: FollowAlong | None = None) -> None:
        self.capture = capture
        self.detect = detect
        self.coaching = coaching
        self.config = config
        self.sinks = [sink for sink in sinks if not getattr(sink, "interactive", False)]
        self.screens = [sink for sink in sinks if getattr(sink, "interactive", False)]
        self.speak = speak
        self.follow = follow
        self._others = Notice()
        self._nobody = Notice(on_ms=NOTICE_OFF_MS)
        self._clock = clock
        self._overlays = _Overlays()
        self._gate = SetupGate()
        self.fps = fps
        self._last_scene: np.ndarray | None = None
        self._fps: float | None = None
        self._last_wall: float | None = None
        self._started_at = datetime.now(UTC)
        self._frames = 0
        self._reset_run()
        self._fps_sum = 0.0
        self._fps_n = 0
        self._stage: PoseStage | None = None

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> SessionOutcome:
        """Run until the source ends, "quit", the window closes, or Ctrl-C."""
        reason, message = "finished", ""
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        try:
            with PoseStage(self.capture, self.detect) as stage:
                self._stage = stage
                while True:
                    item = stage.get(timeout_s=0.1)
                    if item is None:
                        status = self.capture.status
                        if stage.ended:
                            message = status.message
                            reason = "source failed" if status.failed else "finished"
                            break
                        command = self._idle(status.message) if status.state == \
                            "reconnecting" else None
                    else:
                        command = self._step(*item)
                    if command == "quit":
                        reason = "quit"
                        break
                    if command == "pause":
                        self._paused = not self._paused
                    elif command == "restart":
                        self._restart()
        except KeyboardInterrupt:
            reason, message = "interrupted", "Interrupted"
        finally:
            sys.setswitchinterval(switch_interval)
        return self._finish(reason, message)

    def _step(self, frame: Frame, pose: FramePose) -> str | None:
        self._frames += 1
        self._tick()
        mirror = self.config.mirror_display
        scene = mirror_picture(frame.rgb) if mirror else (
            frame.rgb if frame.rgb.flags.writeable else frame.rgb.copy())
        shown = mirror_for_display(pose) if mirror else pose
        ov = self._overlays
        others = self._others.update(pose.people_seen > 1 and pose.present, frame.timestamp_ms)
        if self._state == "setup":
            report = check_setup(pose, self.config.view, frame_brightness(frame.rgb))
            gate = self._gate.update(report, frame.timestamp_ms)
            ov.skeleton.annotate(scene, shown)
            if self.follow is not None and gate.phase == "checking":
                if self._setup_ms is None:
                    self._setup_ms = frame.timestamp_ms
                self.follow.annotate(scene, self.follow.index_looping(
                    frame.timestamp_ms - self._setup_ms), self._follow_caption("preview"))
            if gate.phase == "checking":
                ov.message.annotate(scene, TEXTS["setup"],
                                    report.instructions or (TEXTS["hold_still"],))
            elif gate.phase == "countdown":
                ov.countdown.annotate(scene, gate.seconds_left, TEXTS["countdown"])
            else:
                self._state = "active"
            ov.progress.annotate(scene, self.coaching.title)
        elif self._paused:
            self._draw_view(scene, shown, self._last_view)
            ov.message.annotate(scene, TEXTS["paused"], (TEXTS["paused_keys"], KEY_HELP))
        else:
            self._coach(pose, frame.timestamp_ms)
            self._draw_view(scene, shown, self._last_view if pose.present else None)
            if self._nobody.update(not pose.present, frame.timestamp_ms):
                ov.message.annotate(scene, TEXTS["nobody"], (
                    TEXTS["lost_person" if pose.people_seen else "nobody_detail"],))
        if others:
            ov.note.annotate(scene, TEXTS["second_person"])
        self._last_scene = scene
        command = self._emit(scene, frame.timestamp_ms, self.sinks)
        if self.screens:
            ov.fps.annotate(scene, self._fps)
            command = self._emit(scene, frame.timestamp_ms, self.screens) or command
        return command

    def _coach(self, pose: FramePose, timestamp_ms: float) -> None:
        self._coached += 1
        if self._first_ms is None:
            self._first_ms = timestamp_ms
            self._started_at = datetime.now(UTC)
        self._last_ms = timestamp_ms
        if not pose.present:
            return
        view = self.coaching.update(pose)
        self._scored += 1
        if view.cue:
            self._cue_counts[view.cue] += 1
            if self.speak is not None and view.cue != self._spoken:
                self._spoken = view.cue  # a cue back after a moment without one is not repeated
                self.speak(view.cue)
        self._last_view = view

    def _draw_view(self, scene: np.ndarray, shown: FramePose, view: LiveView | None) -> None:
        ov = self._overlays
        mirror = self.config.mirror_display
        if view is not None and view.ghost is not None:
            ghost = mirror_for_display(view.ghost) if mirror else view.ghost
            ov.ghost.annotate(scene, ghost, shown, view.ghost_image_size)
        colours = None if view is None else {
            region: score_colour(value) for region, value in view.region_scores.items()}
        ov.skeleton.annotate(scene, shown, colours)
        ov.gauge.annotate(scene, None if view is None else view.score)
        ov.legend.annotate(scene)
        progress = None if view is None else self._shown_progress(view.progress)
        if self.follow is not None:
            self.follow.annotate(scene, self.follow.index_at(progress, FOLLOW_LEAD_S),
                                 self._follow_caption("follow"))
        if view is None:
            ov.progress.annotate(scene, self.coaching.title)
        else:
            ov.progress.annotate(scene, self.coaching.title, progress, view.held_s,
                                 view.target_s)
            ov.cue.annotate(scene, view.cue)

    def _follow_caption(self, key: str) -> str:
        """The follow-along panel's caption: a held posture's figure is one target pose."""
        held = self.follow is not None and len(self.follow) == 1
        return TEXTS["target"] if held else TEXTS[key]

    def _shown_progress(self, progress: float | None) -> float | None:
        """Progress that only moves forward within a repetition (see PROGRESS_RESTART_DROP)."""
        if progress is None or not np.isfinite(progress):
            return progress
        last = self._progress
        if last is None or progress >= last or progress < last - PROGRESS_RESTART_DROP:
            self._progress = float(progress)
        return self._progress

    def _idle(self, message: str) -> str | None:
        """While the camera is being reconnected: the last picture with the reason."""
        if self._last_scene is None:
            scene = np.zeros((480, 640, 3), np.uint8)
        else:
            scene = self._last_scene // 3  # uint8 stays uint8 (a new array)
        self._overlays.message.annotate(scene, TEXTS["camera_lost"],
                                        (message, TEXTS["camera_detail"]))
        return self._emit(scene, float("nan"), self.screens)

    @staticmethod
    def _emit(scene: np.ndarray, timestamp_ms: float, sinks: Sequence[Sink]) -> str | None:
        command = None
        for sink in sinks:
            command = sink.show(scene, timestamp_ms) or command
        return command

    def _tick(self) -> None:
        now = self._clock()
        if self._last_wall is not None and now > self._last_wall:
            rate = 1.0 / (now - self._last_wall)
            self._fps = rate if self._fps is None else \
                (1 - FPS_SMOOTHING) * self._fps + FPS_SMOOTHING * rate
            self._fps_sum += now - self._last_wall
            self._fps_n += 1
        self._last_wall = now

    def _restart(self) -> None:
        log.info("session restarted")
        self.coaching.reset()
        self._gate.reset()
        self._reset_run()

    def _reset_run(self) -> None:
        """The state of one run of the exercise: set up at the start and on "restart"."""
        self._state = "setup" if self.config.setup_check else "active"
        self._paused = False
        self._last_view = None
        self._first_ms = None
        self._last_ms = None
        self._cue_counts = Counter()
        self._coached = self._scored = 0
        self._progress = None
        self._setup_ms = None
        self._spoken = None
        self._others.reset()
        self._nobody.reset()

    def _finish(self, reason: str, message: str) -> SessionOutcome:
        recording = self.coaching.recording()
        report, error = None, ""
        if self._scored:
            try:
                report = self.coaching.report()
            except NotEnoughPoseError as err:
                error = str(err)
        else:
            error = "nobody was coached: not enough pose to score"
        duration = 0.0 if self._first_ms is None or self._last_ms is None else \
            (self._last_ms - self._first_ms) / 1000.0 + 1.0 / self.fps
        return SessionOutcome(
            reason=reason, message=message, started_at=self._started_at, duration_s=duration,
            frames_processed=self._frames, frames_coached=self._coached,
            frames_scored=self._scored,
            frames_dropped=self.capture.status.dropped + (
                self._stage.dropped if self._stage is not None else 0),
            recording=recording, report=report, report_error=error,
            cue_counts=Counter(self._cue_counts),
            mean_fps=self._fps_n / self._fps_sum if self._fps_sum > 0 else float("nan"),
            wall_s=self._fps_sum,
        )
