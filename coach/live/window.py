"""The coaching window: shows annotated frames and turns key presses into commands.

Only open it after ``coach.live.display.require_display()`` has passed. The window has no
toolbar (OpenCV's Qt toolbar and status bar are switched off), keeps the picture's aspect
when resized, and takes the size of each new kind of picture shown in it (shrunk to fit).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np

from coach.live.keys import KEYS

#: The window opens at the frame's size, shrunk to fit within this (width, height) in pixels.
MAX_START_SIZE = (1280, 860)
#: Redraw interval of a screen that waits for a key (ms): its animation runs at this rate.
SCREEN_FRAME_MS = 40
#: ``draw`` when the window was closed with its close button.
CLOSED = -2


class Window:
    """One resizable OpenCV window showing RGB frames."""

    def __init__(self, title: str = "coach") -> None:
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO |
                        cv2.WINDOW_GUI_NORMAL)
        self._shown = False
        self._size: tuple[int, int] | None = None
        self._bgr: np.ndarray | None = None  # reused for every frame of the same size

    def draw(self, rgb: np.ndarray, wait_ms: int = 1) -> int:
        """Show one frame and wait up to ``wait_ms`` for a key: its code (low byte), -1 for
        none, ``CLOSED`` when the window has been closed."""
        if self._shown and self.closed:
            return CLOSED
        height, width = rgb.shape[:2]
        if self._size != (width, height):
            fit = min(1.0, MAX_START_SIZE[0] / width, MAX_START_SIZE[1] / height)
            cv2.resizeWindow(self.title, int(width * fit), int(height * fit))
            self._size = (width, height)
        if self._bgr is None or self._bgr.shape != rgb.shape:
            self._bgr = np.empty_like(rgb)
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=self._bgr)
        cv2.imshow(self.title, self._bgr)
        self._shown = True
        key = cv2.waitKey(max(1, wait_ms))
        if key >= 0:
            return key & 0xFF
        return CLOSED if self.closed else -1

    def show(self, rgb: np.ndarray) -> str | None:
        """Show one frame and poll the keyboard; returns a command ("pause", "restart",
        "quit") or None. "quit" also when the person closed the window."""
        key = self.draw(rgb)
        if key == CLOSED:
            return "quit"
        return KEYS.get(key) if key >= 0 else None

    def wait(self, render: Callable[[float], np.ndarray], on_key: Callable[[int], bool],
             timeout_s: float | None = None) -> int | None:
        """Show ``render(elapsed_ms)`` until ``on_key(code)`` returns True for a key (that
        key is returned), the window is closed (``CLOSED``) or ``timeout_s`` passes (None)."""
        start = time.monotonic()
        while timeout_s is None or time.monotonic() - start < timeout_s:
            key = self.draw(render((time.monotonic() - start) * 1000.0), SCREEN_FRAME_MS)
            if key == CLOSED or (key >= 0 and on_key(key)):
                return key
        return None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the last picture shown, None before the first."""
        return self._size

    @property
    def closed(self) -> bool:
        """True when the window is no longer on screen (closed with its close button)."""
        try:
            return cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1
        except cv2.error:
            return True

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass

    def __enter__(self) -> Window:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
