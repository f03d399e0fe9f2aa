"""Overlay annotators on real frames with real poses: what is drawn, and where."""

from __future__ import annotations

import numpy as np
import pytest

from coach.landmarks import Landmark
from coach.live.session import Notice
from coach.overlay.countdown import CountdownAnnotator
from coach.overlay.cue import CueAnnotator
from coach.overlay.draw import BAD, GOOD, UNKNOWN, WARN, score_colour, wrap_text
from coach.overlay.follow import LIMB_COLOUR, SPINE_COLOUR, FollowAlong
from coach.overlay.gauge import ScoreGauge
from coach.overlay.ghost import GhostAnnotator, place_ghost, turned_like
from coach.overlay.legend import ENTRIES, LegendAnnotator
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


def _text_height_px(scene_size: tuple[int, int], draw) -> int:
    """Height in pixels of the glyphs ``draw(scene)`` puts on a blank picture of
    ``scene_size`` (width, height), counted as rows holding white text pixels."""
    width, height = scene_size
    scene = np.zeros((height, width, 3), np.uint8)
    draw(scene)
    white = np.all(scene >= 230, axis=2)
    rows = np.flatnonzero(white.any(axis=1))
    return int(rows.max() - rows.min() + 1) if len(rows) else 0


@pytest.mark.parametrize("size", [(360, 640), (1920, 1080)], ids=["phone", "1080p"])
def test_text_is_readable_and_scales_with_the_picture(size):
    # the top line (a caption with no descenders: its cap height) and the bottom cue
    top = _text_height_px(size, lambda s: ProgressAnnotator().annotate(s, "SQUAT", 0.5))
    cue = _text_height_px(size, lambda s: CueAnnotator().annotate(s, "SLOW DOWN"))
    if size == (360, 640):
        assert top >= 10 and cue >= 16  # the top line was 7-8 px tall on a phone video
    else:
        assert top >= 24 and cue >= 40


def test_sizes_grow_with_the_picture_but_less_than_it():
    small = _text_height_px((360, 640), lambda s: ProgressAnnotator().annotate(s, "SQUAT", 0.5))
    large = _text_height_px((1920, 1080), lambda s: ProgressAnnotator().annotate(s, "SQUAT", 0.5))
    area_ratio = (1920 * 1080) / (360 * 640)
    assert 2.0 < large / small < area_ratio ** 0.5


def test_legend_shows_every_colour_and_its_meaning(squat_frame):
    scene = squat_frame.copy()
    LegendAnnotator().annotate(scene)
    changed = _changed(squat_frame, scene)
    rows, cols = _rows_cols(changed)
    assert cols.max() < 0.4 * 720 and rows.max() < 0.3 * 1280  # left, under the gauge
    for colour, _ in ENTRIES:
        assert np.all(scene[changed] == colour, axis=1).sum() >= 36  # a swatch of each
    assert [text for _, text in ENTRIES] == ["close", "at tolerance", "far off", "not scored"]
    assert UNKNOWN not in (GOOD, WARN, BAD) and max(abs(a - b) for a, b in
                                                    zip(UNKNOWN, WARN, strict=True)) > 60


@pytest.mark.parametrize("size", [(360, 640), (1920, 1080)], ids=["phone", "1080p"])
def test_follow_along_figure_is_drawn_in_its_panel(size):
    from coach.library import Library

    pose = Library.open().get("lunge-and-reach").template().pose
    follow = FollowAlong(pose)
    width, height = size
    scene = np.zeros((height, width, 3), np.uint8)
    x0, y0, x1, y1 = follow.panel_box(scene)
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and x0 > width / 2
    follow.annotate(scene, follow.index_at(0.5), "Follow")
    rows, cols = _rows_cols(scene.any(axis=2))
    assert rows.min() >= y0 and rows.max() < y1 and cols.min() >= x0 and cols.max() < x1
    limbs = np.all(scene == LIMB_COLOUR, axis=2).sum()
    spine = np.all(scene == SPINE_COLOUR, axis=2).sum()
    assert limbs > 100 * (height / 640) and spine > 20 * (height / 640)
    # the figure keeps one scale over the movement: frames differ, the panel does not move
    other = np.zeros_like(scene)
    follow.annotate(other, follow.index_at(0.0), "Follow")
    assert not np.array_equal(scene, other)


def test_follow_along_runs_ahead_and_loops():
    from coach.library import Library

    pose = Library.open().get("lunge-and-reach").template().pose
    follow = FollowAlong(pose)
    n, fps = len(pose), pose.fps
    assert follow.index_at(None) == 0
    assert follow.index_at(0.5) == round(0.5 * (n - 1))
    assert follow.index_at(0.5, lead_s=0.25) == round(0.5 * (n - 1) + 0.25 * fps)
    assert follow.index_at(1.0, lead_s=1.0) == n - 1
    assert follow.index_looping(0.0) == 0
    assert follow.index_looping(n / fps * 1000.0 + 1.0) == 0  # back to the start


def test_notice_needs_its_cause_to_last():
    notice = Notice(on_ms=1000.0, off_ms=500.0)
    shown = [notice.update(t % 400 < 200, t) for t in range(0, 3000, 100)]  # flickering
    assert not any(shown)
    notice.reset()
    shown = [notice.update(True, t) for t in range(0, 1600, 100)]
    assert shown.index(True) == 10  # after 1 s
    assert notice.update(False, 1600) and notice.update(False, 2000)
    assert not notice.update(False, 2100)  # gone 500 ms later


def test_a_long_caption_fits_a_phone_picture():
    scene = np.zeros((640, 360, 3), np.uint8)
    ProgressAnnotator().annotate(scene, "Mountain pose alignment", held_s=12.3, target_s=30.0)
    cols = np.flatnonzero(np.all(scene >= 230, axis=2).any(axis=0))
    assert cols.max() < 360 - 4  # the whole caption, inside the picture


def test_held_posture_targets_drawn_as_a_figure():
    from coach.library import Library
    from coach.overlay.target import target_points, target_pose

    standing = target_points(Library.open().get("mountain-pose").meta.hold.targets)
    assert standing[L.LEFT_SHOULDER][1] > standing[L.LEFT_HIP][1] > standing[L.LEFT_ANKLE][1]
    assert abs(standing[L.LEFT_ANKLE][0]) < 0.05  # legs straight under the hips
    sphinx = target_points(Library.open().get("sphinx-pose").meta.hold.targets)
    # lying on the front: chest raised forward, legs behind on the floor, forearms forward
    assert sphinx[L.LEFT_SHOULDER][0] > 0 and sphinx[L.LEFT_ANKLE][0] < -0.4
    assert abs(sphinx[L.LEFT_ANKLE][1]) < 0.1
    assert sphinx[L.LEFT_WRIST][0] > sphinx[L.LEFT_ELBOW][0]
    bird = target_points(Library.open().get("bird-dog").meta.hold.targets)
    assert bird[L.RIGHT_WRIST][0] > bird[L.RIGHT_SHOULDER][0] + 0.25  # right arm reaches forward
    assert bird[L.LEFT_ANKLE][0] < -0.4  # left leg reaches back
    assert bird[L.RIGHT_KNEE][1] < -0.2  # right knee down on the floor
    pose = target_pose(Library.open().get("bird-dog").meta.hold.targets)
    assert len(pose) == 1 and np.nanmin(pose.image_xyz[0, :, :2]) >= 0.1
    scene = np.zeros((640, 360, 3), np.uint8)
    follow = FollowAlong(pose)
    follow.annotate(scene, follow.index_at(None), "Hold this pose")
    assert np.all(scene == LIMB_COLOUR, axis=2).sum() > 100
