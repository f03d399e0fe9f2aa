"""Is there a screen to open a window on? Checked before any OpenCV window call.

OpenCV's Qt window backend aborts the whole process (no exception, no clean-up) when it
cannot reach a display, so ``coach live`` asks here first and, without a display, stops with
a clear message instead. With an X display it asks the X server for a connection through
libX11 (a few milliseconds: what makes OpenCV's window fail, no server, one that is gone, no
permission, fails that too); elsewhere, or without libX11, it runs the same window calls in a
child process, where a failure aborts the child, not coach.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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


_started: subprocess.Popen[bytes] | None = None


def _x_display_answers() -> bool | None:
    """Whether the X server in ``DISPLAY`` accepts a connection, asked through libX11 in a
    few milliseconds (a missing server, one that is gone, no permission: False); None when
    libX11 cannot be loaded, and the window probe has to tell."""
    try:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(None)
    if not connection:
        return False
    x11.XCloseDisplay(connection)
    return True


def _may_have_windows() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    return platform.startswith(SCREENLESS_QT_PLATFORMS) or bool(os.environ.get("DISPLAY"))


def start_probe() -> None:
    """Start the window probe now, so that it runs while the caller loads the rest (the
    answer is collected by ``display_problem``)."""
    global _started
    if _started is None and sys.platform not in ("win32", "darwin") and _may_have_windows():
        _started = subprocess.Popen([sys.executable, "-c", _PROBE], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def display_problem() -> str | None:
    """Why no window can be opened here, or None when one can."""
    global _started
    if sys.platform in ("win32", "darwin"):
        return None
    if not _may_have_windows():
        return "no display: the DISPLAY environment variable is not set"
    answers = _x_display_answers() if os.environ.get("DISPLAY") and _started is None else None
    if answers is not None:
        return None if answers else \
            f"cannot open a window on display {os.environ.get('DISPLAY', '')!r}"
    start_probe()
    probe, _started = _started, None
    assert probe is not None
    try:
        _, stderr = probe.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        return f"the display {os.environ.get('DISPLAY', '')!r} did not answer"
    if probe.returncode != 0:
        detail = stderr.decode(errors="replace").strip().splitlines()
        log.debug("window probe failed: %s", detail)
        reason = next((line for line in detail if "display" in line.lower()), "")
        return (f"cannot open a window on display {os.environ.get('DISPLAY', '')!r}"
                + (f" ({reason.strip()[:120]})" if reason else ""))
    return None


def require_display(hint: str = NO_DISPLAY_HINT) -> None:
    """Raise CoachError with a plain message, ending with ``hint`` (what to do instead),
    when no window can be opened."""
    problem = display_problem()
    if problem is not None:
        raise CoachError(f"{problem}; {hint}")
