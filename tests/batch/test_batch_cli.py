"""``coach batch`` as a real subprocess: good and broken inputs, a rerun, a SIGKILL part-way."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

COACH = str(Path(sys.executable).with_name("coach"))


def _batch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COACH, "batch", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _no_partial_files(out: Path) -> None:
    """No temp files, and every result and artefact under its final name is whole."""
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]
    for path in (out / "results").glob("*.json"):
        result = json.loads(path.read_text(encoding="utf-8"))
        for thumb in result["thumbnails"]:
            assert (out / thumb["file"]).stat().st_size > 0


@pytest.fixture
def broken_inputs(tmp_path: Path, sample_path: Callable[[str], Path]) -> Path:
    from coach.video_writer import VideoWriter

    folder = tmp_path / "uploads"
    folder.mkdir()
    shutil.copy(sample_path("squats"), folder / "squats.mp4")
    shutil.copy(sample_path("keraal_ELK"), folder / "keraal_elk.json")
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("this is not a video\n", encoding="utf-8")
    (folder / "truncated.mp4").write_bytes(sample_path("cam01").read_bytes()[:60_000])
    (folder / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with VideoWriter(folder / "empty_room.mp4", 10) as writer:
        for i in range(12):
            writer.write(np.full((240, 320, 3), 60 + i, np.uint8))
    return folder


def test_batch_scores_good_lists_broken_and_reruns_from_the_store(
        broken_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = str(tmp_path / "never-uploaded.mp4")
    first = _batch(str(broken_inputs), missing, "--exercise", "squat", "-o", str(out),
                   "--workers", "2")
    assert first.returncode == 1, first.stderr
    rows = {Path(r["input"]).name: r for r in _rows(out)}
    assert set(rows) == {"squats.mp4", "keraal_elk.json", "empty.mp4", "notes.mp4",
                         "truncated.mp4", "broken.npz", "empty_room.mp4",
                         "never-uploaded.mp4"}
    assert rows["squats.mp4"]["status"] == "ok" and float(rows["squats.mp4"]["overall"]) > 80
    assert rows["keraal_elk.json"]["status"] == "ok"  # image landmarks only, still scored
    reasons = {"empty.mp4": "empty (0 bytes)", "notes.mp4": "not a readable video",
               "truncated.mp4": "truncated.mp4", "broken.npz": "recording",
               "empty_room.mp4": "nobody is visible", "never-uploaded.mp4": "no such file"}
    for name, words in reasons.items():
        assert rows[name]["status"] == "error"
        assert words in rows[name]["error"] and name in rows[name]["error"]
        assert f"failed: {rows[name]['error']}" in first.stdout
    assert "2 scored (0 from earlier runs), 6 failed" in first.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<tr>") == 1 + 8
    _no_partial_files(out)

    stored = {p.name: p.read_bytes() for p in (out / "results").glob("*.json")}
    second = _batch(str(broken_inputs), missing, "--exercise", "squat", "-o", str(out))
    assert second.returncode == 1
    assert "(7 from earlier runs)" in second.stdout  # only the unreadable path is tried again
    assert {p.name: p.read_bytes() for p in (out / "results").glob("*.json")} == stored
    inputs = [r["input"] for r in _rows(out)]
    assert len(inputs) == len(set(inputs)) == 8


def test_unknown_exercise_or_bad_options_stop_with_one_line(tmp_path: Path,
                                                            broken_inputs: Path) -> None:
    bad = _batch(str(broken_inputs), "--exercise", "no-such-move", "-o", str(tmp_path / "o"))
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("coach: error: no exercise called")
    assert len(bad.stderr.strip().splitlines()) == 1  # no progress bars before the error
    waiting = _batch(str(broken_inputs), "--exercise", "qigong-the-wave", "-o",
                     str(tmp_path / "o"))
    assert waiting.returncode == 2 and "waiting for an instructor's recording" in waiting.stderr
    stride = _batch(str(broken_inputs), "--exercise", "squat", "--stride", "0", "-o",
                    str(tmp_path / "o"))
    assert stride.stderr.strip() == "coach: error: --stride: expected 1 or more, got 0"
    assert stride.returncode == 2
    people = _batch(str(broken_inputs), "--exercise", "squat", "--max-people", "0", "-o",
                    str(tmp_path / "o"))
    assert people.stderr.strip() == "coach: error: --max-people: expected 1 or more, got 0"
    assert people.returncode == 2
    assert not (tmp_path / "o").exists()


def test_sigkill_part_way_then_rerun_scores_each_input_once(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("keraal_RTK", "keraal_ELK", "keraal_CTK"):
        shutil.copy(sample_path(name), folder / f"a_{name}.json")
    for name in ("squats", "dance", "cam02"):
        shutil.copy(sample_path(name), folder / f"b_{name}.mp4")
    out = tmp_path / "out"
    args = [str(folder), "--exercise", "auto", "-o", str(out), "--workers", "1"]
    proc = subprocess.Popen([COACH, "batch", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    results = out / "results"
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(_finished(results)) >= 2:
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the batch ended before it could be killed"
    before = {p.name: p.read_bytes() for p in _finished(results)}
    assert 2 <= len(before) < 6
    assert not (out / "summary.csv").exists()
    for path in _finished(results):
        json.loads(path.read_text(encoding="utf-8"))  # whole, never half-written

    rerun = _batch(*args)
    assert rerun.returncode == 0, rerun.stderr  # an input not judged is not a failure
    reused = len(before)
    assert f"6 inputs: 5 scored ({reused} from earlier runs), 1 not judged, 0 failed" \
        in rerun.stdout
    rows = _rows(out)
    assert sorted(Path(r["input"]).name for r in rows) == sorted(p.name for p in
                                                                 folder.iterdir())
    # The dance is none of the library's movements: it gets no score, and says why.
    status = {Path(r["input"]).name: r["status"] for r in rows}
    assert status.pop("b_dance.mp4") == "not_judged" and set(status.values()) == {"ok"}
    dance = next(r for r in rows if r["input"].endswith("b_dance.mp4"))
    assert "matches no exercise of the library clearly" in dance["error"]
    assert dance["overall"] == "" and "b_dance.mp4" in dance["error"]
    assert "not judged: " in rerun.stdout
    assert {Path(r["input"]).name: r["close_call"] for r in rows if r["status"] == "ok"} == {
        "a_keraal_RTK.json": "no", "a_keraal_ELK.json": "no", "a_keraal_CTK.json": "no",
        "b_squats.mp4": "no", "b_cam02.mp4": "no"}
    after = {p.name: p.read_bytes() for p in _finished(results)}
    assert len(after) == 6
    assert {k: after[k] for k in before} == before  # finished work was not scored again
    _no_partial_files(out)


def _finished(results: Path) -> list[Path]:
    """Result files renamed into place (a killed run may leave a hidden temp file beside them,
    which the next run removes)."""
    return [p for p in results.glob("*.json") if not p.name.startswith(".")]


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists()
            and "Z" not in Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_end_with_the_batch(tmp_path: Path, sample_path: Callable[[str], Path],
                                    sig: signal.Signals) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("dance", "cam02", "cam03", "multi"):
        shutil.copy(sample_path(name), folder / f"{name}.mp4")
    proc = subprocess.Popen([COACH, "batch", str(folder), "--exercise", "squat", "-o",
                             str(tmp_path / "out"), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers = {p for p in _children(proc.pid)
                       if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")}
            time.sleep(0.1)
        assert len(workers) == 2, "the pool did not start its two workers"
        time.sleep(1.0)  # the workers are now loading the model or scoring
        os.kill(proc.pid, sig)  # the main process only, not its group
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(workers):
            time.sleep(0.1)
        assert not _alive(workers), "a worker went on after the batch ended"
        expected = 143 if sig == signal.SIGTERM else -signal.SIGKILL
        assert proc.returncode == expected
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
