"""Score an attempt against a reference: overall 0-100, per region, timeline, worst moments,
tempo and cues. Every tuned number comes from a ``coach.params.ScoringParams``.

Pipeline: attempt -> blank whole-body mirrored frames -> One Euro smoothing -> features (world
plane when both sides have world landmarks, else image plane, and the report says which) ->
tolerances widened for this attempt (``coach.allowances.widened``)
-> DTW alignment with the reference template (``coach.align``) -> the reference moved to the
person's own start posture (``coach.allowances.start_shift``) -> per matched pair, the signed
deviation of every feature in tolerance units ``z = (attempt - reference) / tolerance`` -> per
region and frame, the root mean square of z over the region's features (weights: feature
weight x landmark confidence), turned into a score ``100 * exp(-(z / softness)^2 / 2)`` -> the
frame's pair's score is the mean of its region scores weighted by the square of each region's
weight (``ScoringParams.region_weight_power``: the trunk counts most), and an attempt frame's score
(the timeline) is the mean over the reference moments it was matched with. Region and feature
scores are taken both ways along the warping path (the mean over attempt frames and the mean
over the reference moments passed, averaged), so that neither a slow nor a fast stretch hides
a mismatch of one part of the body. The root mean square lets one badly-off feature pull its
region down instead of being averaged away by the region's other features.

The alignment compares shapes: each feature is centred on its median (attempt and reference
separately) before DTW, so a constant offset does not drag the path to the wrong moments.

The overall score is the timeline's mean (the form, ``coach.report``) times a coverage
factor ``min(1, covered / coverage_full)`` (an attempt that stops half-way through the
reference cannot score 100) and a tempo factor (``coach.tempo``). Coverage counts movement,
not frames: the share of the reference's motion (summed change of its features, in tolerance
units) between the first and last matched moments, so that still stretches at the ends, which
match anywhere, do not count as skipped.

What the comparison allows for (the person's start posture, the camera's view, landmark
jitter, people's range of motion) and how much each reference moment counts are in
``coach.allowances``; a recording of several repetitions is cut into passes, each scored here
on its own, and their reports combined in ``coach.repetitions``.

Mirror-tolerant scoring (``mirror=True``) compares the attempt with the reference's mirror
image, so a person following an instructor as in a mirror is not marked down; cue sides stay
the person's own. ``mirror="auto"`` scores both ways and keeps the better. How well all this
judges people it has never seen is measured by ``bench/quality.py`` (figures in the README).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from coach.align import DEFAULT_BAND, ReferenceModel, align, centred
from coach.allowances import emphasised, key_moments, start_shift, view_difference_deg, widened
from coach.cues import Cue, cue, cues_for_deviation, order_cues
from coach.errors import InputError, NotEnoughPoseError
from coach.features import SPECS
from coach.landmarks import NUM_LANDMARKS, REGIONS
from coach.numbers import finite_or_none
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.repetitions import combine_reports, repetition_starts, require_duration
from coach.report import Moment, Report, read_only
from coach.template import Template, prepare_sequence, template_from_sequence
from coach.tempo import tempo_factor, tempo_ratio, tempo_words

log = logging.getLogger(__name__)


def feature_score(deviation: np.ndarray,
                  softness: float = DEFAULT_PARAMS.score_softness) -> np.ndarray:
    """Per-feature score 0-100 for deviations in tolerance units (NaN stays NaN): 100 on the
    reference, exp(-1/2) of it at ``softness`` tolerances."""
    z = np.asarray(deviation, dtype=np.float64) / softness
    return 100.0 * np.exp(-0.5 * z * z)


def region_masks(names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Region -> (F,) bool mask of the features in it."""
    return {r: np.array([SPECS[n].region == r for n in names]) for r in REGIONS}


