"""Session history: a local SQLite database of past practice sessions.

One row per session: the exercise, when it started (UTC), how long it ran, the overall and
per-region scores, the main cues given, a JSON summary, and the landmark recording as the bytes
of an ``.npz`` landmark file (``coach.recording``). Video is stored only when asked for.

Where the database lives: ``--db PATH`` on the command line, else the ``COACH_DB`` environment
variable, else ``history.sqlite3`` in the user's data folder. The schema carries a version
(SQLite's ``user_version``); a database from a newer coach is refused, not altered.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from coach.errors import InputError
from coach.landmarks import REGIONS
from coach.numbers import finite_or_none
from coach.pose import PoseSequence

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ENV_VAR = "COACH_DB"
DB_NAME = "history.sqlite3"

_SCHEMA = """
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    exercise      TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,  -- ISO 8601, UTC
    duration_s    REAL    NOT NULL,
    frames        INTEGER NOT NULL,  -- frames with the person scored
    overall       REAL,              -- 0-100; NULL when there was not enough pose to score
    region_scores TEXT    NOT NULL,  -- JSON object region -> 0-100 or null
    cues          TEXT    NOT NULL,  -- JSON list of the main cues, most frequent first
    source        TEXT    NOT NULL,  -- camera index, URL or file the session came from
    summary       TEXT    NOT NULL,  -- JSON: the full session summary
    recording     BLOB,              -- landmark recording, .npz bytes (coach.recording)
    video         BLOB               -- annotated H.264 mp4 bytes, only when asked for
);
CREATE INDEX sessions_by_exercise ON sessions (exercise, started_at);
"""

_COLUMNS = ("id", "exercise", "started_at", "duration_s", "frames", "overall", "region_scores",
            "cues", "source", "summary")


def user_data_dir() -> Path:
    """The per-user folder for coach's data (XDG on Linux, the usual places elsewhere)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "coach"


