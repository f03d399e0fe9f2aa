"""Overlay annotators on real frames with real poses: what is drawn, and where."""

from __future__ import annotations

import numpy as np
import pytest

from coach.landmarks import Landmark
from coach.overlay.countdown import CountdownAnnotator
from coach.overlay.cue import CueAnnotator
from coach.overlay.draw import BAD, GOOD, score_colour, wrap_text
from coach.overlay.gauge import ScoreGauge
from coach.overlay.ghost import GhostAnnotator, place_ghost, turned_like
from coach.overlay.message import MessageAnnotator
from coach.overlay.mirror import mirror_for_display, mirror_picture
from coach.overlay.progress import ProgressAnnotator
from coach.overlay.skeleton import SkeletonAnnotator
from coach.pose import FramePose
from coach.sources import open_source

L = Landmark


@pytest.fixture(scope="module")
def squat_frame(sample_path):
    with open_source(sample_path("squats")) as source:
        for frame in source:
            if frame.index == 30:
                return frame.rgb.copy()
    raise AssertionError("frame 30 missing")


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=2)


def _rows_cols(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(mask)
    return rows, cols


def test_mirror_keeps_labels(real_sequence):
    pose = real_sequence("squats").frame(30)
    shown = mirror_for_display(pose)
    assert shown.image_xyz[L.LEFT_SHOULDER, 0] == pytest.approx(
        1.0 - pose.image_xyz[L.LEFT_SHOULDER, 0])
    assert shown.world_xyz[L.LEFT_SHOULDER, 0] == pytest.approx(
        -pose.world_xyz[L.LEFT_SHOULDER, 0])
    assert np.array_equal(shown.visibility, pose.visibility)
    # the person's left shoulder is on the left of the picture as seen by the camera (they
    # face it), and on the right in the mirrored picture, as in a real mirror
    assert pose.image_xyz[L.LEFT_SHOULDER, 0] > pose.image_xyz[L.RIGHT_SHOULDER, 0]
    assert shown.image_xyz[L.LEFT_SHOULDER, 0] < shown.image_xyz[L.RIGHT_SHOULDER, 0]
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert np.array_equal(mirror_picture(rgb)[:, 0], rgb[:, 2])


def test_ghost_of_the_same_pose_lies_on_the_person(real_sequence):
    pose = real_sequence("squats").frame(30)
    size = (720, 1280)
    own_px = pose.image_xyz[:, :2] * size
    placed = place_ghost(pose, pose, size)
    body = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE,
            L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE]
    # world landmarks projected back: within a few percent of the body height
    assert np.abs(placed[body] - own_px[body]).max() < 0.05 * 1280
    image_only = FramePose(pose.image_xyz, pose.visibility, None, 0.0)
    placed_2d = place_ghost(image_only, image_only, size, ghost_image_size=size)
    assert placed_2d == pytest.approx(own_px)


def test_ghost_is_scaled_and_turned_to_the_person(real_sequence):
    person = real_sequence("squats").frame(30)
    taller = FramePose(person.image_xyz, person.visibility, person.world_xyz * 1.25, 0.0)
    size = (720, 1280)
    assert place_ghost(taller, person, size) == pytest.approx(
        place_ghost(person, person, size), abs=1e-6)
    angle = np.radians(50.0)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])
    other_view = person.world_xyz @ rot.T  # the same pose seen from 50 degrees further round
    assert turned_like(other_view, person.world_xyz) == pytest.approx(person.world_xyz,
                                                                       abs=1e-9)


def test_skeleton_and_ghost_are_drawn_on_the_body(squat_frame, real_sequence):
    seq = real_sequence("squats")
    person, reference = seq.frame(30), seq.frame(2)
    scene = squat_frame.copy()
    GhostAnnotator().annotate(scene, reference, person)
    ghost_only = _changed(squat_frame, scene)
    placed = place_ghost(reference, person, (720, 1280))
    hip = np.round(placed[L.LEFT_HIP]).astype(int)
    assert ghost_only[hip[1] - 4:hip[1] + 5, hip[0] - 4:hip[0] + 5].any()
    before = scene.copy()
    SkeletonAnnotator().annotate(scene, person, {"spine": BAD, "legs": GOOD})
    drawn = _changed(before, scene)
    knee = np.round(person.image_xyz[L.LEFT_KNEE, :2] * (720, 1280)).astype(int)
    assert drawn[knee[1] - 3:knee[1] + 4, knee[0] - 3:knee[0] + 4].any()
    mid_hip = (person.image_xyz[L.LEFT_HIP, :2] + person.image_xyz[L.RIGHT_HIP, :2]) / 2
    mid_sh = (person.image_xyz[L.LEFT_SHOULDER, :2] + person.image_xyz[L.RIGHT_SHOULDER, :2]) / 2
    x, y = np.round((mid_hip + mid_sh) / 2 * (720, 1280)).astype(int)
    assert tuple(scene[y, x]) == BAD  # the spine line carries the spine's colour


def test_hud_elements_stay_in_their_corners(squat_frame):
    scene = squat_frame.copy()
    ScoreGauge().annotate(scene, 73.0)
    rows, cols = _rows_cols(_changed(squat_frame, scene))
    assert rows.max() < 0.15 * 1280 and cols.max() < 0.25 * 720  # top-left
    before = scene.copy()
    ProgressAnnotator().annotate(before, "Banded squat", fraction=0.4)
    rows, cols = _rows_cols(_changed(scene, before))
    assert rows.max() < 0.1 * 1280 and cols.min() > 0.1 * 720  # top, right of the gauge
    scene = squat_frame.copy()
    cue = "Lengthen your spine, you are bending forward"
    CueAnnotator().annotate(scene, cue)
    rows, _ = _rows_cols(_changed(squat_frame, scene))
    assert rows.min() > 0.8 * 1280  # bottom band
    assert len(wrap_text(cue, 700, 1.1, 2)) == 2
    scene = squat_frame.copy()
    MessageAnnotator().annotate(scene, "Setting up", ["Step back a little"])
    rows, cols = _rows_cols(_changed(squat_frame, scene))
    assert abs((rows.min() + rows.max()) / 2 - 640) < 20
    assert abs((cols.min() + cols.max()) / 2 - 360) < 20
    scene = squat_frame.copy()
    CountdownAnnotator().annotate(scene, 2.2)
    rows, cols = _rows_cols(_changed(squat_frame, scene))
    assert abs((cols.min() + cols.max()) / 2 - 360) < 30


def test_score_colours_run_green_to_red():
    assert score_colour(95.0) == GOOD
    assert score_colour(10.0) == BAD
    mid = score_colour(60.0)
    assert mid not in (GOOD, BAD) and mid[0] > 200
    assert score_colour(None) == score_colour(float("nan"))
