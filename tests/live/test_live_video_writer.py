"""The H.264 writer: real encoding with PyAV, decoded back."""

from __future__ import annotations

import av
import numpy as np
import pytest

from coach.video_writer import VideoWriter


def _frames(n: int, height: int, width: int) -> list[np.ndarray]:
    out = []
    for i in range(n):
        img = np.full((height, width, 3), 40, np.uint8)
        img[:, (i * 5) % (width - 20):(i * 5) % (width - 20) + 20] = (250, 30, 30)
        out.append(img)
    return out


def test_writes_browser_playable_h264(tmp_path):
    path = tmp_path / "out" / "session.mp4"
    with VideoWriter(path, fps=25) as writer:
        for frame in _frames(30, 121, 161):  # odd sizes: cropped to even for yuv420p
            writer.write(frame)
    assert writer.frames_written == 30
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "moov atom must come first (faststart)"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (160, 120)
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 30
    # the red bar is where it was drawn (lossy codec: compare loosely)
    assert decoded[3][60, 25, 0] > 180 and decoded[3][60, 100, 0] < 90
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temp file left


def test_frame_times_follow_timestamps(tmp_path):
    path = tmp_path / "timed.mp4"
    times = [0.0, 40.0, 80.0, 400.0, 440.0]  # a 320 ms gap, as after a camera hiccup
    with VideoWriter(path, fps=25) as writer:
        for frame, t in zip(_frames(5, 64, 64), times, strict=True):
            writer.write(frame, timestamp_ms=t)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pts_ms = [float(f.pts * f.time_base) * 1000 for f in container.decode(stream)]
    assert pts_ms == pytest.approx(times, abs=1.0)


def test_error_inside_block_leaves_no_file(tmp_path):
    path = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError), VideoWriter(path, fps=30) as writer:
        writer.write(_frames(1, 64, 64)[0])
        raise RuntimeError("session crashed")
    assert list(tmp_path.iterdir()) == []


def test_no_frames_is_an_error_and_no_file(tmp_path):
    path = tmp_path / "empty.mp4"
    with pytest.raises(ValueError, match="no frames"), VideoWriter(path, fps=30):
        pass
    assert list(tmp_path.iterdir()) == []


def test_rejects_wrong_frames(tmp_path):
    with VideoWriter(tmp_path / "x.mp4", fps=30) as writer:
        with pytest.raises(ValueError, match="uint8"):
            writer.write(np.zeros((64, 64, 3), np.float32))
        writer.write(np.zeros((64, 64, 3), np.uint8))
        with pytest.raises(ValueError, match="at least 64x64"):
            writer.write(np.zeros((32, 32, 3), np.uint8))
