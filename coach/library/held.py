"""Scoring a held posture: time inside the target zone, how steady, how close to the targets.

A held posture is defined by target feature values and tolerances alone (see
``coach.library.meta.HoldSpec``). Per frame and target feature, the deviation in tolerance
units ``z = |value - target| / tolerance`` is scored as the scorer scores a flowing movement
(``coach.scoring.feature_score`` with ``ScoringParams.held_softness``: 100 on target, about
80 at the tolerance's edge). A frame is "in the zone" when every measurable target is within
its tolerance. Steadiness is how little
the features move while in the zone (100 = still; 0 = a standard deviation of one tolerance).

overall = the mean of the timeline (each frame's score, ``held_frame_scores``: half the
weighted mean of the target scores, half the lowest of them; frames where a target is
measured): what the live gauge averaged over the session reads. One implementation serves
both: ``HeldTargets`` (deviations), ``held_frame_scores`` and ``held_report``, offline
(``score_held``) and live (``HeldStream``). How long the posture was held
(time in the zone, the longest hold against the target seconds) is reported beside it, not
mixed into it, so a short clip of a good posture is not marked down for its length.

Every target posture also sets the trunk's orientation (``trunk_flexion_deg`` against the
vertical: 0 upright, about 90 on hands and knees or lying face down with the chest lifted,
past 90 folded forward, negative lying face up), so joint angles alone never make a standing
person match a lying posture.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from coach.cues import CueScheduler, cues_for_deviation
from coach.errors import NotEnoughPoseError
from coach.features import SPECS, feature_names, mirror_indices
from coach.geometry import USABLE_VISIBILITY
from coach.landmarks import REGIONS
from coach.library.meta import ExerciseMeta
from coach.live_scoring import LiveFeatures, LiveState, RecordingStream, main_plane
from coach.numbers import finite_or_none
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence
from coach.report import HeldSection, Report, TargetResult, read_only
from coach.scoring import (
    feature_score,
    frame_scores,
    region_masks,
    row_means,
    weighted_mean,
    worst_moments,
)
from coach.template import prepare_sequence

log = logging.getLogger(__name__)

#: Fewest frames with a measurable target feature to score a hold.
MIN_FRAMES = 3
#: Cues listed at most, spine first (see ``coach.cues``).
MAX_CUES = 3


@dataclass(frozen=True)
class HeldTargets:
    """A held posture's targets measurable in one plane, as arrays (K targets).

    names: (K,) target features; columns: (K,) their places among the plane's features;
    target, tolerance, weights: (K,); masks: region -> (K,) bool; mirror: the plane's mirror
    permutation and signs (F,). unmeasured: targets the plane has no feature for.
    """

    names: tuple[str, ...]
    columns: np.ndarray
    target: np.ndarray
    tolerance: np.ndarray
    weights: np.ndarray
    masks: dict[str, np.ndarray]
    mirror: tuple[np.ndarray, np.ndarray]
    unmeasured: tuple[str, ...]

    @classmethod
    def in_plane(cls, meta: ExerciseMeta, plane_features: tuple[str, ...]) -> HeldTargets:
        """The targets of ``meta`` among ``plane_features`` (a plane's feature names)."""
        if meta.hold is None:
            raise ValueError(f"{meta.name}: not a held posture")
        targets = meta.hold.targets
        names = tuple(n for n in targets if n in plane_features)
        return cls(names, np.array([plane_features.index(n) for n in names], dtype=np.int64),
                   np.array([targets[n] for n in names], dtype=np.float64),
                   np.array([meta.tolerances[n] for n in names], dtype=np.float64),
                   np.array([meta.weights.get(n, SPECS[n].weight) for n in names],
                            dtype=np.float64),
                   region_masks(names), mirror_indices(plane_features),
                   tuple(n for n in targets if n not in plane_features))

    def deviation(self, values: np.ndarray, confidence: np.ndarray,
                  mirrored: bool = False) -> np.ndarray:
        """Signed deviations (..., K) in tolerance units from the plane's feature values and
        confidences (..., F) (of their mirror image when ``mirrored``); NaN where a target is
        not measured with confidence ``coach.geometry.USABLE_VISIBILITY``."""
        if mirrored:
            perm, signs = self.mirror
            values, confidence = values[..., perm] * signs, confidence[..., perm]
        v = values[..., self.columns]
        v = np.where(confidence[..., self.columns] >= USABLE_VISIBILITY, v, np.nan)
        return (v - self.target) / self.tolerance


def held_frame_scores(target_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T,) frame scores 0-100 of a held posture from each target's score (T, K) and the
    targets' weights (K,): the mean of the weighted mean and the lowest target score. A
    posture is as good as its targets on average and as its worst one: many matching joints
    cannot outvote a body held the wrong way round (upright for a lying posture). NaN where no
    target is measurable."""
    scores = np.atleast_2d(target_scores)
    mean = row_means(scores, np.broadcast_to(weights, scores.shape))
    known = np.isfinite(scores).any(axis=1)
    lowest = np.full(len(scores), np.nan)
    lowest[known] = np.nanmin(scores[known], axis=1)
    return 0.5 * (np.asarray(mean) + lowest)


def _region_params(params: ScoringParams) -> ScoringParams:
    """``params`` with the held softness, for region scores (root mean square of a region's
    targets' deviations, as for a movement)."""
    return replace(params, score_softness=params.held_softness)


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


@dataclass(frozen=True)
class HeldContext:
    """What a held report says besides its scores."""

    meta: ExerciseMeta
    name: str
    plane: str
    mirrored: bool
    source: str


def held_report(ts: np.ndarray, dev: np.ndarray, targets: HeldTargets, context: HeldContext,
                frames_dropped: int, params: ScoringParams = DEFAULT_PARAMS) -> Report:
    """The report of a held posture from each frame's signed target deviations, offline or
    live alike.

    ts: (T,) frame times (ms); dev: (T, K) signed deviations (``HeldTargets.deviation``);
    frames_dropped: frames with no usable person besides those in ``ts``. Raises
    ``NotEnoughPoseError`` when no target is measurable in ``params.min_frames`` frames or the
    posture is seen for less than ``params.min_hold_s``.
    """
    meta, name, label = context.meta, context.name, context.source or context.name
    assert meta.hold is not None
    z = np.abs(dev)
    measurable = np.isfinite(z)
    frames = measurable.any(axis=1) if targets.names else np.zeros(len(ts), dtype=bool)
    if not targets.names or frames.sum() < MIN_FRAMES:
        why = ("none of its target features can be measured from "
               f"{context.plane} landmarks ({', '.join(targets.unmeasured)})"
               if not targets.names else f"only {int(frames.sum())} frames show the target "
               "features")
        raise NotEnoughPoseError(f"not enough pose to score '{name}': {why}")
    seen = ts[frames]
    period_s = float(np.median(np.diff(seen))) / 1000.0 if len(seen) > 1 else 0.0
    seen_s = (seen[-1] - seen[0]) / 1000.0 + period_s
    if seen_s < params.min_hold_s:
        raise NotEnoughPoseError(f"{label}: the posture is seen for {seen_s:.1f} s, too short "
                                 f"to judge a hold (at least {params.min_hold_s:.1f} s), not "
                                 "scored")
    ts, dev, z, measurable = ts[frames], dev[frames], z[frames], measurable[frames]
    close = feature_score(z, params.held_softness)
    timeline = held_frame_scores(close, targets.weights)
    in_zone = np.all(~measurable | (z <= 1.0), axis=1)
    frame_ms = float(np.median(np.diff(ts))) if len(ts) > 1 else 1000.0 / 30.0
    total_s, longest_s = _runs(in_zone, ts, frame_ms)
    values = dev * targets.tolerance + targets.target
    results = []
    for k, n in enumerate(targets.names):
        ok = measurable[:, k]
        results.append(TargetResult(
            name=n, region=SPECS[n].region, target=float(targets.target[k]),
            tolerance=float(targets.tolerance[k]),
            median=float(np.median(values[ok, k])) if ok.any() else float("nan"),
            in_zone_fraction=float((z[ok, k] <= 1.0).mean()) if ok.any() else float("nan"),
            score=float(close[ok, k].mean()) if ok.any() else float("nan")))
    target_scores = np.array([r.score for r in results])
    regions = {region: finite_or_none(weighted_mean(target_scores, np.where(
        mask, targets.weights, 0.0))) for region, mask in targets.masks.items()}
    regions = {region: regions.get(region) for region in REGIONS}
    steadiness = None
    if in_zone.sum() >= MIN_FRAMES:
        held = dev[in_zone]
        steady = np.isfinite(held).any(axis=0)  # targets never measured have no spread
        spread = np.nanstd(held[:, steady], axis=0)
        steadiness = float(100.0 * np.clip(1.0 - np.nanmean(spread), 0.0, 1.0))
    median_dev = np.array([(r.median - r.target) / r.tolerance for r in results])
    cues = cues_for_deviation(targets.names, median_dev, targets.weights,
                              params.cue_threshold, params.spine_preference)[:MAX_CUES]
    w = np.where(measurable, targets.weights, 0.0)
    region_frame, _, _ = frame_scores(np.nan_to_num(dev), w, targets.masks,
                                      _region_params(params))
    form = float(np.nanmean(timeline))
    return Report(
        kind="held", reference_name=name, reference_version=None, overall=form, form=form,
        coverage_factor=1.0, tempo_factor=1.0, regions=regions,
        features={r.name: finite_or_none(r.score) for r in results},
        timeline_ms=read_only(ts), timeline_score=read_only(timeline), reference_index=None,
        worst_moments=worst_moments(ts, timeline, region_frame, targets.names, dev,
                                    targets.weights, params),
        tempo_ratio=float("nan"), tempo_text="held posture", reference_covered=float("nan"),
        cues=tuple(c.text for c in cues), cue_keys=tuple(c.key for c in cues),
        plane=context.plane, frames_used=len(ts), frames_dropped=frames_dropped,
        mirrored=context.mirrored, source=context.source,
        held=HeldSection(time_in_zone_s=total_s, longest_hold_s=longest_s,
                         target_hold_s=meta.hold.seconds, steadiness=steadiness,
                         targets=tuple(results), in_zone=read_only(in_zone, bool),
                         unmeasured=targets.unmeasured))


def score_held(attempt: PoseSequence, meta: ExerciseMeta, *, name: str = "",
               mirror: bool = False, params: ScoringParams = DEFAULT_PARAMS) -> Report:
    """Score ``attempt`` against a held posture's targets; ``mirror`` also tries the mirror
    image (the other side) and keeps the better."""
    if meta.hold is None:
        raise ValueError(f"{meta.name}: not a held posture")
    _, track = prepare_sequence(attempt, params)
    targets = HeldTargets.in_plane(meta, track.names)
    reports = []
    for mirrored in (False, True) if mirror else (False,):
        dev = targets.deviation(track.values, track.confidence, mirrored)
        context = HeldContext(meta, name or meta.name, track.plane, mirrored, attempt.source)
        report = held_report(track.timestamps_ms, dev, targets, context, 0, params)
        reports.append(replace(report, frames_dropped=len(attempt) - report.frames_used))
    return max(reports, key=lambda r: r.overall)


@dataclass
class _HeldFrames:
    """The scored frames of one plane, kept for the report: times (ms), signed deviations
    (K,), whether the mirror image was the closer."""

    ts: list[float] = field(default_factory=list)
    dev: list[np.ndarray] = field(default_factory=list)
    mirrored: list[bool] = field(default_factory=list)


class HeldStream(RecordingStream):
    """A held posture scored live, frame by frame, with the same frame scores and report as
    ``score_held`` (``held_report``): the deviation from each target in tolerance units, the
    time held in the zone, cues from the same cue table. A region shows the score of its
    farthest target, so every region is green (at or above its score at the zone's edge,
    about 80) exactly while the time held runs.

    mirror: also try the mirror image (the other side) in every frame and keep the closer.
    """

    def __init__(self, meta: ExerciseMeta, name: str, mirror: bool,
                 image_size: tuple[int, int] | None, source: str,
                 params: ScoringParams = DEFAULT_PARAMS) -> None:
        if meta.hold is None:
            raise ValueError(f"{meta.name}: not a held posture")
        self.meta, self.name, self.mirror, self.params = meta, name, mirror, params
        self.source = source
        self.target_s = meta.hold.seconds
        self.features = LiveFeatures(True, image_size, source, params)
        self._scheduler = CueScheduler(on_threshold=params.cue_threshold)
        self._planes: dict[str, HeldTargets] = {}
        self.reset()

    def reset(self) -> None:
        """Start again (pose history, zone timer, cues, report)."""
        self.features.reset()
        self._scheduler.reset()
        self._zone_since: float | None = None
        self._held_s = 0.0
        self._kept: dict[str, _HeldFrames] = {}

    def _targets(self, plane: str) -> HeldTargets:
        if plane not in self._planes:
            self._planes[plane] = HeldTargets.in_plane(self.meta, feature_names(plane))
        return self._planes[plane]

    def update(self, frame: FramePose) -> LiveState:
        """Score one frame (call in time order)."""
        ts = frame.timestamp_ms
        found = self.features.update(frame)
        if found is None:
            self._zone_since, self._held_s = None, 0.0
            nan = np.full(0, np.nan)
            return LiveState(ts, False, None, MappingProxyType({}), nan,
                             self._scheduler.current, held_s=0.0, target_s=self.target_s)
        targets = self._targets(found.plane)
        dev = targets.deviation(found.values, found.confidence)
        mirrored = False
        if self.mirror:
            flipped = targets.deviation(found.values, found.confidence, mirrored=True)
            if np.nansum(np.abs(flipped)) < np.nansum(np.abs(dev)):
                dev, mirrored = flipped, True
        known = np.isfinite(dev)
        score = None
        if known.any():
            close = feature_score(np.abs(dev), self.params.held_softness)
            score = finite_or_none(held_frame_scores(close[None], targets.weights)[0])
            kept = self._kept.setdefault(found.plane, _HeldFrames())
            kept.ts.append(ts)
            kept.dev.append(dev)
            kept.mirrored.append(mirrored)
        # a region is as far off as its farthest target: every region green (at or above the
        # score at the zone's edge) exactly when the posture is in the zone
        regions = {r: finite_or_none(float(feature_score(np.max(np.abs(dev[mask & known])),
                                                         self.params.held_softness)))
                   if (mask & known).any() else None for r, mask in targets.masks.items()}
        if known.any() and np.all(np.abs(dev[known]) <= 1.0):
            self._zone_since = ts if self._zone_since is None else self._zone_since
            self._held_s = (ts - self._zone_since) / 1000.0
        else:
            self._zone_since, self._held_s = None, 0.0
        shown = self._scheduler.update(cues_for_deviation(
            targets.names, dev, targets.weights, self._scheduler.off_threshold,
            self.params.spine_preference), ts)
        dev.setflags(write=False)
        return LiveState(ts, score is not None, score, MappingProxyType(regions), dev, shown,
                         held_s=self._held_s, target_s=self.target_s)

    def report(self) -> Report:
        """The session's report from the frames scored live (``held_report``)."""
        plane = main_plane({p: k.ts for p, k in self._kept.items()})
        if plane is None:
            raise NotEnoughPoseError(f"not enough pose to score '{self.name}': no frame "
                                     "showed the target features")
        kept = self._kept[plane]
        mirrored = 2 * sum(kept.mirrored) > len(kept.mirrored)
        context = HeldContext(self.meta, self.name, plane, mirrored, self.source)
        return held_report(np.array(kept.ts), np.stack(kept.dev), self._targets(plane),
                           context, self.features.frames_seen - len(kept.ts), self.params)


class HeldScorer:
    """The scorer of a held posture (``coach.scorer.Scorer``): ``score`` offline,
    ``stream`` live, with one frame score and one report (``held_report``)."""

    kind = "held"

    def __init__(self, meta: ExerciseMeta, name: str = "", mirror: bool = False,
                 params: ScoringParams = DEFAULT_PARAMS) -> None:
        self.meta, self.name = meta, name or meta.name
        self.mirror, self.params = mirror, params

    def score(self, attempt: PoseSequence) -> Report:
        """Score a whole recording (``score_held``)."""
        return score_held(attempt, self.meta, name=self.name, mirror=self.mirror,
                          params=self.params)

    def stream(self, image_size: tuple[int, int] | None = None,
               source: str = "live") -> HeldStream:
        """A live scorer for a session."""
        return HeldStream(self.meta, self.name, self.mirror, image_size, source, self.params)
