"""What the live session coaches against: an exercise of the reference library.

``ExerciseCoaching`` turns each frame's pose into a ``LiveView`` for the overlays:
- flowing movements: ``coach.live_scoring.LiveScorer`` against the exercise's template
  (online alignment, deviations, cues), with the template's pose at the aligned moment as
  the ghost;
- held postures (targets and tolerances in the metadata, no recording): the deviation from
  each target in tolerance units, scored as the library scores a held posture, the time held in
  the zone, and cues from the same cue table.
At the end, ``report()`` scores the whole recording with ``coach.library.score_exercise``,
exactly as ``coach score`` would score a file of it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from coach.cues import CueScheduler, cues_for_deviation
from coach.features import (
    SPECS,
    UpWindow,
    feature_names,
    frame_features,
    mirror_indices,
)
from coach.library import Exercise, ExerciseReport, score_exercise
from coach.library.held import MIN_CONFIDENCE, held_frame_scores
from coach.live.recorder import PoseRecorder
from coach.live.session import LiveView
from coach.live_scoring import LiveScorer
from coach.numbers import finite_or_none
from coach.params import DEFAULT_PARAMS
from coach.pose import FramePose, PoseSequence
from coach.scoring import feature_score, frame_scores, region_masks
from coach.smoothing import LandmarkSmoother

#: Held postures' regions are scored with the held softness (built once, not per frame).
HELD_REGION_PARAMS = replace(DEFAULT_PARAMS, score_softness=DEFAULT_PARAMS.held_softness)
#: Time constant of the score shown on the gauge (seconds): steadier than frame by frame.
GAUGE_TIME_CONSTANT_S = 0.7


class _Ema:
    """Exponential average over time (milliseconds) that skips unknown values."""

    def __init__(self, time_constant_s: float) -> None:
        self.time_constant_ms = time_constant_s * 1000.0
        self.reset()

    def reset(self) -> None:
        self.value: float | None = None
        self._t: float | None = None

    def update(self, x: float | None, t_ms: float) -> float | None:
        if x is None or not math.isfinite(x):
            return self.value
        if self.value is None or self._t is None:
            self.value = x
        else:
            a = 1.0 - math.exp(-max(t_ms - self._t, 0.0) / self.time_constant_ms)
            self.value += a * (x - self.value)
        self._t = t_ms
        return self.value


class _FlowLive:
    """A flowing movement through ``LiveScorer``."""

    def __init__(self, exercise: Exercise, mirror: bool, image_size: tuple[int, int] | None,
                 source: str) -> None:
        template = exercise.template()
        self.scorer = LiveScorer(template, mirror=mirror, image_size=image_size, source=source)
        ghost_template = template.mirrored() if mirror else template
        self.ghost_pose = ghost_template.pose
        self.gauge = _Ema(GAUGE_TIME_CONSTANT_S)

    def reset(self) -> None:
        self.scorer.reset()
        self.gauge.reset()

    def update(self, pose: FramePose) -> LiveView:
        live = self.scorer.update(pose)
        ghost = None if live.reference_index is None else self.ghost_pose.frame(
            live.reference_index)
        return LiveView(score=self.gauge.update(live.score, live.timestamp_ms),
                        region_scores=dict(live.regions), cue=live.cue_text,
                        progress=live.progress, ghost=ghost,
                        ghost_image_size=self.ghost_pose.image_size)

    def recording(self) -> PoseSequence:
        return self.scorer.recording()


class _HeldPlane(NamedTuple):
    """A held posture's targets measurable in one plane: their names (N,), columns (N,) in
    the plane's features, target values, tolerances and weights (N,), region masks (N,), and
    the plane's mirror permutation and signs (F,)."""

    names: tuple[str, ...]
    idx: np.ndarray
    target: np.ndarray
    tolerance: np.ndarray
    weights: np.ndarray
    masks: dict[str, np.ndarray]
    perm: np.ndarray
    signs: np.ndarray


