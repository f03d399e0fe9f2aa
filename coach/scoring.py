"""Score an attempt against a reference: overall 0-100, per region, timeline, worst moments,
tempo and cues.

Pipeline: attempt -> blank whole-body mirrored frames -> One Euro smoothing -> features (world
plane when both sides have world landmarks, else image plane, and the report says which) ->
DTW alignment with the reference template (``coach.align``) -> per matched pair, the signed
deviation of every feature in tolerance units ``z = (attempt - reference) / spread`` ->
per region and frame, the root mean square of z over the region's features (weights: feature
weight x landmark confidence), turned into a score ``100 * exp(-(z / SCORE_SOFTNESS)^2 / 2)``
(100 on the reference, about 80 at the tolerance's edge, about 41 at twice the tolerance) ->
the frame's score is the weighted mean of its region scores. Region and overall scores are
taken both ways along the warping path (the mean over attempt frames and the mean over the
reference moments passed, averaged), so that neither a slow nor a fast stretch hides a
mismatch; the timeline has one score per attempt frame. The root mean square lets one
badly-off feature (a 40 deg forward bend) pull its region down instead of being averaged
away by the region's other features.

The alignment compares shapes: each feature is centred on its median (attempt and reference
separately) before DTW, so a constant offset (a habitual lean, a camera-angle offset) does
not drag the path to the wrong moments; the deviations are then measured on the raw values.

The overall score is the weighted mean over frames and features times a coverage factor
``min(1, covered / COVERAGE_FULL)`` (an attempt that stops half-way through the reference
cannot score 100) and a tempo factor (``tempo_factor``: rushing costs more than going slowly,
as the exercises are slow and gentle). Coverage counts movement, not frames: the share of
the reference's motion (summed change of its features, in tolerance units) between the first
and last matched moments, so that still stretches at the ends, which match anywhere, do not
count as skipped. Tempo is the reference time per attempt second over the middle half of the
path (2.0 = twice as fast as the reference), again ignoring the ambiguous ends.

Measured with the real model on the bundled clips (``bench/score_matrix.py``): against the
``cam01`` view of the pose2sim movement, its other three views score 73-78 and different
movements 5 (squats) and 46 (dance); every clip against itself 100. The KERAAL exercises
(image plane) score 100 against themselves and 51-78 against each other (flank stretch
against trunk rotation: 57). ``bench/fault_detection.py`` (good attempts: time-warped,
jittered real recordings; bad: the same with a rounded back, lateral lean, raised shoulder,
cut range or rushed tempo added): filmed from the reference's angle, ROC AUC 0.999 and the
first cue names the fault in 93% of bad attempts; from another camera angle AUC 0.72 and
42% (view differences of 10-25 deg in joints and twist blur faults of that size).

A recording of several repetitions (the movement done again from the start) is followed
with the online aligner (``repetition_starts``), each pass is scored on its own and the
reports are combined (``combine_reports``): one pass of the reference cannot be aligned with
several.

Mirror-tolerant scoring (``mirror=True``) compares the attempt with the reference's mirror
image, so a person following an instructor as in a mirror is not marked down; cue sides stay
the person's own. ``mirror="auto"`` scores both ways and keeps the better.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from coach.align import DEFAULT_BAND, OnlineAligner, ReferenceModel, align
from coach.cues import REGION_PRIORITY, Cue, cue, cues_for_deviation
from coach.errors import InputError, NotEnoughPoseError
from coach.features import SPECS
from coach.landmarks import NUM_LANDMARKS, REGIONS
from coach.numbers import rounded
from coach.pose import PoseSequence
from coach.template import Template, prepare_sequence, template_from_sequence

log = logging.getLogger(__name__)

#: Deviation (tolerance units) at which a feature's score falls to exp(-1/2) ~ 61.
SCORE_SOFTNESS = 1.5
#: Coverage of the reference from which an attempt is not marked down for stopping early.
COVERAGE_FULL = 0.85
#: Fewest usable frames an attempt or a reference needs.
MIN_FRAMES = 2
#: Tempo ratio band read as "about the reference's pace".
TEMPO_SAME = (0.8, 1.25)
#: From this tempo ratio on, "Slow down" comes right after the spine cues (below it, after
#: the posture cues).
TEMPO_RUSHED = 1.5
#: Tempo penalty per squared doubling outside ``TEMPO_SAME``: rushing costs more than slowness
#: (the exercises are slow); twice as fast costs about 5%, half as fast about 2%.
TEMPO_PENALTY_FAST, TEMPO_PENALTY_SLOW = 0.12, 0.05
#: A feature gets a cue when out of tolerance in at least this fraction of the weighted frames.
CUE_MIN_FRACTION = 0.25
#: Most cues a report lists.
MAX_CUES = 5
#: Worst moments: how many, and how far apart (ms).
WORST_COUNT, WORST_GAP_MS = 3, 1000.0


def feature_score(deviation: np.ndarray) -> np.ndarray:
    """Per-feature score 0-100 for deviations in tolerance units (NaN stays NaN)."""
    z = np.asarray(deviation, dtype=np.float64) / SCORE_SOFTNESS
    return 100.0 * np.exp(-0.5 * z * z)


def tempo_factor(ratio: float) -> float:
    """Multiplier in (0, 1] for a tempo ratio (attempt speed / reference speed)."""
    if not np.isfinite(ratio) or ratio <= 0:
        return 1.0
    if ratio > TEMPO_SAME[1]:
        return float(np.exp(-TEMPO_PENALTY_FAST * np.log2(ratio / TEMPO_SAME[1]) ** 2))
    if ratio < TEMPO_SAME[0]:
        return float(np.exp(-TEMPO_PENALTY_SLOW * np.log2(TEMPO_SAME[0] / ratio) ** 2))
    return 1.0


def region_masks(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Region -> (F,) bool mask of the features in it."""
    return {r: np.array([SPECS[n].region == r for n in names]) for r in REGIONS}


