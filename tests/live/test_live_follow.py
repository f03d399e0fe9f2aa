"""The follow-along panel with the take's own video: found beside the take, shown at the
take's times in the panel at phone and 1080p sizes, in a real session; the figure without
one."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from coach.backend import PoseBackend
from coach.library import Library
from coach.library.take_video import reference_video
from coach.live.coaching import ExerciseCoaching
from coach.live.session import Session, SessionConfig
from coach.overlay.follow import LIMB_COLOUR, FollowAlong
from coach.pipeline import FrameCapture
from coach.sources import VideoFileSource, open_source

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library_with_video(tmp_path, sample_path) -> Library:
    """The squat exercise in a library of its own, its take's video kept beside the take:
    the take was recorded from the squat clip, so the clip is its video."""
    shutil.copytree(ROOT / "reference_poses" / "squat", tmp_path / "squat")
    shutil.copy(sample_path("squats"), tmp_path / "squat" / "takes" / "take-001.mp4")
    return Library.open([tmp_path])


def _clip_frames(path: Path) -> list[np.ndarray]:
    with VideoFileSource(path) as source:
        return [frame.rgb for frame in source]


def _matches(picture: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute difference of ``picture`` and ``expected`` scaled to its size."""
    scaled = cv2.resize(expected, (picture.shape[1], picture.shape[0]),
                        interpolation=cv2.INTER_AREA)
    return float(np.abs(picture.astype(int) - scaled).mean())


def _picture_area(follow: FollowAlong, size: tuple[int, int]) -> tuple[slice, slice]:
    """Where the panel's picture goes on a ``size`` (width, height) scene: what is not black
    under the caption when the panel is drawn on a black scene."""
    scene = np.zeros((size[1], size[0], 3), np.uint8)
    follow.annotate(scene, 0)
    x0, y0, x1, y1 = follow.panel_box(scene)
    lit = scene.max(axis=2) > 0
    lit[:y0 + int(0.12 * (y1 - y0))] = False  # the caption
    rows, cols = np.nonzero(lit)
    return slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)


def test_kept_take_video_is_read_at_the_takes_times(library_with_video, sample_path):
    pose = library_with_video.get("squat").template().pose
    video = reference_video(pose)
    assert video is not None and len(video) == len(pose) == 65
    clip = _clip_frames(sample_path("squats"))
    for index in (0, 30, 64):
        picture = video.frame(index)
        assert max(picture.shape[:2]) == 640  # kept smaller than the 720x1280 clip
        errors = [_matches(picture, frame) for frame in clip]
        assert errors[index] < 4 and int(np.argmin(errors)) == index  # that very moment


@pytest.mark.parametrize("size", [(360, 640), (1920, 1080)], ids=["phone", "1080p"])
@pytest.mark.parametrize("mirror", [False, True], ids=["straight", "mirror"])
def test_panel_shows_the_take_video(library_with_video, sample_path, size, mirror):
    pose = library_with_video.get("squat").template().pose
    follow = FollowAlong(pose, mirror, video=reference_video(pose))
    clip = _clip_frames(sample_path("squats"))
    scene = np.zeros((size[1], size[0], 3), np.uint8)
    index = follow.index_at(0.5, lead_s=0.5)
    follow.annotate(scene, index)
    box = follow.panel_box(scene)
    picture = scene[_picture_area(follow, size)]
    expected = clip[index][:, ::-1] if mirror else clip[index]
    assert _matches(picture, expected) < 8
    assert _matches(picture, expected[:, ::-1]) > _matches(picture, expected) + 2
    # fitted to the panel: it fills its width or its height, and keeps its shape
    assert max(picture.shape[1] / (box[2] - box[0]), picture.shape[0] / (box[3] - box[1])) > 0.8
    assert picture.shape[1] / picture.shape[0] == pytest.approx(720 / 1280, abs=0.03)


def test_panel_picture_grows_with_the_scene(library_with_video):
    pose = library_with_video.get("squat").template().pose
    follow = FollowAlong(pose, video=reference_video(pose))
    heights = []
    for size in [(360, 640), (640, 480), (1920, 1080)]:
        rows, _ = _picture_area(follow, size)
        heights.append(rows.stop - rows.start)
    assert heights[1] < heights[2] and heights[2] > 3 * heights[1] / 2


def test_without_a_kept_video_the_panel_draws_the_figure():
    pose = Library.open().get("squat").template().pose
    assert reference_video(pose) is None  # the built-in take keeps no video
    scene = np.zeros((640, 360, 3), np.uint8)
    follow = FollowAlong(pose, True)  # the call sessions make today
    follow.annotate(scene, follow.index_at(0.5, 0.5), "Follow")
    x0, y0, x1, y1 = follow.panel_box(scene)
    assert np.all(scene[y0:y1, x0:x1] == LIMB_COLOUR, axis=2).sum() > 50


def test_an_unreadable_take_video_leaves_the_figure(tmp_path, caplog):
    shutil.copytree(ROOT / "reference_poses" / "squat", tmp_path / "squat")
    (tmp_path / "squat" / "takes" / "take-001.mp4").write_bytes(b"not a video" * 100)
    pose = Library.open([tmp_path]).get("squat").template().pose
    with caplog.at_level(logging.WARNING):
        assert reference_video(pose) is None
    assert "take-001.mp4" in caplog.text and "figure is drawn instead" in caplog.text


@pytest.mark.slow
def test_session_plays_the_take_video_in_the_panel(library_with_video, sample_path):
    class _Keep:
        interactive = False

        def __init__(self) -> None:
            self.frames: list[np.ndarray] = []

        def show(self, scene: np.ndarray, timestamp_ms: float) -> None:
            self.frames.append(scene.copy())

        def close(self, completed: bool = True) -> None:
            return None

    exercise = library_with_video.get("squat")
    pose = exercise.template().pose
    follow = FollowAlong(pose, video=reference_video(pose))
    sink = _Keep()
    source = open_source(sample_path("squats"))  # the instructor's own take: it progresses
    backend = PoseBackend()
    try:
        Session(FrameCapture(lambda: source, live=False, first_source=source), backend.detect,
                ExerciseCoaching(exercise), SessionConfig(setup_check=False), [sink],
                source.fps, follow=follow).run()
    finally:
        backend.close()
    clip = _clip_frames(sample_path("squats"))
    height, width = sink.frames[0].shape[:2]
    area = _picture_area(follow, (width, height))
    shown = []
    for frame in sink.frames[::5]:
        errors = [_matches(frame[area], c) for c in clip]
        assert min(errors) < 8  # one of the take's pictures
        shown.append(int(np.argmin(errors)))
    assert len(set(shown)) > 3  # the video plays along
    assert shown == sorted(shown)  # forward, with the movement (one pass of the squats)
