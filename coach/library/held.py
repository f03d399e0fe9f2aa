"""Scoring a held posture: time inside the target zone, how steady, how close to the targets.

A held posture is defined by target feature values and tolerances alone (see
``coach.library.meta.HoldSpec``). Per frame and target feature, the deviation in tolerance
units ``z = |value - target| / tolerance`` is scored as the scorer scores a flowing movement
(``coach.scoring.feature_score`` with ``ScoringParams.held_softness``: 100 on target, about
80 at the tolerance's edge). A frame is
"in the zone" when every measurable target is within its tolerance. Steadiness is how little
the features move while in the zone (100 = still; 0 = a standard deviation of one tolerance).

overall = the mean of the timeline (each frame's score, ``held_frame_scores``: half the
weighted mean of the target scores, half the lowest of them; frames with a person): what a
live gauge averaged over the session reads. How long the posture was held
(time in the zone, the longest hold against the target seconds) is reported beside it, not
mixed into it, so a short clip of a good posture is not marked down for its length.

Every target posture also sets the trunk's orientation (``trunk_flexion_deg`` against the
vertical: 0 upright, about 90 on hands and knees or lying face down with the chest lifted,
past 90 folded forward, negative lying face up), so joint angles alone never make a standing
person match a lying posture.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.cues import cues_for_deviation
from coach.errors import NotEnoughPoseError
from coach.features import SPECS, FeatureTrack, mirror_indices
from coach.landmarks import REGIONS
from coach.library.meta import ExerciseMeta
from coach.numbers import rounded
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.scoring import feature_score, weighted_mean
from coach.template import prepare_sequence

log = logging.getLogger(__name__)

#: Fewest frames with a measurable target feature to score a hold.
MIN_FRAMES = 3
#: Cues listed at most, spine first (see ``coach.cues``).
MAX_CUES = 3
#: Frames whose feature confidence is below this do not count.
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class TargetResult:
    """How one target feature went: values in the feature's unit."""

    name: str
    region: str
    target: float
    tolerance: float
    median: float
    in_zone_fraction: float
    score: float


