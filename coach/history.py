"""Session history: a local SQLite database of past practice sessions.

One row per session: the exercise, when it started (UTC), how long it ran, the overall and
per-region scores, the main cues given, a JSON summary, and the landmark recording as the bytes
of an ``.npz`` landmark file (``coach.recording``). Video is stored only when asked for.

Where the database lives: ``--db PATH`` on the command line, else the ``COACH_DB`` environment
variable, else ``history.sqlite3`` in the user's data folder. The schema carries a version
(SQLite's ``user_version``): an older one is migrated when a session is saved, a newer one
or an SQLite file of another program is refused, not altered; reading never writes.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from coach.errors import InputError
from coach.landmarks import REGIONS
from coach.numbers import finite_or_none
from coach.pose import PoseSequence

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

#: Version 1: the sessions table; 2: pain before and after the session (0-10).
SCHEMA_VERSION = 2
PAIN_SINCE_VERSION = 2
#: The pain check-in's scale.
PAIN_MIN, PAIN_MAX = 0, 10
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
    video         BLOB,              -- annotated H.264 mp4 bytes, only when asked for
    pain_before   INTEGER,           -- 0-10 before the session; NULL when not given
    pain_after    INTEGER            -- 0-10 after it
);
CREATE INDEX sessions_by_exercise ON sessions (exercise, started_at);
"""
#: Schema version N -> N + 1.
_MIGRATIONS = {
    1: "ALTER TABLE sessions ADD COLUMN pain_before INTEGER; "
       "ALTER TABLE sessions ADD COLUMN pain_after INTEGER;",
}

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
    pain_before / pain_after: the practitioner's pain 0-10 before and after, None when not
        given.
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
    pain_before: int | None = None
    pain_after: int | None = None


def recording_from_bytes(data: bytes) -> PoseSequence:
    """The landmark recording stored as ``.npz`` bytes (``coach.recording.recording_bytes``)."""
    from coach.recording import load_recording

    with tempfile.TemporaryDirectory(prefix="coach-rec-") as tmp:
        path = Path(tmp) / "session.npz"
        path.write_bytes(data)
        return load_recording(path)


class HistoryError(InputError):
    """The session database cannot be opened, read or written (the message says which file
    and why)."""


def _problem(path: Path, err: BaseException) -> HistoryError:
    """One line for what went wrong with the database at ``path``."""
    if isinstance(err, HistoryError):
        return err
    text = str(err) or type(err).__name__
    if isinstance(err, sqlite3.DatabaseError) and "not a database" in text:
        return HistoryError(f"{path}: not a usable coach session database ({text})")
    if isinstance(err, OSError) and err.strerror:
        text = err.strerror
    return HistoryError(f"{path}: cannot use the session database ({text})")


