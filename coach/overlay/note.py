"""A short note under the progress bar, e.g. that a second person is in view."""

from __future__ import annotations

import numpy as np

from coach.overlay.draw import WARN, put_text, text_size, ui_scale
from coach.overlay.progress import LEFT_OFFSET_PX


class NoteAnnotator:
    """Draw one line of small text below the progress caption."""

    def annotate(self, scene: np.ndarray, text: str | None) -> np.ndarray:
        """Draw ``text`` in place (nothing when empty)."""
        if not text:
            return scene
        s = ui_scale(scene)
        font_scale = 0.5 * s
        _, height, _ = text_size(text, font_scale, 1)
        put_text(scene, text, (int(LEFT_OFFSET_PX * s), int(80 * s) + height), font_scale,
                 WARN, 1)
        return scene
