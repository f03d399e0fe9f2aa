"""Scoring a held posture: time inside the target zone, how steady, how close to the targets.

A held posture is defined by target feature values and tolerances alone (see
``coach.library.meta.HoldSpec``). Per frame and target feature, the deviation in tolerance
units ``z = |value - target| / tolerance`` gives a closeness ``100 * clip(1.5 - z, 0, 1)``:
100 up to half a tolerance off, 50 at the tolerance, 0 at 1.5 tolerances. A frame is
"in the zone" when every measurable target is within its tolerance. Steadiness is how little
the features move while in the zone (100 = still; 0 = a standard deviation of one tolerance).

overall = (1 - HOLD_SHARE) * form + HOLD_SHARE * min(1, longest hold / target seconds) * 100,
where form is the weighted mean closeness over the frames with a person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.cues import cues_for_deviation
from coach.errors import NotEnoughPoseError
from coach.features import SPECS, FeatureTrack, compute_features, mirror_indices
from coach.landmarks import REGIONS
from coach.library.meta import ExerciseMeta
from coach.pose import PoseSequence

log = logging.getLogger(__name__)

#: Share of the overall score given by how long the posture was held against its target time.
HOLD_SHARE = 0.2
#: Fewest frames with a measurable target feature to score a hold.
MIN_FRAMES = 3
#: Cues listed at most, spine first (see ``coach.cues``).
MAX_CUES = 3
#: Frames whose feature confidence is below this do not count.
MIN_CONFIDENCE = 0.3


def closeness(z: np.ndarray) -> np.ndarray:
    """Score 0-100 from deviations in tolerance units (NaN stays NaN)."""
    return 100.0 * np.clip(1.5 - z, 0.0, 1.0)


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
    plane: str
    mirrored: bool
    unmeasured: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (NaN becomes None)."""
        def num(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), 2)

        return {
            "exercise": self.exercise,
            "kind": "held",
            "overall": num(self.overall),
            "regions": {k: num(v) for k, v in self.regions.items()},
            "cues": list(self.cues),
            "tempo": None,
            "plane": self.plane,
            "mirrored": self.mirrored,
            "held": {
                "form": num(self.form),
                "time_in_zone_s": num(self.time_in_zone_s),
                "longest_hold_s": num(self.longest_hold_s),
                "target_hold_s": num(self.target_hold_s),
                "steadiness": num(self.steadiness),
                "targets": [{"feature": t.name, "region": t.region, "target": t.target,
                             "tolerance": t.tolerance, "median": num(t.median),
                             "in_zone_fraction": num(t.in_zone_fraction),
                             "score": num(t.score)} for t in self.targets],
                "not_measurable": list(self.unmeasured),
            },
            "timeline": [{"t_ms": num(t), "score": num(s), "in_zone": bool(z)}
                         for t, s, z in zip(self.timeline_ms, self.frame_scores, self.in_zone,
                                            strict=True)],
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


def score_held(attempt: PoseSequence, meta: ExerciseMeta, *, name: str = "",
               mirror: bool = False) -> HeldReport:
    """Score ``attempt`` against a held posture's targets; ``mirror`` also tries the mirror
    image (the other side) and keeps the better."""
    if meta.hold is None:
        raise ValueError(f"{meta.name}: not a held posture")
    track = compute_features(attempt)
    candidates = [(track, False)]
    if mirror:
        perm, signs = mirror_indices(track.names)
        flipped = FeatureTrack(track.values[:, perm] * signs, track.confidence[:, perm],
                               track.names, track.timestamps_ms, track.plane, track.up,
                               track.mirrored)
        candidates.append((flipped, True))
    reports = [_score_track(t, meta, name or meta.name, m) for t, m in candidates]
    return max(reports, key=lambda r: r.overall)


def _score_track(track: FeatureTrack, meta: ExerciseMeta, name: str,
                 mirrored: bool) -> HeldReport:
    z, weights, names, unmeasured = _evaluate(track, meta)
    measurable = np.isfinite(z)
    frames = measurable.any(axis=1)
    if not names or frames.sum() < MIN_FRAMES:
        why = ("none of its target features can be measured from "
               f"{track.plane} landmarks ({', '.join(unmeasured)})" if not names
               else f"only {int(frames.sum())} frames show the target features")
        raise NotEnoughPoseError(f"not enough pose to score '{name}': {why}")
    close = closeness(z)
    w = np.where(measurable, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame_scores = np.where(frames, np.nansum(np.nan_to_num(close) * w, axis=1)
                                / w.sum(axis=1), np.nan)
    in_zone = frames & np.all(~measurable | (z <= 1.0), axis=1)
    ts = track.timestamps_ms
    frame_ms = float(np.median(np.diff(ts))) if len(ts) > 1 else 1000.0 / 30.0
    total_s, longest_s = _runs(in_zone, ts, frame_ms)
    form = float(np.nanmean(frame_scores))
    hold_fraction = min(1.0, longest_s / meta.hold.seconds)
    overall = (1.0 - HOLD_SHARE) * form + HOLD_SHARE * 100.0 * hold_fraction
    results = []
    for k, n in enumerate(names):
        col = z[:, k]
        ok = np.isfinite(col)
        values = track.column(n)
        results.append(TargetResult(
            name=n, region=SPECS[n].region, target=meta.hold.targets[n],
            tolerance=meta.tolerances[n],
            median=float(np.nanmedian(values[ok])) if ok.any() else float("nan"),
            in_zone_fraction=float((col[ok] <= 1.0).mean()) if ok.any() else 0.0,
            score=float(np.nanmean(close[ok, k])) if ok.any() else float("nan")))
    regions: dict[str, float | None] = {}
    for region in REGIONS:
        scores = [(r.score, weights[i]) for i, r in enumerate(results)
                  if r.region == region and np.isfinite(r.score)]
        regions[region] = (sum(s * wt for s, wt in scores) / sum(wt for _, wt in scores)
                           if scores and sum(wt for _, wt in scores) > 0 else None)
    steadiness = None
    if in_zone.sum() >= MIN_FRAMES:
        tol = np.array([meta.tolerances[n] for n in names])
        sd = np.nanstd(np.stack([track.column(n) for n in names], axis=1)[in_zone], axis=0) / tol
        steadiness = float(100.0 * np.clip(1.0 - np.nanmean(sd), 0.0, 1.0))
    deviation = np.array([(r.median - r.target) / r.tolerance for r in results])
    cues = tuple(c.text for c in cues_for_deviation(names, deviation, weights))[:MAX_CUES]
    return HeldReport(
        exercise=name, overall=float(overall), regions=regions, form=form,
        time_in_zone_s=total_s, longest_hold_s=longest_s, target_hold_s=meta.hold.seconds,
        steadiness=steadiness, targets=tuple(results), timeline_ms=np.asarray(ts),
        frame_scores=frame_scores, in_zone=in_zone, cues=cues, plane=track.plane,
        mirrored=mirrored, unmeasured=tuple(unmeasured))