class HistoryStore:
    """The session database at ``path``.

    Opened for writing (the default), it is created with the current schema when missing and
    an older schema is migrated. ``readonly=True`` never writes to the file: a missing or empty
    file reads as no sessions, and an older schema is read as it is. A newer schema, or an
    SQLite file that is not a coach session database, is refused with ``HistoryError``; every
    database failure (corrupted, read-only, disk full) is a ``HistoryError`` naming the file.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 readonly: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.readonly = readonly
        self.version = SCHEMA_VERSION
        self.skipped = 0  # malformed rows passed over by the last listing
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise HistoryError(f"{self.path}: is a folder, expected a session database file")
        for folder in self.path.parents:
            if folder.exists() or folder.is_symlink():
                if not folder.is_dir():
                    raise HistoryError(f"{self.path}: cannot use the session database "
                                       f"({folder} is a file, not a folder)")
                break
        try:
            if readonly:
                if not self.path.is_file():
                    raise HistoryError(f"{self.path}: no session history yet "
                                       "(run 'coach live' first)")
                if self.path.stat().st_size == 0:
                    self.version = 0  # an empty file: no sessions, and it stays empty
                    return
                self._conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro",
                                             uri=True)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path)
            self._prepare()
        except BaseException as err:
            self.close()
            if isinstance(err, sqlite3.Error | OSError):
                raise _problem(self.path, err) from err
            raise

    def _prepare(self) -> None:
        conn = self._connection()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path}: session database schema version {version} is "
                               f"newer than this coach understands ({SCHEMA_VERSION}); "
                               "upgrade coach")
        if version == 0 and tables:
            raise HistoryError(f"{self.path}: an SQLite file that is not a coach session "
                               "database (no schema version)")
        if version > 0 and "sessions" not in tables:
            raise HistoryError(f"{self.path}: not a coach session database (schema version "
                               f"{version} but no sessions table)")
        self.version = version
        if self.readonly or version == SCHEMA_VERSION:
            return
        with conn:
            if version == 0:
                conn.executescript(_SCHEMA)
            else:
                for step in range(version, SCHEMA_VERSION):
                    conn.executescript(_MIGRATIONS[step])
                log.info("%s: session database migrated from schema %d to %d", self.path,
                         version, SCHEMA_VERSION)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self.version = SCHEMA_VERSION

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the session database is closed")
        return self._conn

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def save(self, record: SessionRecord) -> int:
        """Store one session in a single transaction; returns its id."""
        if self.readonly:
            raise RuntimeError("HistoryStore.save on a store opened read-only")
        started = record.started_at.astimezone(UTC).isoformat(timespec="milliseconds")
        regions = {name: finite_or_none(record.region_scores.get(name)) for name in REGIONS}
        conn = self._connection()
        try:
            with conn:
                cursor = conn.execute(
                    "INSERT INTO sessions (exercise, started_at, duration_s, frames, overall, "
                    "region_scores, cues, source, summary, recording, video, pain_before, "
                    "pain_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.exercise, started, float(record.duration_s), int(record.frames),
                     finite_or_none(record.overall), json.dumps(regions),
                     json.dumps(list(record.cues)), record.source, json.dumps(record.summary),
                     record.recording_npz, record.video_mp4, _pain(record.pain_before),
                     _pain(record.pain_after)),
                )
        except (sqlite3.Error, OSError) as err:
            raise _problem(self.path, err) from err
        session_id = int(cursor.lastrowid)  # type: ignore[arg-type]
        log.info("saved session %d (%s) to %s", session_id, record.exercise, self.path)
        return session_id

    def set_pain_after(self, session_id: int, pain: int) -> None:
        """Store the pain rating given after session ``session_id`` had been saved."""
        try:
            with self._connection() as conn:
                conn.execute("UPDATE sessions SET pain_after = ? WHERE id = ?",
                             (_pain(pain), session_id))
        except (sqlite3.Error, OSError) as err:
            raise _problem(self.path, err) from err

    def _columns(self) -> str:
        pain = "pain_before, pain_after" if self.version >= PAIN_SINCE_VERSION else "NULL, NULL"
        return f"{', '.join(_COLUMNS)}, {pain}"

    def sessions(self, exercise: str | None = None) -> list[SessionRecord]:
        """Stored sessions, oldest first, without the recording and video bytes; a malformed
        row is skipped with a warning (counted in ``skipped``)."""
        self.skipped = 0
        if self._conn is None and self.version == 0:
            return []
        query = f"SELECT {self._columns()} FROM sessions"
        args: Sequence[object] = ()
        if exercise is not None:
            query += " WHERE exercise = ?"
            args = (exercise,)
        records = []
        try:
            rows = self._connection().execute(query + " ORDER BY started_at, id", args)
            for row in rows:
                try:
                    records.append(_record(row))
                except (ValueError, TypeError, KeyError, OverflowError,
                        RecursionError) as err:
                    self.skipped += 1
                    log.warning("%s: skipped the malformed session row with id %r (%s)",
                                self.path, row[0], err)
        except sqlite3.Error as err:
            raise _problem(self.path, err) from err
        return records

    def get(self, session_id: int) -> SessionRecord:
        """One session with its recording and video bytes."""
        try:
            row = self._connection().execute(
                f"SELECT {self._columns()}, recording, video FROM sessions WHERE id = ?",
                (session_id,)).fetchone()
        except sqlite3.Error as err:
            raise _problem(self.path, err) from err
        if row is None:
            raise HistoryError(f"{self.path}: no session with id {session_id}")
        try:
            return _record(row[:-2], recording=row[-2], video=row[-1])
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as err:
            raise HistoryError(f"{self.path}: session {session_id} is malformed ({err})") \
                from err

    def exercises(self) -> list[str]:
        """Names of the exercises with at least one stored session."""
        if self._conn is None and self.version == 0:
            return []
        try:
            return [str(name) for (name,) in self._connection().execute(
                "SELECT DISTINCT exercise FROM sessions ORDER BY 1")]
        except sqlite3.Error as err:
            raise _problem(self.path, err) from err


def _pain(value: object) -> int | None:
    """A pain rating 0-10 as stored (None: not asked or skipped)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not (isinstance(value, int) or float(value).is_integer()) or \
            not PAIN_MIN <= value <= PAIN_MAX:
        raise ValueError(f"pain: expected a whole number {PAIN_MIN}-{PAIN_MAX}, got {value!r}")
    return int(value)


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected text, got {type(value).__name__}")
    return value


