"""Rows of ``bench/quality.py`` from the bundled video clips (the real pose model on them).

- Other cameras: the pose2sim lunge-and-reach was filmed at the same moment by four cameras.
  The built-in ``lunge-and-reach`` exercise's take is the ``cam01`` view; the other three views
  are the same correct movement from other angles, so they should score high with few cues.
- Same person, other repetition: the squat clip holds four squats; the first is the
  reference (one take), the others are attempts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from clips import DEFAULT_CACHE, load_clip

from coach.features import compute_features
from coach.library.store import Library
from coach.pose import PoseSequence
from coach.scoring import score
from coach.template import template_from_sequence


def squat_repetitions(seq: PoseSequence) -> list[PoseSequence]:
    """The clip cut half-way through the standing between squats: a squat is a run of frames
    whose knee angle is below half-way between the clip's deepest and straightest."""
    track = compute_features(seq)
    knee = np.nanmean([track.column(n) for n in ("left_knee_deg", "right_knee_deg")], axis=0)
    deep = knee < (np.nanmin(knee) + np.nanmax(knee)) / 2.0
    edges = np.flatnonzero(np.diff(deep.astype(int)))
    starts = [e + 1 for e in edges if not deep[e]] + ([0] if deep[0] else [])
    ends = [e for e in edges if deep[e]] + ([len(knee) - 1] if deep[-1] else [])
    runs = sorted(zip(sorted(starts), sorted(ends), strict=False))
    cuts = [0] + [(stop + nxt) // 2 + 1 for (_, stop), (nxt, _) in zip(runs, runs[1:],
                                                                       strict=False)]
    cuts.append(len(seq))
    return [seq.slice(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def other_views_rows(cache: Path | None = None) -> dict[str, float]:
    """Print the camera-angle and other-repetition rows; return their figures."""
    cache = cache or DEFAULT_CACHE
    exercise = Library.open(include_builtin=True, env={}).get("lunge-and-reach")
    print("\nOther cameras: the pose2sim lunge-and-reach (reference: the cam01 take of the "
          "built-in exercise)")
    out: dict[str, float] = {}
    for cam in ("cam02", "cam03", "cam04"):
        report = exercise.scorer().score(load_clip(cam, cache))
        out[cam] = report.overall
        out[f"{cam}_cues"] = len(report.cues)
        print(f"  {cam}: score {report.overall:5.1f} (form {report.form:5.1f} x coverage "
              f"{report.coverage_factor:.2f} x tempo {report.tempo_factor:.2f}; "
              f"{report.reference_covered:.0%} of the reference's movement covered), "
              f"{len(report.cues)} cue(s)"
              + (f": {'; '.join(report.cues)}" if report.cues else ""))
    reps = squat_repetitions(load_clip("squats", cache))
    template = template_from_sequence(reps[0], "squat repetition 1")
    print(f"\nSame person, other repetition: the squat clip cut into {len(reps)} repetitions, "
          "the first as the reference (the clip ends before the last squat is done)")
    for k, rep in enumerate(reps[1:], 2):
        report = score(rep, template)
        out[f"squat_rep{k}"] = report.overall
        print(f"  repetition {k}: score {report.overall:5.1f}, {len(report.cues)} cue(s)"
              + (f": {'; '.join(report.cues)}" if report.cues else ""))
    return out
