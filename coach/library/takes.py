"""Preparing an instructor's take: trim the still start and end, check the quality.

Pure numpy on a ``PoseSequence``: no camera, no files. Distances are measured in the image,
in trunk lengths (``coach.geometry.trunk_length``), so they do not depend on how far away the
camera stands; body parts, "inside the picture", "seen" and the camera view are
``coach.geometry``'s.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np

from coach.geometry import (
    BODY_PARTS,
    SEEN_VISIBILITY,
    aspect_ratio,
    camera_view,
    inside_picture,
    picture_xy,
    shoulder_width_ratio,
    trunk_length,
    width_ratio_yaw_deg,
)
from coach.landmarks import Landmark
from coach.library.errors import TakeRejected
from coach.pose import PoseSequence

log = logging.getLogger(__name__)

#: The landmarks that must be in the picture for "the whole body in frame".
KEY_LANDMARKS: tuple[Landmark, ...] = tuple(lm for part in BODY_PARTS.values() for lm in part)
#: Fraction of a take's frames that must show a person / the whole body.
MIN_PRESENT_FRACTION = 0.9
MIN_IN_FRAME_FRACTION = 0.9
#: Half-width of the window over which movement speed is measured, in seconds.
SPEED_WINDOW_S = 0.5
#: Moving slower than this fraction of the take's typical fast movement (95th percentile of
#: the fastest body part) counts as still; a slow phase of a slow take is still movement ...
STILL_FRACTION = 0.15
#: ... and below this (trunk lengths per second) every take is still: what landmark jitter
#: comes to over the speed window.
STILL_NOISE_SPEED = 0.1
#: Still time kept before the first and after the last movement, in seconds.
TRIM_MARGIN_S = 0.4
#: Shortest take kept after trimming, in seconds.
MIN_TAKE_S = 1.0


def _picture_points(seq: PoseSequence) -> np.ndarray:
    """(T, 33, 2) picture points of ``seq`` (``coach.geometry.picture_xy``)."""
    return picture_xy(seq.image_xyz, aspect_ratio(seq.image_size))


def movement_speed(seq: PoseSequence) -> np.ndarray:
    """(T,) speed of the fastest body part (``BODY_PARTS``, each the median of its landmarks)
    in trunk lengths per second (NaN without a person): the arms moving alone are movement.

    The displacement is taken over ``2 * SPEED_WINDOW_S`` seconds, so landmark jitter from
    frame to frame does not count as movement.
    """
    n = len(seq)
    speed = np.full(n, np.nan)
    if n < 2:
        return speed
    points = _picture_points(seq)
    torso = np.nanmedian(trunk_length(points)) if seq.present.any() else np.nan
    if not np.isfinite(torso) or torso <= 0:
        return speed
    ts = seq.timestamps_ms / 1000.0
    lo = np.searchsorted(ts, ts - SPEED_WINDOW_S, side="left")
    hi = np.minimum(np.searchsorted(ts, ts + SPEED_WINDOW_S, side="right") - 1, n - 1)
    dt = ts[hi] - ts[lo]
    disp = np.linalg.norm(points[hi] - points[lo], axis=-1)  # (T, 33)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", category=RuntimeWarning)  # parts never seen stay NaN
        parts = np.stack([np.nanmedian(disp[:, list(lms)], axis=1)
                          for lms in BODY_PARTS.values()], axis=1)  # (T, parts)
        moved = np.nanmax(parts, axis=1)
        speed = np.where(dt > 0, moved / torso / dt, np.nan)
    return speed


def whole_body_in_frame(seq: PoseSequence) -> np.ndarray:
    """(T,) bool: a person is seen and every key landmark is inside the picture."""
    inside = inside_picture(seq.image_xyz[:, list(KEY_LANDMARKS), :2]).all(axis=1)
    return inside & seq.present


def trim_still(seq: PoseSequence, *, keep_still: bool = False) -> PoseSequence:
    """The take without its still start and end, and without the frames at either end where
    nobody, or only part of the body, is in the picture (stepping in front of the camera).

    ``keep_still`` (held postures) keeps the still start and end. Raises ``TakeRejected``
    when nothing is left or, for a movement, when nothing moves.
    """
    present = np.flatnonzero(seq.present)
    if present.size == 0:
        raise TakeRejected("nobody was seen in the take")
    whole = np.flatnonzero(whole_body_in_frame(seq))
    edges = whole if whole.size else present
    first, last = int(edges[0]), int(edges[-1])
    if not keep_still:
        speed = movement_speed(seq)
        fast = np.nanpercentile(speed, 95) if np.isfinite(speed).any() else 0.0
        threshold = max(STILL_NOISE_SPEED, STILL_FRACTION * fast)
        moving = np.flatnonzero(np.nan_to_num(speed, nan=0.0) > threshold)
        if moving.size == 0:
            raise TakeRejected("no movement was found: the person stayed still for the whole "
                               "take")
        ts = seq.timestamps_ms
        start_ms = ts[moving[0]] - TRIM_MARGIN_S * 1000.0
        stop_ms = ts[moving[-1]] + TRIM_MARGIN_S * 1000.0
        first = max(first, int(np.searchsorted(ts, start_ms, side="left")))
        last = min(last, int(np.searchsorted(ts, stop_ms, side="right")) - 1)
    trimmed = seq.slice(first, last + 1)
    if trimmed.duration_s < MIN_TAKE_S:
        raise TakeRejected(f"the take is {trimmed.duration_s:.1f} s long after trimming its "
                           f"still start and end; at least {MIN_TAKE_S:.0f} s is needed")
    log.info("trimmed take to frames %d..%d of %d", first, last, len(seq))
    return trimmed


@dataclass(frozen=True)
class TakeQuality:
    """What the quality check measured on a take.

    present_fraction: frames with a person / all frames.
    in_frame_fraction: frames (with a person) whose key landmarks are all inside the picture.
    out_of_frame: body part -> fraction of frames (with a person) where it leaves the picture.
    visibility: body part -> median visibility over frames with a person.
    view_ratio: median shoulder width / trunk length in the image
        (``coach.geometry.shoulder_width_ratio``).
    view: the estimated camera view, "front" or "side" (``estimate_view``).
    problems: reasons to refuse the take, as sentences (empty = good take).
    """

    present_fraction: float
    in_frame_fraction: float
    out_of_frame: dict[str, float]
    visibility: dict[str, float]
    view_ratio: float
    view: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with the take."""
        return not self.problems


