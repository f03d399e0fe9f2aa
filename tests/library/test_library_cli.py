"""The ``coach record``, ``coach score`` and ``coach references`` commands, run for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach.library import Library
from tests.library.library_helpers import COACH, ROOT, run_coach, tree_hash

SQUATS = "samples/tfjs_squats/pose_squats.mp4"


def test_record_then_score_the_same_clip_is_near_100(library_env: dict[str, str]) -> None:
    own = Path(library_env["COACH_LIBRARY"])
    done = run_coach(["record", "squat", "--source", SQUATS], library_env)
    assert done.returncode == 0, done.stderr
    assert "saved take" in done.stdout and (own / "squat" / "takes" / "take-001.npz").is_file()
    assert (own / "squat" / "exercise.toml").is_file()
    scored = run_coach(["score", SQUATS, "--exercise", "squat", "--json"], library_env)
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    print(f"round trip score: {report['overall']}")
    assert report["overall"] >= 95.0 and report["exercise"] == "squat"
    assert report["plane"] == "world" and report["kind"] == "flowing"
    again = run_coach(["record", "squat", "--source", SQUATS], library_env)
    assert again.returncode == 0 and (own / "squat" / "takes" / "take-002.npz").is_file()
    text = run_coach(["score", SQUATS, "--exercise", "squat"], library_env)
    assert text.returncode == 0, text.stderr
    assert "Score " in text.stdout and "Tempo:" in text.stdout and "Compared on" in text.stdout
    assert Library.open([own]).get("squat").template().takes == 2


def test_score_a_landmark_file_against_a_held_posture(library_env: dict[str, str]) -> None:
    take = "reference_poses/keraal-arm-raises/takes/take-001.npz"
    scored = run_coach(["score", take, "--exercise", "keraal-arm-raises", "--json"], library_env)
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout)
    assert report["overall"] > 95 and report["plane"] == "image"
    held = run_coach(["score", SQUATS, "--exercise", "mountain-pose"], library_env)
    assert held.returncode == 0, held.stderr
    assert "held posture" in held.stdout and "longest" in held.stdout


def test_list_says_plainly_what_waits_for_a_recording(library_env: dict[str, str]) -> None:
    listed = run_coach(["references", "list"], library_env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    for slug in ("qigong-the-wave", "qigong-dragon-whips-its-tail", "cat-cow"):
        assert "waiting for an instructor's recording" in lines[slug]
    assert "1 take(s)" in lines["keraal-trunk-rotation"]
    assert "held posture" in lines["sphinx-pose"]


def test_show_writes_a_png(library_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "sheet.png"
    shown = run_coach(["references", "show", "keraal-flank-stretch", "-o", str(out)],
                      library_env)
    assert shown.returncode == 0, shown.stderr
    assert "Flank stretch" in shown.stdout and "mirrored" not in shown.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_export_import_remove(library_env: dict[str, str], tmp_path: Path) -> None:
    exported = run_coach(["references", "export", "squat", "-o", str(tmp_path)], library_env)
    assert exported.returncode == 0, exported.stderr
    archive = tmp_path / "squat.zip"
    clash = run_coach(["references", "import", str(archive)], library_env)
    assert clash.returncode == 2 and "already exists" in clash.stderr
    imported = run_coach(["references", "import", str(archive), "--as", "my-squat"], library_env)
    assert imported.returncode == 0, imported.stderr
    own = Path(library_env["COACH_LIBRARY"])
    assert (own / "my-squat" / "takes" / "take-001.npz").is_file()
    builtin = run_coach(["references", "remove", "squat"], library_env)
    assert builtin.returncode == 2 and "built in" in builtin.stderr
    unconfirmed = run_coach(["references", "remove", "my-squat"], library_env)
    assert unconfirmed.returncode == 2 and "needs confirmation" in unconfirmed.stderr
    assert "--yes" in unconfirmed.stderr and (own / "my-squat").is_dir()
    declined = _in_a_terminal(["references", "remove", "my-squat"], library_env, b"n\n")
    assert b"Remove 'my-squat'" in declined and b"nothing removed" in declined
    assert (own / "my-squat").is_dir()
    confirmed = _in_a_terminal(["references", "remove", "my-squat"], library_env, b"y\n")
    assert b"removed " in confirmed and not (own / "my-squat").exists()
    run_coach(["references", "import", str(archive), "--as", "my-squat"], library_env)
    removed = run_coach(["references", "remove", "my-squat", "--yes"], library_env)
    assert removed.returncode == 0 and not (own / "my-squat").exists()


def _in_a_terminal(args: list[str], env: dict[str, str], answer: bytes) -> bytes:
    """Run ``coach`` on a pseudo-terminal, type ``answer`` once it asks; its output."""
    import os
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: coach, with the terminal as stdin and stdout
        os.execve(str(COACH), [str(COACH), *args], env)
    output = b""
    try:
        while b"[y/N]" not in output and b"removed" not in output:
            output += os.read(fd, 1024)
        os.write(fd, answer)
        while True:
            output += os.read(fd, 1024)
    except OSError:  # the child closed the terminal
        pass
    os.waitpid(pid, 0)
    return output


@pytest.mark.parametrize(("args", "message"), [
    (["record", "../../etc", "--source", SQUATS], "not a valid slug"),
    (["record", "new-flow", "--source", SQUATS], "--tradition and --description"),
    (["score", SQUATS, "--exercise", "no-such-thing"], "no exercise called 'no-such-thing'"),
    (["score", SQUATS, "--exercise", "qigong-the-wave"], "waiting for an instructor"),
    (["references", "show", "../../etc"], "no exercise called"),
    (["references", "import", "/nonexistent/x.zip"], "no such file"),
    (["record", "squat", "--source", "samples/pose2sim_lunge/cam03.mp4"], "take refused: the "),
    (["record", "squat", "--source", SQUATS, "--duration", "-5"], "--duration: expected a "),
    (["record", "squat", "--source", SQUATS, "--countdown", "-1"], "--countdown: expected 0 "),
])
def test_bad_requests_fail_with_one_clear_line(library_env: dict[str, str], args: list[str],
                                               message: str) -> None:
    own = Path(library_env["COACH_LIBRARY"])
    before, builtin = tree_hash(own), tree_hash(ROOT / "reference_poses")
    done = run_coach(args, library_env)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("coach: error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in done.stderr
    assert tree_hash(own) == before and tree_hash(ROOT / "reference_poses") == builtin


def test_a_fragment_too_short_to_hold_the_movement_is_refused(library_env: dict[str, str],
                                                               tmp_path: Path) -> None:
    """A 0.2 s piece of a recording is not scored against a 1.7 s movement, nor against a
    held posture: one line saying why, and a non-zero exit."""
    from coach.recording import load_recording, save_recording

    take = load_recording(ROOT / "reference_poses/lunge-and-reach/takes/take-001.npz")
    piece = tmp_path / "piece.npz"
    save_recording(take.slice(40, 52), piece)
    flowing = run_coach(["score", str(piece), "--exercise", "lunge-and-reach"], library_env)
    held = run_coach(["score", str(piece), "--exercise", "mountain-pose"], library_env)
    for done, says in ((flowing, "too short to hold 'lunge-and-reach'"),
                       (held, "too short to judge a hold")):
        assert done.returncode != 0 and done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0] and "piece.npz" in lines[0], done.stderr
