"""The score report: JSON-ready dict, terminal summary, worst moments, tempo, mirror."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scoring_synth import make_sequence

from coach.numbers import rounded
from coach.scoring import score
from coach.template import template_from_sequence
from coach.tempo import tempo_factor, tempo_words


@pytest.fixture(scope="module")
def template():
    return template_from_sequence(make_sequence(n=90, noise=0.002, seed=1), "reach")


def test_report_dict_is_json_and_complete(template) -> None:
    attempt = make_sequence(n=120, noise=0.004, extra={"lateral": -15.0})
    report = score(attempt, template)
    d = json.loads(json.dumps(report.to_dict()))
    assert d["reference"] == {"name": "reach", "version": template.version}
    assert set(d["regions"]) == {"spine", "neck", "shoulders", "hips", "arms", "legs"}
    assert d["plane"] == "world" and d["mirrored"] is False
    assert d["frames_used"] == len(attempt) and d["frames_dropped"] == 0
    assert len(d["timeline"]["score"]) == len(d["timeline"]["timestamp_ms"]) == len(attempt)
    assert d["cues"][0] == "Straighten your trunk, you are leaning to your right"
    assert d["cue_keys"][0] == ["lateral_bend_deg", "-"]
    assert d["tempo"]["ratio"] == pytest.approx(0.75, abs=0.1)
    assert d["worst_moments"] and d["worst_moments"][0]["region"] == "spine"
    assert 0 <= d["overall"] < 90


def test_summary_text_names_the_essentials(template) -> None:
    report = score(make_sequence(n=36, noise=0.004, still=8, extra={"flexion": 35.0}),
                   template)
    text = report.summary_text()
    # the text rounds as the JSON does (to 0.1 first), so it never disagrees with the JSON
    assert text.startswith(f"Score {rounded(report.overall):.0f}/100 against 'reach'")
    assert "spine" in text and "Tempo: faster than the reference" in text
    assert "1. Lengthen your spine, you are bending forward" in text
    assert "Slow down" in text
    assert "world landmarks (3D)" in text


def test_worst_moments_point_at_the_fault(template) -> None:
    seq = make_sequence(n=90, noise=0.004)
    world = np.array(seq.world_xyz)
    # a sideways lurch of the upper body in frames 60-75 (2.0-2.5 s)
    world[60:75, :23, 0] += 0.15
    report = score(replace(seq, world_xyz=world), template)
    worst = report.worst_moments[0]
    assert 1900 <= worst.timestamp_ms <= 2600
    assert worst.region == "spine" and "leaning to your left" in worst.what
    assert worst.score < 90


def test_tempo_words_and_factor() -> None:
    assert tempo_words(1.0).startswith("about the reference's pace")
    assert tempo_words(2.0).startswith("faster")
    assert tempo_words(0.5).startswith("slower")
    assert tempo_words(float("nan")) == "unknown"
    assert tempo_factor(1.1) == 1.0
    assert 0.85 < tempo_factor(2.0) < tempo_factor(1.6) < 1.0
    assert tempo_factor(0.5) > tempo_factor(2.0)  # rushing costs more than slowness


def test_mirror_follower(template) -> None:
    follower = make_sequence(n=90, noise=0.004, seed=7,
                             extra={"lateral": 6.0, "twist": 10.0}).mirrored()
    plain = score(follower, template)
    mirrored = score(follower, template, mirror=True)
    auto = score(follower, template, mirror="auto")
    assert mirrored.overall > plain.overall + 10
    assert auto.mirrored and auto.overall == pytest.approx(mirrored.overall)
    assert not score(make_sequence(n=90), template, mirror="auto").mirrored


def test_a_recording_of_several_repetitions_is_scored_pass_by_pass(template) -> None:
    one = make_sequence(n=90, noise=0.004, seed=8)
    reps = 3
    world = np.concatenate([one.world_xyz] * reps)
    image = np.concatenate([one.image_xyz] * reps)
    vis = np.concatenate([one.visibility] * reps)
    ts = np.arange(len(world)) * 1000.0 / one.fps
    looped = replace(one, world_xyz=world, image_xyz=image, visibility=vis, timestamps_ms=ts,
                     people_seen=np.ones(len(world), dtype=np.int64))
    report = score(looped, template)
    assert report.repetitions == reps
    assert report.overall > 90 and report.tempo_text.startswith("about")
    assert len(report.timeline_score) == len(world)
    single = score(one, template)
    assert single.repetitions == 1
    assert report.overall == pytest.approx(single.overall, abs=3)