def default_db_path() -> Path:
    """``$COACH_DB`` when set, else ``history.sqlite3`` in the user data folder."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else user_data_dir() / DB_NAME


@dataclass(frozen=True)
class SessionRecord:
    """One practice session as stored.

    started_at: timezone-aware UTC start time.
    duration_s: wall time from the first to the last frame, in seconds.
    frames: frames in which the person was seen and scored.
    overall: 0-100, or None when there was not enough pose to score.
    region_scores: region name (``coach.landmarks.REGIONS``) -> 0-100 or None.
    cues: the main cues given, most frequent first.
    summary: the JSON-serialisable session summary.
    recording_npz: the landmark recording as ``.npz`` bytes, or None.
    video_mp4: the annotated video's bytes, only when asked for.
    id: the database row id, None before saving.
    """

    exercise: str
    started_at: datetime
    duration_s: float
    frames: int
    overall: float | None
    region_scores: Mapping[str, float | None]
    cues: tuple[str, ...]
    source: str = ""
    summary: Mapping[str, object] = field(default_factory=dict)
    recording_npz: bytes | None = None
    video_mp4: bytes | None = None
    id: int | None = None


def recording_from_bytes(data: bytes) -> PoseSequence:
    """The landmark recording stored as ``.npz`` bytes (``coach.recording.recording_bytes``)."""
    from coach.recording import load_recording

    with tempfile.TemporaryDirectory(prefix="coach-rec-") as tmp:
        path = Path(tmp) / "session.npz"
        path.write_bytes(data)
        return load_recording(path)


class HistoryStore:
    """The session database at ``path`` (created with the current schema when missing)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, expected a session database file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(self.path)
        except sqlite3.DatabaseError as err:
            raise InputError(f"{self.path}: not a usable coach session database ({err})") from err
        try:
            self._prepare()
        except BaseException as err:
            self._conn.close()
            if isinstance(err, sqlite3.DatabaseError):
                raise InputError(f"{self.path}: not a usable coach session database "
                                 f"({err})") from err
            raise

    def _prepare(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(f"{self.path}: session database schema version {version} is newer "
                             f"than this coach understands ({SCHEMA_VERSION}); upgrade coach")
        if version == 0:
            tables = self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if tables.fetchall():
                raise InputError(f"{self.path}: an SQLite file that is not a coach session "
                                 "database (no schema version)")
            with self._conn:
                self._conn.executescript(_SCHEMA)
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def save(self, record: SessionRecord) -> int:
        """Store one session in a single transaction; returns its id."""
        started = record.started_at.astimezone(UTC).isoformat(timespec="milliseconds")
        regions = {name: finite_or_none(record.region_scores.get(name)) for name in REGIONS}
        with self._conn:
            cursor = self._conn.execute(
                "INSERT INTO sessions (exercise, started_at, duration_s, frames, overall, "
                "region_scores, cues, source, summary, recording, video) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.exercise, started, float(record.duration_s), int(record.frames),
                 finite_or_none(record.overall), json.dumps(regions),
                 json.dumps(list(record.cues)), record.source, json.dumps(record.summary),
                 record.recording_npz, record.video_mp4),
            )
        session_id = int(cursor.lastrowid)  # type: ignore[arg-type]
        log.info("saved session %d (%s) to %s", session_id, record.exercise, self.path)
        return session_id

    def sessions(self, exercise: str | None = None) -> list[SessionRecord]:
        """Stored sessions, oldest first, without the recording and video bytes."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM sessions"
        args: Sequence[object] = ()
        if exercise is not None:
            query += " WHERE exercise = ?"
            args = (exercise,)
        rows = self._conn.execute(query + " ORDER BY started_at, id", args)
        return [_record(row) for row in rows]

    def get(self, session_id: int) -> SessionRecord:
        """One session with its recording and video bytes."""
        row = self._conn.execute(
            f"SELECT {', '.join(_COLUMNS)}, recording, video FROM sessions WHERE id = ?",
            (session_id,)).fetchone()
        if row is None:
            raise InputError(f"{self.path}: no session with id {session_id}")
        return _record(row[:len(_COLUMNS)], recording=row[-2], video=row[-1])

    def exercises(self) -> Iterator[str]:
        """Names of the exercises with at least one stored session."""
        for (name,) in self._conn.execute("SELECT DISTINCT exercise FROM sessions ORDER BY 1"):
            yield name


def _record(row: Sequence[object], recording: bytes | None = None,
            video: bytes | None = None) -> SessionRecord:
    (session_id, exercise, started, duration, frames, overall, regions, cues, source,
     summary) = row
    return SessionRecord(
        exercise=str(exercise), started_at=datetime.fromisoformat(str(started)),
        duration_s=float(duration), frames=int(frames),  # type: ignore[arg-type]
        overall=finite_or_none(overall),  # type: ignore[arg-type]
        region_scores=json.loads(str(regions)),
        cues=tuple(json.loads(str(cues))), source=str(source), summary=json.loads(str(summary)),
        recording_npz=recording, video_mp4=video, id=int(session_id),  # type: ignore[arg-type]
    )


def write_trend_plot(records: Sequence[SessionRecord], path: str | os.PathLike[str],
                     title: str = "Practice sessions") -> Path:
    """A PNG of the overall and per-region scores of ``records`` over time, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from coach.atomic import atomic_path

    if not records:
        raise InputError(f"{path}: no sessions to plot")
    times = [r.started_at.astimezone() for r in records]
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    try:
        for region in REGIONS:
            values = [_nan(r.region_scores.get(region)) for r in records]
            ax.plot(times, values, marker=".", linewidth=1, alpha=0.6, label=region)
        ax.plot(times, [_nan(r.overall) for r in records], marker="o", linewidth=2.5,
                color="black", label="overall")
        ax.set_ylim(0, 100)
        ax.set_ylabel("score (0-100)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", ncol=4, fontsize=8)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        fig.tight_layout()
        target = Path(path)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return target


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
