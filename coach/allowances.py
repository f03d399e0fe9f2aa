"""What the comparison of an attempt with a reference allows for, as not the person's fault,
and what it stresses. Allowed for: the person's own start posture (``start_shift``: a build or
a camera angle is not a fault), the camera standing elsewhere round the person than the
reference's (``view_difference_deg``), landmark jitter (``jitter_deg``) and how people's range
of motion differs, more beyond the reference's movement than short of it (``widened``, from
``moved_from_start``). Stressed: the reference's peak counts more than its rest
(``key_moments``, ``emphasised``). Used offline (``coach.scoring``) and live
(``coach.live_scoring``) alike; every number comes from a ``coach.params.ScoringParams``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from coach.features import SPECS, finite_points
from coach.geometry import estimate_up, facing_deg, heading_change_deg
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.template import Template


def first_seconds(ts: np.ndarray, window_s: float) -> np.ndarray:
    """(T,) bool: the frames at times ``ts`` (T,) within ``window_s`` of the first."""
    return ts <= ts[0] + window_s * 1000.0 if len(ts) else np.zeros(0, dtype=bool)


def _nanmedian(values: np.ndarray) -> np.ndarray:
    """Median over axis 0, NaN for all-NaN (or empty) columns, without warnings."""
    if not len(values):
        return np.full(values.shape[1:], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmedian(values, axis=0)


def start_shift(attempt_values: np.ndarray, reference_values: np.ndarray, ts: np.ndarray,
                names: tuple[str, ...], params: ScoringParams = DEFAULT_PARAMS) -> np.ndarray:
    """(F,) how far the reference is moved to the person's own start posture: the median
    difference between the attempt's frames (K, F) at times ``ts`` (K,) and the reference
    moments matched to them (K, F), over the attempt's first ``params.start_window_s``, up to
    ``params.start_allowance_deg`` per feature (0 where unknown). Matched moments, not clock
    time, so a slower start is not read as another posture; a build or a camera angle is not a
    fault, while a lean beyond the allowance still is."""
    first = first_seconds(ts, params.start_window_s)
    diff = _nanmedian(attempt_values[first] - reference_values[first])
    allow = np.array([params.start_allowance_deg.get(n, 0.0) for n in names])
    return np.where(np.isfinite(diff), np.clip(diff, -allow, allow), 0.0)


def jitter_deg(values: np.ndarray) -> np.ndarray:
    """(F,) frame-to-frame noise of each feature of (T, F) values: the robust spread of second
    differences (which cancel smooth movement) scaled to one frame's noise (NaN if unknown)."""
    if len(values) < 3:
        return np.full(values.shape[1], np.nan)
    second = np.abs(values[2:] - 2.0 * values[1:-1] + values[:-2])
    return 1.4826 * _nanmedian(second) / np.sqrt(6.0)


def _heading_deg(world_xyz: np.ndarray, up: np.ndarray, ts: np.ndarray,
                 window_s: float) -> float:
    """Circular mean of the facing direction (degrees, camera axes) over the first
    ``window_s`` seconds; NaN when unknown."""
    h = np.radians(facing_deg(world_xyz[first_seconds(ts, window_s)], up))
    h = h[np.isfinite(h)]
    if not h.size:
        return float("nan")
    return float(np.degrees(np.arctan2(np.sin(h).mean(), np.cos(h).mean())))


def view_difference_deg(attempt: PoseSequence, up: np.ndarray | None, template: Template,
                        params: ScoringParams = DEFAULT_PARAMS) -> float:
    """How far round the person the attempt's camera stands from the reference's (degrees,
    0-180), from the facing directions at their starts; 0 when unknown (image plane)."""
    pose = template.pose
    if up is None or attempt.world_xyz is None or pose.world_xyz is None:
        return 0.0
    ref_world = finite_points(pose.world_xyz)
    ref_up = estimate_up(ref_world, pose.visibility, pose.timestamps_ms)
    a = _heading_deg(finite_points(attempt.world_xyz), up, attempt.timestamps_ms,
                     params.start_window_s)
    r = _heading_deg(ref_world, ref_up, pose.timestamps_ms, params.start_window_s)
    diff = float(heading_change_deg(a, r))
    return diff if np.isfinite(diff) else 0.0


def moved_from_start(template: Template,
                     params: ScoringParams = DEFAULT_PARAMS) -> np.ndarray:
    """(R, F) signed: the reference at each moment minus its start posture (the median of its
    first ``params.start_window_s``), per feature, in the feature's unit (NaN where
    unknown)."""
    start = first_seconds(template.timestamps_ms, params.start_window_s)
    return template.mean - _nanmedian(template.mean[start])


def widened(template: Template, attempt_values: np.ndarray, view_deg: float,
            params: ScoringParams = DEFAULT_PARAMS) -> Template:
    """The template with its tolerances widened for what is not the person's doing: the
    camera's view differing from the reference's (``params.view_error_deg`` x sin of the
    difference, up to a quarter turn) and the landmark jitter of the attempt and the reference
    (``params.noise_factor`` x their combined frame-to-frame noise), in ``spread``; and for how
    people's range of motion differs, in ``band``: a share of how far the reference has moved
    from its start at each moment, for the joints of the limbs ``params.overshoot_share`` on
    the side beyond the reference's movement and ``params.shortfall_share`` on the side short
    of it, for the trunk and head ``params.trunk_motion_share`` both ways."""
    names = template.feature_names
    turn = np.sin(np.radians(min(max(view_deg, 0.0), 90.0)))
    view = np.array([params.view_error_deg.get(n, 0.0) for n in names]) * turn
    noise = np.hypot(np.nan_to_num(jitter_deg(attempt_values)),
                     np.nan_to_num(jitter_deg(template.mean)))
    spread = np.hypot(template.spread, np.hypot(view, params.noise_factor * noise))
    moved = np.nan_to_num(moved_from_start(template, params))
    limb = np.array([SPECS[n].mirror_name != n for n in names])
    beyond = np.hypot(spread, np.where(limb, params.overshoot_share,
                                       params.trunk_motion_share) * moved)
    short = np.hypot(spread, np.where(limb, params.shortfall_share,
                                      params.trunk_motion_share) * moved)
    band = np.stack([np.where(moved > 0, short, beyond), np.where(moved > 0, beyond, short)])
    return replace(template, spread=spread, band=band)


def key_moments(template: Template, params: ScoringParams = DEFAULT_PARAMS) -> np.ndarray:
    """(R,) how much each reference moment counts, averaging 1 over the reference: in
    proportion to 1 + ``params.key_moment_weight`` x how far the reference has moved from its
    start there (summed weighted feature change in tolerance units, 0-1 of its largest)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = np.abs(moved_from_start(template, params)) / template.spread
    moved = np.where(np.isfinite(moved), moved, 0.0) @ template.weights
    peak = moved.max() if len(moved) else 0.0
    key = 1.0 + params.key_moment_weight * (moved / peak if peak > 0 else moved)
    return key / key.mean()


def emphasised(scores: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Frame scores (N,) with their shortfall from 100 scaled by the matched moments' ``key``
    (N,) (``key_moments``), within 0-100."""
    return np.clip(100.0 - key * (100.0 - scores), 0.0, 100.0)
