"""One number everywhere: the live dial, the report's timeline and the overall come from one
computation, and every way a report is written (JSON, text, the batch's CSV and HTML) shows
the same numbers and cues. Real sample clips through the real pose model."""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.library import Library
from coach.live.coaching import ExerciseCoaching, needle_mean
from coach.pose import FramePose, PoseSequence

COACH = [sys.executable, "-m", "coach"]


def _session(exercise: str, seq: PoseSequence, loops: int = 1
             ) -> tuple[ExerciseCoaching, list[float], list[float]]:
    """Coach ``seq`` (played ``loops`` times back to back) live: the coaching, the needle's
    readings and the frame scores of the scored frames."""
    coaching = ExerciseCoaching(Library.open(env={}).get(exercise), image_size=seq.image_size,
                                fps=seq.fps)
    needle, frames = [], []
    step = seq.duration_s * 1000.0 + 1000.0 / seq.fps
    for loop in range(loops):
        for i in range(len(seq)):
            f = seq.frame(i)
            view = coaching.update(FramePose(f.image_xyz, f.visibility, f.world_xyz,
                                             f.timestamp_ms + loop * step, f.people_seen))
            if view.frame_score is not None:
                needle.append(view.score)
                frames.append(view.frame_score)
    return coaching, needle, frames


@pytest.mark.parametrize(("exercise", "clip"), [("lunge-and-reach", "cam03"),
                                                ("lunge-and-reach", "cam02"),
                                                ("mountain-pose", "squats")])
def test_the_report_is_made_of_the_frame_scores_the_dial_showed(real_sequence, exercise,
                                                                clip) -> None:  # noqa: ANN001
    seq = real_sequence(clip)
    coaching, needle, frames = _session(exercise, seq)
    report = coaching.report()
    assert report.timeline_score.tolist() == pytest.approx(frames)
    assert report.form == pytest.approx(np.mean(frames))
    assert report.timeline_mean == pytest.approx(report.form)
    if report.repetitions == 1:
        assert report.overall == pytest.approx(
            report.form * report.coverage_factor * report.tempo_factor)
    if report.kind == "held":
        assert report.overall == report.form
        assert report.coverage_factor == report.tempo_factor == 1.0
    # the needle trails the frame scores; its average is known exactly
    assert np.mean(needle) == pytest.approx(needle_mean(np.array(frames), needle[-1],
                                                        coaching.needle.step))
    # frame counts: every frame was scored or dropped, none counted twice
    assert report.frames_used == len(frames)
    assert report.frames_used + report.frames_dropped == len(seq)
    # a session's report is close to scoring its recording offline (which also looks ahead)
    offline = Library.open(env={}).get(exercise).scorer().score(coaching.recording())
    assert abs(offline.overall - report.overall) < 6


@pytest.mark.parametrize(("exercise", "clip"), [("lunge-and-reach", "cam03"),
                                                ("mountain-pose", "squats")])
def test_over_a_session_the_dial_averages_to_the_overall(real_sequence, exercise,
                                                         clip) -> None:  # noqa: ANN001
    """Half a minute of practice (the clip again and again): the needle's average is within a
    point of the report's form, and for a held posture of its overall."""
    seq = real_sequence(clip)
    loops = int(np.ceil(30.0 / seq.duration_s))
    coaching, needle, frames = _session(exercise, seq, loops)
    report = coaching.report()
    assert abs(np.mean(needle) - report.form) < 1.0
    assert abs(np.mean(needle) - np.mean(frames)) < 1.0
    if report.kind == "held":
        assert abs(np.mean(needle) - report.overall) < 1.0
    else:
        assert report.repetitions >= loops - 1


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*COACH, *map(str, args)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done


def _text_numbers(text: str) -> tuple[int, list[str]]:
    """(overall, cues) from a report's ``summary_text``."""
    overall = int(re.search(r"Score (\d+)/100", text).group(1))
    cues = re.findall(r"^\s+\d+\. (.+)$", text, flags=re.MULTILINE)
    return overall, cues


def test_json_text_csv_and_html_of_one_input_agree(tmp_path: Path, sample_path) -> None:  # noqa: ANN001
    clip = sample_path("squats")
    as_json = json.loads(_run("score", clip, "--exercise", "mountain-pose", "--json").stdout)
    as_text = _run("score", clip, "--exercise", "mountain-pose").stdout
    out = tmp_path / "batch"
    _run("batch", clip, "--exercise", "mountain-pose", "-o", out)
    overall, cues = _text_numbers(as_text)
    assert overall == round(as_json["overall"]) and cues == as_json["cues"]
    result = json.loads(next((out / "results").rglob("*.json")).read_text(encoding="utf-8"))
    assert result["report"]["overall"] == as_json["overall"]
    assert result["report"]["cues"] == as_json["cues"]
    assert result["report"]["timeline"] == as_json["timeline"]
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert float(row["overall"]) == as_json["overall"]
    assert row["main_cue"] == (as_json["cues"][0] if as_json["cues"] else "")
    for region, value in as_json["regions"].items():
        assert row[region] == ("" if value is None else str(value))
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert f'data-value="{as_json["overall"]}"' in page  # the table's cell
    assert f'>{as_json["overall"]}</span>' in page  # the input's own section
    for cue in as_json["cues"]:
        assert cue in page


def test_a_live_session_saves_one_set_of_numbers(tmp_path: Path, sample_path) -> None:  # noqa: ANN001
    out = tmp_path / "session"
    _run("live", "--exercise", "lunge-and-reach", "--source", sample_path("cam03"),
         "--headless", "--output", out, "--db", tmp_path / "history.sqlite3")
    summary = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    text = next(out.glob("*.txt")).read_text(encoding="utf-8")
    report = summary["report"]
    overall, cues = _text_numbers(text)
    assert overall == round(report["overall"]) == round(summary["overall"])
    assert cues == report["cues"]
    scores = [s for s in report["timeline"]["score"] if s is not None]
    assert report["form"] == pytest.approx(np.mean(scores), abs=0.1)
    assert report["frames_used"] == len(report["timeline"]["score"])
