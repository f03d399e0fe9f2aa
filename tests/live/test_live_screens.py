"""The screens around a session: the pain check-in's typing, and what the screens show."""

from __future__ import annotations

import numpy as np

from coach.library import Library
from coach.live.app import follow_along
from coach.live.screens import (
    BACKGROUND,
    PainInput,
    loading_screen,
    safety_screen,
    summary_screen,
)
from coach.overlay.draw import WARN


def _typed(*keys: str) -> int | None:
    pain = PainInput()
    for key in keys:
        pain.key(8 if key == "backspace" else ord(key))
    return pain.value


def test_pain_is_typed_with_the_digit_keys():
    assert _typed() is None and PainInput().text == "--"
    assert _typed("7") == 7
    assert _typed("1", "0") == 10
    assert _typed("1", "5") == 5  # past 10: a new number
    assert _typed("3", "backspace") is None
    assert not PainInput().key(ord("q"))  # other keys are not the check-in's


def _text_rows(scene: np.ndarray) -> int:
    return int((np.abs(scene.astype(int) - BACKGROUND).max(axis=2) > 60).any(axis=1).sum())


def test_screens_show_their_text_at_phone_and_1080p_sizes():
    squat = Library.open().get("squat")
    follow = follow_along(squat)
    for size in ((360, 640), (1920, 1080)):
        height = size[1]
        loading = loading_screen(size, squat.name, "Loading the pose model...")
        assert _text_rows(loading) > 0.04 * height
        safety = safety_screen(size, squat.name, squat.meta.safety_notes, PainInput(4), follow,
                               500.0)
        warn = np.all(safety == WARN, axis=2).sum()  # "Before you start" and stop if it hurts
        assert warn > 100 * (height / 640) and _text_rows(safety) > 0.25 * height
        summary = summary_screen(size, squat.name, 77.0, ["Slow down"], [61.0, 70.0], 4,
                                 PainInput(2), "Saved to out/")
        assert _text_rows(summary) > 0.2 * height
    # the preview plays the movement: two moments differ
    later = safety_screen((1920, 1080), squat.name, squat.meta.safety_notes, PainInput(4),
                          follow, 3000.0)
    assert not np.array_equal(safety, later)
