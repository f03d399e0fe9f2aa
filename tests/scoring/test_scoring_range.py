"""Range of motion: beyond the reference's movement is judged more loosely than short of it
(``coach.allowances.widened``, ``ScoringParams.overshoot_share`` / ``shortfall_share``)."""

from __future__ import annotations

import numpy as np
import pytest
from scoring_synth import make_sequence

from coach.allowances import moved_from_start, widened
from coach.features import mirror_indices
from coach.params import DEFAULT_PARAMS
from coach.scoring import deviation
from coach.template import Template, template_from_sequence


@pytest.fixture(scope="module")
def judged() -> Template:
    """A reaching movement's template widened for an attempt (no view or jitter)."""
    template = template_from_sequence(make_sequence(n=90, seed=1), "reach")
    return widened(template, np.empty((0, len(template.feature_names))), 0.0)


def _z(judged: Template, values: np.ndarray, moment: int) -> np.ndarray:
    """(F,) deviation of one frame ``values`` (F,) from the template's ``moment``."""
    ones = np.ones((1, len(values)))
    return deviation(values[None], ones, judged, np.zeros(1, np.int64), np.array([moment]))[0][0]


def test_beyond_the_movement_costs_less_than_short_of_it(judged: Template) -> None:
    moved = moved_from_start(judged)
    f = int(np.nanargmax(np.nanmax(np.abs(moved), axis=0)))  # the feature that moves most
    peak = int(np.nanargmax(np.abs(moved[:, f])))
    direction = np.sign(moved[peak, f])
    assert abs(moved[peak, f]) > 30  # a real movement, degrees
    beyond, short = np.array(judged.mean[peak]), np.array(judged.mean[peak])
    beyond[f] += direction * 15.0
    short[f] -= direction * 15.0
    z_beyond, z_short = _z(judged, beyond, peak)[f], _z(judged, short, peak)[f]
    floor = judged.spread[peak, f]
    # falling short is judged at the floor, going further with a share of the movement
    assert z_short == pytest.approx(-direction * 15.0 / floor)
    assert z_beyond == pytest.approx(direction * 15.0 / np.hypot(
        floor, DEFAULT_PARAMS.overshoot_share * moved[peak, f]))
    assert abs(z_beyond) < 0.6 * abs(z_short)
    # at the start posture, where the reference has not moved, both ways alike
    still = int(np.nanargmin(np.abs(moved[:, f])))
    up, down = np.array(judged.mean[still]), np.array(judged.mean[still])
    up[f] += 10.0
    down[f] -= 10.0
    assert _z(judged, up, still)[f] == pytest.approx(-_z(judged, down, still)[f], rel=0.05)


def test_a_mirrored_template_judges_the_mirrored_attempt_alike(judged: Template) -> None:
    perm, signs = mirror_indices(judged.feature_names)
    mirror = judged.mirrored()
    rng = np.random.default_rng(3)
    for moment in (0, len(judged) // 2, len(judged) - 1):
        values = judged.mean[moment] + rng.normal(0.0, 20.0, len(judged.feature_names))
        z = _z(judged, values, moment)
        z_mirror = _z(mirror, values[perm] * signs, moment)
        assert z_mirror == pytest.approx(z[perm] * signs)
