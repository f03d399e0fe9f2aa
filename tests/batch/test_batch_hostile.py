"""One bad file never stops a batch: hostile inputs beside good ones, through the real
``coach batch`` command; temp folders gone after SIGTERM and after a SIGKILL's next run; the
output folder checked before any scoring and never read back as input."""

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

import pytest

from coach.batch.report import MAX_TICKS, csv_cell, timeline_svg
from coach.batch.scratch import SCRATCH_RE, make_scratch, remove_stale_scratch

COACH = str(Path(sys.executable).with_name("coach"))
FLANK = "keraal-flank-stretch"


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["TMPDIR"] = str(tmp)
    tmp.mkdir(exist_ok=True)
    return env


def _batch(args: list[str], env: dict[str, str], timeout: float = 300, cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COACH, "batch", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, check=False, cwd=cwd)


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        return {Path(r["input"].lstrip("'")).name: r for r in csv.DictReader(handle)}


def _scratch(tmp: Path) -> list[str]:
    return [p.name for p in tmp.iterdir() if SCRATCH_RE.match(p.name)]


def _recording(sample: Path, times: list[float] | None = None) -> dict:
    """A coach recording (as JSON fields) of the KERAAL sample's first frames."""
    from coach.recording import load_keraal, recording_bytes

    seq = load_keraal(sample).slice(0, 60)
    fields = json.loads(recording_bytes(seq, "json"))
    if times is not None:
        fields["timestamps_ms"] = times
    return fields


def test_hostile_inputs_beside_good_ones(tmp_path: Path,
                                         sample_path: Callable[[str], Path]) -> None:
    good = sample_path("keraal_ELK")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    shutil.copy(good, uploads / "good.json")
    step = [i * 33.3 for i in range(60)]
    # Durations that overflow to infinity, a clock far beyond any video's, a huge last step.
    infinite = _recording(good, [-1.7e308] + [1.7e308 * (i / 59) for i in range(1, 60)])
    (uploads / "infinite.json").write_text(json.dumps(infinite), encoding="utf-8")
    (uploads / "far.json").write_text(json.dumps(_recording(good, step[:-1] + [1e15])),
                                      encoding="utf-8")
    late = _recording(good, step[:-1] + [8e8])  # within ten days: scored, report stays small
    (uploads / "late.json").write_text(json.dumps(late), encoding="utf-8")
    (uploads / "loop.npz").symlink_to("loop2.npz")
    (uploads / "loop2.npz").symlink_to("loop.npz")
    formula = uploads / '=HYPERLINK("x.example","y").json'
    shutil.copy(good, formula)
    out = uploads / "results-inside"  # the output folder inside the input folder
    env = _env(tmp_path / "tmp")
    # Run in the upload folder, so the inputs' names start the CSV's cells.
    args = [".", "--exercise", FLANK, "-o", "results-inside"]
    done = _batch(args, env, cwd=uploads)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    rows = _rows(out)
    assert set(rows) == {"good.json", "infinite.json", "far.json", "late.json", "loop.npz",
                         "loop2.npz", formula.name}
    for name in ("good.json", "late.json", formula.name):
        assert rows[name]["status"] == "ok", rows[name]
    assert "ten days" in rows["infinite.json"]["error"]
    assert "ten days" in rows["far.json"]["error"]
    assert "symbolic link" in rows["loop.npz"]["error"]
    for name in ("infinite.json", "far.json", "loop.npz", "loop2.npz"):
        assert rows[name]["status"] == "error" and rows[name]["error"].startswith(f"{name}: ")
    text = (out / "summary.csv").read_text(encoding="utf-8")
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert rows[formula.name]["input"].startswith("'")
    assert (out / "report.html").stat().st_size < 2_000_000
    assert _scratch(tmp_path / "tmp") == []

    again = _batch(args, env, cwd=uploads)
    assert again.returncode == 1, again.stderr
    assert "7 inputs: 3 scored (4 from earlier runs), 4 failed" in again.stdout
    assert set(_rows(out)) == set(rows)  # its own results were not read as inputs


