"""Drawing helpers the annotators share: size scaling, outlined text, translucent panels, the
colour scale from "on target" to "far off".

All images are RGB uint8 (H, W, 3), drawn on in place; colours are RGB tuples.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Annotation sizes are designed for a 480-pixel-high picture and scaled from there.
DESIGN_HEIGHT_PX = 480
FONT = cv2.FONT_HERSHEY_DUPLEX

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
#: The deviation colour scale: on target, at the tolerance, far beyond it.
GOOD = (70, 200, 90)
WARN = (250, 190, 40)
BAD = (235, 60, 50)
#: Colour of parts with no score (not visible, or no reference for them).
UNKNOWN = (170, 170, 170)


def ui_scale(scene: np.ndarray) -> float:
    """How much larger than the 480-pixel design size to draw on ``scene``."""
    return max(0.5, min(scene.shape[0], scene.shape[1] * 0.75) / DESIGN_HEIGHT_PX)


def deviation_colour(ratio: float | None) -> tuple[int, int, int]:
    """Colour for a deviation given as a multiple of its tolerance (0 on target, 1 at the
    tolerance, 2 or more far off); grey when unknown (None or NaN)."""
    if ratio is None or not np.isfinite(ratio):
        return UNKNOWN
    r = float(np.clip(ratio, 0.0, 2.0))
    low, high, t = (GOOD, WARN, r) if r <= 1.0 else (WARN, BAD, r - 1.0)
    return tuple(int(round(a + (b - a) * t)) for a, b in zip(low, high, strict=True))  # type: ignore[return-value]


def score_colour(score: float | None) -> tuple[int, int, int]:
    """Colour for a 0-100 score: green from 80, amber around 60, red below 40."""
    if score is None or not np.isfinite(score):
        return UNKNOWN
    return deviation_colour((80.0 - float(score)) / 20.0)


def text_size(text: str, font_scale: float, thickness: int) -> tuple[int, int, int]:
    """(width, height above baseline, depth below baseline) of ``text`` in pixels."""
    (width, height), baseline = cv2.getTextSize(text, FONT, font_scale, thickness)
    return width, height, baseline


def put_text(scene: np.ndarray, text: str, origin: tuple[int, int], font_scale: float,
             colour: tuple[int, int, int] = WHITE, thickness: int = 1) -> None:
    """Text with a dark outline, legible on any background; ``origin`` is the baseline start.

    The outline is the same text drawn shifted in four diagonal directions: a thicker stroke
    would also widen the glyph advance and misalign the letters.
    """
    d = max(1, int(round(font_scale * 1.5)))
    x, y = origin
    for dx, dy in ((-d, -d), (d, -d), (-d, d), (d, d)):
        cv2.putText(scene, text, (x + dx, y + dy), FONT, font_scale, BLACK, thickness,
                    cv2.LINE_AA)
    cv2.putText(scene, text, origin, FONT, font_scale, colour, thickness, cv2.LINE_AA)


def shade(scene: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float = 0.55) -> None:
    """Darken the rectangle [x0, x1) x [y0, y1) by ``alpha`` (0 none, 1 black), clipped."""
    height, width = scene.shape[:2]
    x0, x1 = max(0, x0), min(width, x1)
    y0, y1 = max(0, y0), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return
    roi = scene[y0:y1, x0:x1]
    cv2.convertScaleAbs(roi, dst=roi, alpha=1.0 - alpha)


def wrap_text(text: str, max_width_px: int, font_scale: float, thickness: int) -> list[str]:
    """Split ``text`` into lines no wider than ``max_width_px`` (a single long word may be)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and text_size(candidate, font_scale, thickness)[0] > max_width_px:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines
