"""The scoring engine's one interface, for flowing movements and held postures alike.

A ``Scorer`` judges attempts against one exercise: ``score(sequence)`` offline (a file, a
batch input) and ``stream(...)`` for a live session, whose ``update(frame)`` gives the
dial's state of each frame and whose ``report()`` is made from those same frame scores. Both
give one ``coach.report.Report``. ``coach.library.Exercise.scorer()`` hands out the right
one: ``FlowingScorer`` (a template recorded by an instructor, DTW alignment;
``coach.scoring``, ``coach.live_scoring``) or ``coach.library.held.HeldScorer`` (target
angles).
"""

from __future__ import annotations

from typing import Literal, Protocol

from coach.live_scoring import LiveScorer, LiveState
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence
from coach.report import Report
from coach.scoring import score
from coach.template import Template


class ScoreStream(Protocol):
    """A live session's scorer: one frame at a time, then the session's report."""

    def update(self, frame: FramePose) -> LiveState: ...
    def reset(self) -> None: ...
    def recording(self) -> PoseSequence: ...
    def report(self) -> Report: ...

    @property
    def frames_kept(self) -> int: ...


class Scorer(Protocol):
    """Judges attempts against one exercise (see the module docstring)."""

    kind: str

    def score(self, attempt: PoseSequence) -> Report: ...
    def stream(self, image_size: tuple[int, int] | None = None,
               source: str = "live") -> ScoreStream: ...


class FlowingScorer:
    """The scorer of a flowing movement against its template.

    mirror: offline, False, True (compare with the reference's mirror image) or "auto" (both,
    the better kept). live_mirror: whether a live session compares with the mirror image (a
    live session cannot wait to see which side fits better).
    """

    kind = "flowing"

    def __init__(self, template: Template, mirror: bool | Literal["auto"] = False,
                 live_mirror: bool = False, params: ScoringParams = DEFAULT_PARAMS) -> None:
        self.template, self.mirror, self.params = template, mirror, params
        self.live_mirror = live_mirror

    def score(self, attempt: PoseSequence) -> Report:
        """Score a whole recording (``coach.scoring.score``)."""
        return score(attempt, self.template, mirror=self.mirror, params=self.params)

    def stream(self, image_size: tuple[int, int] | None = None,
               source: str = "live") -> LiveScorer:
        """A live scorer for a session (``coach.live_scoring.LiveScorer``)."""
        return LiveScorer(self.template, mirror=self.live_mirror, image_size=image_size,
                          source=source, params=self.params)