@dataclass(frozen=True)
class HeldReport:
    """The result of scoring a held posture; ``to_dict`` has the flowing report's main keys.

    timeline_ms: (T,) frame times; frame_scores: (T,) 0-100 (NaN without a person);
    in_zone: (T,) bool.
    """

    exercise: str
    overall: float
    regions: dict[str, float | None]
    form: float
    time_in_zone_s: float
    longest_hold_s: float
    target_hold_s: float
    steadiness: float | None
    targets: tuple[TargetResult, ...]
    timeline_ms: np.ndarray
    frame_scores: np.ndarray
    in_zone: np.ndarray
    cues: tuple[str, ...]
    cue_keys: tuple[tuple[str, str], ...]
    plane: str
    mirrored: bool
    unmeasured: tuple[str, ...] = field(default=())
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the flowing report's keys (``ScoreReport.to_dict``) plus
        ``"held"``; tempo and coverage do not apply to a held posture and are None."""
        return {
            "source": self.source,
            "reference": {"name": self.exercise, "version": None},
            "overall": rounded(self.overall),
            "regions": {k: rounded(v) for k, v in self.regions.items()},
            "features": {t.name: rounded(t.score) for t in self.targets},
            "tempo": {"ratio": None, "text": "held posture: no tempo"},
            "reference_covered": None,
            "cues": list(self.cues),
            "cue_keys": [list(k) for k in self.cue_keys],
            "worst_moments": [],
            "timeline": {"timestamp_ms": [rounded(t) for t in self.timeline_ms],
                         "score": [rounded(v) for v in self.frame_scores],
                         "in_zone": [bool(z) for z in self.in_zone]},
            "plane": self.plane,
            "mirrored": self.mirrored,
            "frames_used": int(np.isfinite(self.frame_scores).sum()),
            "frames_dropped": int((~np.isfinite(self.frame_scores)).sum()),
            "held": {
                "form": rounded(self.form),
                "time_in_zone_s": rounded(self.time_in_zone_s, 2),
                "longest_hold_s": rounded(self.longest_hold_s, 2),
                "target_hold_s": rounded(self.target_hold_s, 2),
                "steadiness": rounded(self.steadiness),
                "targets": [{"feature": t.name, "region": t.region, "target": t.target,
                             "tolerance": t.tolerance, "median": rounded(t.median),
                             "in_zone_fraction": rounded(t.in_zone_fraction, 3),
                             "score": rounded(t.score)} for t in self.targets],
                "not_measurable": list(self.unmeasured),
            },
        }

    def summary_text(self) -> str:
        """A few lines for the terminal."""
        lines = [f"{self.exercise}: {self.overall:.0f}/100 (held posture)",
                 f"  held in the zone {self.time_in_zone_s:.1f} s in all, longest "
                 f"{self.longest_hold_s:.1f} s of {self.target_hold_s:.0f} s asked",
                 "  steadiness " + ("n/a" if self.steadiness is None
                                    else f"{self.steadiness:.0f}/100")]
        regions = ", ".join(f"{k} {v:.0f}" for k, v in self.regions.items() if v is not None)
        lines.append(f"  regions: {regions}")
        for cue in self.cues:
            lines.append(f"  cue: {cue}")
        if self.unmeasured:
            lines.append("  not measurable from these landmarks: " + ", ".join(self.unmeasured))
        lines.append(f"  features from {self.plane} landmarks"
                     + (" (mirror image)" if self.mirrored else ""))
        return "\n".join(lines)


def _runs(mask: np.ndarray, ts_ms: np.ndarray, frame_ms: float) -> tuple[float, float]:
    """(total seconds, longest continuous seconds) where ``mask`` is True."""
    if not mask.any():
        return 0.0, 0.0
    total = float(mask.sum()) * frame_ms / 1000.0
    longest, start = 0.0, None
    for i, m in enumerate(np.append(mask, False)):
        if m and start is None:
            start = i
        elif not m and start is not None:
            longest = max(longest, (ts_ms[i - 1] - ts_ms[start]) + frame_ms)
            start = None
    return total, longest / 1000.0


def _evaluate(track: FeatureTrack, meta: ExerciseMeta) -> tuple[np.ndarray, np.ndarray,
                                                                list[str], list[str]]:
    """(z (T, K) deviations in tolerance units, weights (K,), target names, unmeasured)."""
    targets = meta.hold.targets
    names = [n for n in targets if n in track.names]
    unmeasured = [n for n in targets if n not in track.names]
    cols = [track.names.index(n) for n in names]
    values = track.values[:, cols]
    conf = track.confidence[:, cols]
    values = np.where(conf >= MIN_CONFIDENCE, values, np.nan)
    target = np.array([targets[n] for n in names])
    tol = np.array([meta.tolerances[n] for n in names])
    weights = np.array([meta.weights.get(n, SPECS[n].weight) for n in names])
    return np.abs(values - target) / tol, weights, names, unmeasured


def held_frame_scores(target_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T,) frame scores 0-100 of a held posture from each target's score (T, K) and the
    targets' weights (K,): the mean of the weighted mean and the lowest target score. A
    posture is as good as its targets on average and as its worst one: many matching joints
    cannot outvote a body held the wrong way round (upright for a lying posture). NaN where no
    target is measurable. The live gauge and the offline report both use this."""
    scores = np.atleast_2d(target_scores)
    mean = weighted_mean(scores, np.broadcast_to(weights, scores.shape), axis=1)
    known = np.isfinite(scores).any(axis=1)
    lowest = np.full(len(scores), np.nan)
    lowest[known] = np.nanmin(scores[known], axis=1)
    return 0.5 * (np.asarray(mean) + lowest)


def score_held(attempt: PoseSequence, meta: ExerciseMeta, *, name: str = "",
               mirror: bool = False, params: ScoringParams = DEFAULT_PARAMS) -> HeldReport:
    """Score ``attempt`` against a held posture's targets; ``mirror`` also tries the mirror
    image (the other side) and keeps the better."""
    if meta.hold is None:
        raise ValueError(f"{meta.name}: not a held posture")
    smooth, track = prepare_sequence(attempt, params)
    candidates = [(track, False)]
    if mirror:
        perm, signs = mirror_indices(track.names)
        flipped = FeatureTrack(track.values[:, perm] * signs, track.confidence[:, perm],
                               track.names, track.timestamps_ms, track.plane, track.up,
                               track.mirrored)
        candidates.append((flipped, True))
    reports = [_score_track(t, meta, name or meta.name, m, attempt.source, params)
               for t, m in candidates]
    return max(reports, key=lambda r: r.overall)


