"""``coach extract`` as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach.recording import load_recording
from coach.tracking import TORSO

COACH = [sys.executable, "-m", "coach"]


def run_coach(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COACH, *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_version():
    result = run_coach("--version")
    assert result.returncode == 0 and result.stdout.startswith("coach ")


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_extract_writes_a_loadable_recording(tmp_path, sample_path, suffix):
    out = tmp_path / f"squats{suffix}"
    result = run_coach("extract", sample_path("squats"), "-o", out)
    assert result.returncode == 0, result.stderr
    assert "65 frames" in result.stdout
    sequence = load_recording(out)
    assert len(sequence) == 65 and sequence.has_world and sequence.present.all()
    assert result.stderr.strip() == "", "no native log chatter on a clean run"


def test_extract_looking_for_one_person(tmp_path, sample_path):
    """``--max-people 1`` on the clip with several people: nobody else is reported, and the
    one person the model tracks is followed without a jump to someone else."""
    out = tmp_path / "multi.npz"
    result = run_coach("extract", sample_path("multi"), "--max-people", "1", "-o", out)
    assert result.returncode == 0, result.stderr
    sequence = load_recording(out)
    assert sequence.people_seen.max() == 1
    present = np.flatnonzero(sequence.present)
    assert len(present) > 0.5 * len(sequence)
    width, height = sequence.image_size
    torso = sequence.image_xyz[:, TORSO, :2].mean(axis=1) * [width, height]
    steps = np.linalg.norm(np.diff(torso[present], axis=0), axis=1) / np.diff(present)
    assert steps.max() < 120, f"tracked torso jumped {steps.max():.0f} px in one frame"


def test_extract_image_folder(tmp_path, sample_path):
    folder = tmp_path / "stills"
    folder.mkdir()
    shutil.copy(sample_path("warrior"), folder / "warrior.jpg")
    out = tmp_path / "stills.npz"
    result = run_coach("extract", folder, "-o", out)
    assert result.returncode == 0, result.stderr
    assert load_recording(out).present.all()


def _bad_inputs(tmp_path: Path, sample_path) -> dict[str, Path]:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    data = sample_path("cam01").read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 4])
    folder = tmp_path / "no_images"
    folder.mkdir()
    (folder / "readme.txt").write_text("nothing to see")
    return {"missing": tmp_path / "missing.mp4", "text": text, "empty": empty,
            "truncated": truncated, "folder": folder}


@pytest.mark.parametrize("case", ["missing", "text", "empty", "truncated", "folder"])
def test_bad_input_gives_one_clear_line(tmp_path, sample_path, case):
    bad = _bad_inputs(tmp_path, sample_path)[case]
    out = tmp_path / "out" / "run.npz"
    result = run_coach("extract", bad, "-o", out)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("coach: error: ") and bad.name in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


@pytest.mark.parametrize("case", ["missing", "not_zip", "truncated", "wrong_zip"])
def test_bad_model_gives_one_clear_line(tmp_path, sample_path, case):
    from coach.backend import default_model_path

    model = tmp_path / f"{case}.task"
    if case == "not_zip":
        model.write_text("not a model")
    elif case == "truncated":
        model.write_bytes(default_model_path().read_bytes()[:100_000])
    elif case == "wrong_zip":
        shutil.make_archive(str(tmp_path / "wrong"), "zip", sample_path("squats").parent)
        model = (tmp_path / "wrong.zip").rename(model)
    result = run_coach("extract", sample_path("squats"), "-o", tmp_path / "x.npz",
                       "--model", model)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert model.name in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("options, fault", [
    (("--stride", "0"), "--stride: expected 1 or more"),
    (("--max-people", "0"), "--max-people: expected 1 or more"),
    (("-o", "{tmp}/run.txt"), "must end in .npz"),
    (("-o", "{tmp}/run.npz", "--format", "json"), "must end in .json"),
])
def test_bad_options_give_one_clear_line_before_any_work(tmp_path, sample_path, options,
                                                         fault):
    options = tuple(o.format(tmp=tmp_path) for o in options)
    if "-o" not in options:
        options += ("-o", str(tmp_path / "run.npz"))
    result = run_coach("extract", sample_path("squats"), *options)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("coach: error: ") and fault in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_piped_to_a_reader_that_stops_early_is_not_an_error():
    """``coach references list | head -1``: no traceback when the reader goes away."""
    listing = subprocess.Popen([*COACH, "references", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    listing.stdout.close()  # gone before coach has started up and printed anything
    _, stderr = listing.communicate(timeout=120)
    assert "Traceback" not in stderr.decode()
    assert listing.returncode == 0


def test_every_command_prints_its_help():
    """Each subcommand's help renders (a stray ``%`` in a help text breaks only ``--help``)."""
    import argparse

    from coach.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"batch", "extract", "live", "record", "score"} <= set(commands.choices)
    for name, command in commands.choices.items():
        assert f"coach {name}" in command.format_help()
