"""One reference movement from several instructor takes: DTW barycenter averaging (DBA).

The takes' features (``coach.features``) are centred on each take's own median (as the
scorer aligns, so that a take's different start posture does not steer the alignment away from
the movement) and scaled by sqrt(weight) / tolerance so that a deviation counts the same in
every feature, the take closest to all others (the medoid) starts
the barycenter, and dtaidistance's DBA refines it. Every take is then warped onto the
barycenter's timeline; at each moment the mean over takes is the reference value and the
standard deviation over takes is the spread: small where the instructor's takes agree, larger
where they differ. The template's tolerance at that moment is
``sqrt(floor^2 + (take_spread_factor x spread)^2)``: the between-person floor
(``ScoringParams.tolerance_deg``, or the metadata's tolerance) widened where the instructor's
own takes differ, so a very consistent instructor does not make a moment impossible to match
for somebody else. Takes are prepared as
the scorer prepares a single-take reference (smoothed, mirrored frames blanked). One take gives
the scorer's single-take template with default (or the metadata's) tolerances.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from dtaidistance import dtw_barycenter, dtw_ndim

from coach.align import centred
from coach.features import feature_names
from coach.library.errors import TakeError
from coach.library.meta import ExerciseMeta
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.template import (
    Template,
    default_spread,
    default_weights,
    template_from_sequence,
)

log = logging.getLogger(__name__)

#: DBA iterations at most, and the relative change of the barycenter that stops them early.
DBA_MAX_ITER = 10
DBA_THRESHOLD = 1e-3
#: Half-width, in barycenter moments, of the moving average applied to the spread (several
#: takes give a noisy standard deviation from moment to moment).
SPREAD_SMOOTH = 2


def _overrides(names: Sequence[str], table: Mapping[str, float] | None) -> dict[str, float]:
    """The metadata's per-feature numbers for the features of this plane."""
    return {} if table is None else {k: v for k, v in table.items() if k in names}


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """(T, F) values with NaN runs filled by linear interpolation in time (edges held).

    A column with no finite value stays NaN.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    t = np.arange(len(out))
    for f in range(out.shape[1]):
        ok = np.isfinite(out[:, f])
        if ok.any() and not ok.all():
            out[~ok, f] = np.interp(t[~ok], t[ok], out[ok, f])
    return out


def _aligned_to(path: list[tuple[int, int]], values: np.ndarray, length: int) -> np.ndarray:
    """(length, F): for each barycenter moment i the mean of the take frames j matched to it."""
    total = np.zeros((length, values.shape[1]))
    count = np.zeros((length, values.shape[1]))
    idx = np.asarray(path, dtype=np.int64)
    v = values[idx[:, 1]]
    ok = np.isfinite(v)
    np.add.at(total, idx[:, 0], np.where(ok, v, 0.0))
    np.add.at(count, idx[:, 0], ok.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _smooth(values: np.ndarray, half: int) -> np.ndarray:
    """Moving average over time of (R, F) with a window of ``2 * half + 1``, NaN-aware."""
    if half <= 0 or len(values) < 2:
        return values
    kernel = np.ones(2 * half + 1)
    ok = np.isfinite(values)
    out = np.empty_like(values)
    for f in range(values.shape[1]):
        num = np.convolve(np.where(ok[:, f], values[:, f], 0.0), kernel, mode="same")
        den = np.convolve(ok[:, f].astype(np.float64), kernel, mode="same")
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, f] = np.where(den > 0, num / den, np.nan)
    return out


def _medoid(series: list[np.ndarray]) -> int:
    """Index of the series with the smallest summed DTW distance to all others."""
    n = len(series)
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            dist[i, j] = dist[j, i] = dtw_ndim.distance(series[i], series[j], use_c=True)
    return int(np.argmin(dist.sum(axis=1)))


@dataclass(frozen=True)
class MultiTake:
    """What averaging several takes produced, besides the template.

    template: the reference for the scorer (``spread`` = tolerance per moment).
    between_takes_sd: (R, F) standard deviation over takes at each moment, feature units.
    medoid: index of the take that started the barycenter (its pose is the template's).
    """

    template: Template
    between_takes_sd: np.ndarray
    medoid: int


def template_from_takes(takes: Sequence[PoseSequence], name: str,
                        meta: ExerciseMeta | None = None,
                        params: ScoringParams = DEFAULT_PARAMS) -> Template:
    """The reference ``Template`` of an exercise from all its takes (one or more)."""
    if not takes:
        raise TakeError(f"exercise '{name}': no takes to build a reference from")
    if len(takes) == 1:
        names = feature_names("world" if takes[0].has_world else "image")
        weight_overrides = _overrides(names, None if meta is None else meta.weights)
        tolerance_overrides = _overrides(names, None if meta is None else meta.tolerances)
        return template_from_sequence(takes[0], name, weights=weight_overrides or None,
                                      tolerances=tolerance_overrides or None, params=params)
    return average_takes(takes, name, meta, params).template


def average_takes(takes: Sequence[PoseSequence], name: str,
                  meta: ExerciseMeta | None = None,
                  params: ScoringParams = DEFAULT_PARAMS) -> MultiTake:
    """Align two or more takes by DBA into one template with a per-moment spread."""
    if len(takes) < 2:
        raise TakeError(f"exercise '{name}': averaging needs at least two takes")
    # Each take as the scorer prepares a one-take reference: smoothed, usable frames only.
    singles = [template_from_sequence(t, name, params=params) for t in takes]
    if len({t.plane for t in singles}) != 1:
        raise TakeError(f"exercise '{name}': takes mix world and image-only landmarks; "
                        "record every take the same way")
    names = singles[0].feature_names
    weight_overrides = _overrides(names, None if meta is None else meta.weights)
    tolerance_overrides = _overrides(names, None if meta is None else meta.tolerances)
    weights = default_weights(names, weight_overrides)
    tolerances = default_spread(names, 1, tolerance_overrides, params)[0]
    filled = [fill_gaps(t.mean) for t in singles]
    usable = np.all([np.isfinite(v).all(axis=0) for v in filled], axis=0) & (weights > 0)
    if not usable.any():
        raise TakeError(f"exercise '{name}': no feature is measurable in every take")
    scale = np.sqrt(weights[usable]) / tolerances[usable]
    series = [np.ascontiguousarray(centred(v)[:, usable] * scale) for v in filled]
    start = _medoid(series)
    barycenter = dtw_barycenter.dba_loop(series, c=series[start], max_it=DBA_MAX_ITER,
                                         thr=DBA_THRESHOLD, use_c=True)
    length = len(barycenter)
    aligned = []
    for single, s in zip(singles, series, strict=True):
        path = dtw_ndim.warping_path(barycenter, s, use_c=True)
        aligned.append(_aligned_to(path, single.mean, length))
    stack = np.stack(aligned)  # (K, R, F)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN moments stay NaN
        mean = np.nanmean(stack, axis=0)
        sd = _smooth(np.nanstd(stack, axis=0), SPREAD_SMOOTH)
    tolerance = np.hypot(tolerances, params.take_spread_factor * np.nan_to_num(sd))
    tolerance = np.where(np.isfinite(mean), tolerance, np.nan)
    pose = singles[start].pose
    log.info("template '%s': %d takes, %d moments, medoid take %d", name, len(takes), length,
             start + 1)
    template = Template(
        name=name, feature_names=names, mean=mean, spread=tolerance, weights=weights,
        timestamps_ms=pose.timestamps_ms, plane=singles[0].plane, takes=len(takes), pose=pose)
    return MultiTake(template, sd, start)

