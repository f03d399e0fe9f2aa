"""The SQLite session history: a real database file, the schema version, the CLI."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from coach.errors import InputError
from coach.history import (
    SCHEMA_VERSION,
    HistoryStore,
    SessionRecord,
    by_exercise,
    default_db_path,
    recording_from_bytes,
    write_trend_plot,
)
from coach.recording import recording_bytes

COACH = Path(sys.executable).parent / "coach"


def _record(exercise: str, day: int, overall: float | None, **kw: object) -> SessionRecord:
    return SessionRecord(
        exercise=exercise, started_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC) + timedelta(day),
        duration_s=300.0, frames=9000, overall=overall,
        region_scores={"spine": overall, "neck": 70.0, "arms": None},
        cues=("Lengthen your spine, you are bending forward",), source="0",
        summary={"ended": "finished"}, **kw)


def test_round_trip_with_recording(tmp_path, real_sequence):
    seq = real_sequence("squats")
    db = tmp_path / "h.sqlite3"
    with HistoryStore(db) as store:
        first = store.save(_record("squat", 0, 61.5, recording_npz=recording_bytes(seq)))
        store.save(_record("squat", 2, 74.0))
        store.save(_record("qigong-the-wave", 1, None))
    with HistoryStore(db) as store:  # reopened: persisted
        squats = store.sessions("squat")
        assert [r.overall for r in squats] == [61.5, 74.0]
        assert [r.exercise for r in store.sessions()] == ["squat", "qigong-the-wave", "squat"]
        assert squats[0].region_scores["spine"] == 61.5
        assert squats[0].region_scores["arms"] is None
        assert squats[0].recording_npz is None  # listings leave the blobs out
        full = store.get(first)
        assert list(store.exercises()) == ["qigong-the-wave", "squat"]
    back = recording_from_bytes(full.recording_npz)
    assert len(back) == len(seq)
    assert back.image_xyz == pytest.approx(seq.image_xyz, nan_ok=True)
    assert full.video_mp4 is None
    assert full.started_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_schema_version_and_refusals(tmp_path):
    db = tmp_path / "h.sqlite3"
    HistoryStore(db).close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InputError, match="newer"):
        HistoryStore(db)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(InputError, match="not a coach session database"):
        HistoryStore(other)
    with sqlite3.connect(other) as conn:
        conn.execute("PRAGMA user_version = 2")  # a version, but no sessions table
    with pytest.raises(InputError, match="no sessions table"):
        HistoryStore(other)
    under_a_file = tmp_path / "h.sqlite3" / "inside.sqlite3"
    with pytest.raises(InputError, match="is a file, not a folder"):
        HistoryStore(under_a_file)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(InputError, match="junk.sqlite3"):
        HistoryStore(junk)


def test_default_path_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COACH_DB", str(tmp_path / "env.sqlite3"))
    assert default_db_path() == tmp_path / "env.sqlite3"
    monkeypatch.delenv("COACH_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform.startswith("linux"):
        assert default_db_path() == tmp_path / "data" / "coach" / "history.sqlite3"


def _pixels_near(png: Path, colour: tuple[int, int, int], tol: int = 12) -> int:
    import cv2

    rgb = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB).astype(int)
    return int((np.abs(rgb - colour).max(axis=2) <= tol).sum())


#: matplotlib's "tab:red" and "tab:purple": the pain before and after lines.
PAIN_BEFORE_RGB, PAIN_AFTER_RGB = (214, 39, 40), (148, 103, 189)


def test_trend_plot_one_trend_per_exercise_with_pain(tmp_path):
    import cv2

    squats = [_record("squat", d, s, pain_before=p, pain_after=max(0, p - 2))
              for d, (s, p) in enumerate([(55.0, 6), (61.0, 5), (None, 5), (72.0, 3)])]
    path = write_trend_plot(squats, tmp_path / "one.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _pixels_near(path, PAIN_BEFORE_RGB) > 200 and _pixels_near(path, PAIN_AFTER_RGB) > 200
    two = write_trend_plot([*squats, _record("cat-cow", 1, 80.0), _record("cat-cow", 3, 84.0)],
                           tmp_path / "two.png")
    one_h, two_h = cv2.imread(str(path)).shape[0], cv2.imread(str(two)).shape[0]
    assert two_h > 1.7 * one_h  # a second panel: one trend per exercise
    no_pain = write_trend_plot([_record("cat-cow", 1, 80.0)], tmp_path / "np.png")
    assert _pixels_near(no_pain, PAIN_BEFORE_RGB) == 0  # no pain axis without pain given
    assert [g for g in by_exercise([*squats, _record("cat-cow", 1, 8.0)])] == ["cat-cow", "squat"]
    with pytest.raises(InputError):
        write_trend_plot([], tmp_path / "none.png")


def test_history_command_lists_by_exercise_with_pain(tmp_path):
    db = tmp_path / "h.sqlite3"
    with HistoryStore(db) as store:
        for day, score in enumerate([50.0, 64.0, 71.0]):
            store.save(_record("squat", day, score, pain_before=4, pain_after=2))
        store.save(_record("cat-cow", 5, 80.0))
    before = db.read_bytes()
    run = subprocess.run([str(COACH), "history", "--db", str(db), "--plot",
                          str(tmp_path / "p.png")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    blocks = run.stdout.split("\n\n")
    assert blocks[0].startswith("cat-cow: 1 session\n")
    assert blocks[1].startswith("squat: 3 sessions\n")
    squat_rows = blocks[1].splitlines()[2:5]
    assert [row.split()[1] for row in squat_rows] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert all("4->2" in row for row in squat_rows)
    assert "overall 50 -> 71" in blocks[1]
    assert (tmp_path / "p.png").stat().st_size > 5000
    assert db.read_bytes() == before  # only read
    only = subprocess.run([str(COACH), "history", "--db", str(db), "--exercise", "squat"],
                          capture_output=True, text=True, timeout=120)
    assert only.returncode == 0 and "cat-cow" not in only.stdout
    missing = subprocess.run([str(COACH), "history", "--db", str(tmp_path / "none.db")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "no session history yet" in missing.stderr
    assert not (tmp_path / "none.db").exists()


_V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, exercise TEXT NOT NULL,
    started_at TEXT NOT NULL, duration_s REAL NOT NULL, frames INTEGER NOT NULL, overall REAL,
    region_scores TEXT NOT NULL, cues TEXT NOT NULL, source TEXT NOT NULL, summary TEXT NOT NULL,
    recording BLOB, video BLOB);
CREATE INDEX sessions_by_exercise ON sessions (exercise, started_at);
INSERT INTO sessions (exercise, started_at, duration_s, frames, overall, region_scores, cues,
    source, summary) VALUES ('squat', '2026-02-01T09:00:00.000+00:00', 60, 300, 58.5,
    '{"spine": 58.5}', '["Slow down"]', '0', '{}');
PRAGMA user_version = 1;
"""


