"""One frame pipeline: extraction, recording a take from a camera and the live session give
the same poses for the same frames of a real clip, and a live source that stalls is lost
in one sentence instead of hanging."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from coach.backend import PoseBackend
from coach.extract import extract_from_source, extract_sequence
from coach.library.recorder import record_from_source
from coach.live.app import LiveOptions, run_live
from coach.pipeline import CameraLostError, FrameCapture, file_poses, live_poses
from coach.pose import PoseSequence
from coach.recording import load_recording
from coach.sources import Frame, VideoFileSource, open_source

#: float32 storage of the recorders (a live session's recording, a take) against float64.
FLOAT32_ATOL = 1e-5


class ClipAsCamera(VideoFileSource):
    """A video file that poses as a camera: its frames arrive with their own times."""

    is_live = True


def _same_poses(a: PoseSequence, b: PoseSequence) -> int:
    """Assert that the frames ``a`` and ``b`` share (by time) hold the same landmarks;
    returns how many they share."""
    shared, in_a, in_b = np.intersect1d(a.timestamps_ms, b.timestamps_ms, return_indices=True)
    for name in ("image_xyz", "world_xyz", "visibility"):
        np.testing.assert_allclose(getattr(a, name)[in_a], getattr(b, name)[in_b],
                                   atol=FLOAT32_ATOL, err_msg=name)
    return len(shared)


def test_extract_record_and_live_give_the_same_poses(tmp_path, sample_path):
    clip = sample_path("squats")
    extracted = extract_sequence(clip)
    with ClipAsCamera(clip) as camera, PoseBackend() as backend:
        take = record_from_source(camera, backend, countdown_s=0.0, duration_s=10.0)
    live = run_live(LiveOptions(exercise="squat", source=str(clip), headless=True,
                                output=tmp_path, save_history=False, setup_check=False))
    session = load_recording(live.files["recording"])
    assert len(extracted) == 65
    assert _same_poses(extracted, take) == len(take) == 51  # 0 to 10 s at 5 fps
    assert _same_poses(extracted, session) == len(session) == int(extracted.present.sum())


def test_file_poses_follow_the_stride_and_keep_the_source_times(sample_path):
    with open_source(sample_path("squats")) as source, PoseBackend() as backend:
        every_third = [(frame.index, frame.timestamp_ms) for frame, _ in
                       file_poses(source, backend.detect, stride=3)]
    assert [index for index, _ in every_third] == list(range(0, 65, 3))
    assert [t for _, t in every_third] == pytest.approx([i * 200.0 for i in range(0, 65, 3)])


def test_extract_from_source_refuses_a_source_without_frames(tmp_path, sample_path):
    class Empty(VideoFileSource):
        def __iter__(self) -> Iterator[Frame]:
            return iter(())

    with Empty(sample_path("squats")) as source, PoseBackend() as backend, \
            pytest.raises(Exception, match="no frames could be read"):
        extract_from_source(source, backend)


class _CtrlCAt:
    """The real pose model, with Ctrl-C arriving while it works on the ``at``-th frame."""

    def __init__(self, backend: PoseBackend, at: int) -> None:
        self.backend, self.at, self.calls = backend, at, 0

    def detect(self, frame: Frame, image: object) -> object:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.backend.detect(frame, image)


@pytest.mark.parametrize("live", [True, False], ids=["camera", "file"])
def test_ctrl_c_keeps_a_camera_capture_and_stops_a_file(sample_path, live):
    class Source(VideoFileSource):
        is_live = live

    with Source(sample_path("squats")) as source, PoseBackend() as backend:
        stopping = _CtrlCAt(backend, at=10)
        if not live:
            with pytest.raises(KeyboardInterrupt):
                extract_from_source(source, stopping)  # type: ignore[arg-type]
            return
        sequence = extract_from_source(source, stopping)  # type: ignore[arg-type]
    assert len(sequence) == 9 and sequence.present.all()
    assert sequence.timestamps_ms.tolist() == pytest.approx([i * 200.0 for i in range(9)])


class _StallingCamera:
    """A camera that gives ``frames`` frames of a clip, then a read that does not return
    until ``release``."""

    is_live = True
    still_images = False
    frame_count = None
    fps = 5.0
    name = "camera 7"

    def __init__(self, clip, frames: int) -> None:  # noqa: ANN001 - a Path
        self.clip = clip
        self.frames = frames
        self.released = threading.Event()

    def __iter__(self) -> Iterator[Frame]:
        with VideoFileSource(self.clip) as video:
            for frame in video:
                if frame.index == self.frames:
                    self.released.wait(60.0)
                    return
                yield frame

    def close(self) -> None:
        self.released.set()


def test_a_stalled_camera_is_reported_then_lost_in_one_sentence(sample_path):
    camera = _StallingCamera(sample_path("squats"), frames=8)
    capture = FrameCapture(lambda: camera, live=True, give_up_after_s=2.5, first_source=camera,
                           keep_newest=False)
    got, states = 0, []
    started = time.monotonic()
    with PoseBackend() as backend, pytest.raises(CameraLostError) as lost:
        for item in live_poses(capture, backend.detect):
            if isinstance(item, tuple):
                got += 1
            else:
                states.append((item.state, item.message))
    camera.close()
    assert got == 8
    assert time.monotonic() - started < 20.0, "a stalled camera must not hang the caller"
    assert ("reconnecting", "No picture from camera 7 for 2 s") in states
    message = str(lost.value)
    assert message.startswith("camera 7: camera lost: no picture for")
    assert "\n" not in message
