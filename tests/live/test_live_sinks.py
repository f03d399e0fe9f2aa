"""The video sink: a real session's frames in a real H.264 file, every one of them, with the
overlays; a full queue makes the loop wait instead of dropping frames."""

from __future__ import annotations

import threading

import av
import numpy as np
import pytest

from coach.backend import PoseBackend
from coach.library import Library
from coach.live.app import follow_along
from coach.live.coaching import ExerciseCoaching
from coach.live.session import Session, SessionConfig
from coach.live.sinks import VideoSink
from coach.overlay.follow import LIMB_COLOUR
from coach.pipeline import FrameCapture
from coach.sources import open_source


class _Keep:
    """Keeps a copy of every frame the session sends (what the video must hold)."""

    interactive = False

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.times_ms: list[float] = []

    def show(self, scene: np.ndarray, timestamp_ms: float) -> None:
        self.frames.append(scene.copy())
        self.times_ms.append(timestamp_ms)

    def close(self, completed: bool = True) -> None:
        return None


def _decode(path) -> tuple[list[np.ndarray], list[float], av.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.to_ndarray(format="rgb24"), float(f.pts * f.time_base) * 1000.0)
                  for f in container.decode(stream)]
    return [f for f, _ in frames], [t for _, t in frames], stream


@pytest.mark.slow
def test_session_video_holds_every_frame_with_its_overlays(tmp_path, sample_path):
    path = tmp_path / "session.mp4"
    source = open_source(sample_path("dance"))  # 102 frames at 20 fps, 5.1 s
    exercise = Library.open().get("squat")
    follow = follow_along(exercise)
    sink, sent = VideoSink(path, source.fps), _Keep()
    backend = PoseBackend()
    try:
        outcome = Session(FrameCapture(lambda: source, live=False, first_source=source),
                          backend.detect, ExerciseCoaching(exercise),
                          SessionConfig(setup_check=False), [sink, sent], source.fps,
                          follow=follow).run()
    finally:
        backend.close()
    sink.close()
    frames, times_ms, stream = _decode(path)
    assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    assert outcome.frames_processed == len(sent.frames) == len(frames) == 102
    # the frames' own times, so the video lasts as long as the clip
    assert times_ms == pytest.approx(np.array(sent.times_ms) - sent.times_ms[0], abs=1.0)
    assert times_ms[-1] + 1000.0 / source.fps == pytest.approx(5100.0, abs=1.0)
    # each video frame is the frame the session drew, in order (lossy: compared loosely)
    for drawn, saved in zip(sent.frames, frames, strict=True):
        assert np.abs(drawn.astype(int) - saved).mean() < 3.0
    # the overlays are in it: the follow-along panel, darkened, with the figure's lines
    with open_source(sample_path("dance")) as clip:
        raw = next(iter(clip)).rgb
    x0, y0, x1, y1 = follow.panel_box(frames[0])
    panel = frames[0][y0:y1, x0:x1].astype(int)
    assert panel.mean() < raw[y0:y1, x0:x1].mean() - 20
    assert (np.abs(panel - LIMB_COLOUR).max(axis=2) < 40).sum() > 100


def test_a_full_queue_makes_the_loop_wait_and_drops_nothing(tmp_path):
    path = tmp_path / "held.mp4"
    sink = VideoSink(path, 30.0, depth=1)
    encoder_free = threading.Event()
    write = sink._writer.write

    def slow_write(rgb: np.ndarray, timestamp_ms: float | None = None) -> None:
        encoder_free.wait()  # the encoder is busy until the test lets it go
        write(rgb, timestamp_ms)

    sink._writer.write = slow_write
    pictures = [np.full((96, 128, 3), 20 * i, np.uint8) for i in range(6)]
    shown = threading.Event()

    def loop() -> None:
        for i, picture in enumerate(pictures):
            sink.show(picture, i * 1000.0 / 30)
        shown.set()

    loop_thread = threading.Thread(target=loop)
    loop_thread.start()
    assert not shown.wait(1.0), "the loop went on past a full queue"
    encoder_free.set()
    loop_thread.join(timeout=30)
    assert shown.is_set()
    sink.close()
    assert sink.frames_waited >= 1 and sink.waited_s > 0
    frames, times_ms, _ = _decode(path)
    assert len(frames) == sink.frames_written == 6
    assert [round(float(f.mean()) / 20) for f in frames] == list(range(6))  # in order


def test_colours_survive_encoding(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0),
               (128, 64, 200), (250, 180, 40), (20, 200, 200)]
    picture = np.zeros((120, 8 * 40, 3), np.uint8)
    for i, colour in enumerate(colours):
        picture[:, i * 40:(i + 1) * 40] = colour
    sink = VideoSink(tmp_path / "colours.mp4", 30.0)
    for i in range(5):
        sink.show(picture, i * 1000.0 / 30)
    sink.close()
    frames, _, _ = _decode(tmp_path / "colours.mp4")
    for i, colour in enumerate(colours):
        assert np.abs(frames[-1][60, i * 40 + 20].astype(int) - colour).max() <= 4


def test_an_unfinished_session_leaves_no_video(tmp_path):
    sink = VideoSink(tmp_path / "cut.mp4", 30.0)
    sink.show(np.zeros((64, 64, 3), np.uint8), 0.0)
    sink.close(completed=False)
    assert list(tmp_path.iterdir()) == []