def frame_scores(z: np.ndarray, w: np.ndarray, masks: dict[str, np.ndarray],
                 params: ScoringParams = DEFAULT_PARAMS
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Scores of N frames from deviations z (N, F) (tolerance units) and weights w (N, F).

    Returns (region -> (N,) score 0-100 or NaN, region -> (N,) weight, (N,) frame score). A
    region's weight is the sum of its features' weights (x confidence); the frame score is the
    mean of the region scores weighted by those weights to ``params.region_weight_power``.
    """
    ok = np.isfinite(z) & (w > 0)
    wz = np.where(ok, w, 0.0)
    z2 = np.where(ok, z, 0.0) ** 2
    region_score, region_weight = {}, {}
    for r, m in masks.items():
        den = wz[:, m].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rms = np.sqrt(np.where(den > 0, (wz[:, m] * z2[:, m]).sum(axis=1) / den, np.nan))
        region_score[r], region_weight[r] = feature_score(rms, params.score_softness), den
    scores = np.stack([region_score[r] for r in masks], axis=1)
    weights = np.stack([region_weight[r] for r in masks], axis=1)
    return region_score, region_weight, row_means(scores, weights ** params.region_weight_power)


def row_means(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T,) mean of each row of ``values`` (T, K) weighted by ``weights`` (T, K), ignoring
    NaN; NaN where a row has no weight."""
    ok = np.isfinite(values) & (weights > 0)
    w = np.where(ok, weights, 0.0)
    num = np.sum(np.where(ok, values, 0.0) * w, axis=1)
    den = np.sum(w, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of ``values`` (N,) weighted by ``weights`` (N,), ignoring NaN; NaN without weight."""
    return float(row_means(np.asarray(values)[None], np.asarray(weights)[None])[0])


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
                  weights: np.ndarray, params: ScoringParams) -> list[Cue]:
    """Cues from a whole attempt: features out of tolerance (``params.cue_threshold``) in a
    good part of the weighted frames (deviations of features weighing less than 1 count that
    much less, as live), most severe first (``coach.cues.order_cues``)."""
    found = []
    for f, name in enumerate(names):
        col, wf = z[:, f] * min(1.0, float(weights[f])), w[:, f]
        ok = np.isfinite(col) & (wf > 0)
        if not ok.any():
            continue
        out = ok & (np.abs(col) >= params.cue_threshold)
        fraction = wf[out].sum() / wf[ok].sum()
        if fraction < params.cue_min_fraction:
            continue
        signed = float(np.average(col[out], weights=wf[out]))
        found.append(cue(name, "+" if signed > 0 else "-", fraction * abs(signed)))
    return order_cues(found, params.spine_preference)


def worst_moments(ts: np.ndarray, frame_score: np.ndarray, region_frame: dict[str, np.ndarray],
                  names: tuple[str, ...], z: np.ndarray, weights: np.ndarray,
                  params: ScoringParams) -> tuple[Moment, ...]:
    """The ``params.worst_count`` lowest frame scores (T,) under 90, at least
    ``params.worst_gap_ms`` apart, worst first: each with its cue (from the signed
    deviations z (T, F) of ``names``) or, without one (no angle alone beyond the cue
    threshold), its lowest region (``region_frame``: region -> (T,) scores)."""
    order = np.argsort(np.where(np.isfinite(frame_score), frame_score, np.inf))
    picked: list[Moment] = []
    for i in order:
        if len(picked) >= params.worst_count or not np.isfinite(frame_score[i]):
            break
        if frame_score[i] >= 90.0 or any(abs(ts[i] - m.timestamp_ms) < params.worst_gap_ms
                                         for m in picked):
            continue
        cands = cues_for_deviation(names, z[i], weights, params.cue_threshold,
                                   params.spine_preference)
        if cands:
            region, what = cands[0].region, cands[0].text
        else:
            region = min(((v[i], r) for r, v in region_frame.items() if np.isfinite(v[i])),
                         default=(np.nan, "spine"))[1]
            what = "furthest from the reference here"
        picked.append(Moment(float(ts[i]), region, what, float(frame_score[i])))
    return tuple(picked)


def _motion(template: Template) -> np.ndarray:
    """(R,) cumulative motion of the reference: summed weighted feature change in tolerance
    units (NaN steps count 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.abs(np.diff(template.mean, axis=0)) / template.spread[1:]
    step = np.where(np.isfinite(step), step, 0.0) @ template.weights
    return np.concatenate([[0.0], np.cumsum(step)])


def deviation(values: np.ndarray, conf: np.ndarray, template: Template, i: np.ndarray,
              j: np.ndarray, shift: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Signed deviations z (K, F) of attempt frames ``i`` from reference moments ``j`` (moved
    by ``shift`` (F,), see ``start_shift``), in tolerance units (the template's ``band`` on
    the deviation's side, else its ``spread``), and their weights (feature weight x
    confidence, 0 where unknown)."""
    ref = template.mean[j] if shift is None else template.mean[j] + shift
    diff = values[i] - ref
    tolerance = template.spread[j] if template.band is None else np.where(
        diff < 0, template.band[0][j], template.band[1][j])
    with np.errstate(invalid="ignore", divide="ignore"):
        z = diff / tolerance
    return z, conf[i] * template.weights * np.isfinite(z)


def _group_mean(values: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Weighted mean of ``values`` (K,) per group id (K,), NaN for empty groups."""
    ok = np.isfinite(values) & (weights > 0)
    w = np.where(ok, weights, 0.0)
    num = np.bincount(groups, np.where(ok, values, 0.0) * w)
    den = np.bincount(groups, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def with_gaps(values: np.ndarray, confidence: np.ndarray, ts: np.ndarray, longest_ms: float,
              params: ScoringParams = DEFAULT_PARAMS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The attempt on its own clock for alignment: values and confidences (T, F) at times
    ``ts`` (T,) with the frames of each gap (frames more than ``params.gap_frames`` typical
    intervals apart: the person not found, frames the pose model turned round) put back as
    unknown rows (NaN, confidence 0), at most ``longest_ms`` of them per gap (the
    reference's duration: a longer gap passes no more of it), and (T,) the row of each real
    frame. Without them the alignment would take the frames either side of a gap as
    consecutive and run behind the reference from there on."""
    rows = np.arange(len(ts))
    if len(ts) >= 3:
        step = np.diff(ts)
        typical = float(np.median(step))
        if typical > 0:
            missing = np.where(step > params.gap_frames * typical,
                               np.minimum(step, longest_ms) / typical, 1.0)
            rows = np.concatenate([[0], np.cumsum(np.maximum(np.round(missing), 1.0))])
            rows = rows.astype(np.int64)
    full_values = np.full((rows[-1] + 1 if len(rows) else 0, values.shape[1]), np.nan)
    full_conf = np.zeros_like(full_values)
    full_values[rows], full_conf[rows] = values, confidence
    return full_values, full_conf, rows


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


def _centred_model(template: Template) -> ReferenceModel:
    """The template's alignment model on median-centred features (offsets do not steer the
    alignment)."""
    return ReferenceModel(centred(template.mean), template.spread, template.weights)


@dataclass(frozen=True)
class PassContext:
    """What a pass is judged against besides the attempt: the reference (as compared: in the
    plane, widened, mirrored when asked), how much each of its moments counts (``key``: (R,),
    ``key_moments`` of the reference as stored), and what its report says: the reference's
    version, the plane, the side, the source."""

    template: Template
    key: np.ndarray
    reference_version: str
    plane: str
    mirrored: bool
    source: str


def pass_report(ts: np.ndarray, j: np.ndarray, z: np.ndarray, w: np.ndarray,
                timeline: np.ndarray, regions: dict[str, float], features: dict[str, float],
                context: PassContext, params: ScoringParams) -> Report:
    """The report of one pass through the reference, offline or live alike.

    ts: (N,) attempt times (ms); j: (N,) matched reference moments; z, w: (N, F) deviations
    at those moments (tolerance units) and their weights; timeline: (N,) frame scores 0-100;
    regions / features: their scores (NaN when not measurable). Adds the coverage and tempo
    factors (overall = timeline mean x both), the cues and the worst moments.
    """
    template = context.template
    names = template.feature_names
    motion = _motion(template)
    coverage = float((motion[j[-1]] - motion[j[0]]) / motion[-1]) if motion[-1] > 0 else 1.0
    ratio = tempo_ratio(ts, template.timestamps_ms[j])
    form = float(np.nanmean(timeline)) if np.isfinite(timeline).any() else float("nan")
    coverage_factor = min(1.0, coverage / params.coverage_full)
    pace_factor = tempo_factor(ratio, params)
    cues = _offline_cues(names, z, w, template.weights, params)
    # people's own pace differs: only a clearly rushed or dragging pace is cued, after the body
    if np.isfinite(ratio) and ratio > params.tempo_rushed:
        cues.append(cue("tempo", "+", ratio))
    elif np.isfinite(ratio) and ratio < 1.0 / params.tempo_rushed:
        cues.append(cue("tempo", "-", 1.0 / max(ratio, 1e-6)))
    if motion[-1] > 0 and motion[j[-1]] / motion[-1] < params.coverage_cue:
        cues.append(cue("coverage", "-", 1.0 - coverage))
    cues = cues[:params.max_cues]
    region_frame, _, _ = frame_scores(z, w, region_masks(names), params)
    return Report(
        kind="flowing", reference_name=template.name,
        reference_version=context.reference_version,
        overall=form * coverage_factor * pace_factor, form=form,
        coverage_factor=coverage_factor, tempo_factor=pace_factor,
        regions={r: finite_or_none(v) for r, v in regions.items()},
        features={n: finite_or_none(v) for n, v in features.items()},
        timeline_ms=read_only(ts), timeline_score=read_only(timeline),
        reference_index=read_only(j, np.int64),
        worst_moments=worst_moments(ts, timeline, region_frame, names, z, template.weights, params),
        tempo_ratio=float(ratio), tempo_text=tempo_words(ratio, params),
        reference_covered=coverage, cues=tuple(c.text for c in cues),
        cue_keys=tuple(c.key for c in cues), plane=context.plane, frames_used=len(ts),
        frames_dropped=0, mirrored=context.mirrored, source=context.source)


def _score_once(attempt_values: np.ndarray, attempt_conf: np.ndarray, ts: np.ndarray,
                model: ReferenceModel, band: float | None, context: PassContext,
                params: ScoringParams) -> Report:
    """One pass: DTW alignment, deviations along the path, the pass's report."""
    template = context.template
    full_values, full_conf, rows = with_gaps(attempt_values, attempt_conf, ts,
                                             template.duration_s * 1000.0, params)
    al = align(centred(full_values), full_conf, model, band=band)
    j = al.reference_index[rows]
    names = template.feature_names
    shift = start_shift(attempt_values, template.mean[j], ts, names, params)
    masks = region_masks(names)
    z, w = deviation(attempt_values, attempt_conf, template, np.arange(len(j)), j, shift)
    # both ways along the whole path: each attempt frame and each reference moment it passed
    # (the moments passed in a gap, where the person was not seen, are not judged)
    frame_of_row = np.full(len(full_values), -1, dtype=np.int64)
    frame_of_row[rows] = np.arange(len(rows))
    seen = frame_of_row[al.path[:, 0]] >= 0
    pi, pj = frame_of_row[al.path[seen, 0]], al.path[seen, 1]
    zp, wp = deviation(attempt_values, attempt_conf, template, pi, pj, shift)
    region_p, region_wp, frame_p = frame_scores(zp, wp, masks, params)
    sp = feature_score(zp, params.score_softness)
    regions = {r: _both_ways(v, region_wp[r], pi, pj) for r, v in region_p.items()}
    features = {n: _both_ways(sp[:, f], wp[:, f], pi, pj) for f, n in enumerate(names)}
    # each attempt frame's score is the mean over the reference moments it was matched with,
    # a shortfall counting more where the reference is at its peak
    timeline = _group_mean(emphasised(frame_p, context.key[pj]), wp.sum(axis=1), pi)
    return pass_report(ts, j, z, w, timeline, regions, features, context, params)


def score(attempt: PoseSequence, reference: Template | PoseSequence, *,
          mirror: bool | Literal["auto"] = False,
          band: float | None = DEFAULT_BAND,
          params: ScoringParams = DEFAULT_PARAMS) -> Report:
    """Score ``attempt`` against ``reference`` (a template, or one take as a sequence).

    Each pass through the reference is compared from the person's own start posture
    (``start_shift``), so the comparison is of the movement from there. Raises
    ``NotEnoughPoseError`` when the attempt or the reference has fewer than
    ``params.min_frames`` usable frames with a person or none of the compared features can be
    measured in the attempt, ``InputError`` for inputs of the wrong kind.
    """
    attempt = _check_sequence(attempt, "attempt")
    if isinstance(reference, PoseSequence):
        reference = _check_sequence(reference, "reference")
        template = template_from_sequence(reference, reference.source or "reference",
                                          params=params)
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
    template = template.in_plane(plane, params)
    if plane == "image" and attempt.has_world:
        attempt = replace(attempt, world_xyz=None)
    smooth, track = prepare_sequence(attempt, params)
    cols = [track.names.index(n) for n in template.feature_names]
    keep = track.usable & smooth.present
    used = int(keep.sum())
    if used < params.min_frames:
        raise NotEnoughPoseError(f"{label}: {used} usable frame(s) with a person, not enough "
                                 f"pose to score (at least {params.min_frames} needed)")
    values = track.values[keep][:, cols]
    conf = track.confidence[keep][:, cols]
    ts = track.timestamps_ms[keep]
    require_duration((ts[-1] - ts[0]) / 1000.0 + 1.0 / attempt.fps, template, label, params)
    version = template.version  # of the reference as stored, before widening for this attempt
    key = key_moments(template, params)
    template = widened(template, values, view_difference_deg(
        smooth.select(keep), track.up, template, params), params)
    ways = {"auto": (False, True), True: (True,), False: (False,)}[mirror]
    reports = {}
    for m in ways:
        tmpl = template.mirrored() if m else template
        bounds = [0, *repetition_starts(values, conf, ts, tmpl, params), len(ts)]
        model = _centred_model(tmpl)
        context = PassContext(tmpl, key, version, plane, m, attempt.source)
        parts = [_score_once(values[a:b], conf[a:b], ts[a:b], model, band, context, params)
                 for a, b in zip(bounds, bounds[1:], strict=False)]
        reports[m] = combine_reports(parts, params)
    best = max(reports.values(), key=lambda r: r.overall if np.isfinite(r.overall) else -1.0)
    if not np.isfinite(best.overall):
        raise NotEnoughPoseError(f"{label}: none of the compared features "
                                 f"({', '.join(template.feature_names)}) could be measured, "
                                 "not enough pose to score")
    return replace(best, frames_dropped=len(attempt) - used)
