"""The current corrective cue, in large text on a dark band along the bottom of the picture."""

from __future__ import annotations

import numpy as np

from coach.overlay.draw import WHITE, put_text, shade, text_size, ui_scale, wrap_text

#: Cue text size at the 640x480 design size (scaled with the picture).
FONT_SCALE = 1.0
#: A cue is wrapped onto at most this many lines (the text shrinks to fit).
MAX_LINES = 2


class CueAnnotator:
    """Draw one cue (up to ``MAX_LINES`` lines, wrapped) at the bottom; nothing when None."""

    def annotate(self, scene: np.ndarray, cue: str | None) -> np.ndarray:
        """Draw ``cue`` on ``scene`` in place and return it."""
        if not cue:
            return scene
        height, width = scene.shape[:2]
        s = ui_scale(scene)
        margin = int(14 * s)
        font_scale = FONT_SCALE * s
        thickness = max(1, int(round(2 * s)))
        lines = wrap_text(cue, width - 2 * margin, font_scale, thickness)
        while len(lines) > MAX_LINES or any(
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
            put_text(scene, line, ((width - line_w) // 2, y), font_scale, WHITE, thickness)
            y += step
        return scene
