"""Landmark smoothing with the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

MediaPipe Tasks gives no landmark smoothing, so jitter is filtered here, for files
(``smooth_sequence``) and live (``LandmarkSmoother.update``, constant cost per frame), with
the same parameters, kept in ``ONE_EURO``.

The filter is an exponential smoother whose cutoff frequency rises with speed:
``cutoff = min_cutoff_hz + beta * |speed|``: slow, gentle movement (qigong) is smoothed hard,
fast movement follows with little lag. Speeds are in coordinate units per second: normalized
image units for ``image_xyz`` and metres for ``world_xyz`` (a body is roughly one unit tall
in both, so one set of parameters serves both). A landmark that goes missing (NaN) restarts
its filter when it comes back, and so does the whole pose after nobody was seen for
``RESTART_GAP_MS``; time steps come from the timestamps, so dropped frames and variable frame
rates are handled.

What it does to jitter and lag on the bundled clips is in the README (Smoothing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from coach.pose import FramePose, PoseSequence


@dataclass(frozen=True)
class OneEuroParams:
    """min_cutoff_hz: cutoff at rest (lower = smoother); beta: cutoff increase per unit/s of
    speed (higher = less lag when moving); d_cutoff_hz: cutoff of the speed estimate."""

    min_cutoff_hz: float = 1.0
    beta: float = 10.0
    d_cutoff_hz: float = 1.0


#: The one place the smoothing parameters live.
ONE_EURO = OneEuroParams()
#: After a gap this long with nobody in view, smoothing starts afresh.
RESTART_GAP_MS = 500.0
#: Shortest time step filtered (seconds, a 1 MHz camera); a shorter one restarts the filter,
#: as dividing by it would overflow.
MIN_STEP_S = 1e-6


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * np.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class _FilterState(NamedTuple):
    """The last filtered value, its filtered speed (units per second) and its time."""

    x: np.ndarray
    dx: np.ndarray
    t_ms: float


class OneEuroFilter:
    """One Euro filter over an array of any fixed shape; NaN entries restart independently."""

    def __init__(self, params: OneEuroParams = ONE_EURO) -> None:
        self.params = params
        self._state: _FilterState | None = None

    def reset(self) -> None:
        """Forget the past."""
        self._state = None

    def __call__(self, x: np.ndarray, t_ms: float) -> np.ndarray:
        """The filtered value of ``x`` observed at time ``t_ms``."""
        x = np.asarray(x, dtype=np.float64)
        last = self._state
        dt = 0.0 if last is None else (t_ms - last.t_ms) / 1000.0
        # Restart on the first frame, on time going back, and on a step too small to divide
        # by (times a denormal apart) or too large to be a step (not finite).
        if last is None or not MIN_STEP_S <= dt < math.inf:
            self._state = _FilterState(x.copy(), np.zeros_like(x), t_ms)
            return x.copy()
        p = self.params
        fresh = np.isfinite(x) & ~np.isfinite(last.x)
        dx = (x - last.x) / dt
        a_d = _alpha(p.d_cutoff_hz, dt)
        dx_hat = np.where(fresh, 0.0, a_d * dx + (1.0 - a_d) * last.dx)
        a = _alpha(p.min_cutoff_hz + p.beta * np.abs(dx_hat), dt)
        x_hat = np.where(fresh, x, a * x + (1.0 - a) * last.x)
        x_hat = np.where(np.isfinite(x), x_hat, np.nan)
        self._state = _FilterState(x_hat, np.where(np.isfinite(dx_hat), dx_hat, 0.0), t_ms)
        return x_hat.copy()


class LandmarkSmoother:
    """Live smoothing of one person's landmarks, one frame at a time, constant cost per frame."""

    def __init__(self, params: OneEuroParams = ONE_EURO) -> None:
        self._image = OneEuroFilter(params)
        self._world = OneEuroFilter(params)
        self._last_ms: float | None = None

    def reset(self) -> None:
        """Forget the past (a new session, or the person left the view)."""
        self._image.reset()
        self._world.reset()
        self._last_ms = None

    def update(self, frame: FramePose) -> FramePose:
        """The smoothed pose for ``frame``; frames with nobody pass through unchanged."""
        if not frame.present:
            return frame
        t = frame.timestamp_ms
        if self._last_ms is not None and t - self._last_ms > RESTART_GAP_MS:
            self.reset()
        self._last_ms = t
        image = self._image(frame.image_xyz, t)
        world = None if frame.world_xyz is None else self._world(frame.world_xyz, t)
        return FramePose(image, frame.visibility, world, t, frame.people_seen)


def smooth_sequence(seq: PoseSequence, params: OneEuroParams = ONE_EURO) -> PoseSequence:
    """``seq`` with every landmark track One-Euro filtered (same shapes, NaN kept as NaN)."""
    smoother = LandmarkSmoother(params)
    n = len(seq)
    image = np.array(seq.image_xyz, copy=True)
    world = None if seq.world_xyz is None else np.array(seq.world_xyz, copy=True)
    for i in range(n):
        out = smoother.update(seq.frame(i))
        image[i] = out.image_xyz
        if world is not None:
            world[i] = out.world_xyz
    return replace(seq, image_xyz=image, world_xyz=world)
