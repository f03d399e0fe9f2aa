"""The SQLite session history: a real database file, the schema version, the CLI."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coach.errors import InputError
from coach.history import (
    SCHEMA_VERSION,
    HistoryStore,
    SessionRecord,
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


def test_trend_plot_is_a_png(tmp_path):
    records = [_record("squat", d, s) for d, s in enumerate([55.0, 61.0, None, 72.0])]
    path = write_trend_plot(records, tmp_path / "trend.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError):
        write_trend_plot([], tmp_path / "none.png")


def test_history_command(tmp_path):
    db = tmp_path / "h.sqlite3"
    with HistoryStore(db) as store:
        for day, score in enumerate([50.0, 64.0, 71.0]):
            store.save(_record("squat", day, score))
        store.save(_record("cat-cow", 5, 80.0))
    run = subprocess.run([str(COACH), "history", "--db", str(db), "--exercise", "squat",
                          "--plot", str(tmp_path / "p.png")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:5] == ["id", "started", "exercise", "time", "overall"]
    assert sum("squat" in line for line in lines) == 3
    assert "cat-cow" not in run.stdout
    assert "overall 50 -> 71" in run.stdout
    assert (tmp_path / "p.png").stat().st_size > 5000
    missing = subprocess.run([str(COACH), "history", "--db", str(tmp_path / "none.db")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "no session history yet" in missing.stderr