def test_an_unwritable_output_folder_is_refused_before_scoring(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    started = time.monotonic()
    done = _batch([str(sample_path("squats")), "--exercise", "squat", "-o",
                   str(blocker / "out")], _env(tmp_path / "tmp"))
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert done.stderr.strip().splitlines() == [
        f"coach: error: {blocker / 'out'}: the output folder cannot be written ({blocker} is "
        "a file, not a folder)"]


def _start(tmp: Path, folder: Path, out: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([COACH, "batch", str(folder), "--exercise", "squat", "-o", str(out),
                             "--workers", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env(tmp), start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.startswith("coach-references-") for p in tmp.glob("coach-batch-*/*")):
            return proc  # a worker has unpacked its references: scratch folders exist
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the batch ended or stalled before its workers started")


@pytest.mark.slow
def test_temp_folders_are_gone_after_sigterm_and_after_a_sigkill_s_next_run(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    for name in ("squats", "dance", "cam02"):
        shutil.copy(sample_path(name), folder / f"{name}.mp4")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = _start(tmp, folder, tmp_path / "out")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert _scratch(tmp) == []

    proc = _start(tmp, folder, tmp_path / "out")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(1)  # the workers die with their parent
    assert _scratch(tmp), "a killed batch cannot clean up: its folder stays until the next run"
    done = _batch([str(folder), "--exercise", "squat", "-o", str(tmp_path / "out")],
                  _env(tmp))
    assert done.returncode in (0, 1) and "3 inputs:" in done.stdout, done.stderr
    assert _scratch(tmp) == []


def test_stale_scratch_is_removed_only_when_its_process_is_gone(tmp_path: Path) -> None:
    mine = make_scratch("references", tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f"coach-batch-{dead}-abcd"
    (stale / "coach-input-1-x").mkdir(parents=True)
    other = tmp_path / "coach-notes"
    other.mkdir()
    assert remove_stale_scratch(tmp_path) == 1
    assert mine.is_dir() and other.is_dir() and not stale.exists()


def test_timeline_of_any_span_has_few_ticks() -> None:
    for span in (1.0, 5e3, 3.6e6, 8e8, 1e15, 1e300):
        svg = timeline_svg([0.0, 10.0, span], [50.0, 60.0, 70.0])
        assert 1 <= len(svg["xticks"]) <= MAX_TICKS + 1, span


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@cmd", "'@cmd"),
    ("\tx", " x"), ("plain", "plain"), ("a\x1b[2Jb", "a [2Jb"), (-3.5, -3.5), (7, 7),
])
def test_csv_cells_never_start_a_formula(value: object, shown: object) -> None:
    assert csv_cell(value) == shown


def test_a_result_that_cannot_be_stored_becomes_that_inputs_error(tmp_path: Path) -> None:
    from coach.batch.jobs import Job
    from coach.batch.runner import _store
    from coach.batch.store import Outcome, ResultStore

    job = Job("clips/a.npz", "sha", 10, "k" * 32, "squat", 1, False)
    result = {"key": job.key, "status": "ok", "input": {"path": job.path, "name": "a.npz"},
              "video": {"duration_s": float("inf")}}
    stored = _store(ResultStore(tmp_path / "out"), Outcome(result), [job])
    assert stored["status"] == "error"
    assert stored["error"]["message"].startswith("clips/a.npz: the result cannot be stored (")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "results").write_text("a file where the folder should be")
    stored = _store(ResultStore(tmp_path / "full"), Outcome({**result, "video": {}}), [job])
    assert stored["status"] == "error" and "cannot be written" in stored["error"]["message"]


@pytest.mark.slow
def test_auto_leaves_out_a_broken_exercise(tmp_path: Path) -> None:
    from coach.batch.references import load_references
    from coach.library import Library
    from tests.library.library_helpers import write_exercise

    write_exercise(tmp_path / "own" / "broken", takes={"take-001.npz": b"PK\x03\x04 junk"})
    refs = load_references(Library.open([tmp_path / "own"], env={}), "auto")
    assert "broken" not in refs.slugs and "squat" in refs.slugs


def test_names_from_disk_are_printed_without_control_characters(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "\x1b[2J\x1b]0;owned\x07.npz").write_bytes(b"PK\x03\x04 not a recording")
    done = _batch([str(uploads), "--exercise", FLANK, "-o", str(tmp_path / "out")],
                  _env(tmp_path / "tmp"))
    assert done.returncode == 1, done.stderr
    assert "failed:" in done.stdout and "[2J ]0;owned .npz" in done.stdout
    for text in (done.stdout, done.stderr, (tmp_path / "out" / "summary.csv").read_text()):
        assert "\x1b[2J" not in text and "\x1b]0" not in text and "\x07" not in text
