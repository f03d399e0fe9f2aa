"""The key to the skeleton's colours: close to the reference, at the tolerance, far from it,
not scored."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from coach.overlay.draw import (
    BAD,
    FONT,
    GOOD,
    UNKNOWN,
    WARN,
    WHITE,
    Sprite,
    text_size,
    ui_scale,
)

#: The legend's rows: colour (RGB) and what it means.
ENTRIES = ((GOOD, "close"), (WARN, "at tolerance"), (BAD, "far off"), (UNKNOWN, "not scored"))
#: How much the panel darkens the picture behind it (0 none, 1 black).
SHADE = 0.5


@lru_cache(maxsize=8)
def _legend(scale: float) -> Sprite:
    """The whole legend (panel, swatches, words) at ``scale``, rendered once."""
    font_scale = 0.45 * scale
    _, text_h, depth = text_size("Ag", font_scale, 1)
    step = int((text_h + depth) * 1.3)
    swatch = max(6, text_h)
    pad = int(6 * scale)
    width = 2 * pad + swatch + pad + max(text_size(t, font_scale, 1)[0] for _, t in ENTRIES)
    height = 2 * pad + step * len(ENTRIES) - (step - text_h)

    def draw(paint: np.ndarray, cover: np.ndarray) -> None:
        cover[:] = int(round(255 * SHADE))  # the panel: the picture shows through, darkened
        y = pad
        for colour, text in ENTRIES:
            for canvas, ink in ((paint, colour), (cover, 255)):
                cv2.rectangle(canvas, (pad, y), (pad + swatch, y + swatch), ink, -1)
            origin = (2 * pad + swatch, y + text_h)
            cv2.putText(cover, text, origin, FONT, font_scale, 255, 2, cv2.LINE_AA)
            cv2.putText(paint, text, origin, FONT, font_scale, WHITE, 1, cv2.LINE_AA)
            y += step

    return Sprite.render(height, width, draw)


class LegendAnnotator:
    """Draw the colour key in a small panel at the left edge, under the score gauge."""

    def annotate(self, scene: np.ndarray, top: int | None = None) -> np.ndarray:
        """Draw the legend in place; ``top``: its upper edge in pixels (default: under the
        gauge)."""
        s = ui_scale(scene)
        _legend(round(s, 3)).paste(scene, int(8 * s), int(128 * s) if top is None else top)
        return scene
