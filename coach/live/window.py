"""The coaching window: shows annotated frames and turns key presses into commands.

Only open it after ``coach.live.display.require_display()`` has passed.
"""

from __future__ import annotations

import cv2
import numpy as np

from coach.live.keys import KEYS

#: The window opens at the frame's size, shrunk to fit within this (width, height) in pixels.
MAX_START_SIZE = (1280, 860)


class Window:
    """One resizable OpenCV window showing RGB frames."""

    def __init__(self, title: str = "coach") -> None:
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
        self._shown = False
        self._bgr: np.ndarray | None = None  # reused for every frame of the same size

    def show(self, rgb: np.ndarray) -> str | None:
        """Show one frame and poll the keyboard; returns a command ("pause", "restart",
        "quit") or None. "quit" also when the person closed the window."""
        if self._shown and self.closed:
            return "quit"
        if not self._shown:
            height, width = rgb.shape[:2]
            fit = min(1.0, MAX_START_SIZE[0] / width, MAX_START_SIZE[1] / height)
            cv2.resizeWindow(self.title, int(width * fit), int(height * fit))
        if self._bgr is None or self._bgr.shape != rgb.shape:
            self._bgr = np.empty_like(rgb)
        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=self._bgr)
        cv2.imshow(self.title, self._bgr)
        self._shown = True
        key = cv2.waitKey(1)
        if key >= 0:
            return KEYS.get(key & 0xFF)
        return "quit" if self.closed else None

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
