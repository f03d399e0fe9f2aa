"""The screens around a session in the window: loading, safety and pain check-in before it,
the summary after it. Each is drawn as a picture (pure drawing, no window calls); the pain
check-in's typing is ``PainInput``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from coach.history import PAIN_MAX, PAIN_MIN
from coach.live.window import Window
from coach.overlay.draw import (
    GOOD,
    WARN,
    WHITE,
    put_text,
    score_colour,
    text_size,
    ui_scale,
    wrap_text,
)
from coach.overlay.follow import FollowAlong

#: The loading screen's size, before the source's is known (width, height).
LOADING_SIZE = (640, 480)
#: Background of the screens (RGB).
BACKGROUND = (28, 30, 34)
#: Shown before every session, with the exercise's own safety notes.
STOP_IF_IT_HURTS = ("Stop if it hurts. If you have pain, ask a doctor or a qualified "
                    "instructor before you practise.")
START_KEYS = ("Enter or Space: start", "Q or Esc: stop, now or at any time")
PAIN_QUESTION = "Pain now, 0-10 (optional): type a number"
CLOSE_KEYS = "Enter, Space, Q or Esc: close"
#: Key codes (``cv2.waitKey`` low byte).
ENTER_KEYS = (13, 10)
SPACE, ESCAPE, BACKSPACE_KEYS = 32, 27, (8, 127)


class PainInput:
    """A pain rating typed with the digit keys: "1" then "0" is 10, a digit that would go
    past 10 starts a new number, Backspace clears; ``value`` is None until a digit is typed."""

    def __init__(self, value: int | None = None) -> None:
        self.value = value

    def key(self, code: int) -> bool:
        """Take one key; True when it was a digit or Backspace (used here)."""
        if code in BACKSPACE_KEYS:
            self.value = None
            return True
        if not ord("0") <= code <= ord("9"):
            return False
        digit = code - ord("0")
        typed = digit if self.value is None else self.value * 10 + digit
        self.value = typed if PAIN_MIN <= typed <= PAIN_MAX else digit
        return True

    @property
    def text(self) -> str:
        return "--" if self.value is None else str(self.value)


@dataclass
class _Writer:
    """Lines of text laid out down a picture."""

    scene: np.ndarray
    x: int
    y: int
    width: int

    def line(self, text: str, scale: float, colour: tuple[int, int, int] = WHITE,
             bold: bool = False, gap: float = 1.45) -> None:
        s = ui_scale(self.scene)
        thickness = max(1, int(round((2 if bold else 1) * s)))
        for part in wrap_text(text, self.width, scale * s, thickness):
            _, height, depth = text_size(part, scale * s, thickness)
            self.y += height
            put_text(self.scene, part, (self.x, self.y), scale * s, colour, thickness)
            self.y += int(depth + height * (gap - 1.0))

    def space(self, px: float) -> None:
        self.y += int(px * ui_scale(self.scene))


def blank(size: tuple[int, int]) -> np.ndarray:
    """An empty screen of ``size`` (width, height)."""
    width, height = size
    scene = np.empty((height, width, 3), np.uint8)
    scene[:] = BACKGROUND
    return scene


def _writer(scene: np.ndarray, right: int | None = None) -> _Writer:
    s = ui_scale(scene)
    margin = int(24 * s)
    return _Writer(scene, margin, margin, (right or scene.shape[1]) - 2 * margin)


def open_loading_window(name: str) -> Window:
    """The coaching window for exercise ``name``, open at once with the loading screen (call
    after ``coach.live.display.require_display``)."""
    window = Window(f"coach - {name}")
    window.draw(loading_screen(LOADING_SIZE, name, "Loading the pose model..."))
    return window


def loading_screen(size: tuple[int, int], title: str, line: str) -> np.ndarray:
    """The window's first picture while the source and the pose model load."""
    scene = blank(size)
    w = _writer(scene)
    w.line(title, 1.0, WHITE, bold=True)
    w.space(12)
    w.line(line, 0.7, WARN)
    return scene


def safety_screen(size: tuple[int, int], title: str, notes: Sequence[str], pain: PainInput,
                  preview: FollowAlong | None = None, elapsed_ms: float = 0.0) -> np.ndarray:
    """Before the session: the exercise's safety notes, stop if it hurts, the pain check-in,
    the keys, and the whole movement playing in a loop beside them."""
    scene = blank(size)
    height, width = scene.shape[:2]
    right = width
    if preview is not None:
        box = preview.panel_box(scene)
        if height > width:  # portrait: the movement under the text, across the width
            s = ui_scale(scene)
            box = (int(24 * s), int(height * 0.58), width - int(24 * s), height - int(24 * s))
        else:
            box = (int(width * 0.62), int(24 * ui_scale(scene)), box[2], height - box[1])
            right = box[0]
        caption = "The pose to hold" if len(preview) == 1 else "The movement"
        preview.annotate(scene, preview.index_looping(elapsed_ms), caption, box)
    w = _writer(scene, right)
    w.line(title, 1.0, WHITE, bold=True)
    w.space(8)
    w.line("Before you start", 0.7, WARN, bold=True)
    for note in notes:
        w.line(f"- {note}", 0.55)
    w.line(f"- {STOP_IF_IT_HURTS}", 0.55, WARN)
    w.space(10)
    w.line(f"{PAIN_QUESTION}:  {pain.text}", 0.6, GOOD)
    w.space(10)
    for keys in START_KEYS:
        w.line(keys, 0.5)
    return scene


def summary_screen(size: tuple[int, int], title: str, score: float | None,
                   cues: Sequence[str], earlier: Sequence[float], pain_before: int | None,
                   pain: PainInput, note: str = "", not_scored: str = "") -> np.ndarray:
    """After the session: the score (or ``not_scored``, why there is none), the main cues,
    the trend against earlier sessions of the exercise, and the pain check-in; ``note`` says
    where the session was saved."""
    scene = blank(size)
    w = _writer(scene)
    w.line(f"Session done: {title}", 0.9, WHITE, bold=True)
    w.space(8)
    known = score is not None and np.isfinite(score)
    w.line(f"Score {score:.0f}" if known else "Not scored", 1.6,
           score_colour(score) if known else WARN, bold=True)
    if not known and not_scored:
        w.line(not_scored, 0.55)
    if cues:
        w.line("Main cues", 0.65, WARN, bold=True)
        for cue in cues[:3]:
            w.line(f"- {cue}", 0.55)
    w.space(6)
    if earlier:
        shown = " ".join(f"{v:.0f}" for v in earlier[-5:])
        now = f"{score:.0f}" if known else "--"
        w.line(f"Earlier sessions: {shown}  ->  today {now}", 0.6)
    else:
        w.line("Your first session of this exercise.", 0.6)
    w.space(6)
    if pain_before is not None:
        w.line(f"Pain before: {pain_before}", 0.6)
    w.line(f"{PAIN_QUESTION}:  {pain.text}", 0.6, GOOD)
    if note:
        w.space(6)
        w.line(note, 0.5, WARN)
    w.space(10)
    w.line(CLOSE_KEYS, 0.5)
    return scene
