"""The key to the skeleton's colours: close to the reference, at the tolerance, far from it,
not scored."""

from __future__ import annotations

import cv2
import numpy as np

from coach.overlay.draw import BAD, GOOD, UNKNOWN, WARN, WHITE, put_text, shade, text_size, ui_scale

#: The legend's rows: colour (RGB) and what it means.
ENTRIES = ((GOOD, "close"), (WARN, "at tolerance"), (BAD, "far off"), (UNKNOWN, "not scored"))


class LegendAnnotator:
    """Draw the colour key in a small panel at the left edge, under the score gauge."""

    def annotate(self, scene: np.ndarray, top: int | None = None) -> np.ndarray:
        """Draw the legend in place; ``top``: its upper edge in pixels (default: under the
        gauge)."""
        s = ui_scale(scene)
        font_scale = 0.45 * s
        _, text_h, depth = text_size("Ag", font_scale, 1)
        step = int((text_h + depth) * 1.3)
        swatch = max(6, text_h)
        pad = int(6 * s)
        x0 = int(8 * s)
        y0 = int(128 * s) if top is None else top
        width = 2 * pad + swatch + pad + max(text_size(t, font_scale, 1)[0] for _, t in ENTRIES)
        shade(scene, x0, y0, x0 + width, y0 + 2 * pad + step * len(ENTRIES) - (step - text_h),
              alpha=0.5)
        y = y0 + pad
        for colour, text in ENTRIES:
            cv2.rectangle(scene, (x0 + pad, y), (x0 + pad + swatch, y + swatch), colour, -1)
            put_text(scene, text, (x0 + 2 * pad + swatch, y + text_h), font_scale, WHITE, 1)
            y += step
        return scene
