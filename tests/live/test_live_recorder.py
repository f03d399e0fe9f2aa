"""The compact landmark recorder behind live sessions, on real poses."""

from __future__ import annotations

import numpy as np
import pytest

from coach.pose_recorder import BLOCK_FRAMES, PoseRecorder


def test_round_trip_across_blocks(real_sequence):
    seq = real_sequence("dance")
    recorder = PoseRecorder(seq.fps, "dance", (600, 600))
    for _ in range(12):  # more frames than one block holds, times kept increasing
        offset = (len(recorder) // len(seq)) * 10_000.0
        for i in range(len(seq)):
            frame = seq.frame(i)
            recorder.append(type(frame)(frame.image_xyz, frame.visibility, frame.world_xyz,
                                        frame.timestamp_ms + offset, frame.people_seen))
    assert len(recorder) == 12 * len(seq) > BLOCK_FRAMES
    out = recorder.sequence()
    assert out.image_xyz[: len(seq)] == pytest.approx(seq.image_xyz, abs=1e-6, nan_ok=True)
    assert out.world_xyz[-len(seq):] == pytest.approx(seq.world_xyz, abs=1e-6, nan_ok=True)
    assert out.image_size == (600, 600) and out.source == "dance"
    assert recorder.nbytes < 1100 * BLOCK_FRAMES * 2  # about 1 kB a frame


def test_full_recorder_stops_growing(real_sequence):
    seq = real_sequence("squats")
    recorder = PoseRecorder(seq.fps, max_frames=10)
    for i in range(len(seq)):
        recorder.append(seq.frame(i))
    recorder.append(seq.frame(3))  # a time that does not increase is skipped
    assert len(recorder) == 10 and recorder.truncated
    assert np.all(np.diff(recorder.sequence().timestamps_ms) > 0)
    recorder.clear()
    assert len(recorder) == 0 and not recorder.truncated
    assert len(recorder.sequence()) == 0


def test_frame_rate_from_the_kept_times_when_not_given(real_sequence):
    seq = real_sequence("squats")
    recorder = PoseRecorder(None)
    for i in range(0, len(seq), 2):  # a loop that keeps every other frame
        recorder.append(seq.frame(i))
    assert recorder.sequence().fps == pytest.approx(seq.fps / 2, rel=0.05)
    assert PoseRecorder(None).sequence().fps > 0
