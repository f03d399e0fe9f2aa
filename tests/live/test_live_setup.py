"""The setup check on real poses from the bundled clips (and real poses moved or shrunk)."""

from __future__ import annotations

import numpy as np
import pytest

from coach.live.setup import (
    MESSAGES,
    SetupGate,
    SetupReport,
    check_setup,
    frame_brightness,
)
from coach.pose import FramePose
from coach.sources import open_source


def _scaled(pose: FramePose, factor: float, shift_y: float = 0.0) -> FramePose:
    """The same pose as if the person stood nearer (factor > 1) or further away."""
    image = pose.image_xyz.copy()
    centre = np.nanmean(image[:, :2], axis=0)
    image[:, :2] = centre + (image[:, :2] - centre) * factor
    image[:, 1] += shift_y
    return FramePose(image, pose.visibility, pose.world_xyz, pose.timestamp_ms, 1)


def test_good_setup_on_a_real_frame(real_sequence):
    standing = real_sequence("squats").frame(0)
    report = check_setup(standing, "front", brightness=120.0)
    assert report.ok, report.instructions
    assert 0.4 < report.body_height < 0.8


def test_facing_the_wrong_way(real_sequence):
    standing = real_sequence("squats").frame(0)  # facing the camera
    assert check_setup(standing, "side").problems == ("turn_sideways",)
    turned = real_sequence("dance").frame(0)  # the dancer starts turned away to the side
    report = check_setup(turned, "front")
    assert report.problems == ("face_camera",)
    assert report.instructions == (MESSAGES["face_camera"],)
    assert report.yaw_deg > 50


def test_distance_and_framing(real_sequence):
    standing = real_sequence("squats").frame(0)
    near = check_setup(_scaled(standing, 1.8), "front")
    assert "too_close" in near.problems
    assert check_setup(_scaled(standing, 0.35), "front").problems == ("too_far",)
    feet_out = check_setup(_scaled(standing, 1.0, shift_y=0.3), "front")
    assert "feet_cut" in feet_out.problems and "head_cut" not in feet_out.problems
    assert check_setup(_scaled(standing, 1.0, shift_y=0.3), "front", need_feet=False).ok
    head_out = check_setup(_scaled(standing, 1.0, shift_y=-0.3), "front")
    assert "head_cut" in head_out.problems


def test_light_and_nobody(sample_path):
    with open_source(sample_path("squats")) as source:
        rgb = next(iter(source)).rgb
    bright = frame_brightness(rgb)
    dark = frame_brightness((rgb * 0.15).astype(np.uint8))
    assert bright > 100 and dark < 40
    report = check_setup(FramePose.empty(0.0), "front", brightness=dark)
    assert report.problems == ("dark", "nobody")
    assert report.instructions[1] == MESSAGES["nobody"]


def test_gate_waits_then_counts_down():
    gate = SetupGate(hold_ok_ms=1000.0, countdown_ms=3000.0)
    ok, bad = SetupReport(()), SetupReport(("too_far",))
    times = np.arange(0.0, 6000.0, 100.0)
    phases = [gate.update(ok, t) for t in times]
    assert {p.phase for p in phases[:10]} == {"checking"}
    countdown = [p for p in phases if p.phase == "countdown"]
    assert countdown[0].seconds_left == pytest.approx(3.0)
    assert np.all(np.diff([p.seconds_left for p in countdown]) < 0)
    assert phases[40].phase == "go" and phases[-1].phase == "go"
    assert gate.update(bad, 7000.0).phase == "go"  # once started, coaching goes on

    gate.reset()
    assert gate.update(ok, 0.0).phase == "checking"
    assert gate.update(ok, 1500.0).phase == "countdown"
    assert gate.update(bad, 1600.0).phase == "checking"  # a problem restarts the check
    assert gate.update(ok, 1700.0).phase == "checking"
    assert gate.update(ok, 2800.0).phase == "countdown"
