"""Frames per second, small, in the top-right corner under the progress bar."""

from __future__ import annotations

import numpy as np

from coach.overlay.draw import put_text, text_size, ui_scale


class FpsAnnotator:
    """Draw the processing rate, e.g. "24 fps"."""

    def annotate(self, scene: np.ndarray, fps: float | None) -> np.ndarray:
        """Draw ``fps`` (frames per second; nothing when unknown)."""
        if fps is None or not np.isfinite(fps):
            return scene
        s = ui_scale(scene)
        text = f"{fps:.0f} fps"
        font_scale = 0.5 * s
        width, height, _ = text_size(text, font_scale, 1)
        put_text(scene, text, (scene.shape[1] - width - int(10 * s), int(62 * s) + height),
                 font_scale, (230, 230, 230), 1)
        return scene
