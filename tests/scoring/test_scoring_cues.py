"""Cue table, cue choice (spine first) and the live scheduler (one cue, no flicker)."""

from __future__ import annotations

import numpy as np
import pytest

from coach.cues import CUE_TEXTS, REGION_PRIORITY, CueScheduler, cue, cues_for_deviation
from coach.features import FEATURES, feature_names

NAMES = feature_names("world")


def _dev(**kw: float) -> np.ndarray:
    d = np.zeros(len(NAMES))
    for k, v in kw.items():
        d[NAMES.index(k)] = v
    return d


def test_every_feature_has_a_cue_both_ways() -> None:
    for spec in FEATURES:
        for sign in "+-":
            text = CUE_TEXTS[(spec.name, sign)]
            assert text and text[0].isupper() and len(text) < 60
    assert CUE_TEXTS[("tempo", "+")] == "Slow down"


def test_sided_cues_name_the_persons_own_side() -> None:
    assert "left" in CUE_TEXTS[("left_knee_deg", "-")]
    assert "right" in CUE_TEXTS[("right_elbow_deg", "-")]
    assert CUE_TEXTS[("shoulder_level_deg", "-")] == "Level your shoulders: your left is low"
    assert "left" in CUE_TEXTS[("lateral_bend_deg", "+")]


def test_spine_first_while_nearly_as_severe_then_severity() -> None:
    # severities: knee 4 x 0.6 = 2.4, shoulders 2.0, trunk 1.6 (at least 0.6 x 2.4), elbow
    # 3 x 0.4 = 1.2
    cues = cues_for_deviation(NAMES, _dev(left_knee_deg=-4.0, trunk_flexion_deg=1.6,
                                          shoulder_level_deg=-2.0, right_elbow_deg=3.0),
                              threshold=1.0, spine_preference=0.6)
    assert [c.region for c in cues] == ["spine", "legs", "shoulders", "arms"]
    assert cues[0].text == "Lengthen your spine, you are bending forward"
    assert cues[2].text == "Level your shoulders: your left is low"


def test_a_far_larger_fault_comes_before_a_small_spine_one() -> None:
    """A knee 4 tolerances off is told before a trunk at its tolerance."""
    cues = cues_for_deviation(NAMES, _dev(left_knee_deg=-4.0, trunk_flexion_deg=1.0),
                              threshold=1.0, spine_preference=0.6)
    assert [c.feature for c in cues] == ["left_knee_deg", "trunk_flexion_deg"]


def test_within_tolerance_and_nan_give_no_cue() -> None:
    d = _dev(trunk_flexion_deg=0.9, lateral_bend_deg=-0.5)
    d[NAMES.index("left_knee_deg")] = np.nan
    assert cues_for_deviation(NAMES, d) == []
    with pytest.raises(ValueError, match="deviation"):
        cues_for_deviation(NAMES, np.zeros(3))


def test_zero_weight_features_give_no_cue() -> None:
    w = {"axial_twist_deg": 0.0}
    assert cues_for_deviation(NAMES, _dev(axial_twist_deg=3.0), w) == []


def _run(scheduler: CueScheduler, frames: list[list], dt: float = 33.3) -> list:
    return [scheduler.update(c, i * dt) for i, c in enumerate(frames)]


def test_scheduler_needs_confirmation_then_holds_the_cue() -> None:
    s = CueScheduler(min_display_ms=2000, confirm_ms=300)
    flex = cue("trunk_flexion_deg", "+", 2.0)
    assert _run(s, [[flex]] * 5 + [[]] * 5) == [None] * 10  # a blip is never shown
    s.reset()
    shown = _run(s, [[flex]] * 15 + [[]] * 100)
    first = next(i for i, c in enumerate(shown) if c is not None)
    assert 9 <= first <= 10  # about 300 ms
    # the deviation went away at frame 15, but the cue stays its minimum time
    held = [c for c in shown if c is not None]
    assert len(held) * 33.3 >= 2000 - 34
    assert shown[-1] is None


def test_scheduler_hysteresis_and_no_flicker() -> None:
    s = CueScheduler(on_threshold=1.5, off_threshold=1.0, min_display_ms=500, confirm_ms=0)
    seq = [[cue("lateral_bend_deg", "+", 2.0)]] * 3
    # then hovering between off and on thresholds: the cue stays
    seq += [[cue("lateral_bend_deg", "+", v)] for v in (1.2, 1.4, 1.1, 1.3) * 10]
    shown = _run(s, seq)
    assert all(c is not None and c.key == ("lateral_bend_deg", "+") for c in shown)
    # alternating candidates of similar severity: the first shown cue stays
    s.reset()
    a, b = cue("left_knee_deg", "-", 1.8), cue("right_elbow_deg", "+", 1.8)
    shown = _run(s, [[a] if i % 2 else [b] for i in range(300)])
    changes = sum(1 for x, y in zip(shown, shown[1:], strict=False)
                  if (x and x.key) != (y and y.key))
    assert changes == 0 and all(c is not None for c in shown)


def test_spine_cue_preempts_after_the_minimum_time() -> None:
    s = CueScheduler(min_display_ms=1000, confirm_ms=0)
    knee = cue("left_knee_deg", "-", 3.0)
    spine = cue("trunk_flexion_deg", "+", 1.6)
    shown = _run(s, [[knee]] * 10 + [[spine, knee]] * 60)
    assert shown[0].key == ("left_knee_deg", "-")
    assert shown[20].key == ("left_knee_deg", "-")  # still within its minimum time
    assert shown[-1].key == ("trunk_flexion_deg", "+")


def test_region_priority_covers_all_regions() -> None:
    assert set(REGION_PRIORITY) == {s.region for s in FEATURES}
    assert REGION_PRIORITY[0] == "spine"
