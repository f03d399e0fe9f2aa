"""Reference sheets: every built-in exercise renders, and a held posture with a take too."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.library import Library, LibraryError
from coach.library.sheet import key_moments, render_sheet


def test_every_builtin_exercise_renders(tmp_path: Path) -> None:
    library = Library.open([tmp_path / "own"])
    for exercise in library.list():
        out = render_sheet(library.get(exercise.slug), tmp_path / f"{exercise.slug}.png")
        assert out.read_bytes()[:4] == b"\x89PNG"
    assert not list(tmp_path.glob(".*.tmp*"))


def test_held_posture_with_a_take_shows_its_key_poses(tmp_path: Path, real_sequence) -> None:  # noqa: ANN001
    library = Library.open([tmp_path / "own"])
    library.ensure_own("mountain-pose")
    library.add_take("mountain-pose", real_sequence("squats").slice(0, 20))
    exercise = library.get("mountain-pose")
    plain = render_sheet(Library.open([tmp_path / "none"]).get("mountain-pose"),
                         tmp_path / "plain.png")
    with_take = render_sheet(exercise, tmp_path / "with-take.png")
    assert with_take.stat().st_size > plain.stat().st_size


def test_key_moments_are_spread_over_the_take(real_sequence) -> None:  # noqa: ANN001
    seq = real_sequence("cam01")
    idx = key_moments(seq, 6)
    assert len(idx) == 6 and idx[0] == 0 and idx[-1] == len(seq) - 1


def test_sheet_must_be_a_png(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"\.png"):
        render_sheet(Library.open([tmp_path]).get("squat"), tmp_path / "x.jpg")


def test_sheet_that_cannot_be_written_leaves_no_open_figure(tmp_path) -> None:  # noqa: ANN001
    from matplotlib import pyplot as plt

    from coach.errors import OutputError

    blocker = tmp_path / "plain.txt"
    blocker.write_text("a file, not a folder")
    before = len(plt.get_fignums())
    with pytest.raises(OutputError, match="plain.txt"):
        render_sheet(Library.open().get("squat"), blocker / "squat.png")
    assert len(plt.get_fignums()) == before