def frame_scores(z: np.ndarray, w: np.ndarray, masks: dict[str, np.ndarray]
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Scores of N frames from deviations z (N, F) (tolerance units) and weights w (N, F).

    Returns (region -> (N,) score 0-100 or NaN, region -> (N,) weight, (N,) frame score).
    """
    ok = np.isfinite(z) & (w > 0)
    wz = np.where(ok, w, 0.0)
    z2 = np.where(ok, z, 0.0) ** 2
    region_score, region_weight = {}, {}
    for r, m in masks.items():
        den = wz[:, m].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(np.where(den > 0, (wz[:, m] * z2[:, m]).sum(axis=1) / den, np.nan))
        region_score[r], region_weight[r] = feature_score(rms), den
    scores = np.stack([region_score[r] for r in masks], axis=1)
    weights = np.stack([region_weight[r] for r in masks], axis=1)
    return region_score, region_weight, np.asarray(weighted_mean(scores, weights, axis=1))


def weighted_mean(values: np.ndarray, weights: np.ndarray, axis: int | None = None
                  ) -> np.ndarray | float:
    """Mean of ``values`` weighted by ``weights``, ignoring NaN; NaN where no weight."""
    ok = np.isfinite(values) & (weights > 0)
    w = np.where(ok, weights, 0.0)
    num = np.sum(np.where(ok, values, 0.0) * w, axis=axis)
    den = np.sum(w, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan) if axis is not None else (
            float(num / den) if den > 0 else float("nan"))


@dataclass(frozen=True)
class Moment:
    """One of the worst moments: when, which region, what was wrong, the score there."""

    timestamp_ms: float
    region: str
    what: str
    score: float


def _ro(arr: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    out = np.array(arr, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class ScoreReport:
    """How an attempt compares with a reference.

    overall: 0-100. regions: region -> 0-100, or None when no feature of it was measurable.
    features: feature -> 0-100 (None when not measurable).
    timeline_ms: (N,) attempt times of the scored frames; timeline_score: (N,) 0-100;
    reference_index: (N,) the matched reference moment of each scored frame (for a ghost).
    worst_moments: the lowest-scoring moments, worst first.
    tempo_ratio: reference time covered per attempt second (> 1 = faster than the reference);
    tempo_text: the same in words. reference_covered: fraction of the reference gone through.
    cues: ordered instructions, spine first; cue_keys: their ``coach.cues.CUE_TEXTS`` keys
        (feature or topic, "+"/"-"). plane: "world" or "image".
    frames_used / frames_dropped: attempt frames scored / not (no person, mirrored, unusable).
    mirrored: compared with the reference's mirror image.
    repetitions: how many passes through the reference were scored (see ``combine_reports``).
    """

    reference_name: str
    reference_version: str
    overall: float
    regions: MappingProxyType
    features: MappingProxyType
    timeline_ms: np.ndarray
    timeline_score: np.ndarray
    reference_index: np.ndarray
    worst_moments: tuple[Moment, ...]
    tempo_ratio: float
    tempo_text: str
    reference_covered: float
    cues: tuple[str, ...]
    cue_keys: tuple[tuple[str, str], ...]
    plane: str
    frames_used: int
    frames_dropped: int
    mirrored: bool
    source: str = ""
    repetitions: int = 1

    def to_dict(self) -> dict:
        """JSON-ready dict (floats rounded to 0.1)."""
        return {
            "source": self.source,
            "reference": {"name": self.reference_name, "version": self.reference_version},
            "overall": rounded(self.overall),
            "regions": {k: rounded(v) for k, v in self.regions.items()},
            "features": {k: rounded(v) for k, v in self.features.items()},
            "tempo": {"ratio": rounded(self.tempo_ratio, 2), "text": self.tempo_text},
            "reference_covered": rounded(self.reference_covered, 3),
            "cues": list(self.cues),
            "cue_keys": [list(k) for k in self.cue_keys],
            "worst_moments": [{"timestamp_ms": rounded(m.timestamp_ms), "region": m.region,
                               "what": m.what, "score": rounded(m.score)}
                              for m in self.worst_moments],
            "timeline": {"timestamp_ms": [rounded(t) for t in self.timeline_ms],
                         "score": [rounded(s) for s in self.timeline_score],
                         "reference_index": [int(i) for i in self.reference_index]},
            "plane": self.plane,
            "mirrored": self.mirrored,
            "frames_used": self.frames_used,
            "frames_dropped": self.frames_dropped,
        }

    def summary_text(self) -> str:
        """A few lines for the terminal."""
        plane = ("world landmarks (3D)" if self.plane == "world"
                 else "image plane only (no 3D landmarks: sagittal and twist not compared)")
        lines = [f"Score {self.overall:.0f}/100 against '{self.reference_name}'"
                 + (" (mirrored)" if self.mirrored else "")
                 + (f" over {self.repetitions} repetitions" if self.repetitions > 1 else ""),
                 "  " + "  ".join(f"{r} {v:.0f}" if v is not None else f"{r} -"
                                  for r, v in self.regions.items()),
                 f"  Tempo: {self.tempo_text}; reference covered {self.reference_covered:.0%}"]
        if self.cues:
            lines.append("  Cues:")
            lines += [f"    {i + 1}. {c}" for i, c in enumerate(self.cues)]
        for m in self.worst_moments:
            lines.append(f"  At {m.timestamp_ms / 1000:.1f} s ({m.region}, {m.score:.0f}): "
                         f"{m.what}")
        lines.append(f"  Compared on {plane}; {self.frames_used} frames scored, "
                     f"{self.frames_dropped} dropped")
        return "\n".join(lines)


def tempo_words(ratio: float) -> str:
    """The tempo ratio in words."""
    if not np.isfinite(ratio):
        return "unknown"
    if TEMPO_SAME[0] <= ratio <= TEMPO_SAME[1]:
        return f"about the reference's pace ({ratio:.2f}x)"
    if ratio > TEMPO_SAME[1]:
        return f"faster than the reference ({ratio:.2f}x its speed)"
    return f"slower than the reference ({ratio:.2f}x its speed)"


def _check_sequence(seq: object, role: str) -> PoseSequence:
    if not isinstance(seq, PoseSequence):
        raise InputError(f"{role}: expected a PoseSequence, got {type(seq).__name__}")
    label = seq.source or role
    arrays = [seq.image_xyz, seq.visibility] + ([] if seq.world_xyz is None else [seq.world_xyz])
    for arr in arrays:
        if arr.ndim < 2 or arr.shape[1] != NUM_LANDMARKS:
            got = arr.shape[1] if arr.ndim >= 2 else "none"
            raise InputError(f"{label}: expected {NUM_LANDMARKS} landmarks per frame, got {got}")
    return seq


def _offline_cues(names: tuple[str, ...], z: np.ndarray, w: np.ndarray,
                  weights: np.ndarray) -> list[Cue]:
    """Cues from a whole attempt: features out of tolerance in a good part of the frames
    (deviations of features weighing less than 1 count that much less, as live)."""
    found = []
    for f, name in enumerate(names):
        col, wf = z[:, f] * min(1.0, float(weights[f])), w[:, f]
        ok = np.isfinite(col) & (wf > 0)
        if not ok.any():
            continue
        out = ok & (np.abs(col) >= 1.0)
        fraction = wf[out].sum() / wf[ok].sum()
        if fraction < CUE_MIN_FRACTION:
            continue
        signed = float(np.average(col[out], weights=wf[out]))
        if abs(signed) < 1.0:
            continue
        found.append(cue(name, "+" if signed > 0 else "-", fraction * abs(signed)))
    return sorted(found, key=lambda c: (REGION_PRIORITY.index(c.region),
                                        -c.severity * SPECS[c.feature].weight))


def _worst(ts: np.ndarray, frame_score: np.ndarray, region_frame: dict[str, np.ndarray],
           names: tuple[str, ...], z: np.ndarray, weights: np.ndarray) -> tuple[Moment, ...]:
    order = np.argsort(np.where(np.isfinite(frame_score), frame_score, np.inf))
    picked: list[Moment] = []
    for i in order:
        if len(picked) >= WORST_COUNT or not np.isfinite(frame_score[i]):
            break
        if frame_score[i] >= 90.0 or any(abs(ts[i] - m.timestamp_ms) < WORST_GAP_MS
                                         for m in picked):
            continue
        cands = cues_for_deviation(names, z[i], weights)
        if cands:
            region, what = cands[0].region, cands[0].text
        else:
            region = min(((v[i], r) for r, v in region_frame.items() if np.isfinite(v[i])),
                         default=(np.nan, "spine"))[1]
            what = "close to the reference"
        picked.append(Moment(float(ts[i]), region, what, float(frame_score[i])))
    return tuple(picked)


def _motion(template: Template) -> np.ndarray:
    """(R,) cumulative motion of the reference: summed weighted feature change in tolerance
    units (NaN steps count 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.abs(np.diff(template.mean, axis=0)) / template.spread[1:]
    step = np.where(np.isfinite(step), step, 0.0) @ template.weights
    return np.concatenate([[0.0], np.cumsum(step)])


def _tempo_ratio(attempt_ms: np.ndarray, matched_ref_ms: np.ndarray) -> float:
    """Reference time per attempt time over the middle half of the path (NaN if unknown)."""
    n = len(attempt_ms)
    lo, hi = n // 4, max(n // 4 + 1, (3 * n) // 4)
    hi = min(hi, n - 1)
    span = (attempt_ms[hi] - attempt_ms[lo]) / 1000.0
    if span <= 0:
        return float("nan")
    return float((matched_ref_ms[hi] - matched_ref_ms[lo]) / 1000.0 / span)


def deviation(values: np.ndarray, conf: np.ndarray, template: Template, i: np.ndarray,
               j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed deviations z (K, F) of attempt frames ``i`` from reference moments ``j``, in
    tolerance units, and their weights (feature weight x confidence, 0 where unknown)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (values[i] - template.mean[j]) / template.spread[j]
    return z, conf[i] * template.weights * np.isfinite(z)


def _group_mean(values: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Weighted mean of ``values`` (K,) per group id (K,), NaN for empty groups."""
    ok = np.isfinite(values) & (weights > 0)
    w = np.where(ok, weights, 0.0)
    num = np.bincount(groups, np.where(ok, values, 0.0) * w)
    den = np.bincount(groups, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _both_ways(values: np.ndarray, weights: np.ndarray, i: np.ndarray, j: np.ndarray) -> float:
    """Mean of path-pair scores (K,) taken both ways: over attempt frames and over the
    reference moments passed, then averaged, so that neither a slow stretch (many attempt
    frames on one moment) nor a fast one (many moments in one frame) hides a mismatch."""
    sides = []
    for groups in (i, j):
        per = _group_mean(values, weights, groups)
        if np.isfinite(per).any():
            sides.append(float(np.nanmean(per)))
    return float(np.mean(sides)) if sides else float("nan")


def _centred(values: np.ndarray) -> np.ndarray:
    """(T, F) values minus each feature's median over time (NaN kept)."""
    with np.errstate(invalid="ignore"):
        med = np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=0) \
            if np.isfinite(values).any() else np.zeros(values.shape[1])
    return values - np.where(np.isfinite(med), med, 0.0)


def _centred_model(template: Template) -> ReferenceModel:
    """The template's alignment model on median-centred features (offsets do not steer the
    alignment)."""
    return ReferenceModel(_centred(template.mean), template.spread, template.weights)


def _score_once(attempt_values: np.ndarray, attempt_conf: np.ndarray, ts: np.ndarray,
                template: Template, model: ReferenceModel, band: float | None) -> dict:
    al = align(_centred(attempt_values), attempt_conf, model, band=band)
    j = al.reference_index
    names = template.feature_names
    masks = region_masks(names)
    z, w = deviation(attempt_values, attempt_conf, template, np.arange(len(j)), j)
    region_frame, region_w, frame_score = frame_scores(z, w, masks)
    # both ways along the whole path: each attempt frame and each reference moment it passed
    pi, pj = al.path[:, 0], al.path[:, 1]
    zp, wp = deviation(attempt_values, attempt_conf, template, pi, pj)
    region_p, region_wp, frame_p = frame_scores(zp, wp, masks)
    sp = feature_score(zp)
    regions = {r: _both_ways(v, region_wp[r], pi, pj) for r, v in region_p.items()}
    features = {n: _both_ways(sp[:, f], wp[:, f], pi, pj) for f, n in enumerate(names)}
    motion = _motion(template)
    coverage = (motion[j[-1]] - motion[j[0]]) / motion[-1] if motion[-1] > 0 else al.coverage
    ratio = _tempo_ratio(ts, template.timestamps_ms[j])
    raw = _both_ways(frame_p, wp.sum(axis=1), pi, pj)
    overall = raw * min(1.0, coverage / COVERAGE_FULL) * tempo_factor(ratio)
    cues = _offline_cues(names, z, w, template.weights)
    spine = sum(c.region == "spine" for c in cues)
    if np.isfinite(ratio) and ratio > TEMPO_RUSHED:
        cues.insert(spine, cue("tempo", "+", ratio))
    elif np.isfinite(ratio) and ratio > TEMPO_SAME[1]:
        cues.append(cue("tempo", "+", ratio))
    elif np.isfinite(ratio) and ratio < TEMPO_SAME[0] * 0.75:
        cues.append(cue("tempo", "-", 1.0 / max(ratio, 1e-6)))
    if motion[-1] > 0 and 1.0 - motion[j[-1]] / motion[-1] > 1.0 - COVERAGE_FULL:
        cues.append(cue("coverage", "-", 1.0 - coverage))
    return {
        "overall": float(overall),
        "regions": {r: (None if not np.isfinite(v) else float(v)) for r, v in regions.items()},
        "features": {n: (None if not np.isfinite(v) else float(v)) for n, v in features.items()},
        "timeline_score": np.where(np.isfinite(frame_score), frame_score, np.nan),
        "reference_index": j,
        "worst": _worst(ts, frame_score, region_frame, names, z, template.weights),
        "ratio": float(ratio),
        "coverage": coverage,
        "cues": tuple(cues[:MAX_CUES]),
    }


def score(attempt: PoseSequence, reference: Template | PoseSequence, *,
          mirror: bool | Literal["auto"] = False,
          band: float | None = DEFAULT_BAND) -> ScoreReport:
    """Score ``attempt`` against ``reference`` (a template, or one take as a sequence).

    Raises ``NotEnoughPoseError`` when the attempt or the reference has fewer than
    ``MIN_FRAMES`` usable frames with a person or none of the compared features can be
    measured in the attempt, ``InputError`` for inputs of the wrong kind.
    """
    attempt = _check_sequence(attempt, "attempt")
    if isinstance(reference, PoseSequence):
        reference = _check_sequence(reference, "reference")
        template = template_from_sequence(reference, reference.source or "reference")
    elif isinstance(reference, Template):
        template = reference
    else:
        raise InputError(f"reference: expected a Template or PoseSequence, got "
                         f"{type(reference).__name__}")
    if mirror not in (True, False, "auto"):
        raise InputError(f"mirror: expected True, False or 'auto', got {mirror!r}")
    label = attempt.source or "attempt"
    if len(attempt) == 0 or not attempt.present.any():
        raise NotEnoughPoseError(f"{label}: no frame with a person, not enough pose to score")
    plane = "world" if attempt.has_world and template.plane == "world" else "image"
    template = template.in_plane(plane)
    if plane == "image" and attempt.has_world:
        attempt = replace(attempt, world_xyz=None)
    smooth, track = prepare_sequence(attempt)
    cols = [track.names.index(n) for n in template.feature_names]
    keep = track.usable & smooth.present
    used = int(keep.sum())
    if used < MIN_FRAMES:
        raise NotEnoughPoseError(f"{label}: {used} usable frame(s) with a person, not enough "
                                 f"pose to score (at least {MIN_FRAMES} needed)")
    values = track.values[keep][:, cols]
    conf = track.confidence[keep][:, cols]
    ts = track.timestamps_ms[keep]
    ways = {"auto": (False, True), True: (True,), False: (False,)}[mirror]
    reports = {}
    for m in ways:
        tmpl = template.mirrored() if m else template
        bounds = [0, *repetition_starts(values, conf, ts, tmpl), len(ts)]
        model = _centred_model(tmpl)
        parts = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            res = _score_once(values[a:b], conf[a:b], ts[a:b], tmpl, model, band)
            parts.append(ScoreReport(
                reference_name=template.name, reference_version=template.version,
                overall=res["overall"], regions=MappingProxyType(res["regions"]),
                features=MappingProxyType(res["features"]), timeline_ms=_ro(ts[a:b]),
                timeline_score=_ro(res["timeline_score"]),
                reference_index=_ro(res["reference_index"], np.int64),
                worst_moments=res["worst"], tempo_ratio=res["ratio"],
                tempo_text=tempo_words(res["ratio"]), reference_covered=res["coverage"],
                cues=tuple(c.text for c in res["cues"]),
                cue_keys=tuple(c.key for c in res["cues"]), plane=plane, frames_used=b - a,
                frames_dropped=0, mirrored=m, source=attempt.source))
        reports[m] = combine_reports(parts)
    best = max(reports.values(), key=lambda r: r.overall if np.isfinite(r.overall) else -1.0)
    if not np.isfinite(best.overall):
        raise NotEnoughPoseError(f"{label}: none of the compared features "
                                 f"({', '.join(template.feature_names)}) could be measured, "
                                 "not enough pose to score")
    return replace(best, frames_dropped=len(attempt) - used)


def repetition_starts(values: np.ndarray, conf: np.ndarray, ts: np.ndarray,
                      template: Template) -> list[int]:
    """Frames (indices into values (T, F)) where the attempt starts the movement again, found
    by following it with the online aligner (``coach.align.OnlineAligner``); [] for one pass.
    """
    if len(ts) < 2 * MIN_FRAMES:
        return []
    online = OnlineAligner(ReferenceModel(template.mean, template.spread, template.weights))
    starts = []
    for i in range(len(ts)):
        done = online.repetitions
        online.update(values[i], conf[i], ts[i])
        if online.repetitions > done and MIN_FRAMES <= i <= len(ts) - MIN_FRAMES:
            starts.append(i)
    return starts


def _cue_group(key: tuple[str, str]) -> int:
    """Order of cue groups in a combined report: spine, tempo, other regions, coverage."""
    region = cue(key[0], key[1], 0.0).region
    if key[0] == "coverage":
        return 99
    if region == "tempo":
        return 1
    return 0 if region == "spine" else 2 + REGION_PRIORITY.index(region)


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def combine_reports(reports: list[ScoreReport]) -> ScoreReport:
    """One report for several repetitions of a movement, each scored against the same
    reference: means weighted by frames scored, timelines joined, cues ordered as in a single
    report (spine first) and, within a group, by how many repetitions needed them."""
    if not reports:
        raise ValueError("combine_reports: no reports")
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    n = np.array([r.frames_used for r in reports], dtype=np.float64)

    def mean(values: list[float | None]) -> float | None:
        pairs = [(v, w) for v, w in zip(values, n, strict=True) if v is not None
                 and np.isfinite(v)]
        return sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else None

    regions = {k: mean([r.regions.get(k) for r in reports]) for k in first.regions}
    features = {k: mean([r.features.get(k) for r in reports]) for k in first.features}
    seen: dict[tuple[str, str], list] = {}
    for r in reports:
        for rank, (key, text) in enumerate(zip(r.cue_keys, r.cues, strict=True)):
            entry = seen.setdefault(key, [0, text, rank])
            entry[0] += 1
            entry[2] = min(entry[2], rank)
    order = sorted(seen, key=lambda k: (_cue_group(k), -seen[k][0], seen[k][2]))[:MAX_CUES]
    moments: list[Moment] = []
    for m in sorted((m for r in reports for m in r.worst_moments), key=lambda m: m.score):
        if len(moments) < WORST_COUNT and all(abs(m.timestamp_ms - o.timestamp_ms)
                                              >= WORST_GAP_MS for o in moments):
            moments.append(m)
    ratio = _nan_if_none(mean([r.tempo_ratio for r in reports]))
    return ScoreReport(
        reference_name=first.reference_name, reference_version=first.reference_version,
        overall=_nan_if_none(mean([r.overall for r in reports])),
        regions=MappingProxyType(regions), features=MappingProxyType(features),
        timeline_ms=_ro(np.concatenate([r.timeline_ms for r in reports])),
        timeline_score=_ro(np.concatenate([r.timeline_score for r in reports])),
        reference_index=_ro(np.concatenate([r.reference_index for r in reports]), np.int64),
        worst_moments=tuple(moments), tempo_ratio=ratio, tempo_text=tempo_words(ratio),
        reference_covered=float(mean([r.reference_covered for r in reports]) or 0.0),
        cues=tuple(seen[k][1] for k in order), cue_keys=tuple(order), plane=first.plane,
        frames_used=int(n.sum()), frames_dropped=sum(r.frames_dropped for r in reports),
        mirrored=first.mirrored, source=first.source,
        repetitions=sum(r.repetitions for r in reports))
