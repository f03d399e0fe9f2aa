"""Frame sources on real files: video, image folder, a stream through the camera source."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import av
import cv2
import numpy as np
import pytest

from coach.errors import InputError
from coach.sources import (
    CameraSource,
    ImageFolderSource,
    VideoFileSource,
    iterating,
    open_source,
)
from tests.foundation.helpers import turn_display


def container_times_ms(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(f.pts * stream.time_base) * 1000 for f in container.decode(stream)]


def test_video_timestamps_come_from_the_container(sample_path):
    path = sample_path("squats")
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        assert source.fps == pytest.approx(5.0)
        frames = list(source)
    assert [f.timestamp_ms for f in frames] == pytest.approx(container_times_ms(path))
    assert frames[1].timestamp_ms == pytest.approx(200.0)
    assert frames[0].rgb.shape == (1280, 720, 3) and frames[0].rgb.dtype == np.uint8
    assert all(f.rgb.flags["C_CONTIGUOUS"] for f in frames)


def test_padded_rows_are_packed_for_the_model(sample_path):
    """A width whose decoder rows are padded (1768 px) still gives packed RGB rows."""
    with open_source(sample_path("multi")) as source:
        frame = next(iter(source))
    assert frame.rgb.shape == (994, 1768, 3)
    assert frame.rgb.flags["C_CONTIGUOUS"]


def test_decoder_threads_do_not_change_frames_or_times(sample_path):
    """Single-threaded decoding (the default on two cores) gives the frames of frame threading."""
    path = sample_path("cam01")
    with VideoFileSource(path, decode_threads=1) as one, \
            VideoFileSource(path, decode_threads=4) as several:
        for a, b in zip(one, several, strict=True):
            assert a.timestamp_ms == b.timestamp_ms and a.index == b.index
            assert np.array_equal(a.rgb, b.rgb)


def test_video_source_releases_its_handle_on_early_exit(sample_path):
    source = open_source(sample_path("dance"))
    with source:
        for frame in source:
            if frame.index == 3:
                break
    with pytest.raises(Exception):  # noqa: B017 - any error: the container is closed
        next(source._container.decode(video=0))


def test_image_folder_in_name_order(tmp_path, sample_path):
    with open_source(sample_path("dance")) as source:
        for frame in source:
            if frame.index >= 3:
                break
            cv2.imwrite(str(tmp_path / f"img_{2 - frame.index}.png"),
                        cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    shutil.copy(sample_path("warrior"), tmp_path / "z_warrior.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path) as source:
        assert isinstance(source, ImageFolderSource) and source.still_images
        frames = list(source)
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert frames[3].rgb.shape == (667, 1000, 3)
    assert np.all(np.diff([f.timestamp_ms for f in frames]) > 0)


@pytest.mark.parametrize("name", ["multi", "cam02", "squats"])
def test_frames_at_gives_the_frames_a_full_read_gives(sample_path, name):
    """Only the asked-for frames, identical to a full read; it jumps between keyframes (the
    multi clip has one every 60 frames, cam02 two, squats one) and passes over absent times."""
    with open_source(sample_path(name)) as source:
        every = list(source)
    picked = [every[i] for i in {len(every) - 1, 1, 64, 61, 3, 130} if i < len(every)]
    asked = [f.timestamp_ms for f in picked] + [every[5].timestamp_ms + 0.7, 1e9, -40.0]
    with open_source(sample_path(name)) as source:
        got = list(source.frames_at(asked))
    expected = sorted(picked, key=lambda f: f.timestamp_ms)
    assert [(f.index, f.timestamp_ms) for f in got] == [(f.index, f.timestamp_ms)
                                                        for f in expected]
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(got, expected, strict=True))


def test_image_folder_frames_at_reads_only_those_images(tmp_path, sample_path):
    shutil.copy(sample_path("warrior"), tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"not an image: never read")
    shutil.copy(sample_path("warrior"), tmp_path / "c.jpg")
    with open_source(tmp_path) as source:
        got = list(source.frames_at([2000.0 / source.fps, 0.0, 5.0]))
    assert [f.index for f in got] == [0, 2]


def test_frames_a_stride_passes_over_are_never_converted(monkeypatch, sample_path):
    """``--stride 3``: only every third decoded frame is converted to RGB for the model."""
    import coach.sources
    from coach.backend import PoseBackend
    from coach.extract import extract_from_source

    converted = []
    packed_rgb = coach.sources._packed_rgb
    monkeypatch.setattr(coach.sources, "_packed_rgb",
                        lambda frame: converted.append(frame.pts) or packed_rgb(frame))
    with open_source(sample_path("squats")) as source, PoseBackend() as backend:
        sequence = extract_from_source(source, backend, stride=3)
    assert len(converted) == len(sequence) == 22  # frames 0, 3, ..., 63 of 65
    assert sequence.present.all()


def test_image_folder_images_a_stride_passes_over_are_never_read(tmp_path, sample_path):
    from coach.extract import extract_sequence

    shutil.copy(sample_path("warrior"), tmp_path / "a.jpg")
    (tmp_path / "b.jpg").write_bytes(b"not an image: passed over by the stride")
    shutil.copy(sample_path("warrior"), tmp_path / "c.jpg")
    sequence = extract_sequence(tmp_path, stride=2)
    assert len(sequence) == 2 and sequence.present.all()
    with pytest.raises(InputError, match="b.jpg: not a readable image"):
        extract_sequence(tmp_path)


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_video_turned_by_its_display_matrix_is_read_upright(tmp_path, sample_path, turn):
    """A phone stores a portrait video on its side and says in its display matrix how to
    turn it: frames come out turned as shown, and the source's size is the shown size."""
    turned = tmp_path / f"turned{turn}.mp4"
    turn_display(sample_path("squats"), turned, turn)
    with VideoFileSource(sample_path("squats")) as plain, VideoFileSource(turned) as source:
        for a, b in zip(plain, source, strict=True):
            assert np.array_equal(b.rgb, np.rot90(a.rgb, k=-turn // 90))  # rot90: anticlockwise
            assert b.rgb.flags["C_CONTIGUOUS"]
        assert (source.width, source.height) == (b.rgb.shape[1], b.rgb.shape[0])
    assert (source.width, source.height) == ((720, 1280) if turn == 180 else (1280, 720))


def test_poses_from_a_portrait_video_stored_on_its_side(tmp_path, sample_path, real_sequence):
    """The squat clip stored on its side (as a phone held upright stores it) with a quarter turn
    in its display matrix: the model sees the person upright and finds the same poses."""
    from coach.extract import extract_sequence
    from coach.video_writer import VideoWriter

    sideways = tmp_path / "sideways.mp4"
    with VideoFileSource(sample_path("squats")) as source, \
            VideoWriter(sideways, source.fps) as writer:
        for frame in source:
            writer.write(np.ascontiguousarray(np.rot90(frame.rgb)), frame.timestamp_ms)
    shown_upright = tmp_path / "portrait.mp4"
    turn_display(sideways, shown_upright, 90)
    sequence = extract_sequence(shown_upright)
    upright = real_sequence("squats")
    assert sequence.image_size == upright.image_size == (720, 1280)
    assert sequence.present.all()
    apart = np.linalg.norm((sequence.image_xyz[..., :2] - upright.image_xyz[..., :2])
                           * upright.image_size, axis=-1)
    assert np.median(apart) < 15, f"median {np.median(apart):.1f} px from the upright clip's"


def test_camera_source_reads_a_stream(sample_path):
    """The camera source takes any OpenCV capture target; a file stands in for a stream."""
    with CameraSource(str(sample_path("squats"))) as source:
        assert source.is_live
        frames = list(source)
    assert len(frames) == 65
    assert np.all(np.diff([f.timestamp_ms for f in frames]) > 0)


@pytest.mark.parametrize("content", [b"", b"this is text, not a video\n"])
def test_bad_video_files_are_refused(tmp_path, content):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match="clip.mp4"), open_source(path) as source:
        list(source)


def test_truncated_video_is_refused_or_cut_short(tmp_path, sample_path):
    data = sample_path("cam01").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="truncated.mp4"), open_source(path) as source:
        list(source)


def test_missing_inputs_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such"):
        open_source(tmp_path / "missing.mp4")
    with pytest.raises(InputError, match="no images"):
        open_source(tmp_path)
    with pytest.raises(InputError, match="cannot open"):
        CameraSource(str(tmp_path / "no_stream.mp4"))


def test_iterating_closes_the_iterator_however_the_block_is_left() -> None:
    closed: list[str] = []

    def frames(name: str) -> Iterator[int]:
        try:
            yield from range(10)
        finally:
            closed.append(name)

    with iterating(frames("early")) as it:
        assert next(it) == 0
    assert closed == ["early"]
    with pytest.raises(RuntimeError), iterating(frames("failed")) as it:
        next(it)
        raise RuntimeError("stopped")
    assert closed == ["early", "failed"]
    with iterating([1, 2]) as plain:  # an iterator without close is left alone
        assert list(plain) == [1, 2]