def test_older_schema_is_read_as_it_is_and_migrated_on_save(tmp_path):
    db = tmp_path / "v1.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.executescript(_V1_SCHEMA)
    before = db.read_bytes()
    listing = subprocess.run([str(COACH), "history", "--db", str(db)], capture_output=True,
                             text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert "squat: 1 session" in listing.stdout and "-->-" in listing.stdout
    assert db.read_bytes() == before  # reading never migrates
    with HistoryStore(db) as store:  # opened for writing: migrated
        assert store.version == SCHEMA_VERSION == 2
        new = store.save(_record("squat", 1, 70.0, pain_before=5, pain_after=3))
        store.set_pain_after(new, 2)
        old, fresh = store.sessions("squat")
    assert (old.overall, old.pain_before, old.pain_after, old.cues) == (58.5, None, None,
                                                                          ("Slow down",))
    assert (fresh.pain_before, fresh.pain_after) == (5, 2)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2


def test_reading_never_writes_an_empty_file(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    run = subprocess.run([str(COACH), "history", "--db", str(empty), "--exercise", "squat"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "no sessions for 'squat'" in run.stdout
    assert empty.stat().st_size == 0


def test_malformed_rows_are_skipped_with_a_warning(tmp_path):
    db = tmp_path / "h.sqlite3"
    with HistoryStore(db) as store:
        good = store.save(_record("squat", 0, 61.0))
        bad_json = store.save(_record("squat", 1, 62.0))
        bad_date = store.save(_record("squat", 2, 63.0))
        bad_pain = store.save(_record("squat", 3, 64.0))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET cues = '[unclosed' WHERE id = ?", (bad_json,))
        conn.execute("UPDATE sessions SET started_at = 'yesterday' WHERE id = ?", (bad_date,))
        conn.execute("UPDATE sessions SET pain_after = 99 WHERE id = ?", (bad_pain,))
    run = subprocess.run([str(COACH), "history", "--db", str(db)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "squat: 1 session" in run.stdout
    assert "skipped 3 malformed session rows" in run.stdout
    for session_id in (bad_json, bad_date, bad_pain):
        assert f"malformed session row with id {session_id}" in run.stderr
    assert "Traceback" not in run.stderr
    with HistoryStore(db, readonly=True) as store:
        assert [r.id for r in store.sessions()] == [good] and store.skipped == 3