def _score_track(track: FeatureTrack, meta: ExerciseMeta, name: str, mirrored: bool,
                 source: str, params: ScoringParams) -> HeldReport:
    min_hold_s, softness = params.min_hold_s, params.held_softness
    z, weights, names, unmeasured = _evaluate(track, meta)
    measurable = np.isfinite(z)
    frames = measurable.any(axis=1)
    seen = track.timestamps_ms[frames]
    period_s = float(np.median(np.diff(seen))) / 1000.0 if len(seen) > 1 else 0.0
    seen_s = (seen[-1] - seen[0]) / 1000.0 + period_s if len(seen) else 0.0
    if names and frames.sum() >= MIN_FRAMES and seen_s < min_hold_s:
        raise NotEnoughPoseError(f"{source or name}: the posture is seen for {seen_s:.1f} s, too "
                                 f"short to judge a hold (at least {min_hold_s:.1f} s), not "
                                 "scored")
    if not names or frames.sum() < MIN_FRAMES:
        why = ("none of its target features can be measured from "
               f"{track.plane} landmarks ({', '.join(unmeasured)})" if not names
               else f"only {int(frames.sum())} frames show the target features")
        raise NotEnoughPoseError(f"not enough pose to score '{name}': {why}")
    close = feature_score(z, softness)
    frame_scores = held_frame_scores(close, weights)
    in_zone = frames & np.all(~measurable | (z <= 1.0), axis=1)
    ts = track.timestamps_ms
    frame_ms = float(np.median(np.diff(ts))) if len(ts) > 1 else 1000.0 / 30.0
    total_s, longest_s = _runs(in_zone, ts, frame_ms)
    form = float(np.nanmean(frame_scores))
    overall = form
    results = []
    for k, n in enumerate(names):
        col = z[:, k]
        ok = np.isfinite(col)
        values = track.column(n)
        results.append(TargetResult(
            name=n, region=SPECS[n].region, target=meta.hold.targets[n],
            tolerance=meta.tolerances[n],
            median=float(np.nanmedian(values[ok])) if ok.any() else float("nan"),
            in_zone_fraction=float((col[ok] <= 1.0).mean()) if ok.any() else float("nan"),
            score=float(np.nanmean(close[ok, k])) if ok.any() else float("nan")))
    target_scores = np.array([r.score for r in results])
    regions: dict[str, float | None] = {}
    for region in REGIONS:
        mask = np.array([r.region == region for r in results])
        value = weighted_mean(target_scores, np.where(mask, weights, 0.0))
        regions[region] = value if np.isfinite(value) else None
    steadiness = None
    if in_zone.sum() >= MIN_FRAMES:
        tol = np.array([meta.tolerances[n] for n in names])
        held = np.stack([track.column(n) for n in names], axis=1)[in_zone]
        seen = np.isfinite(held).any(axis=0)  # targets never measured have no spread
        sd = np.nanstd(held[:, seen], axis=0) / tol[seen]
        steadiness = float(100.0 * np.clip(1.0 - np.nanmean(sd), 0.0, 1.0))
    deviation = np.array([(r.median - r.target) / r.tolerance for r in results])
    cues = cues_for_deviation(names, deviation, weights)[:MAX_CUES]
    return HeldReport(
        exercise=name, overall=float(overall), regions=regions, form=form,
        time_in_zone_s=total_s, longest_hold_s=longest_s, target_hold_s=meta.hold.seconds,
        steadiness=steadiness, targets=tuple(results), timeline_ms=np.asarray(ts),
        frame_scores=frame_scores, in_zone=in_zone, cues=tuple(c.text for c in cues),
        cue_keys=tuple(c.key for c in cues), plane=track.plane,
        mirrored=mirrored, unmeasured=tuple(unmeasured), source=source)
