"""The countdown before an exercise starts: one large number in the middle of the picture."""

from __future__ import annotations

import math

import numpy as np

from coach.overlay.draw import WHITE, put_text, text_size, ui_scale


class CountdownAnnotator:
    """Draw the whole seconds left (3, 2, 1) very large, with a caption under it."""

    def annotate(self, scene: np.ndarray, seconds_left: float,
                 caption: str = "Get ready") -> np.ndarray:
        """Draw ``ceil(seconds_left)`` in the centre, in place."""
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        text = str(max(1, math.ceil(seconds_left)))
        font_scale, thickness = 4.0 * s, max(2, int(round(8 * s)))
        w, h, _ = text_size(text, font_scale, thickness)
        put_text(scene, text, ((width - w) // 2, (height + h) // 2), font_scale, WHITE, thickness)
        small, small_th = 0.9 * s, max(1, int(round(2 * s)))
        cw, ch, _ = text_size(caption, small, small_th)
        put_text(scene, caption, ((width - cw) // 2, (height + h) // 2 + int(20 * s) + ch), small,
                 WHITE, small_th)
        return scene
