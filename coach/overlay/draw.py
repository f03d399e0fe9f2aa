"""Drawing helpers the annotators share: size scaling, outlined text, translucent panels, the
colour scale from "on target" to "far off".

All images are RGB uint8 (H, W, 3), drawn on in place; colours are RGB tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

#: Annotation sizes are designed for a 640x480 picture and scaled with the picture's area to
#: the power ``UI_AREA_POWER`` (0.5 would keep their share of the picture; less keeps text on
#: a 360x640 phone picture readable without filling a 1920x1080 one), never below
#: ``MIN_UI_SCALE``: smaller text is hard to read.
DESIGN_AREA_PX = 640 * 480
UI_AREA_POWER = 0.4
MIN_UI_SCALE = 0.8
FONT = cv2.FONT_HERSHEY_DUPLEX

WHITE = (255, 255, 255)
#: The deviation colour scale: on target, at the tolerance, far beyond it.
GOOD = (70, 200, 90)
WARN = (250, 190, 40)
BAD = (235, 60, 50)
#: Colour of parts with no score (not visible, or no reference for them).
UNKNOWN = (170, 170, 170)


def ui_scale(scene: np.ndarray) -> float:
    """How much larger than at the 640x480 design size to draw on ``scene``."""
    area = scene.shape[0] * scene.shape[1] / DESIGN_AREA_PX
    return max(MIN_UI_SCALE, float(area ** UI_AREA_POWER))


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


@dataclass(frozen=True)
class Sprite:
    """A pre-rendered drawing to paste with anti-aliased edges.

    keep: (H, W, 3) uint8, how much of the picture below stays (255 = untouched), the same
        in each channel (kept per channel so that pasting allocates no mask).
    paint: (H, W, 3) uint8, the drawing's colour already weighted by its coverage.
    """

    keep: np.ndarray
    paint: np.ndarray

    @classmethod
    def render(cls, height: int, width: int,
               draw: Callable[[np.ndarray, np.ndarray], None]) -> Sprite:
        """Render once: ``draw(paint, cover)`` draws colours into ``paint`` (black canvas)
        and the same shapes in 255 into ``cover`` (a mask)."""
        paint = np.zeros((height, width, 3), np.uint8)
        cover = np.zeros((height, width), np.uint8)
        draw(paint, cover)
        keep = cv2.merge([255 - cover] * 3)
        keep.setflags(write=False)
        paint.setflags(write=False)
        return cls(keep, paint)

    def paste(self, scene: np.ndarray, x: int, y: int) -> None:
        """Composite onto ``scene`` in place with the sprite's top-left at (x, y), clipped."""
        height, width = self.keep.shape[:2]
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(scene.shape[1], x + width), min(scene.shape[0], y + height)
        if x1 <= x0 or y1 <= y0:
            return
        roi = scene[y0:y1, x0:x1]
        keep = self.keep[y0 - y:y1 - y, x0 - x:x1 - x]
        paint = self.paint[y0 - y:y1 - y, x0 - x:x1 - x]
        kept = cv2.multiply(roi, keep, scale=1.0 / 255.0)
        cv2.add(kept, paint, dst=roi)


#: Text sprites kept for reuse (cue lines, numbers, captions): bounded, so memory stays flat.
TEXT_CACHE_SIZE = 96


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _text_sprite(text: str, font_scale: float, colour: tuple[int, int, int],
                 thickness: int) -> tuple[Sprite, int, int]:
    """The outlined text as a sprite, and where its baseline start sits in it (x, y)."""
    d = max(1, int(round(font_scale * 1.5)))
    width, height, depth = text_size(text, font_scale, thickness)
    pad = d + thickness + 2
    origin = (pad, pad + height)

    def draw(paint: np.ndarray, cover: np.ndarray) -> None:
        for dx, dy in ((-d, -d), (d, -d), (-d, d), (d, d)):
            cv2.putText(cover, text, (origin[0] + dx, origin[1] + dy), FONT, font_scale, 255,
                        thickness, cv2.LINE_AA)
        cv2.putText(cover, text, origin, FONT, font_scale, 255, thickness, cv2.LINE_AA)
        cv2.putText(paint, text, origin, FONT, font_scale, colour, thickness, cv2.LINE_AA)

    sprite = Sprite.render(height + depth + 2 * pad, width + 2 * pad, draw)
    return sprite, origin[0], origin[1]


def put_text(scene: np.ndarray, text: str, origin: tuple[int, int], font_scale: float,
             colour: tuple[int, int, int] = WHITE, thickness: int = 1) -> None:
    """Text with a dark outline, legible on any background; ``origin`` is the baseline start.

    The outline is the same text drawn shifted in four diagonal directions (a thicker stroke
    would also widen the glyph advance and misalign the letters). Each text is rendered once
    and pasted afterwards (anti-aliased text is slow to draw).
    """
    sprite, ox, oy = _text_sprite(text, round(font_scale, 3), tuple(colour), thickness)
    sprite.paste(scene, origin[0] - ox, origin[1] - oy)


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