def estimate_view(seq: PoseSequence) -> tuple[float, str]:
    """(median shoulder width / trunk length in the image, "front", "side" or "unknown") over
    frames with a person, from the picture alone (a take may carry no world landmarks).

    The view is ``coach.geometry.camera_view`` of the angle the ratio gives
    (``width_ratio_yaw_deg``), except that a take gets a verdict: "between" counts as "front"
    (a side view is at least ``SIDE_MIN_YAW_DEG`` turned).
    """
    ratio = shoulder_width_ratio(_picture_points(seq))
    ratio = ratio[np.isfinite(ratio)]
    if ratio.size == 0:
        return float("nan"), "unknown"
    value = float(np.median(ratio))
    return value, "side" if camera_view(float(width_ratio_yaw_deg(value))) == "side" else "front"


def _hidden_reason(part: str, view: str, ratio: float) -> str:
    """Why a body part is hard to see, in words: turned part-way (so one side hides the
    other), or something in the way or too little light."""
    part_way = camera_view(float(width_ratio_yaw_deg(ratio))) == "between"
    if view == "front" and part_way and part in ("hands", "knees", "feet"):
        return (f"the person is turned part-way to the camera, so one side hides the other's "
                f"{part}: face the camera squarely or film from the side")
    return f"something hides the {part} or the light is too low"


def check_quality(seq: PoseSequence, expected_view: str | None = None) -> TakeQuality:
    """Measure a take: person present, whole body in frame, visibility, camera view."""
    n = len(seq)
    present = seq.present
    problems: list[str] = []
    present_fraction = float(present.mean()) if n else 0.0
    if present_fraction < MIN_PRESENT_FRACTION:
        problems.append(f"a person is seen in only {present_fraction:.0%} of the frames "
                        f"(at least {MIN_PRESENT_FRACTION:.0%} needed)")
    xy = seq.image_xyz[present][..., :2]
    vis = seq.visibility[present]
    out_of_frame: dict[str, float] = {}
    visibility: dict[str, float] = {}
    ratio, view = estimate_view(seq)
    for part, lms in BODY_PARTS.items():
        inside = inside_picture(xy[:, list(lms)]).all(axis=1)
        out_of_frame[part] = float(1.0 - inside.mean()) if len(xy) else 1.0
        # seen from the side, the far arm and leg are behind the body: the near one counts
        seen = vis[:, list(lms)].max(axis=1) if view == "side" else vis[:, list(lms)].min(axis=1)
        visibility[part] = float(np.median(seen)) if len(xy) else 0.0
    in_frame = float(whole_body_in_frame(seq)[present].mean()) if len(xy) else 0.0
    if len(xy) and in_frame < MIN_IN_FRAME_FRACTION:
        worst = max(out_of_frame, key=lambda part: out_of_frame[part])
        problems.append(f"the whole body is in the picture in only {in_frame:.0%} of the frames: "
                        f"the {worst} leave it in {out_of_frame[worst]:.0%} (step back or turn "
                        "the camera so head to feet fit)")
    if len(xy):
        worst = min(visibility, key=lambda part: visibility[part])
        if visibility[worst] < SEEN_VISIBILITY:
            problems.append(f"the {worst} are hard to see (median visibility "
                            f"{visibility[worst]:.2f}, at least {SEEN_VISIBILITY} needed): "
                            f"{_hidden_reason(worst, view, ratio)}")
    if expected_view is not None and view != "unknown" and view != expected_view:
        problems.append(f"the camera sees the person from the {view} (shoulder width "
                        f"{ratio:.2f} of the trunk length) but this exercise is filmed from the "
                        f"{expected_view}")
    return TakeQuality(present_fraction, in_frame, out_of_frame, visibility, ratio, view,
                       tuple(problems))


def prepare_take(seq: PoseSequence, expected_view: str | None, *,
                 held: bool = False) -> tuple[PoseSequence, TakeQuality]:
    """Trim a raw take and check it; raises ``TakeRejected`` with every reason when bad."""
    trimmed = trim_still(seq, keep_still=held)
    quality = check_quality(trimmed, expected_view)
    if not quality.ok:
        raise TakeRejected("take refused: " + "; ".join(quality.problems))
    return trimmed, quality
