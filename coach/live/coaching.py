"""What the live session coaches against: an exercise of the reference library.

``ExerciseCoaching`` runs the exercise's scorer in its streaming form
(``Exercise.scorer().stream()``, see ``coach.scorer``) and turns each frame's ``LiveState``
into a ``LiveView`` for the overlays: the dial (the frame score, smoothed for a steady
needle: ``Needle``), region colours, the cue, progress or time
held, and for a flowing movement the template's pose at the aligned moment as the ghost. At
the end, ``report()`` is the stream's report, made from the same frame scores the dial showed
(``coach.report`` says how the overall is made from them).
"""

from __future__ import annotations

import math

import numpy as np

from coach.library import Exercise
from coach.live.session import LiveView
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence
from coach.report import Report
from coach.scorer import FlowingScorer

#: The dial's needle trails the frame scores by about this long (seconds): a steady needle.
NEEDLE_LAG_S = 0.7


def needle_step(fps: float) -> float:
    """The share of the way the needle moves to each new frame score at ``fps`` frames per
    second, so that it trails them by ``NEEDLE_LAG_S`` whatever the frame rate."""
    return 1.0 - math.exp(-1.0 / (max(fps, 1e-3) * NEEDLE_LAG_S))


class Needle:
    """The dial's needle: an exponential average of the frame scores, one ``step`` per scored
    frame (``needle_step``), so its average over a session is known exactly
    (``needle_mean``)."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None

    def update(self, score: float | None) -> float | None:
        """The needle after a frame scored ``score`` (None or NaN: not scored, it stays)."""
        if score is None or not math.isfinite(score):
            return self.value
        self.value = score if self.value is None else self.value + self.step * (
            score - self.value)
        return self.value


def needle_mean(scores: np.ndarray, last_needle: float, step: float) -> float:
    """The needle's average over a session from its frame scores (N,), its last value and its
    step: the scores' mean minus ``(1 / step - 1) * (last_needle - scores[0]) / N``. The
    report's form is the scores' mean, so the needle's average differs from it by that lag
    term alone: ``1 / step - 1`` is about ``NEEDLE_LAG_S`` seconds of frames, so over a
    minute the two differ by under a point unless the score moved by more than 80 points."""
    return float(np.mean(scores) - (1.0 / step - 1.0) * (last_needle - scores[0]) / len(scores))


class ExerciseCoaching:
    """Live coaching against one library exercise (see the module docstring).

    mirror: compare with the reference's mirror image (always on for exercises whose takes are
        left-right mirrored; held one-sided postures accept either side).
    image_size: (width, height) of the camera frames. fps: their frame rate (the needle's pace).
    """

    def __init__(self, exercise: Exercise, mirror: bool = False,
                 image_size: tuple[int, int] | None = None, source: str = "live",
                 fps: float = 30.0, params: ScoringParams = DEFAULT_PARAMS) -> None:
        exercise.require_recording("coached")
        self.exercise = exercise
        self.title = exercise.name
        scorer = exercise.scorer(mirror=mirror, params=params)
        self.stream = scorer.stream(image_size, source)
        self.ghost_pose = None
        if isinstance(scorer, FlowingScorer):
            template = scorer.template.mirrored() if scorer.live_mirror else scorer.template
            self.ghost_pose = template.pose
        self.needle = Needle(needle_step(fps))

    def update(self, pose: FramePose) -> LiveView:
        """The overlays' view of one frame (call in time order)."""
        state = self.stream.update(pose)
        ghost = None
        if self.ghost_pose is not None and state.reference_index is not None:
            ghost = self.ghost_pose.frame(state.reference_index)
        return LiveView(score=self.needle.update(state.score),
                        region_scores=dict(state.regions), cue=state.cue_text,
                        progress=state.progress, held_s=state.held_s, target_s=state.target_s,
                        ghost=ghost,
                        ghost_image_size=None if self.ghost_pose is None
                        else self.ghost_pose.image_size,
                        frame_score=state.score)

    def reset(self) -> None:
        """Start again (restart key)."""
        self.stream.reset()
        self.needle.reset()

    def recording(self) -> PoseSequence:
        """The frames with a person coached so far, as detected (unsmoothed)."""
        return self.stream.recording()

    @property
    def frames_kept(self) -> int:
        """How many frames the recording holds (it grows by about 0.9 kB per frame)."""
        return self.stream.frames_kept

    def report(self) -> Report:
        """The session's report from the frames scored live (NotEnoughPoseError if too
        little pose)."""
        return self.stream.report()
