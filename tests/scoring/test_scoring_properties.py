"""Property tests of the score on synthetic movements (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_synth import make_sequence

from coach.scoring import score
from coach.template import template_from_sequence

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def template():
    return template_from_sequence(make_sequence(n=90, noise=0.002, seed=1), "reach")


@SETTINGS
@given(dx=st.floats(-2, 2), dy=st.floats(-1, 1), dz=st.floats(-1, 3),
       scale=st.floats(0.6, 1.6), yaw=st.floats(-180, 180),
       noise_seed=st.integers(0, 1000))
def test_translate_scale_rotate_about_vertical_leave_the_score(template, dx, dy, dz, scale,
                                                               yaw, noise_seed) -> None:
    base = make_sequence(n=90, noise=0.004, seed=noise_seed)
    moved = make_sequence(n=90, noise=0.004, seed=noise_seed, yaw=yaw, scale=scale,
                          shift=(dx, dy, dz))
    a, b = score(base, template), score(moved, template)
    # moving or scaling the person changes nothing; turning them is another camera view, for
    # which the tolerances widen (the landmark noise, added in the camera's axes, then falls
    # differently on the body, and the alignment may shift by a frame: a point or two)
    assert b.overall >= a.overall - 2.0
    for region in a.regions:
        if a.regions[region] is not None:
            assert b.regions[region] >= a.regions[region] - 3.0
    still = make_sequence(n=90, noise=0.004, seed=noise_seed, yaw=0.0, scale=scale,
                          shift=(dx, dy, dz))
    assert score(still, template).overall == pytest.approx(a.overall, abs=0.5)


@SETTINGS
@given(speed=st.sampled_from([0.5, 2.0]), pitch=st.floats(0, 25), seed=st.integers(0, 1000))
def test_half_or_double_speed_scores_nearly_as_well(template, speed, pitch, seed) -> None:
    same = score(make_sequence(n=90, noise=0.004, seed=seed, pitch=pitch), template)
    other = score(make_sequence(n=int(90 / speed), noise=0.004, seed=seed, pitch=pitch,
                                still=int(15 / speed)), template)
    assert same.overall > 95
    assert other.overall >= same.overall - 10
    assert other.tempo_ratio == pytest.approx(speed, rel=0.2)


@SETTINGS
@given(lean=st.sampled_from(["flexion", "lateral", "lateral_right"]),
       seed=st.integers(0, 1000))
def test_more_trunk_tilt_lowers_the_spine_score_and_cues_the_trunk(template, lean, seed) -> None:
    key, sign = ("flexion", 1.0) if lean == "flexion" else ("lateral", 1.0 if lean == "lateral"
                                                             else -1.0)
    spines = []
    first_cues = []
    for deg in (0, 6, 12, 18, 24, 30, 40):
        r = score(make_sequence(n=90, noise=0.004, seed=seed, extra={key: sign * deg},
                                still=0), template)
        spines.append(r.regions["spine"])
        first_cues.append(r.cue_keys[0] if r.cue_keys else None)
    # a lean held from the start is partly taken as the person's own neutral (up to the start
    # allowance: a build or a camera angle); beyond it every degree costs
    assert all(b <= a + 2.0 for a, b in zip(spines, spines[1:], strict=False)), spines
    assert all(b < a or b < 1.0 for a, b in zip(spines[2:], spines[3:], strict=False)), spines
    assert spines[-1] < 60
    feature = "trunk_flexion_deg" if key == "flexion" else "lateral_bend_deg"
    expected = (feature, "+" if sign > 0 else "-")
    # well past the allowance and the tolerance, the first cue names the trunk and the way
    assert all(c == expected for c in first_cues[4:]), first_cues


@SETTINGS
@given(start=st.integers(10, 90), length=st.integers(1, 8), whole=st.booleans())
def test_a_nan_gap_neither_crashes_nor_zeroes_the_score(template, start, length, whole) -> None:
    seq = make_sequence(n=90, noise=0.004, seed=3)
    world, image, vis = (np.array(seq.world_xyz), np.array(seq.image_xyz),
                         np.array(seq.visibility))
    gap = slice(start, start + length)
    if whole:  # nobody in view
        world[gap], image[gap], vis[gap] = np.nan, np.nan, 0.0
    else:  # the trunk's landmarks lost
        for lm in (11, 12, 23, 24):
            world[gap, lm], image[gap, lm], vis[gap, lm] = np.nan, np.nan, 0.0
    r = score(replace(seq, world_xyz=world, image_xyz=image, visibility=vis), template)
    assert np.isfinite(r.overall) and r.overall > 90
    assert r.frames_used + r.frames_dropped == len(seq)
    if whole:
        assert r.frames_dropped == length
