"""A session is never lost: whatever is wrong with the history database, a live session's
summary, landmark recording and video are written where the person asked, and the message
says where and why. Real subprocesses, the real model, real SQLite files."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coach.history import SCHEMA_VERSION, HistoryStore
from coach.recording import load_recording

COACH = Path(sys.executable).parent / "coach"
pytestmark = pytest.mark.slow


def _corrupted(folder: Path) -> Path:
    db = folder / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    data = bytearray(db.read_bytes())
    data[:100] = b"\xff" * 100  # the header gone: SQLite no longer recognises the file
    db.write_bytes(bytes(data))
    return db


def _foreign(folder: Path) -> Path:
    db = folder / "notes.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    return db


def _changed_coach_db(folder: Path, name: str, sql: str) -> Path:
    """An empty coach session database, then ``sql`` run on it."""
    db = folder / name
    with HistoryStore(db):
        pass
    with sqlite3.connect(db) as conn:
        conn.execute(sql)
    return db


def _newer(folder: Path) -> Path:
    return _changed_coach_db(folder, "newer.sqlite3", f"PRAGMA user_version = {SCHEMA_VERSION + 1}")


def _no_sessions_table(folder: Path) -> Path:
    return _changed_coach_db(folder, "dropped.sqlite3", "DROP TABLE sessions")


def _under_a_file(folder: Path) -> Path:
    (folder / "a-file").write_text("not a folder\n")
    return folder / "a-file" / "history.sqlite3"


def _read_only(folder: Path) -> Path:
    """A database file nobody may write: immutable (``chattr +i``) when the tests run as root,
    who may write any file whatever its mode; else without write permission."""
    db = folder / "history.sqlite3"
    with HistoryStore(db):
        pass
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(db)], capture_output=True)
        if made.returncode != 0:
            pytest.skip("cannot make a file read-only for root here (chattr +i failed)")
        _UNDO.append(["chattr", "-i", str(db)])
    return db


def _full_disk(folder: Path) -> Path:
    """A database on a small file system that is full (a tmpfs mount: needs root)."""
    disk = folder / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small file system here to fill it")
    _UNDO.append(["umount", str(disk)])
    db = disk / "history.sqlite3"
    with HistoryStore(db):
        pass
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass  # full
    finally:
        os.close(fd)
    return db


#: Commands that undo what a case did to the system (run after each test).
_UNDO: list[list[str]] = []


@pytest.fixture(autouse=True)
def _undo():
    yield
    while _UNDO:
        subprocess.run(_UNDO.pop(), capture_output=True)


CASES = {"corrupted": (_corrupted, "not a usable coach session database"),
         "foreign": (_foreign, "not a coach session database"),
         "newer": (_newer, "newer than this coach understands"),
         "no-sessions-table": (_no_sessions_table, "no sessions table"),
         "under-a-file": (_under_a_file, "is a file, not a folder"),
         "read-only": (_read_only, "readonly database"),
         "full-disk": (_full_disk, "database or disk is full")}


@pytest.mark.parametrize("case", list(CASES))
def test_unusable_history_does_not_lose_the_session(tmp_path_factory, sample_path, case):
    make, reason = CASES[case]
    folder = tmp_path_factory.mktemp(case)
    db = make(folder)
    out = folder / "out"
    before = db.read_bytes() if db.is_file() else None
    run = subprocess.run(
        [str(COACH), "live", "--exercise", "squat", "--source", str(sample_path("squats")),
         "--headless", "--output", str(out), "--db", str(db), "--pain-before", "4"],
        capture_output=True, text=True, timeout=300,
        )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    error = run.stderr.strip().splitlines()[-1]
    assert error.startswith("coach: error: the session could not be saved to the history")
    assert str(db) in error and reason in error
    assert f"its summary and landmark recording are in {out}" in error
    files = sorted(out.iterdir())
    assert sorted(p.suffix for p in files) == [".json", ".mp4", ".npz", ".txt"]
    assert len({p.stem for p in files}) == 1 and files[0].stem.startswith("squat-")
    summary = json.loads(next(p for p in files if p.suffix == ".json").read_text())
    assert summary["frames"]["processed"] == 65 and summary["pain_before"] == 4
    assert summary["overall"] is not None
    recording = load_recording(next(p for p in files if p.suffix == ".npz"))
    assert len(recording) == summary["frames"]["scored"] > 0
    assert next(p for p in files if p.suffix == ".mp4").stat().st_size > 10_000
    if before is not None:
        assert db.read_bytes() == before  # refused, not altered
