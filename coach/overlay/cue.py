"""The current corrective cue, in large text on a dark band along the bottom of the picture."""

from __future__ import annotations

import numpy as np

from coach.overlay.draw import WHITE, put_text, shade, text_size, ui_scale, wrap_text


class CueAnnotator:
    """Draw one cue (up to ``max_lines`` lines, wrapped) at the bottom; nothing when None.

    font_scale: text size at the 480-pixel design height (scaled with the picture).
    """

    def __init__(self, font_scale: float = 1.0, max_lines: int = 2) -> None:
        self.font_scale = font_scale
        self.max_lines = max_lines

    def annotate(self, scene: np.ndarray, cue: str | None,
                 colour: tuple[int, int, int] = WHITE) -> np.ndarray:
        """Draw ``cue`` on ``scene`` in place and return it."""
        if not cue:
            return scene
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        margin = int(14 * s)
        font_scale = self.font_scale * s
        thickness = max(1, int(round(2 * s)))
        lines = wrap_text(cue, width - 2 * margin, font_scale, thickness)
        while len(lines) > self.max_lines or any(
                text_size(line, font_scale, thickness)[0] > width - 2 * margin for line in lines):
            font_scale *= 0.9
            lines = wrap_text(cue, width - 2 * margin, font_scale, thickness)
        _, line_h, depth = text_size("Ag", font_scale, thickness)
        step = int((line_h + depth) * 1.35)
        band_top = height - margin - step * len(lines)
        shade(scene, 0, band_top - margin // 2, width, height, alpha=0.6)
        y = band_top + line_h
        for line in lines:
            line_w = text_size(line, font_scale, thickness)[0]
            put_text(scene, line, ((width - line_w) // 2, y), font_scale, colour, thickness)
            y += step
        return scene
