"""``coach record --keep-video``: the take's video kept beside it, read back at the take's
times by the follow-along panel; stored, exported and imported with the take; refused for
sources without a video; nothing left behind by a refused take or a failed save."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

import coach.cli.record as record_cli
import coach.library.store as store
from coach.cli import main
from coach.errors import OutputError
from coach.library import Library, LibraryError, TakeError, load_take
from coach.library.take_video import (
    MAX_SIDE_PX,
    TakeVideo,
    TakeVideoWriter,
    downscaled,
    reference_video,
)
from coach.pose import PoseSequence
from coach.sources import Frame, VideoFileSource
from tests.library.library_helpers import ROOT, run_coach, tree_hash, write_exercise

SQUATS = "samples/tfjs_squats/pose_squats.mp4"
BUILTIN_TAKE = ROOT / "reference_poses" / "squat" / "takes" / "take-001.npz"
NEW_EXERCISE = ["--tradition", "rehabilitation", "--description", "A squat."]


def _env(tmp: Path) -> dict[str, str]:
    """A ``coach`` subprocess's environment: its own library, data and temp folders."""
    env = dict(os.environ)
    env["COACH_LIBRARY"] = str(tmp / "own")
    env["XDG_DATA_HOME"] = str(tmp / "xdg")
    env["TMPDIR"] = str(tmp / "tmp")
    (tmp / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def _left_behind(tmp: Path) -> list[Path]:
    """Scratch folders of ``coach record`` and hidden temp files anywhere under ``tmp``."""
    return [p for p in tmp.rglob("*") if p.name.startswith(("coach-record-", ".take."))]


def _clip_pictures(path: Path | str) -> tuple[np.ndarray, list[np.ndarray]]:
    """(times in ms, pictures at most ``MAX_SIDE_PX`` on their longer side) of a clip."""
    with VideoFileSource(ROOT / path) as source:
        frames = [(frame.timestamp_ms, downscaled(frame.rgb)) for frame in source]
    return np.array([t for t, _ in frames]), [p for _, p in frames]


def _difference(picture: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute difference of two pictures, ``expected`` scaled to ``picture``'s size."""
    scaled = cv2.resize(expected, (picture.shape[1], picture.shape[0]),
                        interpolation=cv2.INTER_AREA)
    return float(np.abs(picture.astype(int) - scaled).mean())


def _check_frames_match_the_clip(pose: PoseSequence, clip: Path | str) -> None:
    """The take's video shows, with each landmark frame, the clip's frame of that time: the
    closest of all the clip's frames, and close in itself."""
    video = reference_video(pose)
    assert video is not None and len(video) == len(pose)
    times, pictures = _clip_pictures(clip)
    for index in np.linspace(0, len(pose) - 1, 7).astype(int):
        picture = video.frame(int(index))
        assert picture is not None and max(picture.shape[:2]) <= MAX_SIDE_PX
        errors = [_difference(picture, expected) for expected in pictures]
        at = int(np.argmin(np.abs(times - pose.timestamps_ms[index])))
        assert int(np.argmin(errors)) == at, (index, errors)
        assert errors[at] < 4.0, (index, errors)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A take of the squat clip recorded with ``--keep-video`` by the real command: (the
    temp folder holding the library, stdout)."""
    tmp = tmp_path_factory.mktemp("kept")
    done = run_coach(["record", "squat", "--source", SQUATS, "--keep-video"], _env(tmp))
    assert done.returncode == 0, done.stderr
    return tmp, done.stdout


@pytest.mark.slow
def test_the_video_is_kept_beside_the_take_and_shows_each_frames_moment(recorded):
    tmp, out = recorded
    takes = tmp / "own" / "squat" / "takes"
    assert sorted(p.name for p in takes.iterdir()) == ["take-001.mp4", "take-001.npz"]
    assert "its video take-001.mp4" in out
    assert not _left_behind(tmp)
    with VideoFileSource(takes / "take-001.mp4") as kept:
        assert max(kept.width, kept.height) == MAX_SIDE_PX  # from a 720x1280 clip
        kept_ms = np.array([frame.timestamp_ms for frame in kept])
    take = load_take(takes / "take-001.npz")
    source_ms, _ = _clip_pictures(SQUATS)
    # the take keeps the clip's own times, and the video holds a frame at each of them
    assert np.isin(take.timestamps_ms, source_ms).all()
    assert np.abs(kept_ms[:, None] - take.timestamps_ms[None]).min(axis=0).max() <= 0.5
    pose = Library.open([tmp / "own"]).get("squat").template().pose
    assert pose.source == str(takes / "take-001.npz")
    _check_frames_match_the_clip(pose, SQUATS)


@pytest.mark.slow
def test_listing_and_show_say_which_takes_have_a_video(recorded, tmp_path):
    tmp, _ = recorded
    env = _env(tmp)
    listed = run_coach(["references", "list"], env)
    line = next(x for x in listed.stdout.splitlines() if x.startswith("squat "))
    assert "1 take(s), 1 with video" in line and " own " in line
    shown = run_coach(["references", "show", "squat", "-o", str(tmp_path / "squat.png")], env)
    assert shown.returncode == 0, shown.stderr
    assert "take take-001.npz: 65 frames" in shown.stdout
    assert "with its video take-001.mp4" in shown.stdout


@pytest.mark.slow
def test_an_archive_carries_the_video_there_and_back(recorded, tmp_path):
    tmp, _ = recorded
    env = _env(tmp)
    exported = run_coach(["references", "export", "squat", "-o", str(tmp_path)], env)
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(tmp_path / "squat.zip") as zf:
        member = zf.getinfo("squat/takes/take-001.mp4")
        assert member.compress_type == zipfile.ZIP_STORED  # H.264 does not pack further
    imported = run_coach(["references", "import", str(tmp_path / "squat.zip"), "--as",
                          "squat-again"], env)
    assert imported.returncode == 0, imported.stderr
    assert "1 with video" in imported.stdout
    original, copy = (tmp / "own" / slug / "takes" for slug in ("squat", "squat-again"))
    assert (copy / "take-001.mp4").read_bytes() == (original / "take-001.mp4").read_bytes()
    pose = Library.open([tmp / "own"]).get("squat-again").template().pose
    _check_frames_match_the_clip(pose, SQUATS)
    # a folder import carries it too
    shutil.copytree(tmp / "own" / "squat", tmp_path / "squat-folder")
    done = run_coach(["references", "import", str(tmp_path / "squat-folder")], env)
    assert done.returncode == 0, done.stderr
    assert (tmp / "own" / "squat-folder" / "takes" / "take-001.mp4").is_file()


@pytest.mark.slow
def test_a_refused_take_keeps_no_video_and_leaves_nothing(tmp_path):
    env = _env(tmp_path)
    done = run_coach(["record", "squat", "--source", "samples/pose2sim_lunge/cam03.mp4",
                      "--keep-video"], env)
    assert done.returncode == 2 and "take refused" in done.stderr
    assert not list(tmp_path.rglob("*.mp4")) and not _left_behind(tmp_path)
    assert not (tmp_path / "own").exists()


@pytest.mark.parametrize("kind", ["landmark recording", "image folder"])
def test_a_source_without_a_video_is_refused_in_one_line(tmp_path, sample_path, kind):
    if kind == "image folder":
        source = tmp_path / "pictures"
        source.mkdir()
        shutil.copy(sample_path("warrior"), source / "0001.jpg")
    else:
        source = BUILTIN_TAKE
    env = _env(tmp_path)
    done = run_coach(["record", "squat", "--source", str(source), "--keep-video"], env)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"coach: error: --keep-video: {source} is {'an' if kind[0] == 'i' else 'a'} {kind}, "
        "which has no video to keep (record from a camera or a video file)"]
    assert not (tmp_path / "own").exists() and not _left_behind(tmp_path)


class _ClipCamera:
    """A camera playing the squat clip's frames at the clip's own times."""

    is_live = True
    still_images = False
    frame_count = None
    fps = 5.0
    name = "camera 0"

    def __iter__(self) -> Iterator[Frame]:
        with VideoFileSource(ROOT / SQUATS) as clip:
            for frame in clip:
                yield Frame(frame.rgb, frame.timestamp_ms, frame.index)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> _ClipCamera:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.slow
def test_a_camera_take_keeps_its_video_at_the_cameras_times(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(record_cli, "open_source", lambda spec: _ClipCamera())
    library = tmp_path / "lib"
    code = main(["record", "my-squat", "--source", "0", "--headless", "--countdown", "0",
                 "--duration", "9", "--keep-video", "--library", str(library),
                 *NEW_EXERCISE])
    assert code == 0, capsys.readouterr().err
    takes = library / "my-squat" / "takes"
    assert sorted(p.name for p in takes.iterdir()) == ["take-001.mp4", "take-001.npz"]
    pose = Library.open([library]).get("my-squat").template().pose
    # the setup check held a second before the recording began: the video starts then too
    assert pose.timestamps_ms[0] >= 1000.0
    _check_frames_match_the_clip(pose, SQUATS)


def test_frames_are_found_at_their_own_times(tmp_path):
    """29.97 fps from 8 s on: times between two milliseconds, some exactly half way; each
    landmark time gets its own frame. The camera comes back at twice the size half way: the
    video keeps the first size."""
    times = 8000.0 + np.arange(60) * 1001.0 / 30.0
    path = tmp_path / "kept.mp4"
    with TakeVideoWriter(path, 30000 / 1001) as writer:
        for index, time_ms in enumerate(times):
            size = (90, 160) if index < 30 else (180, 320)
            grey = np.full((*size, 3), 40 + 3 * index, np.uint8)
            writer.write(Frame(grey, float(time_ms), index))
    video = TakeVideo(path, times)
    assert len(video) == len(times)
    assert {video.frame(i).shape for i in range(len(times))} == {(90, 160, 3)}
    shown = [int(video.frame(i).mean().round()) for i in range(len(times))]
    assert shown == pytest.approx([40 + 3 * i for i in range(len(times))], abs=1)
    assert TakeVideo(path, times - 100.0).frame(0) is None  # before the first frame


# -- storing ------------------------------------------------------------------------------


@pytest.fixture
def own(tmp_path: Path) -> Library:
    """A writable library holding one flowing exercise, "flow", without takes."""
    write_exercise(tmp_path / "own" / "flow")
    return Library.open([tmp_path / "own"], include_builtin=False)


@pytest.fixture(scope="module")
def take() -> PoseSequence:
    return load_take(BUILTIN_TAKE)


def _video(tmp_path: Path, name: str = "take.mp4") -> Path:
    """A real video file to store (the squat clip)."""
    path = tmp_path / name
    shutil.copy(ROOT / SQUATS, path)
    return path


def test_add_take_stores_the_video_under_the_takes_number(own, take, tmp_path):
    video = _video(tmp_path)
    first = own.add_take("flow", take, video=video)
    second = own.add_take("flow", take)
    takes = first.parent
    assert (first.name, second.name) == ("take-001.npz", "take-002.npz")
    assert (takes / "take-001.mp4").read_bytes() == video.read_bytes()
    assert not (takes / "take-002.mp4").exists()
    assert [p.name for p in store.take_paths(takes.parent)] == ["take-001.npz", "take-002.npz"]
    assert sorted(p.name for p in takes.iterdir()) == ["take-001.mp4", "take-001.npz",
                                                        "take-002.npz"]
    assert own.get("flow").status == "2 take(s), 1 with video"


def test_a_video_left_under_a_free_number_is_never_given_to_a_new_take(own, take, tmp_path):
    first = own.add_take("flow", take)
    stray = first.parent / "take-002.mp4"
    stray.write_bytes(b"placed by hand")
    assert own.add_take("flow", take).name == "take-003.npz"
    assert own.add_take("flow", take, video=_video(tmp_path)).name == "take-004.npz"
    assert stray.read_bytes() == b"placed by hand"
    assert (first.parent / "take-004.mp4").stat().st_size > 1000


def test_a_video_too_large_is_refused_before_anything_is_written(own, take, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr(store, "MAX_TAKE_VIDEO_BYTES", 1000)
    before = tree_hash(tmp_path / "own")
    with pytest.raises(TakeError, match="larger than a take's video may be"):
        own.add_take("flow", take, video=_video(tmp_path))
    assert tree_hash(tmp_path / "own") == before


def test_a_take_that_cannot_be_linked_leaves_neither_file(own, take, tmp_path, monkeypatch):
    real_link = os.link

    def link(source, target):  # noqa: ANN001, ANN202 - os.link's own arguments
        if str(target).endswith(".npz"):
            raise PermissionError(13, "Permission denied")
        real_link(source, target)

    monkeypatch.setattr(store.os, "link", link)
    with pytest.raises(OutputError, match="the take for 'flow' cannot be saved"):
        own.add_take("flow", take, video=_video(tmp_path))
    assert list((tmp_path / "own" / "flow" / "takes").iterdir()) == []


def test_an_import_refuses_a_video_without_its_take_or_not_a_video(own, take, tmp_path):
    folder = write_exercise(tmp_path / "incoming" / "lonely")
    shutil.copy(BUILTIN_TAKE, folder / "takes" / "take-001.npz")
    _video(folder / "takes", "take-002.mp4")
    with pytest.raises(TakeError, match=r"take-002\.mp4: a take's video needs the take of "):
        own.import_path(folder)
    (folder / "takes" / "take-002.mp4").rename(folder / "takes" / "take-001.mp4")
    (folder / "takes" / "take-001.mp4").write_bytes(b"not a video at all")
    with pytest.raises(TakeError, match=r"take-001\.mp4: not a readable video"):
        own.import_path(folder)
    (folder / "takes" / "take-001.mp4").unlink()
    (folder / "takes" / "clip.mp4").write_bytes(b"x")
    with pytest.raises(LibraryError, match=r"takes/take-NNN\.mp4 \(the video of the take"):
        own.import_path(folder)
    assert [e.slug for e in own.list()] == ["flow"]
