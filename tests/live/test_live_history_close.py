"""The session database connection is closed on every refusal, not only on success."""

from __future__ import annotations

import sqlite3

import pytest

import coach.history
from coach.errors import InputError
from coach.history import SCHEMA_VERSION, HistoryStore


def _record_connections(monkeypatch) -> list[sqlite3.Connection]:
    """Every connection opened from now on, to check afterwards that it was closed."""
    connections: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        connections.append(conn)
        return conn

    monkeypatch.setattr(coach.history.sqlite3, "connect", connect)
    return connections


def _closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def _junk(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    return path


def _newer(tmp_path):
    path = tmp_path / "newer.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    return path


def _foreign(tmp_path):
    path = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (x TEXT)")
    return path


@pytest.mark.parametrize("make", [_junk, _newer, _foreign])
def test_refused_database_leaves_no_open_connection(tmp_path, monkeypatch, make):
    path = make(tmp_path)
    opened = _record_connections(monkeypatch)
    with pytest.raises(InputError, match=path.name):
        HistoryStore(path)
    assert len(opened) == 1 and _closed(opened[0])
