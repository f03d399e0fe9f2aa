"""Bad input gives a clear error naming what is wrong, never an exception from deep in numpy."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from scoring_synth import make_sequence

from coach.errors import CoachError, InputError, NotEnoughPoseError
from coach.live_scoring import LiveScorer
from coach.pose import FramePose, PoseSequence
from coach.scoring import score
from coach.template import Template, TemplateError, template_from_sequence


def _nobody(seq: PoseSequence) -> PoseSequence:
    nan = np.full(seq.image_xyz.shape, np.nan)
    return replace(seq, image_xyz=nan, world_xyz=nan, visibility=np.zeros(seq.visibility.shape),
                   people_seen=np.zeros(len(seq), dtype=np.int64))


@pytest.fixture(scope="module")
def good() -> PoseSequence:
    return make_sequence(n=60)


def test_reference_without_usable_frames(good: PoseSequence) -> None:
    with pytest.raises(NotEnoughPoseError, match="no frame with a person"):
        score(good, _nobody(replace(good, source="ref.npz")))
    with pytest.raises(NotEnoughPoseError, match="ref.npz"):
        template_from_sequence(_nobody(replace(good, source="ref.npz")), "ref")


def test_reference_whose_trunk_is_never_seen(good: PoseSequence) -> None:
    world, image = np.array(good.world_xyz), np.array(good.image_xyz)
    world[:, 11:25] = np.nan
    image[:, 11:25] = np.nan
    blind = replace(good, world_xyz=world, image_xyz=image, source="blind.npz")
    with pytest.raises(NotEnoughPoseError, match="blind.npz: 0 usable frame"):
        score(good, blind)


def test_attempt_missing_every_compared_feature_is_not_a_zero_score(good: PoseSequence
                                                                   ) -> None:
    knees = ("left_knee_deg", "right_knee_deg")
    full = template_from_sequence(good, "ref")
    cols = [full.feature_names.index(n) for n in knees]
    legs_only = replace(full, feature_names=knees, mean=full.mean[:, cols],
                        spread=full.spread[:, cols], weights=full.weights[cols])
    world, image, vis = (np.array(a) for a in (good.world_xyz, good.image_xyz, good.visibility))
    for landmark in range(25, 33):  # knees, ankles and feet out of the picture
        world[:, landmark] = image[:, landmark] = np.nan
        vis[:, landmark] = 0.0
    legs_cut = replace(good, world_xyz=world, image_xyz=image, visibility=vis,
                       source="legs_cut.mp4")
    assert score(good, legs_only).overall > 90.0
    with pytest.raises(NotEnoughPoseError, match="legs_cut.mp4: none of the compared features"):
        score(legs_cut, legs_only)


def test_attempt_with_no_person_at_all(good: PoseSequence) -> None:
    with pytest.raises(NotEnoughPoseError, match="attempt.mp4: no frame with a person"):
        score(_nobody(replace(good, source="attempt.mp4")), good)


def test_empty_sequences(good: PoseSequence) -> None:
    empty = good.slice(0, 0)
    with pytest.raises(NotEnoughPoseError):
        score(empty, good)
    with pytest.raises(NotEnoughPoseError):
        score(good, empty)


def test_one_frame_sequences(good: PoseSequence) -> None:
    one = good.slice(30, 31)
    with pytest.raises(NotEnoughPoseError, match="1 usable frame"):
        score(one, good)
    with pytest.raises(NotEnoughPoseError, match="1 usable frame"):
        score(good, one)


def test_two_frames_are_enough(good: PoseSequence) -> None:
    # against a reference no longer than three times theirs (shorter is refused as too short)
    report = score(good.slice(30, 32), good.slice(29, 33))
    assert 0 <= report.overall <= 100 and report.frames_used == 2


def test_mismatched_landmark_counts(good: PoseSequence) -> None:
    # 17 COCO keypoints from another tool are refused when the sequence is built
    with pytest.raises(ValueError, match=r"expected shape \(T, 33, 3\), got \(10, 17, 3\)"):
        PoseSequence(np.zeros((10, 17, 3)), np.ones((10, 17)), None, np.arange(10.0), 30.0)
    # and an object bypassing that check is still refused by the scorer, by name
    broken = replace(good, source="coco.json")
    object.__setattr__(broken, "image_xyz", np.zeros((len(good), 17, 3)))
    with pytest.raises(InputError, match="coco.json: expected 33 landmarks"):
        score(broken, good)


def test_wrong_kinds_of_input(good: PoseSequence) -> None:
    with pytest.raises(InputError, match="expected a PoseSequence"):
        score(np.zeros((10, 33, 3)), good)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="expected a Template or PoseSequence"):
        score(good, "mountain pose")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="mirror"):
        score(good, good, mirror="sometimes")  # type: ignore[arg-type]


def test_template_validation_names_the_field(good: PoseSequence) -> None:
    t = template_from_sequence(good, "reach")
    fields = dict(name=t.name, feature_names=t.feature_names, mean=t.mean, spread=t.spread,
                  weights=t.weights, timestamps_ms=t.timestamps_ms, plane=t.plane,
                  takes=t.takes, pose=t.pose)
    Template(**fields)  # the valid one builds
    bad = {
        "spread": {"spread": np.zeros_like(t.spread)},
        "weights": {"weights": np.zeros_like(t.weights)},
        "timestamps_ms": {"timestamps_ms": t.timestamps_ms[::-1]},
        "feature_names": {"feature_names": ("shoe_size_deg",) + t.feature_names[1:]},
        "mean": {"mean": t.mean[:, :3]},
        "takes": {"takes": 0},
        "pose": {"pose": good.slice(0, 5)},
        "plane": {"plane": "3d"},
        "band": {"band": np.zeros((2, *t.spread.shape))},
    }
    for field, change in bad.items():
        with pytest.raises(TemplateError, match=field):
            Template(**{**fields, **change})
    nan_mean = np.array(t.mean)
    nan_mean[:] = np.nan
    with pytest.raises(TemplateError, match="mean: no measured values"):
        Template(**{**fields, "mean": nan_mean})


def test_errors_are_coach_errors() -> None:
    assert issubclass(NotEnoughPoseError, CoachError)
    assert issubclass(TemplateError, CoachError)


def test_live_scorer_with_nobody_scores_nothing(good: PoseSequence) -> None:
    live = LiveScorer(template_from_sequence(good, "reach"))
    for i in range(5):
        out = live.update(FramePose.empty(i * 33.0))
        assert not out.scored and out.score is None
    with pytest.raises(NotEnoughPoseError, match="not enough pose"):
        live.report()


def test_garbage_values_are_missing_not_errors(good: PoseSequence) -> None:
    world, image = np.array(good.world_xyz), np.array(good.image_xyz)
    vis = np.array(good.visibility)
    world[10:20, 11] = np.inf
    world[30, :, 0] = 1e300
    image[40:45] = -np.inf
    vis[50:55] = np.nan
    bad = replace(good, world_xyz=world, image_xyz=image, visibility=vis)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        report = score(bad, good)
        live = LiveScorer(template_from_sequence(good, "reach"))
        frames = [live.update(bad.frame(i)) for i in range(len(bad))]
    # dropped: 10 frames without the left shoulder (most features), 5 without image
    # landmarks, 1 with absurd coordinates
    assert report.overall > 90 and report.frames_dropped == 16
    # live scores whatever is measurable: unscored are the 6 above and the 5 frames whose
    # visibility is NaN (no confidence in anything)
    assert sum(f.scored for f in frames) == len(bad) - 11
