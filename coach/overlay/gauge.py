"""The score gauge: a dial from 0 to 100 in the top-left corner, coloured by the score."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from coach.overlay.draw import (
    UNKNOWN,
    Sprite,
    put_text,
    score_colour,
    shade,
    text_size,
    ui_scale,
)

#: The dial opens at the bottom: it sweeps 270 degrees clockwise from lower left.
START_DEG = 135.0
SWEEP_DEG = 270.0
TRACK_COLOUR = (90, 90, 90)
#: Dial radius at the 640x480 design size (scaled with the picture).
RADIUS_PX = 38.0
#: The caption under the dial.
LABEL = "score"


@lru_cache(maxsize=128)
def _dial(value: int, radius: int, thickness: int) -> Sprite:
    """The dial's arcs for a whole-number score (-1: unknown), rendered once."""
    size = 2 * (radius + thickness)
    centre = (size // 2, size // 2)

    def draw(paint: np.ndarray, cover: np.ndarray) -> None:
        end = START_DEG + SWEEP_DEG * max(value, 0) / 100.0
        for canvas, colour in ((paint, TRACK_COLOUR), (cover, 255)):
            cv2.ellipse(canvas, centre, (radius, radius), 0, START_DEG, START_DEG + SWEEP_DEG,
                        colour, thickness, cv2.LINE_AA)
        if value > 0:
            paint_colour = score_colour(float(value))
            for canvas, colour in ((paint, paint_colour), (cover, 255)):
                cv2.ellipse(canvas, centre, (radius, radius), 0, START_DEG, end, colour,
                            thickness, cv2.LINE_AA)

    return Sprite.render(size, size, draw)


class ScoreGauge:
    """Draw the current 0-100 score as a dial with the number in its centre."""

    def annotate(self, scene: np.ndarray, score: float | None) -> np.ndarray:
        """Draw the gauge for ``score`` (None or NaN: an empty dial and "--")."""
        s = ui_scale(scene)
        radius = int(RADIUS_PX * s)
        margin = int(10 * s)
        thickness = max(3, int(8 * s))
        centre = (margin + radius + thickness, margin + radius + thickness)
        box = radius + thickness + margin // 2
        shade(scene, centre[0] - box, centre[1] - box, centre[0] + box,
              centre[1] + box + int(12 * s), alpha=0.5)
        known = score is not None and bool(np.isfinite(score))
        value = int(round(min(max(float(score), 0.0), 100.0))) if score is not None and known \
            else -1
        dial = _dial(value, radius, thickness)
        dial.paste(scene, centre[0] - radius - thickness, centre[1] - radius - thickness)
        colour, text = (score_colour(float(value)), f"{value}") if known else (UNKNOWN, "--")
        font_scale = 0.95 * s
        text_thickness = max(1, int(round(2 * s)))
        width, height, _ = text_size(text, font_scale, text_thickness)
        put_text(scene, text, (centre[0] - width // 2, centre[1] + height // 2), font_scale,
                 colour, text_thickness)
        small = 0.45 * s
        width, height, _ = text_size(LABEL, small, 1)
        put_text(scene, LABEL, (centre[0] - width // 2, centre[1] + radius + height // 2),
                 small, (220, 220, 220), 1)
        return scene
