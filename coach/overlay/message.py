"""A centred panel with a heading and a few lines: setup instructions, pause, camera trouble."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coach.overlay.draw import WARN, WHITE, put_text, shade, text_size, ui_scale, wrap_text

#: Colour of the panel's heading (RGB).
TITLE_COLOUR = WARN


class MessageAnnotator:
    """Draw ``title`` (highlighted) over ``lines`` in a dark panel in the middle of the picture."""

    def annotate(self, scene: np.ndarray, title: str | None,
                 lines: Sequence[str] = ()) -> np.ndarray:
        """Draw the panel in place; nothing when there is neither title nor lines."""
        if not title and not lines:
            return scene
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        pad = int(14 * s)
        max_w = int(width * 0.86) - 2 * pad
        title_scale, body_scale = 0.95 * s, 0.7 * s
        title_th, body_th = max(1, int(round(2 * s))), max(1, int(round(1.5 * s)))
        rows: list[tuple[str, float, int, tuple[int, int, int]]] = []
        if title:
            rows += [(t, title_scale, title_th, TITLE_COLOUR)
                     for t in wrap_text(title, max_w, title_scale, title_th)]
        for line in lines:
            rows += [(t, body_scale, body_th, WHITE)
                     for t in wrap_text(line, max_w, body_scale, body_th)]
        sizes = [text_size(t, fs, th) for t, fs, th, _ in rows]
        steps = [int((h + d) * 1.4) for _, h, d in sizes]
        panel_w = max(w for w, _, _ in sizes) + 2 * pad
        panel_h = sum(steps) + 2 * pad
        x0 = (width - panel_w) // 2
        y0 = (height - panel_h) // 2
        shade(scene, x0, y0, x0 + panel_w, y0 + panel_h, alpha=0.65)
        y = y0 + pad
        for (text, fs, th, colour), (w, h, _), step in zip(rows, sizes, steps, strict=True):
            put_text(scene, text, ((width - w) // 2, y + h), fs, colour, th)
            y += step
        return scene
