"""Live scoring, one camera frame at a time, at a cost per frame independent of session length.

``LiveFeatures.update(frame)`` is the front end every live scorer shares (flowing and held):
mirrored-frame check on the raw frame (the hips' or the shoulders' facing jumping above
``ScoringParams.mirror_jump_deg`` from the last accepted frame; a new facing that lasts
``MIRROR_ACCEPT_MS`` is accepted as a real turn) -> One Euro smoothing -> features of the
frame (world plane when the frame has world landmarks and the scorer compares in 3D, else
image plane). "Up" is estimated from the first ``coach.geometry.UP_WINDOW_S`` seconds with a
person (the setup and countdown) as for files, then fixed.
Every frame with a person is also kept (``PoseRecorder``: float32, about 0.9 kB per frame, up
to an hour) for the session's landmark recording.

``LiveScorer.update(frame)`` (a flowing movement) then follows the reference with the online
aligner (where in the reference the person is), takes each feature's deviation from the
reference at that moment in tolerance units, and scores the frame 0-100 per region and
overall; ``CueScheduler`` picks the cue to show. ``report()`` is made from exactly these
frame scores (``coach.scoring.pass_report``, one report per pass through the reference), so
the session's overall is the mean of what the dial showed (``coach.report``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sized
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from coach.align import OnlineAligner, ReferenceModel
from coach.allowances import emphasised, key_moments, start_shift, view_difference_deg, widened
from coach.cues import Cue, CueScheduler, cues_for_deviation
from coach.errors import NotEnoughPoseError
from coach.features import UpWindow, feature_names, finite_points, frame_features
from coach.geometry import HIP_LINE, SHOULDER_LINE, facing_deg, heading_change_deg
from coach.numbers import finite_or_none
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence
from coach.pose_recorder import PoseRecorder
from coach.repetitions import combine_reports, kept_starts, require_duration
from coach.report import Report
from coach.scoring import (
    PassContext,
    deviation,
    feature_score,
    frame_scores,
    pass_report,
    region_masks,
    weighted_mean,
)
from coach.smoothing import LandmarkSmoother
from coach.template import Template

#: A new facing direction held this long is a real turn, not a mirrored frame.
MIRROR_ACCEPT_MS = 500.0


@dataclass(frozen=True)
class LiveState:
    """A live scorer's view of one frame, flowing or held.

    scored: False when nobody usable was in view (or the frame was a mirrored detection);
        then score, regions and deviation say nothing new.
    score: 0-100 for this frame, None when not scored (the report's timeline holds the same).
    regions: region -> 0-100 (None when not measurable).
    deviation: (F,) signed deviation per compared feature, tolerance units (NaN = unknown).
    cue: the cue to show now (held across frames by the scheduler), or None.
    reference_index: aligned reference moment (index into ``template.pose`` for the ghost),
        None for a held posture and before the first scored frame.
    progress: 0..1 through the reference (None for a held posture).
    repetitions: passes through the reference completed so far.
    held_s / target_s: seconds held in the zone so far and asked for (held postures).
    """

    timestamp_ms: float
    scored: bool
    score: float | None
    regions: MappingProxyType
    deviation: np.ndarray
    cue: Cue | None
    reference_index: int | None = None
    progress: float | None = None
    repetitions: int = 0
    held_s: float | None = None
    target_s: float | None = None

    @property
    def cue_text(self) -> str | None:
        """The current cue's text, or None."""
        return None if self.cue is None else self.cue.text


class FrameFeatures(NamedTuple):
    """One usable frame's features: the plane, values and confidences (F,) of that plane's
    features (``coach.features.feature_names``), the vertical (3,) or None, the time (ms)."""

    plane: str
    values: np.ndarray
    confidence: np.ndarray
    up: np.ndarray | None
    timestamp_ms: float


class LiveFeatures:
    """The front end of every live scorer (see the module docstring).

    world: compare in 3D when a frame has world landmarks (False: always the image plane).
    image_size: (width, height) of the camera frames, for image-plane angles.
    """

    def __init__(self, world: bool, image_size: tuple[int, int] | None, source: str,
                 params: ScoringParams = DEFAULT_PARAMS) -> None:
        self.world = world
        self.image_size = image_size
        self.params = params
        self.recorder = PoseRecorder(None, source, image_size)
        self._smoother = LandmarkSmoother()
        self._up = UpWindow()
        self.reset()

    def reset(self) -> None:
        """Start again: no pose history, no vertical, no recording."""
        self._smoother.reset()
        self._up.reset()
        self.recorder.clear()
        #: (2,) facing of the hips and of the shoulders (degrees) of the last accepted frame.
        self._headings: np.ndarray | None = None
        self._flip_since: float | None = None
        #: Frames given to ``update`` (with or without a person).
        self.frames_seen = 0

    def _is_mirrored(self, frame: FramePose, up: np.ndarray | None) -> bool:
        """Whether the hips or the shoulders of ``frame`` face more than
        ``params.mirror_jump_deg`` away from the last accepted frame's (the pose model turned
        the whole body or the upper body round), until the new facing has lasted
        ``MIRROR_ACCEPT_MS``."""
        if frame.world_xyz is None or up is None:
            return False
        headings = np.array([float(facing_deg(frame.world_xyz[None], up, line)[0])
                             for line in (HIP_LINE, SHOULDER_LINE)])
        if not np.isfinite(headings[0]):
            return False
        if self._headings is None:
            self._headings = headings
            return False
        change = np.nan_to_num(heading_change_deg(self._headings, headings))
        if change.max() <= self.params.mirror_jump_deg:
            self._headings = np.where(np.isfinite(headings), headings, self._headings)
            self._flip_since = None
            return False
        if self._flip_since is None:
            self._flip_since = frame.timestamp_ms
        if frame.timestamp_ms - self._flip_since >= MIRROR_ACCEPT_MS:
            self._headings, self._flip_since = headings, None
            return False
        return True

    def update(self, frame: FramePose) -> FrameFeatures | None:
        """The features of ``frame`` (call in time order), or None when it has no usable
        person (nobody, a mirrored detection, nothing measurable)."""
        self.frames_seen += 1
        ts = frame.timestamp_ms
        frame = FramePose(finite_points(frame.image_xyz), frame.visibility,
                          None if frame.world_xyz is None else finite_points(frame.world_xyz),
                          ts, frame.people_seen)
        if not frame.present:
            return None
        self.recorder.append(frame)
        plane = "world" if frame.world_xyz is not None and self.world else "image"
        if plane == "image" and frame.world_xyz is not None:
            frame = FramePose(frame.image_xyz, frame.visibility, None, ts, frame.people_seen)
        up = self._up.update(frame) if plane == "world" else None
        # checked on the raw frame, and kept out of the smoother, as for files
        if self._is_mirrored(frame, up):
            return None
        values, conf = frame_features(self._smoother.update(frame), up, self.image_size)
        if not np.isfinite(values).any():
            return None
        return FrameFeatures(plane, values, conf, up, ts)

    def recording(self) -> PoseSequence:
        """The frames with a person so far, as a sequence (unsmoothed, as detected)."""
        return self.recorder.sequence()


def main_plane(frames_by_plane: Mapping[str, Sized]) -> str | None:
    """The plane ("world" or "image") most frames of a session were scored in (a session's
    report is made in one plane), None when none was scored."""
    counts = Counter({plane: len(kept) for plane, kept in frames_by_plane.items()})
    return counts.most_common(1)[0][0] if counts else None


class RecordingStream:
    """What every live scorer shares: its front end (``features``) and the recording kept."""

    features: LiveFeatures

    @property
    def frames_kept(self) -> int:
        """Frames with a person kept in the recording."""
        return len(self.features.recorder)

    def recording(self) -> PoseSequence:
        """The session's frames with a person, as a sequence (unsmoothed, as detected)."""
        return self.features.recording()


class _PlaneSetup(NamedTuple):
    """What scoring in one plane needs, built once: the template in that plane (mirrored when
    asked), its online aligner, region masks (F,) and weights (F,), and the columns (F,) of
    the plane's features that the template compares."""

    template: Template
    aligner: OnlineAligner
    masks: dict[str, np.ndarray]
    weights: np.ndarray
    cols: np.ndarray
    key: np.ndarray


@dataclass
class _ScoredFrames:
    """The scored frames of one plane, kept for the report: times (ms), matched moments,
    deviations and weights (F,), frame scores, region scores and weights, passes done."""

    ts: list[float] = field(default_factory=list)
    j: list[int] = field(default_factory=list)
    z: list[np.ndarray] = field(default_factory=list)
    w: list[np.ndarray] = field(default_factory=list)
    score: list[float] = field(default_factory=list)
    regions: list[dict[str, tuple[float, float]]] = field(default_factory=list)
    repetition: list[int] = field(default_factory=list)
    progress: list[float] = field(default_factory=list)


class LiveScorer(RecordingStream):
    """Scores a live session frame by frame against ``template``.

    mirror: compare with the reference's mirror image (the person follows as in a mirror).
    image_size: (width, height) of the camera frames, for image-plane angles.
    params: the scorer's tuned numbers.

    As offline, the reference is moved to the person's own start posture: the median of their
    first ``params.start_window_s`` of scored frames (fixed from then on).
    """

    def __init__(self, template: Template, mirror: bool = False,
                 image_size: tuple[int, int] | None = None, source: str = "live",
                 params: ScoringParams = DEFAULT_PARAMS) -> None:
        self.template = template
        self.params = params
        self.mirror = bool(mirror)
        self.source = source
        self.features = LiveFeatures(template.plane == "world", image_size, source, params)
        self._scheduler = CueScheduler(on_threshold=params.cue_threshold)
        self._aligners: dict[str, _PlaneSetup] = {}
        # the start posture as it is, for following the movement's shape (no allowance)
        self._unlimited = replace(params, start_allowance_deg=MappingProxyType(
            {n: np.inf for n in template.feature_names}))
        self.reset()

    def reset(self) -> None:
        """Start the session again (pose history, alignment, cues, vertical, report)."""
        self.features.reset()
        self._scheduler.reset()
        self._aligners.clear()
        self._start: list[tuple[float, np.ndarray, np.ndarray]] = []
        self._judged_templates: dict[str, Template] = {}
        self._start_templates: dict[str, Template] = {}
        self._shift: np.ndarray | None = None
        self._offset: np.ndarray | float = 0.0
        self._last: LiveState | None = None
        self._scored: dict[str, _ScoredFrames] = {}

    def _setup(self, plane: str) -> _PlaneSetup:
        if plane not in self._aligners:
            tmpl = self.template.in_plane(plane)
            if self.mirror:
                tmpl = tmpl.mirrored()
            model = ReferenceModel(tmpl.mean, tmpl.spread, tmpl.weights)
            cols = np.array([i for i, n in enumerate(feature_names(plane))
                             if n in tmpl.feature_names], dtype=np.int64)
            self._aligners[plane] = _PlaneSetup(tmpl, OnlineAligner(model), region_masks(
                tmpl.feature_names), np.array(tmpl.weights), cols,
                key_moments(tmpl, self.params))
        return self._aligners[plane]

    def _unscored(self, ts: float) -> LiveState:
        last = self._last
        size = len(self.template.feature_names) if last is None else len(last.deviation)
        nan = np.full(size, np.nan)
        nan.setflags(write=False)
        return LiveState(ts, False, None, MappingProxyType({}), nan, self._scheduler.current,
                         None if last is None else last.reference_index,
                         0.0 if last is None else last.progress,
                         0 if last is None else last.repetitions)

    def update(self, frame: FramePose) -> LiveState:
        """Score one frame (call in time order)."""
        ts = frame.timestamp_ms
        found = self.features.update(frame)
        if found is None:
            return self._unscored(ts)
        plane = found.plane
        tmpl, aligner, masks, weights, cols, key = self._setup(plane)
        values, conf = found.values[cols], found.confidence[cols]
        if not np.isfinite(values).any():
            return self._unscored(ts)
        # followed by shape, from the person's own start posture (offline: median-centred)
        j, _ = aligner.update(values - self._offset, conf, ts)
        start = list(self._start)
        shift = self._start_shift(values, tmpl.mean[j], ts, tmpl)
        judged = self._judged(plane, tmpl, start, found.up)
        z, w = deviation(values[None], conf[None], judged, np.zeros(1, np.int64), np.array([j]),
                         shift)
        region_score, region_w, total = frame_scores(z, w, masks, self.params)
        dev = z[0]
        regions = {r: finite_or_none(v[0]) for r, v in region_score.items()}
        frame_score = finite_or_none(emphasised(total, key[[j]])[0])
        if frame_score is not None:
            kept = self._scored.setdefault(plane, _ScoredFrames())
            kept.ts.append(ts)
            kept.j.append(int(j))
            kept.z.append(z[0].astype(np.float32))
            kept.w.append(w[0].astype(np.float32))
            kept.score.append(frame_score)
            kept.regions.append({r: (float(v[0]), float(region_w[r][0]))
                                 for r, v in region_score.items()})
            kept.repetition.append(aligner.repetitions)
            kept.progress.append(aligner.progress)
        shown = self._scheduler.update(cues_for_deviation(
            tmpl.feature_names, dev, weights, self._scheduler.off_threshold,
            self.params.spine_preference), ts)
        dev.setflags(write=False)
        out = LiveState(ts, frame_score is not None, frame_score, MappingProxyType(regions), dev,
                        shown, j, aligner.progress, aligner.repetitions)
        self._last = out
        return out

    def _judged(self, plane: str, tmpl: Template, start: list, up: np.ndarray | None
                ) -> Template:
        """The template with its tolerances widened as ``coach.scoring.score`` widens them
        (``coach.allowances.widened``): for the reference's own movement from the first frame,
        and for the camera's view and the landmark jitter once the start is known (from the
        start's frames)."""
        if plane in self._judged_templates:
            return self._judged_templates[plane]
        if self._shift is None:
            if plane not in self._start_templates:
                self._start_templates[plane] = widened(
                    tmpl, np.empty((0, len(tmpl.feature_names))), 0.0, self.params)
            return self._start_templates[plane]
        view = view_difference_deg(self.features.recording(), up, tmpl, self.params)
        values = np.stack([v for _, v, _ in start]) if start else np.empty(
            (0, len(tmpl.feature_names)))
        self._judged_templates[plane] = widened(tmpl, values, view, self.params)
        return self._judged_templates[plane]

    def _start_shift(self, values: np.ndarray, matched: np.ndarray, ts: float,
                     tmpl: Template) -> np.ndarray:
        """The reference's move to the person's start posture (``coach.allowances.start_shift``)
        from the frames so far and their matched moments, fixed once they span
        ``params.start_window_s``. Also updates ``_offset``, the whole start difference (not
        limited by the allowance) that the aligner follows the movement from."""
        if self._shift is None:
            self._start.append((ts, values, matched))
            times = np.array([t for t, _, _ in self._start])
            before = np.stack([v for _, v, _ in self._start])
            moments = np.stack([m for _, _, m in self._start])
            shift = start_shift(before, moments, times, tmpl.feature_names, self.params)
            offset = start_shift(before, moments, times, tmpl.feature_names, self._unlimited)
            self._offset = offset
            if ts - times[0] < self.params.start_window_s * 1000.0:
                return shift
            self._shift, self._start = shift, []
        return self._shift

    def report(self) -> Report:
        """The session's report, made from the frame scores shown live: one report per pass
        through the reference (a pass that got less than ``params.min_repetition_share`` of
        the way stays with the pass before it), combined as offline.

        Raises ``NotEnoughPoseError`` when fewer than ``params.min_frames`` frames were scored.
        """
        plane = main_plane({p: k.ts for p, k in self._scored.items()})
        used = 0 if plane is None else len(self._scored[plane].ts)
        if plane is None or used < self.params.min_frames:
            raise NotEnoughPoseError(f"{self.source}: {used} frame(s) scored, not enough pose "
                                     f"to score (at least {self.params.min_frames} needed)")
        kept = self._scored[plane]
        ts = np.array(kept.ts)
        step_ms = float(np.median(np.diff(ts))) if len(ts) > 1 else 0.0
        require_duration((ts[-1] - ts[0] + step_ms) / 1000.0, self.template, self.source,
                         self.params)
        setup = self._setup(plane)
        context = PassContext(setup.template, setup.key, self.template.version, plane,
                              self.mirror, self.source)
        parts = [self._pass(kept, a, b, context)
                 for a, b in _passes(kept.repetition, kept.progress, ts, setup.template,
                                     self.params)]
        combined = combine_reports(parts, self.params)
        return replace(combined, frames_dropped=self.features.frames_seen - len(kept.ts))

    def _pass(self, kept: _ScoredFrames, a: int, b: int, context: PassContext) -> Report:
        """The report of the kept frames ``a:b``, one pass through the reference."""
        z = np.array(kept.z[a:b], dtype=np.float64)
        w = np.array(kept.w[a:b], dtype=np.float64)
        names = context.template.feature_names
        scores = feature_score(z, self.params.score_softness)
        features = {n: weighted_mean(scores[:, f], w[:, f]) for f, n in enumerate(names)}
        rows = kept.regions[a:b]
        regions = {r: weighted_mean(np.array([row[r][0] for row in rows]),
                                    np.array([row[r][1] for row in rows])) for r in rows[0]}
        return pass_report(np.array(kept.ts[a:b]), np.array(kept.j[a:b]), z, w,
                           np.array(kept.score[a:b]), regions, features, context, self.params)


def _passes(repetition: list[int], progress: list[float], ts: np.ndarray, template: Template,
            params: ScoringParams) -> list[tuple[int, int]]:
    """(start, end) ranges of the kept frames (times ``ts`` (N,), ms) that are passes through
    the reference, from the aligner's repetition count and progress at each frame; a new pass
    is kept as offline (``coach.repetitions.kept_starts``)."""
    starts = [i for i in range(1, len(repetition)) if repetition[i] != repetition[i - 1]]
    bounds = [0, *starts, len(repetition)]
    reached = [max(progress[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    edges = [0, *kept_starts(starts, reached, ts, template, params), len(repetition)]
    return list(zip(edges, edges[1:], strict=False))
