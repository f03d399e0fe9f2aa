"""Progress through the movement (a bar) or, for a held posture, the time held so far."""

from __future__ import annotations

import cv2
import numpy as np

from coach.overlay.draw import GOOD, WHITE, put_text, shade, text_size, ui_scale

#: The bar starts right of the score gauge (its width at the 640x480 design size).
LEFT_OFFSET_PX = 110


class ProgressAnnotator:
    """Draw a progress bar along the top, with a caption such as "Squats  45%"."""

    def annotate(self, scene: np.ndarray, title: str, fraction: float | None = None,
                 held_s: float | None = None, target_s: float | None = None) -> np.ndarray:
        """Draw ``fraction`` (0-1) of a movement done, or ``held_s`` seconds of a posture held
        (against ``target_s`` when given); only the title when neither is known."""
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        margin = int(10 * s)
        x0 = int(LEFT_OFFSET_PX * s)
        x1 = width - margin
        bar_h = max(6, int(12 * s))
        y0 = margin + int(4 * s)
        if held_s is not None:
            caption = f"{title}   held {held_s:.1f} s"
            if target_s:
                caption += f" of {target_s:.0f} s"
                fill = held_s / target_s
            else:
                fill = None
        elif fraction is not None and np.isfinite(fraction):
            fill = float(np.clip(fraction, 0.0, 1.0))
            caption = f"{title}   {100 * fill:.0f}%"
        else:
            fill, caption = None, title
        font_scale = 0.55 * s
        while font_scale > 0.3 and text_size(caption, font_scale, 1)[0] > x1 - x0:
            font_scale *= 0.92  # a long caption on a narrow picture: smaller, not cut off
        _, text_h, depth = text_size(caption, font_scale, 1)
        shade(scene, x0 - margin // 2, y0 - margin // 2, x1 + margin // 2,
              y0 + bar_h + text_h + depth + margin, alpha=0.5)
        cv2.rectangle(scene, (x0, y0), (x1, y0 + bar_h), (90, 90, 90), -1)
        if fill is not None:
            end = x0 + int(round((x1 - x0) * float(np.clip(fill, 0.0, 1.0))))
            cv2.rectangle(scene, (x0, y0), (end, y0 + bar_h), GOOD, -1)
        cv2.rectangle(scene, (x0, y0), (x1, y0 + bar_h), WHITE, 1)
        put_text(scene, caption, (x0, y0 + bar_h + text_h + int(6 * s)), font_scale, WHITE, 1)
        return scene
