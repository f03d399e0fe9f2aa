"""Hostile names, archives and exercise folders through the real ``coach`` command: each is
refused in one line naming it, the library is unchanged, and one hostile folder never breaks
listing or scoring of the other exercises. And ``coach record --source`` takes a landmark
recording, as the README promises."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from coach.pose import PoseSequence
from coach.recording import save_recording
from tests.fuzz.generators import patch_member, zip_of
from tests.library.library_helpers import FLOWING_TOML, ROOT, run_coach, tree_hash, write_exercise

NEWLINE_SLUG = "evil\n"


def _one_error(done, *words: str) -> str:  # noqa: ANN001 - a CompletedProcess
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("coach: error:")]
    assert len(errors) == 1, done.stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


@pytest.fixture()
def own(library_env: dict[str, str]) -> Path:
    folder = Path(library_env["COACH_LIBRARY"])
    write_exercise(folder / "existing")
    return folder


def test_record_takes_a_landmark_recording(library_env: dict[str, str], tmp_path: Path,
                                           real_sequence: Callable[[str], PoseSequence]) -> None:
    clip = save_recording(real_sequence("squats"), tmp_path / "squats.npz")
    done = run_coach(["record", "my-squat", "--source", str(clip), "--tradition",
                      "rehabilitation", "--description", "A banded squat."], library_env)
    assert done.returncode == 0, done.stderr
    take = Path(library_env["COACH_LIBRARY"]) / "my-squat" / "takes" / "take-001.npz"
    assert take.is_file() and f"saved take {take} " in done.stdout
    assert "65 of 65 frames" in done.stdout
    scored = run_coach(["score", str(clip), "--exercise", "my-squat"], library_env)
    assert scored.returncode == 0 and "Score 100/100" in scored.stdout, scored.stderr
    short = run_coach(["record", "my-squat", "--source", str(clip), "--duration", "5"],
                      library_env)
    assert short.returncode == 0, short.stderr
    assert "take-002.npz" in short.stdout and " of 25 frames" in short.stdout  # 5 s at 5 fps


def test_an_exercise_named_with_a_newline_is_refused_everywhere(
        library_env: dict[str, str], own: Path, tmp_path: Path) -> None:
    before = tree_hash(own)
    folder = write_exercise(tmp_path / "incoming" / NEWLINE_SLUG)
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"{NEWLINE_SLUG}/exercise.toml", FLOWING_TOML)
    good = write_exercise(tmp_path / "incoming" / "fine")
    for args in (["references", "import", str(folder)],
                 ["references", "import", str(archive)],
                 ["references", "import", str(good), "--as", NEWLINE_SLUG],
                 ["record", NEWLINE_SLUG, "--source", str(tmp_path / "none.npz"),
                  "--tradition", "yoga", "--description", "x"]):
        message = _one_error(run_coach(args, library_env), "not a valid slug")
        assert "\\n" in message  # the name is shown escaped, on the one line
    assert tree_hash(own) == before
    assert not any("\n" in p.name for p in own.rglob("*"))


def _link_member(data: bytes) -> bytes:
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as zf:
        info = zipfile.ZipInfo("linked/LICENSE")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


HOSTILE_ARCHIVES = {
    "encrypted": (lambda: patch_member(zip_of({"enc/exercise.toml": FLOWING_TOML.encode()}),
                                       flags=0x1), "is encrypted"),
    "deflate64": (lambda: patch_member(zip_of({"d64/exercise.toml": FLOWING_TOML.encode()}),
                                       method=9), "unsupported compression method"),
    "bomb": (lambda: zip_of({"bomb/exercise.toml": FLOWING_TOML.encode(),
                           "bomb/LICENSE": bytes(20 * 1024 * 1024)}), "bytes"),
    "link": (lambda: _link_member(zip_of({"linked/exercise.toml": FLOWING_TOML.encode()})),
             "symbolic link"),
    "twice": (lambda: zip_of({"two/exercise.toml": b"a", "two/takes/../exercise.toml": b"b"}),
              "unexpected member"),
    "not-a-zip": (lambda: b"PK\x03\x04" + os.urandom(200), "not a readable exercise archive"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_ARCHIVES))
def test_hostile_archives_are_refused_and_change_nothing(
        library_env: dict[str, str], own: Path, tmp_path: Path, kind: str) -> None:
    make, words = HOSTILE_ARCHIVES[kind]
    archive = tmp_path / f"{kind}.zip"
    archive.write_bytes(make())
    before = tree_hash(own)
    _one_error(run_coach(["references", "import", str(archive)], library_env), str(archive),
               words)
    assert tree_hash(own) == before


def test_a_fifo_as_archive_is_refused_without_blocking(library_env: dict[str, str], own: Path,
                                                       tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    _one_error(run_coach(["references", "import", str(fifo)], library_env, timeout=60),
               "not a regular file")


HOSTILE_FOLDERS = {
    "huge-int": FLOWING_TOML.replace("trunk_flexion_deg = 2.0", "trunk_flexion_deg = "
                                     + "9" * 5000),
    "big-int": FLOWING_TOML.replace("trunk_flexion_deg = 2.0", "trunk_flexion_deg = "
                                    + "9" * 400),
    "deep": "x = " + "[" * 1000 + "]" * 1000 + "\n",
    "deep-table": "x = " + "{a = " * 600 + "1" + "}" * 600 + "\n",
    "escapes": FLOWING_TOML.replace('name = "Test flow"', 'name = "\\u001b[2J\\u001b[31mred"'),
}


def test_hostile_exercise_folders_never_break_the_rest(library_env: dict[str, str], own: Path,
                                                       tmp_path: Path) -> None:
    for slug, text in HOSTILE_FOLDERS.items():
        write_exercise(own / slug, text)
    (own / "fifo").mkdir()
    os.mkfifo(own / "fifo" / "exercise.toml")
    listed = run_coach(["references", "list"], library_env, timeout=60)
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert "\x1b" not in listed.stdout + listed.stderr
    assert "existing" in listed.stdout and "squat" in listed.stdout
    assert "escapes" in listed.stdout and "([2J [31mred)" in listed.stdout
    unreadable = [line for line in listed.stdout.splitlines() if line.startswith("unreadable:")]
    assert len(unreadable) == 5, listed.stdout
    for slug in ("huge-int", "big-int", "deep", "deep-table", "fifo"):
        assert any(f"/{slug}/exercise.toml" in line for line in unreadable), slug
    clip = str(ROOT / "samples" / "keraal_lowback" / "G3-BP-ELK-P1T1-Unknown-C-0.json")
    scored = run_coach(["score", clip, "--exercise", "keraal-flank-stretch"], library_env,
                       timeout=120)
    assert scored.returncode == 0, scored.stderr
    _one_error(run_coach(["score", clip, "--exercise", "fifo"], library_env, timeout=60),
               "fifo/exercise.toml", "not a regular file")
