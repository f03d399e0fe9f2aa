"""A take interrupted part-way (the process killed while writing) leaves the library loadable
and the earlier takes intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from coach.library import Library, parse_meta
from tests.library.library_helpers import COACH, FLOWING_TOML, ROOT, tree_hash

#: A writer process: adds one very long take (so that writing it takes a while).
WRITER = """
import sys
import numpy as np
from coach.library import Library
from coach.pose import PoseSequence

n = int(sys.argv[2])
rng = np.random.default_rng(1)
seq = PoseSequence(rng.random((n, 33, 3)), rng.random((n, 33)), rng.random((n, 33, 3)),
                   np.arange(n) * 33.3, 30.0, "long take")
print("ready", flush=True)
Library.open([sys.argv[1]], include_builtin=False).add_take("flow", seq)
print("done", flush=True)
"""


def _library_with_one_take(root: Path, real_take) -> Library:  # noqa: ANN001
    library = Library.open([root], include_builtin=False)
    library.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    library.add_take("flow", real_take)
    return library


def _temp_files(takes: Path) -> list[Path]:
    return [p for p in takes.iterdir() if p.name.startswith(".")] if takes.is_dir() else []


def _partly_written(takes: Path) -> bool:
    """True once a temp take file holds some, but not yet all, of its bytes."""
    try:
        return any(p.stat().st_size > 0 for p in _temp_files(takes))
    except FileNotFoundError:  # renamed or removed between listing and stat
        return False


def test_writer_killed_while_writing_a_take(tmp_path: Path, real_sequence) -> None:  # noqa: ANN001
    real = real_sequence("keraal_RTK")
    root = tmp_path / "own"
    _library_with_one_take(root, real)
    takes = root / "flow" / "takes"
    first = (takes / "take-001.npz").read_bytes()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(root), "60000"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 120
    while not _partly_written(takes) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    assert proc.poll() is None, "the writer finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _temp_files(takes)
    print(f"killed mid-write: {[(p.name, p.stat().st_size) for p in partial]}")
    assert partial and partial[0].stat().st_size > 0, "the kill should land mid-write"
    library = Library.open([root], include_builtin=False)
    exercise = library.get("flow")
    assert [p.name for p in exercise.take_paths] == ["take-001.npz"]
    assert (takes / "take-001.npz").read_bytes() == first
    np.testing.assert_array_equal(exercise.takes[0].image_xyz, real.image_xyz)
    assert library.add_take("flow", real).name == "take-002.npz"
    assert len(library.get("flow").takes) == 2


def test_coach_record_killed_part_way(tmp_path: Path, real_sequence) -> None:  # noqa: ANN001
    real = real_sequence("keraal_RTK")
    root = tmp_path / "own"
    _library_with_one_take(root, real)
    first = (root / "flow" / "takes" / "take-001.npz").read_bytes()
    env = dict(os.environ, COACH_LIBRARY=str(root))
    for delay in (0.3, 1.0, 2.0, 3.0, 4.0):
        before = tree_hash(root)
        proc = subprocess.Popen([str(COACH), "record", "flow", "--source",
                                 "samples/tfjs_squats/pose_squats.mp4"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        exercise = Library.open([root], include_builtin=False).get("flow")
        assert (root / "flow" / "takes" / "take-001.npz").read_bytes() == first
        if not finished and tree_hash(root) != before:
            # Killed after the take was complete: it is whole and loadable.
            assert len(exercise.takes) >= 2
        for take in exercise.takes:
            assert len(take) > 0
