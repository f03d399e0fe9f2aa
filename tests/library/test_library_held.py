"""Held postures: time inside the targets, steadiness, mirror, and the one scoring entry point."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coach.errors import NotEnoughPoseError
from coach.features import compute_features
from coach.library import ExerciseMeta, HoldSpec, Library, LibraryError, score_held
from coach.library.held import HeldScorer
from coach.params import DEFAULT_PARAMS
from coach.pose import PoseSequence
from coach.report import Report
from coach.scoring import feature_score

ARM_FEATURES = ("lateral_bend_deg", "shoulder_level_deg", "left_shoulder_deg",
                "right_shoulder_deg", "left_elbow_deg", "right_elbow_deg")


def meta_from(seq: PoseSequence, frames: slice, names: tuple[str, ...], tol: float = 12.0,
              seconds: float = 0.5) -> ExerciseMeta:
    """A held posture whose targets are the medians measured on ``frames`` of a real take."""
    track = compute_features(seq)
    targets = {n: float(np.nanmedian(track.column(n)[frames])) for n in names}
    return ExerciseMeta(name="posture", tradition="yoga", kind="held", view="front",
                        description="d", teaching_points=(), safety_notes=(),
                        tolerances={n: tol for n in names},
                        hold=HoldSpec(seconds=seconds, targets=targets))


@pytest.fixture(scope="module")
def arms(real_sequence) -> PoseSequence:  # noqa: ANN001
    """KERAAL arm raises: arms down for the first half second, then overhead."""
    return real_sequence("keraal_CTK")


def test_time_in_zone_counts_only_the_frames_in_the_posture(arms: PoseSequence) -> None:
    meta = meta_from(arms, slice(0, 15), ARM_FEATURES)
    still = score_held(arms.slice(0, 15), meta)
    assert still.overall > 90 and still.form > 90
    assert 0.35 <= still.held.time_in_zone_s <= 0.5
    whole = score_held(arms, meta)
    assert whole.form < still.form - 15
    assert 0.3 < whole.held.time_in_zone_s < 0.5 * arms.duration_s
    assert whole.held.longest_hold_s <= whole.held.time_in_zone_s
    off = {t.name: t for t in whole.held.targets}["left_shoulder_deg"]
    assert off.in_zone_fraction < 0.5 and off.score < 40
    assert whole.cues, "arms far off target should give a cue"
    assert whole.plane == "image"


def test_holding_longer_is_reported_beside_the_score_not_in_it(arms: PoseSequence) -> None:
    """The hold time is its own figure; the overall is the timeline's mean, so a short clip of
    a good posture is not marked down for its length."""
    meta = meta_from(arms, slice(0, 15), ARM_FEATURES, seconds=1.0)
    short = score_held(arms.slice(0, 10), meta)
    longer = score_held(arms.slice(0, 15), meta)
    assert longer.held.longest_hold_s > short.held.longest_hold_s
    assert longer.held.time_in_zone_s > short.held.time_in_zone_s
    for report in (short, longer):
        assert report.overall == pytest.approx(float(np.nanmean(report.timeline_score)))
        assert report.overall > 90


def test_shaking_lowers_steadiness(arms: PoseSequence) -> None:
    meta = meta_from(arms, slice(0, 15), ARM_FEATURES, tol=20.0)
    calm = arms.slice(0, 15)
    rng = np.random.default_rng(0)
    shaky = replace(calm, image_xyz=calm.image_xyz + rng.normal(0, 0.006, calm.image_xyz.shape))
    a, b = score_held(calm, meta), score_held(shaky, meta)
    assert a.held.steadiness is not None and b.held.steadiness is not None
    assert b.held.steadiness < a.held.steadiness - 5


def test_mirror_scores_the_other_side(real_sequence) -> None:  # noqa: ANN001
    stretch = real_sequence("keraal_ELK")
    track = compute_features(stretch)
    up = int(np.nanargmax(track.column("left_shoulder_deg")))
    frames = slice(max(up - 5, 0), up + 6)
    meta = meta_from(stretch, frames, ARM_FEATURES, seconds=0.3)
    posture = stretch.slice(frames.start, frames.stop)
    same = score_held(posture, meta)
    other_side = posture.mirrored()
    plain = score_held(other_side, meta)
    mirrored = score_held(other_side, meta, mirror=True)
    assert same.overall > 80
    assert plain.overall < same.overall - 20
    assert mirrored.mirrored and mirrored.overall == pytest.approx(same.overall, abs=3)


def test_targets_not_measurable_in_the_image_plane(arms: PoseSequence) -> None:
    meta = ExerciseMeta(name="p", tradition="yoga", kind="held", view="side", description="d",
                        teaching_points=(), safety_notes=(),
                        tolerances={"trunk_flexion_deg": 10.0},
                        hold=HoldSpec(seconds=5.0, targets={"trunk_flexion_deg": 0.0}))
    with pytest.raises(NotEnoughPoseError, match="image landmarks"):
        score_held(arms, meta)


def test_an_exercise_hands_out_its_scorer_and_both_kinds_give_one_report(
        tmp_path: Path, real_sequence) -> None:  # noqa: ANN001
    library = Library.open([tmp_path])
    squats = real_sequence("squats")
    flowing = library.get("squat").scorer().score(squats)
    held = library.get("mountain-pose").scorer().score(squats)
    assert isinstance(flowing, Report) and isinstance(held, Report)
    assert flowing.kind == "flowing" and held.kind == "held" and flowing.overall > 95
    flowing_keys, held_keys = set(flowing.to_dict()), set(held.to_dict())
    assert flowing_keys <= held_keys and held_keys - flowing_keys == {"held"}
    assert 0 <= held.overall <= 100 and held.to_dict()["held"]["target_hold_s"] == 30.0
    assert "held posture" in held.summary_text()
    with pytest.raises(LibraryError, match="waiting for an instructor's recording"):
        library.get("qigong-the-wave").scorer()


def test_keraal_exercises_separate_through_the_library(tmp_path: Path,
                                                       real_sequence) -> None:  # noqa: ANN001
    library = Library.open([tmp_path])
    rotation = library.get("keraal-trunk-rotation")
    own = rotation.scorer().score(real_sequence("keraal_RTK"))
    other = rotation.scorer().score(real_sequence("keraal_ELK"))
    assert own.overall > 95 and own.plane == "image"
    assert other.overall < own.overall - 30


def test_a_target_never_measured_reports_no_numbers_not_zeros(arms: PoseSequence) -> None:
    meta = meta_from(arms, slice(0, 15), ARM_FEATURES + ("left_knee_deg",))
    image, vis = np.array(arms.image_xyz), np.array(arms.visibility)
    image[:, 25:] = np.nan  # knees and feet out of the picture
    vis[:, 25:] = 0.0
    report = score_held(replace(arms, image_xyz=image, visibility=vis).slice(0, 15), meta)
    knee = {t["feature"]: t for t in report.to_dict()["held"]["targets"]}["left_knee_deg"]
    assert knee["median"] is None and knee["score"] is None
    assert knee["in_zone_fraction"] is None
    assert report.overall > 90, "the measured targets are held"


def test_standing_people_match_mountain_pose_and_not_a_lying_posture(real_sequence) -> None:  # noqa: ANN001
    """The built-in held postures checked against real people standing: the squat clip's
    woman before her first squat (the bundled model) and a UI-PRMD subject before raising the
    arm (Kinect). Standing upright matches mountain pose; it is nothing like sphinx pose
    (lying face down) or bird-dog (on hands and knees), whose trunk is near horizontal."""
    from coach.skeletons import load_uiprmd

    kinect = Path(__file__).resolve().parent.parent / "data" / "uiprmd" / "correct" / \
        "kinect" / "positions" / "m07_s02_e01_positions.txt.gz"
    standing = [real_sequence("squats").slice(0, 4), load_uiprmd(kinect).slice(0, 12)]
    library = Library.open(include_builtin=True, env={})
    mountain, sphinx, bird_dog = (library.get(n) for n in ("mountain-pose", "sphinx-pose",
                                                           "bird-dog"))
    for seq in standing:
        upright = mountain.scorer().score(seq)
        assert upright.overall >= 80, upright.summary_text()
        # the overall is the mean of the timeline, whatever the length of the clip
        assert upright.overall == pytest.approx(float(np.nanmean(upright.timeline_score)))
        assert sphinx.scorer().score(seq).overall < 50
        assert bird_dog.scorer().score(seq).overall < 50


def test_live_regions_are_all_green_exactly_while_the_posture_is_held(arms: PoseSequence) -> None:
    # a tolerance at which the arms hover about the zone's edge: a region's root mean square
    # would show green while one of its targets is out of the zone
    meta = meta_from(arms, slice(0, 15), ARM_FEATURES, tol=5.0)
    edge = float(feature_score(1.0, DEFAULT_PARAMS.held_softness))  # about 80: green
    stream = HeldScorer(meta).stream()
    seen_in, seen_out = 0, 0
    for i in range(len(arms)):
        state = stream.update(arms.frame(i))
        if not state.scored:
            continue
        known = np.isfinite(state.deviation)
        in_zone = bool(np.all(np.abs(state.deviation[known]) <= 1.0))
        shown = [v for v in state.regions.values() if v is not None]
        assert in_zone == (min(shown) >= edge - 1e-9), (i, state.regions)
        if not in_zone:
            assert state.held_s == 0.0  # the time held runs only in the zone
        seen_in += in_zone
        seen_out += not in_zone
    assert seen_in >= 5 and seen_out >= 5  # arms down, then overhead: both are seen
