"""The scorer on real recordings (the real model on the bundled clips, KERAAL landmark files)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from coach.features import compute_features
from coach.landmarks import Landmark
from coach.live_scoring import LiveScorer
from coach.pose import FramePose
from coach.scoring import score
from coach.template import template_from_sequence

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lunge_template(real_sequence):
    return template_from_sequence(real_sequence("cam01"), "lunge and reach (cam01)")


def test_other_views_of_the_movement_outscore_different_movements(real_sequence,
                                                                   lunge_template) -> None:
    views = {n: score(real_sequence(n), lunge_template).overall
             for n in ("cam02", "cam03", "cam04")}
    others = {n: score(real_sequence(n), lunge_template).overall for n in ("squats", "dance")}
    assert score(real_sequence("cam01"), lunge_template).overall > 99
    assert min(views.values()) > max(others.values()) + 20, (views, others)
    assert min(views.values()) > 65


def test_keraal_exercises_against_each_other(real_sequence) -> None:
    rtk, elk = real_sequence("keraal_RTK"), real_sequence("keraal_ELK")
    rotation = template_from_sequence(rtk, "trunk rotation")
    stretch = template_from_sequence(elk, "flank stretch")
    cross = score(elk, rotation)
    assert cross.plane == "image" and "image plane" in cross.summary_text()
    assert cross.overall < 60
    assert score(rtk, rotation).overall > 98
    assert score(elk, stretch).overall > 98


def test_mirrored_detections_are_dropped(real_sequence) -> None:
    """In one view the model mirrors the whole body in about a third of the frames."""
    counts = {n: int(compute_features(real_sequence(n)).mirrored.sum())
              for n in ("cam01", "cam02", "cam03", "cam04")}
    assert 15 <= counts["cam02"] <= 40
    assert counts["cam01"] == counts["cam03"] == counts["cam04"] == 0
    report = score(real_sequence("cam02"), real_sequence("cam02"))
    assert report.frames_dropped == counts["cam02"] and report.overall > 99


def test_a_rounded_back_on_a_real_recording_is_caught(real_sequence, lunge_template) -> None:
    seq = real_sequence("cam01")
    track = compute_features(seq)
    world = np.array(seq.world_xyz)
    hip = (world[:, 23] + world[:, 24]) / 2
    up = track.up
    left = world[:, 23] - world[:, 24]
    left -= (left @ up)[:, None] * up
    left /= np.linalg.norm(left, axis=1, keepdims=True)
    a = np.radians(25.0)  # upper body (head, shoulders, arms) 25 deg forward about the hips
    v = world[:, :23] - hip[:, None]
    k = left[:, None]
    world[:, :23] = hip[:, None] + v * np.cos(a) + np.cross(k, v) * np.sin(a) \
        + k * np.sum(k * v, axis=-1, keepdims=True) * (1 - np.cos(a))
    report = score(replace(seq, world_xyz=world), lunge_template)
    assert report.cue_keys[0] == ("trunk_flexion_deg", "+")
    assert report.cues[0] == "Lengthen your spine, you are bending forward"
    assert report.regions["spine"] < 65 and report.overall < 85


def test_live_scoring_follows_another_view(real_sequence, lunge_template) -> None:
    seq = real_sequence("cam04")
    live = LiveScorer(lunge_template, image_size=seq.image_size)
    frames = [live.update(seq.frame(i)) for i in range(len(seq))]
    assert frames[-1].progress > 0.8
    assert np.mean([f.score for f in frames if f.scored]) > 60
    # the session's report is made from the frame scores shown live, one number everywhere
    report = live.report()
    shown = [f.score for f in frames if f.scored]
    assert report.timeline_score.tolist() == pytest.approx(shown)
    assert report.form == pytest.approx(np.mean(shown))
    assert report.overall == pytest.approx(
        report.form * report.coverage_factor * report.tempo_factor)
    assert report.frames_used + report.frames_dropped == len(seq)
    # the live alignment only looks back, the offline one sees the whole take: close, not equal
    offline = score(seq, lunge_template)
    assert abs(report.overall - offline.overall) < 8
    assert report.to_dict()["plane"] == "world"


@pytest.mark.parametrize(("view", "median_ms"), [("cam01", 40), ("cam02", 120), ("cam04", 120)])
def test_live_alignment_finds_the_true_moment(real_sequence, lunge_template, view,
                                              median_ms) -> None:
    """The views are synchronised, so the true reference moment of every frame is known.
    cam02 has whole-body mirrored detections in a quarter of its frames."""
    seq = real_sequence(view)
    live = LiveScorer(lunge_template)
    ref_ms = lunge_template.timestamps_ms
    errors = []
    for rep in range(3):
        for i in range(len(seq)):
            f = seq.frame(i)
            out = live.update(FramePose(f.image_xyz, f.visibility, f.world_xyz,
                                        f.timestamp_ms + rep * 2000.0, f.people_seen))
            if rep > 0 and out.scored:
                errors.append(abs(ref_ms[out.reference_index] - f.timestamp_ms))
    assert np.median(errors) <= median_ms
    assert out.repetitions >= 2
    assert live.report().repetitions == 3  # an aligner's jump is not a repetition of its own


def _joined(parts: list) -> object:  # noqa: ANN001
    """Sequences one after another, each continuing the clock of the one before."""
    image, vis, world, ts = [], [], [], []
    t0 = 0.0
    for p in parts:
        period = 1000.0 / p.fps
        image.append(p.image_xyz)
        vis.append(p.visibility)
        world.append(p.world_xyz)
        ts.append(p.timestamps_ms - p.timestamps_ms[0] + t0)
        t0 = ts[-1][-1] + period
    first = parts[0]
    return replace(first, image_xyz=np.concatenate(image), visibility=np.concatenate(vis),
                   world_xyz=np.concatenate(world), timestamps_ms=np.concatenate(ts),
                   people_seen=np.ones(sum(len(p) for p in parts), dtype=np.int64))


def test_a_last_fragment_is_not_a_repetition_and_leaves_the_tempo_alone(real_sequence,
                                                                        lunge_template) -> None:
    """Two passes of the movement slowed to 0.7x, then the first eighth of a third pass (the
    recording stopped): two repetitions, at about 0.7x the reference's pace, and no "Slow
    down"."""
    from tests.library.library_helpers import resample_speed

    slow = resample_speed(real_sequence("cam01"), 0.7)
    fragment = slow.slice(0, len(slow) // 8)
    report = score(_joined([slow, slow, fragment]), lunge_template)
    assert report.repetitions == 2
    assert report.tempo_ratio == pytest.approx(0.7, abs=0.1)
    assert "Slow down" not in report.cues
    assert report.overall > 85


def _shoulders_raised(seq, metres: float):
    """``seq`` with both shoulders, and the arms with them, raised by ``metres`` along the
    vertical from a third of the way through (a shrug coming in during the movement)."""
    up = compute_features(seq).up
    world = np.array(seq.world_xyz)
    arms = slice(Landmark.LEFT_SHOULDER, Landmark.RIGHT_THUMB + 1)  # shoulders to hands
    world[len(world) // 3:, arms] += metres * up
    return replace(seq, world_xyz=world)


def test_a_shrug_is_seen_and_other_views_are_not_read_as_one(real_sequence,
                                                             lunge_template) -> None:
    """The other cameras' views of the same movement show no shrug; the movement with the
    shoulders lifted 6 cm towards the ears marks the shoulders down. (Its cue is the neck's:
    the pose model puts the ears 5-10 cm in front of the shoulders, so the neck's forward
    angle, measured from the shoulders, grows more than the shrug angle.)"""
    for view in ("cam02", "cam03", "cam04"):
        report = score(real_sequence(view), lunge_template)
        assert report.features["shoulder_shrug_deg"] > 80, view
        assert not any(key[0] == "shoulder_shrug_deg" for key in report.cue_keys), view
    shrugged = score(_shoulders_raised(real_sequence("cam01"), 0.06), lunge_template)
    assert shrugged.features["shoulder_shrug_deg"] < 70
    assert shrugged.regions["shoulders"] < 90
