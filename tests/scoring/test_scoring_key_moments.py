"""The reference's peak counts more than its rest (``coach.allowances.key_moments``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scoring_synth import make_sequence

from coach.allowances import emphasised, key_moments
from coach.params import DEFAULT_PARAMS
from coach.scoring import score
from coach.template import template_from_sequence


@pytest.fixture(scope="module")
def template():
    return template_from_sequence(make_sequence(n=90, noise=0.002, seed=1), "reach")


def test_key_moments_average_one_and_peak_mid_movement(template) -> None:
    key = key_moments(template)
    weight = DEFAULT_PARAMS.key_moment_weight
    assert key.shape == (len(template),) and key.mean() == pytest.approx(1.0)
    # in proportion to 1 at rest, 1 + weight at the peak
    assert key.max() / key[:10].mean() == pytest.approx(1.0 + weight, rel=0.2)
    assert 40 <= int(np.argmax(key)) <= 80  # the middle of the movement (15 still + 90)
    flat = key_moments(template, replace(DEFAULT_PARAMS, key_moment_weight=0.0))
    assert flat == pytest.approx(np.ones(len(template)))


def test_a_shortfall_is_scaled_within_0_and_100() -> None:
    scores = np.array([100.0, 90.0, 90.0, 40.0])
    out = emphasised(scores, np.array([2.0, 0.5, 2.0, 2.0]))
    assert out.tolist() == [100.0, 95.0, 80.0, 0.0]


def _lurch(frames: slice, key_moment_weight: float) -> float:
    """Overall score of the movement with the upper body thrown sideways in ``frames``."""
    seq = make_sequence(n=90, noise=0.004, seed=2)
    world = np.array(seq.world_xyz)
    world[frames, :23, 0] += 0.15
    reference = make_sequence(n=90, noise=0.002, seed=1)
    params = replace(DEFAULT_PARAMS, key_moment_weight=key_moment_weight)
    return score(replace(seq, world_xyz=world), template_from_sequence(reference, "reach"),
                 params=params).overall


def test_a_fault_at_the_peak_costs_more_and_one_near_rest_less() -> None:
    peak, near_rest = slice(52, 68), slice(16, 28)  # 15 still frames, then 90 of movement
    assert _lurch(peak, 3.0) < _lurch(peak, 0.0) - 1.0
    assert _lurch(near_rest, 3.0) > _lurch(near_rest, 0.0)
