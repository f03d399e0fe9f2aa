"""Several takes -> one template: DBA alignment, per-moment spread, one-take fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach.features import compute_features
from coach.landmarks import Landmark
from coach.library.multitake import average_takes, template_from_takes
from coach.params import DEFAULT_PARAMS
from coach.pose import PoseSequence
from coach.scoring import score
from coach.skeletons import load_uiprmd
from tests.library.library_helpers import resample_speed

L = Landmark
ARM = [L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB]
WINDOW = (0.4, 0.7)  # fraction of the movement where the third take differs


def raise_left_arm(seq: PoseSequence, degrees: float, window: tuple[float, float]) -> PoseSequence:
    """The take with the left arm swung ``degrees`` further out (about the camera's z axis
    through the left shoulder) during ``window`` (fractions of its duration)."""
    t = (seq.timestamps_ms - seq.timestamps_ms[0]) / (seq.timestamps_ms[-1] - seq.timestamps_ms[0])
    inside = (t >= window[0]) & (t <= window[1])
    a = np.radians(degrees)
    rot = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    world = np.array(seq.world_xyz, copy=True)
    image = np.array(seq.image_xyz, copy=True)
    for arr in (world, image):
        pivot = arr[inside, L.LEFT_SHOULDER][:, None, :]
        arr[np.ix_(inside, ARM)] = (arr[np.ix_(inside, ARM)] - pivot) @ rot.T + pivot
    return PoseSequence(image, seq.visibility, world, seq.timestamps_ms, seq.fps, seq.source,
                        seq.image_size, seq.people_seen)


@pytest.fixture(scope="module")
def base(real_sequence) -> PoseSequence:  # noqa: ANN001
    return real_sequence("cam01")


def _window_mask(template_ts: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    t = (template_ts - template_ts[0]) / (template_ts[-1] - template_ts[0])
    return (t >= window[0] + 0.05) & (t <= window[1] - 0.05)


def test_takes_at_three_speeds_agree_after_alignment(base: PoseSequence) -> None:
    takes = [resample_speed(base, 0.7), base, resample_speed(base, 1.4)]
    assert [len(t) for t in takes] == [142, 100, 71]
    result = average_takes(takes, "lunge")
    aligned_sd = np.nanmean(result.between_takes_sd)
    # Frame i against frame i (no alignment): the takes compared at the same clock time.
    tracks = [compute_features(t).values for t in takes]
    shortest = min(len(v) for v in tracks)
    same_time_sd = np.nanmean(np.nanstd(np.stack([v[:shortest] for v in tracks]), axis=0))
    print(f"mean between-take sd: aligned {aligned_sd:.1f} deg, same clock time "
          f"{same_time_sd:.1f} deg")
    assert aligned_sd < 2.5
    assert same_time_sd > 2.5 * aligned_sd
    assert result.template.takes == 3


def test_spread_is_larger_where_the_takes_differ(base: PoseSequence) -> None:
    changed = raise_left_arm(base, 35.0, WINDOW)
    takes = [resample_speed(base, 0.7), base, resample_speed(changed, 1.4)]
    result = average_takes(takes, "lunge")
    tpl = result.template
    inside = _window_mask(tpl.timestamps_ms, WINDOW)
    outside = ~_window_mask(tpl.timestamps_ms, (WINDOW[0] - 0.1, WINDOW[1] + 0.1))
    shoulder = tpl.feature_names.index("left_shoulder_deg")
    knee = tpl.feature_names.index("right_knee_deg")
    sd = result.between_takes_sd
    print(f"left shoulder sd inside {np.nanmean(sd[inside, shoulder]):.1f}, outside "
          f"{np.nanmean(sd[outside, shoulder]):.1f}; right knee inside "
          f"{np.nanmean(sd[inside, knee]):.1f}")
    assert np.nanmean(sd[inside, shoulder]) > 4.0 * np.nanmean(sd[outside, shoulder])
    assert np.nanmean(sd[inside, shoulder]) > 8.0
    assert np.nanmean(sd[inside, knee]) < 0.5 * np.nanmean(sd[inside, shoulder])
    # The tolerance the scorer uses follows the spread, never below the between-person floor.
    floor = DEFAULT_PARAMS.tolerance("left_shoulder_deg")
    assert np.nanmin(tpl.spread[:, shoulder]) >= floor - 1e-9
    assert np.nanmean(tpl.spread[inside, shoulder]) > 1.5 * np.nanmean(tpl.spread[outside,
                                                                                    shoulder])


def test_the_base_take_scores_high_against_the_averaged_template(base: PoseSequence) -> None:
    takes = [resample_speed(base, 0.7), base, resample_speed(base, 1.4)]
    template = template_from_takes(takes, "lunge")
    report = score(base, template)
    assert report.overall > 90.0
    slow = score(resample_speed(base, 0.5), template)
    assert slow.overall > 85.0


def test_one_take_gives_the_default_tolerances(base: PoseSequence) -> None:
    template = template_from_takes([base], "lunge")
    assert template.takes == 1
    for k, name in enumerate(template.feature_names):
        assert np.allclose(template.spread[:, k], DEFAULT_PARAMS.tolerance(name))


UIPRMD = Path(__file__).resolve().parent.parent / "data" / "uiprmd" / "correct" / "kinect"


def test_takes_with_other_start_postures_keep_the_movement() -> None:
    """Ten real repetitions of one person's shoulder extension (UI-PRMD m08, subject 1) start
    from slightly different postures. Aligned on offsets, the averaged reference smeared the
    working arm's movement (26.9 of the takes' 39.9 degrees, between-take sd 9.0 degrees);
    aligned on the movement itself it keeps most of it."""
    takes = [load_uiprmd(p) for p in sorted((UIPRMD / "positions").glob("m08_s01_e*.txt.gz"))]
    assert len(takes) == 10
    result = average_takes(takes, "shoulder extension")
    tpl = result.template
    arm = tpl.feature_names.index("right_shoulder_deg")
    ranges = [np.ptp(np.nan_to_num(compute_features(t).column("right_shoulder_deg")))
              for t in takes]
    kept = np.ptp(tpl.mean[:, arm]) / np.median(ranges)
    sd = np.nanmean(result.between_takes_sd[:, arm])
    print(f"reference keeps {kept:.0%} of the arm's range, between-take sd {sd:.1f} deg")
    assert kept > 0.8
    assert sd < 7.0