def _score_or_none(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a score, got {value!r}")
    return finite_or_none(float(value))


def _record(row: Sequence[object], recording: bytes | None = None,
            video: bytes | None = None) -> SessionRecord:
    """A stored row as a ``SessionRecord``; ValueError or TypeError when it is malformed."""
    (session_id, exercise, started, duration, frames, overall, regions, cues, source,
     summary, pain_before, pain_after) = row
    started_at = datetime.fromisoformat(_text(started, "started_at"))
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    region_scores = json.loads(_text(regions, "region_scores"))
    cue_list = json.loads(_text(cues, "cues"))
    summary_dict = json.loads(_text(summary, "summary"))
    if not isinstance(region_scores, dict) or not isinstance(summary_dict, dict) or \
            not isinstance(cue_list, list) or not all(isinstance(c, str) for c in cue_list):
        raise ValueError("region_scores, cues or summary has the wrong shape")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or \
            isinstance(frames, bool) or not isinstance(frames, int):
        raise TypeError("duration_s or frames is not a number")
    return SessionRecord(
        exercise=_text(exercise, "exercise"), started_at=started_at,
        duration_s=float(duration), frames=frames,
        overall=_score_or_none(overall),
        region_scores={str(k): _score_or_none(v) for k, v in region_scores.items()},
        cues=tuple(cue_list), source=str(source), summary=summary_dict,
        recording_npz=recording, video_mp4=video, id=int(session_id),  # type: ignore[call-overload]
        pain_before=_pain(pain_before), pain_after=_pain(pain_after),
    )


#: Most date labels on a trend's axis (the rest of the sessions are still plotted).
MAX_DATE_LABELS = 8


def by_exercise(records: Sequence[SessionRecord]) -> dict[str, list[SessionRecord]]:
    """``records`` grouped by exercise (exercises in order of name, sessions in the order
    given)."""
    groups: dict[str, list[SessionRecord]] = {}
    for record in records:
        groups.setdefault(record.exercise, []).append(record)
    return dict(sorted(groups.items()))


def write_trend_plot(records: Sequence[SessionRecord], path: str | os.PathLike[str],
                     title: str = "Practice sessions") -> Path:
    """A PNG with one trend per exercise, atomically: the overall and per-region scores of
    each session (left axis, 0-100) and the pain before and after it (right axis, 0-10),
    sessions evenly spaced and labelled with their local date and time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coach.atomic import atomic_path

    if not records:
        raise InputError(f"{path}: no sessions to plot")
    groups = by_exercise(records)
    fig, axes = plt.subplots(len(groups), 1, figsize=(9, 1.0 + 3.6 * len(groups)), dpi=110,
                             squeeze=False)
    try:
        for ax, (exercise, group) in zip(axes[:, 0], groups.items(), strict=True):
            _plot_exercise(ax, exercise, group)
        fig.suptitle(title)
        fig.tight_layout()
        target = Path(path)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return target


def _plot_exercise(ax: Axes, exercise: str, records: Sequence[SessionRecord]) -> None:
    x = list(range(1, len(records) + 1))
    for region in REGIONS:
        values = [_nan(r.region_scores.get(region)) for r in records]
        ax.plot(x, values, marker=".", linewidth=1, alpha=0.5, label=region)
    ax.plot(x, [_nan(r.overall) for r in records], marker="o", linewidth=2.5,
            color="black", label="overall score")
    ax.set_ylim(0, 100)
    ax.set_ylabel("score (0-100)")
    ax.set_title(f"{exercise}: {len(records)} session{'s' * (len(records) != 1)}",
                 loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    every = max(1, -(-len(records) // MAX_DATE_LABELS))
    ticks = x[::every]
    ax.set_xticks(ticks)
    ax.set_xticklabels([records[i - 1].started_at.astimezone().strftime("%Y-%m-%d\n%H:%M")
                        for i in ticks], fontsize=8)
    ax.set_xlim(0.5, len(records) + 0.5)
    ax.set_xlabel("session (local date and time)")
    handles, labels = ax.get_legend_handles_labels()
    pains = [("pain_before", "pain before", "tab:red", "v"),
             ("pain_after", "pain after", "tab:purple", "^")]
    if any(getattr(r, key) is not None for r in records for key, *_ in pains):
        pain_ax = ax.twinx()
        for key, label, colour, marker in pains:
            pain_ax.plot(x, [_nan(getattr(r, key)) for r in records], linestyle="--",
                         marker=marker, color=colour, label=label)
        pain_ax.set_ylim(0, PAIN_MAX)
        pain_ax.set_ylabel(f"pain ({PAIN_MIN}-{PAIN_MAX})")
        more_handles, more_labels = pain_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="lower left", ncol=5, fontsize=7)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
