"""Is there a screen to open a window on? Checked before any OpenCV window call.

OpenCV's Qt window backend aborts the whole process (no exception, no clean-up) when it
cannot reach a display, so ``coach live`` asks here first and, without a display, stops with
a clear message instead. The check runs the same window calls in a child process: whatever
makes them fail (no ``DISPLAY``, an X server that is gone, no permission) fails there, not here.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from coach.errors import CoachError

log = logging.getLogger(__name__)

#: Qt platforms that draw without a screen.
SCREENLESS_QT_PLATFORMS = ("offscreen", "minimal", "vnc")
PROBE_TIMEOUT_S = 20.0
_PROBE = ("import cv2; cv2.namedWindow('coach-probe', cv2.WINDOW_NORMAL); "
          "cv2.waitKey(1); cv2.destroyAllWindows()")

NO_DISPLAY_HINT = ("use --headless --output DIR to write the annotated video instead, or run "
                   "where a screen is attached")


def display_problem() -> str | None:
    """Why no window can be opened here, or None when one can."""
    if sys.platform in ("win32", "darwin"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith(SCREENLESS_QT_PLATFORMS) and not os.environ.get("DISPLAY"):
        return "no display: the DISPLAY environment variable is not set"
    try:
        probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True,
                               timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"the display {os.environ.get('DISPLAY', '')!r} did not answer"
    if probe.returncode != 0:
        detail = probe.stderr.decode(errors="replace").strip().splitlines()
        log.debug("window probe failed: %s", detail)
        reason = next((line for line in detail if "display" in line.lower()), "")
        return (f"cannot open a window on display {os.environ.get('DISPLAY', '')!r}"
                + (f" ({reason.strip()[:120]})" if reason else ""))
    return None


def require_display() -> None:
    """Raise CoachError with a plain message when no window can be opened."""
    problem = display_problem()
    if problem is not None:
        raise CoachError(f"{problem}; {NO_DISPLAY_HINT}")