class _HeldLive:
    """A held posture: per-frame deviation from the metadata's targets, time held in the zone."""

    def __init__(self, exercise: Exercise, mirror: bool, image_size: tuple[int, int] | None,
                 source: str, fps: float) -> None:
        meta = exercise.meta
        assert meta.hold is not None
        self.targets = dict(meta.hold.targets)
        self.tolerances = {n: meta.tolerances[n] for n in self.targets}
        self.weights = {n: meta.weights.get(n, SPECS[n].weight) for n in self.targets}
        self.target_s = meta.hold.seconds
        self.mirror = mirror
        self.image_size = image_size
        self.smoother = LandmarkSmoother()
        self.scheduler = CueScheduler()
        self.gauge = _Ema(GAUGE_TIME_CONSTANT_S)
        self.recorder = PoseRecorder(fps, source, image_size)
        self._up = UpWindow()
        self._planes: dict[str, _HeldPlane] = {}
        self.reset()

    def reset(self) -> None:
        self.smoother.reset()
        self.scheduler.reset()
        self.gauge.reset()
        self.recorder.clear()
        self._up.reset()
        self._zone_since: float | None = None
        self._held_s = 0.0

    def _plane(self, plane: str) -> _HeldPlane:
        """The targets measurable in ``plane`` as arrays, built once per plane."""
        if plane not in self._planes:
            names = feature_names(plane)
            used = tuple(n for n in self.targets if n in names)
            perm, signs = mirror_indices(names)
            self._planes[plane] = _HeldPlane(
                used, np.array([names.index(n) for n in used], dtype=np.int64),
                np.array([self.targets[n] for n in used], dtype=np.float64),
                np.array([self.tolerances[n] for n in used], dtype=np.float64),
                np.array([self.weights[n] for n in used], dtype=np.float64),
                region_masks(used), perm, signs)
        return self._planes[plane]

    @staticmethod
    def _deviation(values: np.ndarray, conf: np.ndarray, held: _HeldPlane) -> np.ndarray:
        """Signed deviations (N,) of the measurable targets, in tolerance units."""
        v = np.where(conf[held.idx] >= MIN_CONFIDENCE, values[held.idx], np.nan)
        return (v - held.target) / held.tolerance

    def update(self, pose: FramePose) -> LiveView:
        t = pose.timestamp_ms
        self.recorder.append(pose)
        smooth = self.smoother.update(pose)
        up = self._up.fixed if smooth.world_xyz is None else self._up.update(smooth)
        values, conf = frame_features(smooth, up, self.image_size)
        held = self._plane("world" if smooth.world_xyz is not None else "image")
        used, weights = held.names, held.weights
        dev = self._deviation(values, conf, held)
        if self.mirror:
            mirrored = self._deviation(values[held.perm] * held.signs, conf[held.perm], held)
            if np.nansum(np.abs(mirrored)) < np.nansum(np.abs(dev)):
                dev = mirrored
        known = np.isfinite(dev)
        close = feature_score(np.abs(dev), DEFAULT_PARAMS.held_softness)
        w = np.where(known, weights, 0.0)
        score = float(held_frame_scores(close[None], weights)[0]) if known.any() else math.nan
        # a region is as far off as the root mean square of its targets, as for a movement,
        # so one target far off colours its region (and matches the cue about it)
        region_z, _, _ = frame_scores(np.nan_to_num(dev)[None], w[None], held.masks,
                                      HELD_REGION_PARAMS)
        regions = {r: finite_or_none(v[0]) for r, v in region_z.items()}
        in_zone = bool(known.any() and np.all(np.abs(dev[known]) <= 1.0))
        if in_zone:
            self._zone_since = t if self._zone_since is None else self._zone_since
            self._held_s = (t - self._zone_since) / 1000.0
        else:
            self._zone_since, self._held_s = None, 0.0
        shown = self.scheduler.update(cues_for_deviation(used, dev, weights), t)
        return LiveView(score=self.gauge.update(finite_or_none(score), t), region_scores=regions,
                        cue=None if shown is None else shown.text, held_s=self._held_s,
                        target_s=self.target_s)

    def recording(self) -> PoseSequence:
        return self.recorder.sequence()


class ExerciseCoaching:
    """Live coaching against one library exercise (see the module docstring).

    mirror: compare with the reference's mirror image (always on for exercises whose takes are
        left-right mirrored; held one-sided postures accept either side).
    image_size: (width, height) of the camera frames.
    """

    def __init__(self, exercise: Exercise, mirror: bool = False,
                 image_size: tuple[int, int] | None = None, source: str = "live",
                 fps: float = 30.0) -> None:
        exercise.require_recording("coached")
        self.exercise = exercise
        self.title = exercise.name
        self.mirror = mirror or exercise.meta.left_right_mirrored
        if exercise.is_held:
            self._live: _FlowLive | _HeldLive = _HeldLive(
                exercise, self.mirror or exercise.meta.either_side, image_size, source, fps)
        else:
            self._live = _FlowLive(exercise, self.mirror, image_size, source)

    def update(self, pose: FramePose) -> LiveView:
        """The overlays' view of one frame with a person (call in time order)."""
        return self._live.update(pose)

    def reset(self) -> None:
        """Start again (restart key)."""
        self._live.reset()

    def recording(self) -> PoseSequence:
        """The frames with a person coached so far, as detected (unsmoothed)."""
        return self._live.recording()

    @property
    def frames_kept(self) -> int:
        """How many frames the recording holds (it grows by about 0.9 kB per frame)."""
        live = self._live
        return live.scorer.frames_kept if isinstance(live, _FlowLive) else len(live.recorder)

    def report(self) -> ExerciseReport:
        """Score the whole recording as ``coach score`` would (NotEnoughPoseError if too
        little pose)."""
        return score_exercise(self.recording(), self.exercise, mirror=self.mirror)
