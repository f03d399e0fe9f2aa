"""One entry point to score an attempt against any exercise of the library.

Flowing movements are scored by the scorer (``coach.scoring.score``) against the template
built from the instructor's takes; held postures by time inside their targets
(``coach.library.held``). Both reports offer ``to_dict()`` (the same main keys: overall,
regions, cues, tempo, plane, timeline) and ``summary_text()``, so callers treat them alike.
"""

from __future__ import annotations

from typing import Any, Protocol

from coach.library.held import score_held
from coach.library.store import Exercise
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence


class ExerciseReport(Protocol):
    """What both kinds of report offer."""

    overall: float

    def to_dict(self) -> dict[str, Any]: ...
    def summary_text(self) -> str: ...


def score_exercise(attempt: PoseSequence, exercise: Exercise,
                   mirror: bool = False, params: ScoringParams = DEFAULT_PARAMS) -> ExerciseReport:
    """Score ``attempt`` against ``exercise``.

    ``mirror``: also compare with the mirror image and keep the better (a person following
    as in a mirror, or the other side of a one-sided posture). It is always on for exercises
    whose takes have their left and right labels mirrored and for one-sided exercises done on
    either side (``left_right_mirrored`` / ``either_side`` in the metadata).
    """
    mirror = mirror or exercise.meta.left_right_mirrored or exercise.meta.either_side
    if exercise.is_held:
        return score_held(attempt, exercise.meta, name=exercise.slug, mirror=mirror,
                          params=params)
    exercise.require_recording("scored")
    from coach.scoring import score

    return score(attempt, exercise.template(params), mirror="auto" if mirror else False,
                 params=params)
