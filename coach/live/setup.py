"""The camera setup check before an exercise: is the whole body in the picture, at a usable
distance, facing the way the exercise expects, in enough light?

``check_setup`` looks at one frame and says plainly what to change; ``SetupGate`` waits until
the setup has been right for a moment, then counts down to the start. Both are pure: times
come from the frames (milliseconds), never from a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coach.geometry import (
    BODY_PARTS,
    PICTURE_MARGIN,
    TRUNK_LANDMARKS,
    camera_view,
    seen,
    view_yaw_deg,
)
from coach.pose import FramePose

#: Head-to-feet height as a share of the picture height: closer than this is too near ...
MAX_BODY_HEIGHT = 0.94
#: ... and below this the person is too far for reliable landmarks.
MIN_BODY_HEIGHT = 0.25
#: Mean pixel brightness (0-255) below which the picture is too dark.
MIN_BRIGHTNESS = 45.0
#: The setup must be right this long before the countdown starts, and the countdown lasts ...
HOLD_OK_MS = 1000.0
COUNTDOWN_MS = 3000.0

HEAD, TRUNK, FEET = list(BODY_PARTS["head"]), list(TRUNK_LANDMARKS), list(BODY_PARTS["feet"])

#: Every instruction the setup check gives, in one place.
MESSAGES = {
    "nobody": "Step into the picture so the camera can see you",
    "dark": "More light, please: turn on a lamp or face a window",
    "head_cut": "Step back or tilt the camera up: your head is out of the picture",
    "feet_cut": "Step back: your feet are out of the picture",
    "side_cut": "Move towards the middle of the picture",
    "too_close": "Step back a little",
    "too_far": "Come closer to the camera",
    "face_camera": "Turn to face the camera",
    "turn_sideways": "Turn sideways to the camera",
}


@dataclass(frozen=True)
class SetupReport:
    """What one frame says about the setup.

    problems: keys of ``MESSAGES``, most important first; empty when the setup is right.
    body_height: head-to-feet height as a share of the picture height (NaN if unknown).
    yaw_deg: how the camera sees the body, ``coach.geometry.view_yaw_deg`` (NaN if unknown).
    """

    problems: tuple[str, ...]
    body_height: float = math.nan
    yaw_deg: float = math.nan

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def instructions(self) -> tuple[str, ...]:
        """The plain-language instructions for the problems, most important first."""
        return tuple(MESSAGES[p] for p in self.problems)


def frame_brightness(rgb: np.ndarray) -> float:
    """Mean brightness 0-255 of an (H, W, 3) uint8 picture, from every 8th pixel."""
    return float(rgb[::8, ::8].mean())


def check_setup(pose: FramePose, view: str = "front", brightness: float | None = None,
                need_feet: bool = True) -> SetupReport:
    """Check one frame. ``view``: "front" or "side", what the exercise expects; ``brightness``:
    ``frame_brightness`` of the frame; ``need_feet``: False for seated exercises."""
    if view not in ("front", "side"):
        raise ValueError(f"view: expected 'front' or 'side', got {view!r}")
    problems: list[str] = []
    if brightness is not None and brightness < MIN_BRIGHTNESS:
        problems.append("dark")
    if not pose.present:
        return SetupReport(tuple(problems + ["nobody"]))
    visible = seen(pose.image_xyz, pose.visibility)
    head, trunk, feet = visible[HEAD], visible[TRUNK], visible[FEET]
    xy = pose.image_xyz[:, :2]
    if not head.any():
        problems.append("head_cut")
    if need_feet and not feet.all():
        problems.append("feet_cut")
    if not trunk.all():
        sideways = np.nanmin(xy[TRUNK, 0]) < PICTURE_MARGIN or \
            np.nanmax(xy[TRUNK, 0]) > 1.0 - PICTURE_MARGIN
        problems.append("side_cut" if sideways else "too_close")
    top = np.nanmin(xy[HEAD, 1])
    bottom = np.nanmax(xy[FEET if need_feet else TRUNK, 1])
    height = float(bottom - top) if np.isfinite(top) and np.isfinite(bottom) else math.nan
    if np.isfinite(height):
        if height > MAX_BODY_HEIGHT and "too_close" not in problems:
            problems.append("too_close")
        elif height < MIN_BODY_HEIGHT * (1.0 if need_feet else 0.6) and head.any():
            problems.append("too_far")
    yaw = math.nan if pose.world_xyz is None else float(view_yaw_deg(pose.world_xyz))
    seen_view = camera_view(yaw)
    if seen_view != "unknown" and trunk.all() and seen_view != view:
        problems.append("face_camera" if view == "front" else "turn_sideways")
    return SetupReport(tuple(dict.fromkeys(problems)), height, yaw)


@dataclass(frozen=True)
class GateState:
    """Where the setup stands: ``phase`` is "checking", "countdown" or "go";
    ``seconds_left`` counts the countdown down (0 outside it)."""

    phase: str
    seconds_left: float = 0.0


class SetupGate:
    """Wait for ``hold_ok_ms`` of right setup, then count down ``countdown_ms``; a problem
    during the countdown sends it back to checking. Once "go", it stays "go"."""

    def __init__(self, hold_ok_ms: float = HOLD_OK_MS, countdown_ms: float = COUNTDOWN_MS) -> None:
        self.hold_ok_ms = hold_ok_ms
        self.countdown_ms = countdown_ms
        self._ok_since: float | None = None
        self._done = False

    def reset(self) -> None:
        """Start checking again (after a restart)."""
        self._ok_since = None
        self._done = False

    def update(self, report: SetupReport, timestamp_ms: float) -> GateState:
        """Feed one frame's report at its time; returns the current state."""
        if self._done:
            return GateState("go")
        if not report.ok:
            self._ok_since = None
            return GateState("checking")
        if self._ok_since is None:
            self._ok_since = timestamp_ms
        elapsed = timestamp_ms - self._ok_since
        if elapsed < self.hold_ok_ms:
            return GateState("checking")
        left = self.hold_ok_ms + self.countdown_ms - elapsed
        if left > 0:
            return GateState("countdown", left / 1000.0)
        self._done = True
        return GateState("go")
