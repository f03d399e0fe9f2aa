"""The capture thread: every frame from files, only the newest from cameras, reconnection."""

from __future__ import annotations

import time

import numpy as np
from live_helpers import FlakySource

from coach.errors import InputError
from coach.pipeline import FrameCapture
from coach.sources import open_source


def _drain(capture: FrameCapture, delay_s: float = 0.0) -> list:
    frames, states = [], set()
    while True:
        frame = capture.get(timeout_s=0.5)
        states.add(capture.status.state)
        if frame is None:
            if capture.ended:
                return frames, states
            continue
        frames.append(frame)
        time.sleep(delay_s)


def test_file_source_hands_over_every_frame(sample_path):
    path = sample_path("squats")
    with FrameCapture(lambda: open_source(path), live=False) as capture:
        frames, _ = _drain(capture, delay_s=0.002)
    assert [f.index for f in frames] == list(range(65))
    assert np.all(np.diff([f.timestamp_ms for f in frames]) > 0)
    assert capture.status.dropped == 0 and not capture.status.failed


def test_live_source_keeps_only_the_newest(sample_path):
    source = FlakySource(sample_path("dance"), fail_after=None, live=True)
    sources = [source]

    def opener():
        if not sources:
            raise InputError("camera 0: cannot open the camera or stream")
        return sources.pop()

    with FrameCapture(opener, live=True, give_up_after_s=0.0) as capture:
        frames, _ = _drain(capture, delay_s=0.03)  # a slow loop
    assert source.delivered == 102
    assert len(frames) < 60, "a slow loop must skip frames, not queue them"
    assert capture.status.dropped == 102 - len(frames)
    assert frames[-1].index == 101  # the newest frame is the one handed over
    assert np.all(np.diff([f.index for f in frames]) > 0)


def test_camera_lost_and_back_keeps_time_running(sample_path):
    opened = []

    def opener():
        if len(opened) >= 2:
            raise InputError("camera 0: cannot open the camera or stream")
        opened.append(FlakySource(sample_path("squats"), fail_after=10, live=True))
        return opened[-1]

    with FrameCapture(opener, live=True, retry_interval_s=0.05,
                      give_up_after_s=0.5) as capture:
        frames, states = _drain(capture)
    assert len(opened) == 2
    assert "reconnecting" in states
    times = [f.timestamp_ms for f in frames]
    assert np.all(np.diff(times) > 0), "times must keep increasing across a reconnection"
    assert np.all(np.diff([f.index for f in frames]) > 0)
    assert max(f.index for f in frames) >= 10  # frames from the reopened camera arrived
    status = capture.status
    assert status.state == "ended" and status.failed
    assert "did not come back" in status.message


def test_file_that_fails_part_way_ends_as_failed(sample_path):
    source = FlakySource(sample_path("squats"), fail_after=12, live=False)
    with FrameCapture(lambda: source, live=False) as capture:
        frames, _ = _drain(capture)
    assert len(frames) == 12
    assert capture.status.failed
    assert "failed after 12 frames" in capture.status.message


def test_unopenable_file_is_raised_to_the_loop(tmp_path):
    def opener():
        raise InputError(f"{tmp_path / 'missing.mp4'}: no such video file")

    with FrameCapture(opener, live=False) as capture:
        try:
            capture.get(timeout_s=2.0)
        except InputError as err:
            assert "missing.mp4" in str(err)
        else:
            raise AssertionError("the open error must reach the loop")


def test_capture_stopped_before_start_closes_its_source(sample_path):
    source = open_source(sample_path("squats"))
    closed = []
    real_close = source.close
    source.close = lambda: closed.append(True) or real_close()
    capture = FrameCapture(lambda: open_source(sample_path("squats")), live=False,
                           first_source=source)
    capture.stop()  # e.g. the video output could not be opened before the session began
    assert closed == [True]


def test_camera_that_opens_but_gives_nothing_is_given_up(sample_path):
    first = [FlakySource(sample_path("squats"), fail_after=5, live=True)]

    def opener():  # opens every time; after the first, every read fails at once
        return first.pop() if first else FlakySource(sample_path("squats"), fail_after=0)

    started = time.monotonic()
    with FrameCapture(opener, live=True, retry_interval_s=0.05,
                      give_up_after_s=0.5) as capture:
        frames, _ = _drain(capture)
    # a camera's frames: only the newest is handed over, so one may be skipped when the
    # loop is slower than the source at that moment; none is lost unaccounted
    assert frames[-1].index == 4
    assert len(frames) + capture.status.dropped == 5
    assert time.monotonic() - started < 10.0
    status = capture.status
    assert status.state == "ended" and status.failed
    assert "failed after 5 frames" in status.message
