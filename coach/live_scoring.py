"""Live scoring, one camera frame at a time, at a cost per frame independent of session length.

``LiveScorer.update(frame)``: mirrored-frame check on the raw frame (a facing jump above
``ScoringParams.mirror_jump_deg`` from the last accepted frame; a new facing that lasts
``MIRROR_ACCEPT_MS`` is accepted as a real turn) -> One Euro smoothing -> features of the
frame (world plane when both the frame and the template have world landmarks, else image
plane) -> online alignment (where in the reference the person is) -> deviation per feature
from the reference at that moment, in tolerance units -> score 0-100 per region and overall
-> the cue to show (``CueScheduler``).

"Up" is estimated from the first ``UP_WINDOW_S`` seconds with a person (the setup and
countdown, standing or sitting still) as for files, then fixed.

Every frame with a person is also kept (``coach.live.recorder.PoseRecorder``: float32, about
0.9 kB per frame, up to an hour) so that ``summary()`` can score the whole session with
``coach.scoring.score``, exactly as a file would be scored (repetitions included: the
movement done again from the start is followed live, and scored pass by pass in the summary).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from coach.align import OnlineAligner, ReferenceModel
from coach.cues import Cue, CueScheduler, cues_for_deviation
from coach.errors import NotEnoughPoseError
from coach.features import (
    UpWindow,
    facing_deg,
    feature_names,
    finite_points,
    frame_features,
    heading_change_deg,
)
from coach.live.recorder import PoseRecorder
from coach.numbers import finite_or_none
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence
from coach.scoring import (
    ScoreReport,
    deviation,
    frame_scores,
    region_masks,
    score,
    start_shift,
    view_difference_deg,
    widened,
)
from coach.smoothing import LandmarkSmoother
from coach.template import Template

#: A new facing direction held this long is a real turn, not a mirrored frame.
MIRROR_ACCEPT_MS = 500.0


@dataclass(frozen=True)
class LiveFrame:
    """The scorer's view of one live frame.

    scored: False when nobody usable was in view (or the frame was a mirrored detection);
        then score, regions and deviation say nothing new.
    score: 0-100 for this frame, None when not scored.
    regions: region -> 0-100 (None when not measurable).
    deviation: (F,) signed deviation per template feature, tolerance units (NaN = unknown).
    reference_index: aligned template moment (index into ``template.pose`` for the ghost),
        None before the first scored frame.
    progress: 0..1 through the reference.
    cue: the cue to show now (held across frames by the scheduler), or None.
    repetitions: passes through the reference completed so far.
    """

    timestamp_ms: float
    scored: bool
    score: float | None
    regions: MappingProxyType
    deviation: np.ndarray
    reference_index: int | None
    progress: float
    cue: Cue | None
    repetitions: int = 0

    @property
    def cue_text(self) -> str | None:
        """The current cue's text, or None."""
        return None if self.cue is None else self.cue.text


class _PlaneSetup(NamedTuple):
    """What scoring in one plane needs, built once: the template in that plane (mirrored when
    asked), its online aligner, region masks (F,) and weights (F,), and the columns (F,) of
    the plane's features that the template compares."""

    template: Template
    aligner: OnlineAligner
    masks: dict[str, np.ndarray]
    weights: np.ndarray
    cols: np.ndarray


class LiveScorer:
    """Scores a live session frame by frame against ``template``.

    mirror: compare with the reference's mirror image (the person follows as in a mirror).
    image_size: (width, height) of the camera frames, for image-plane angles.
    params: the scorer's tuned numbers (the same as ``summary()`` scores with).

    As offline, the reference is moved to the person's own start posture: the median of their
    first ``params.start_window_s`` of scored frames (fixed from then on).
    """

    def __init__(self, template: Template, mirror: bool = False,
                 image_size: tuple[int, int] | None = None, source: str = "live",
                 params: ScoringParams = DEFAULT_PARAMS) -> None:
        self.template = template
        self.params = params
        self.mirror = bool(mirror)
        self.image_size = image_size
        self.source = source
        self._smoother = LandmarkSmoother()
        self._scheduler = CueScheduler(on_threshold=params.cue_threshold)
        self._aligners: dict[str, _PlaneSetup] = {}
        self._recorder = PoseRecorder(None, self.source, self.image_size)
        self._up = UpWindow()
        self.reset()

    def reset(self) -> None:
        """Start the session again (pose history, alignment, cues, vertical)."""
        self._smoother.reset()
        self._scheduler.reset()
        self._aligners.clear()
        self._recorder.clear()
        self._up.reset()
        self._heading: float | None = None
        self._start: list[tuple[float, np.ndarray, np.ndarray]] = []
        self._judged_templates: dict[str, Template] = {}
        self._start_templates: dict[str, Template] = {}
        self._shift: np.ndarray | None = None
        self._flip_since: float | None = None
        self._last: LiveFrame | None = None

    def _setup(self, plane: str) -> _PlaneSetup:
        if plane not in self._aligners:
            tmpl = self.template.in_plane(plane)
            if self.mirror:
                tmpl = tmpl.mirrored()
            model = ReferenceModel(tmpl.mean, tmpl.spread, tmpl.weights)
            cols = np.array([i for i, n in enumerate(feature_names(plane))
                             if n in tmpl.feature_names], dtype=np.int64)
            self._aligners[plane] = _PlaneSetup(tmpl, OnlineAligner(model), region_masks(
                tmpl.feature_names), np.array(tmpl.weights), cols)
        return self._aligners[plane]

    def _is_mirrored(self, frame: FramePose, up: np.ndarray | None) -> bool:
        if frame.world_xyz is None or up is None:
            return False
        heading = float(facing_deg(frame.world_xyz[None], up)[0])
        if not np.isfinite(heading):
            return False
        if self._heading is None:
            self._heading = heading
            return False
        if heading_change_deg(self._heading, heading) <= self.params.mirror_jump_deg:
            self._heading, self._flip_since = heading, None
            return False
        if self._flip_since is None:
            self._flip_since = frame.timestamp_ms
        if frame.timestamp_ms - self._flip_since >= MIRROR_ACCEPT_MS:
            self._heading, self._flip_since = heading, None
            return False
        return True

    def _unscored(self, ts: float) -> LiveFrame:
        last = self._last
        size = len(self.template.feature_names) if last is None else len(last.deviation)
        nan = np.full(size, np.nan)
        nan.setflags(write=False)
        return LiveFrame(ts, False, None, MappingProxyType({}), nan,
                         None if last is None else last.reference_index,
                         0.0 if last is None else last.progress,
                         self._scheduler.current, 0 if last is None else last.repetitions)

    def update(self, frame: FramePose) -> LiveFrame:
        """Score one frame (call in time order)."""
        ts = frame.timestamp_ms
        frame = FramePose(finite_points(frame.image_xyz), frame.visibility,
                          None if frame.world_xyz is None else finite_points(frame.world_xyz),
                          ts, frame.people_seen)
        if not frame.present:
            return self._unscored(ts)
        self._recorder.append(frame)
        plane = "world" if (frame.world_xyz is not None and self.template.plane == "world") \
            else "image"
        if plane == "image" and frame.world_xyz is not None:
            frame = FramePose(frame.image_xyz, frame.visibility, None, ts, frame.people_seen)
        up = self._up.update(frame) if plane == "world" else None
        # checked on the raw frame, and kept out of the smoother, as for files
        if self._is_mirrored(frame, up):
            return self._unscored(ts)
        smooth = self._smoother.update(frame)
        tmpl, aligner, masks, weights, cols = self._setup(plane)
        values, conf = frame_features(smooth, up, self.image_size)
        values, conf = values[cols], conf[cols]
        if not np.isfinite(values).any():
            return self._unscored(ts)
        j, _ = aligner.update(values, conf, ts)
        start = list(self._start)
        shift = self._start_shift(values, tmpl.mean[j], ts, tmpl)
        judged = self._judged(plane, tmpl, start, up)
        z, w = deviation(values[None], conf[None], judged, np.zeros(1, np.int64), np.array([j]),
                         shift)
        region_score, _, total = frame_scores(z, w, masks, self.params)
        dev = z[0]
        regions = {r: finite_or_none(v[0]) for r, v in region_score.items()}
        frame_score = finite_or_none(total[0])
        shown = self._scheduler.update(cues_for_deviation(
            tmpl.feature_names, dev, weights, self._scheduler.off_threshold,
            self.params.spine_preference), ts)
        dev.setflags(write=False)
        out = LiveFrame(ts, frame_score is not None, frame_score, MappingProxyType(regions), dev,
                        j, aligner.progress, shown, aligner.repetitions)
        self._last = out
        return out

    def _judged(self, plane: str, tmpl: Template, start: list, up: np.ndarray | None
                ) -> Template:
        """The template with its tolerances widened as ``coach.scoring.score`` widens them
        (``coach.scoring.widened``): for the reference's own movement from the first frame,
        and for the camera's view and the landmark jitter once the start is known (from the
        start's frames)."""
        if plane in self._judged_templates:
            return self._judged_templates[plane]
        if self._shift is None:
            if plane not in self._start_templates:
                self._start_templates[plane] = widened(
                    tmpl, np.empty((0, len(tmpl.feature_names))), 0.0, self.params)
            return self._start_templates[plane]
        view = view_difference_deg(self._recorder.sequence(), up, tmpl, self.params)
        values = np.stack([v for _, v, _ in start]) if start else np.empty(
            (0, len(tmpl.feature_names)))
        self._judged_templates[plane] = widened(tmpl, values, view, self.params)
        return self._judged_templates[plane]

    def _start_shift(self, values: np.ndarray, matched: np.ndarray, ts: float,
                     tmpl: Template) -> np.ndarray:
        """The reference's move to the person's start posture (``coach.scoring.start_shift``)
        from the frames so far and their matched moments, fixed once they span
        ``params.start_window_s``."""
        if self._shift is None:
            self._start.append((ts, values, matched))
            times = np.array([t for t, _, _ in self._start])
            shift = start_shift(np.stack([v for _, v, _ in self._start]),
                                np.stack([m for _, _, m in self._start]), times,
                                tmpl.feature_names, self.params)
            if ts - times[0] < self.params.start_window_s * 1000.0:
                return shift
            self._shift, self._start = shift, []
        return self._shift

    @property
    def frames_kept(self) -> int:
        """Frames with a person kept for the summary."""
        return len(self._recorder)

    def recording(self) -> PoseSequence:
        """The session's frames with a person, as a sequence (unsmoothed, as detected)."""
        return self._recorder.sequence()

    def summary(self) -> ScoreReport:
        """Score the whole session so far with ``coach.scoring.score`` (which scores each
        repetition on its own and combines them).

        Raises ``NotEnoughPoseError`` when there is not enough pose to score.
        """
        if len(self._recorder) < 2:
            raise NotEnoughPoseError(f"{self.source}: {len(self._recorder)} frame(s) with a "
                                     "person, not enough pose to score")
        return score(self.recording(), self.template, mirror=self.mirror, params=self.params)
