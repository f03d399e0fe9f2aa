"""Putting a live session together: library exercise, source, pose model, window or video,
voice; then the summary files and the session history. ``coach live`` is a thin layer on this.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.atomic import atomic_write
from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend
from coach.errors import CoachError, InputError
from coach.history import HistoryStore, SessionRecord
from coach.library import Library
from coach.live.capture import FrameCapture
from coach.live.coaching import ExerciseCoaching
from coach.live.display import require_display
from coach.live.session import Session, SessionConfig, SessionOutcome
from coach.live.sinks import Sink, VideoSink, WindowSink
from coach.numbers import rounded
from coach.recording import recording_bytes
from coach.sources import FrameSource, open_source

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class LiveOptions:
    """Everything ``coach live`` can be told.

    source: camera index, stream URL or video file. mirror: flip the display (None: flip for
    live cameras, not for files). headless: no window (needs ``output``). setup_check: None =
    on for live cameras, off for files. keep_video: also store the annotated video in the
    session history. db: the history database (None: ``COACH_DB`` or the default).
    reconnect_timeout_s: give up on a lost camera after this long (None: keep trying).
    max_people: people the pose model looks for in each frame (1: nobody else is noticed).
    """

    exercise: str
    source: str = "0"
    mirror: bool | None = None
    voice: bool = False
    headless: bool = False
    output: Path | None = None
    db: Path | None = None
    library_dirs: tuple[str, ...] = ()
    model: Path | None = None
    max_people: int = DEFAULT_MAX_PEOPLE
    setup_check: bool | None = None
    keep_video: bool = False
    save_history: bool = True
    reconnect_timeout_s: float | None = 60.0


@dataclass
class LiveResult:
    """The outcome plus where it was written."""

    outcome: SessionOutcome
    summary: dict[str, Any]
    text: str
    session_id: int | None = None
    files: dict[str, Path] = field(default_factory=dict)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let a polite kill (SIGTERM) end the session like Ctrl-C, so it is still saved."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_live(options: LiveOptions,
             opener: Callable[[str], FrameSource] = open_source) -> LiveResult:
    """Run one session and save it; raises CoachError for what the user must fix (after
    writing the summary files, when only the history could not be saved)."""
    if options.headless and options.output is None:
        raise InputError("--headless needs --output DIR for the annotated video and summary")
    if not options.headless:
        require_display()  # before any window call: OpenCV aborts without a display
    exercise = Library.open(options.library_dirs).get(options.exercise)
    voice = None
    if options.voice:
        from coach.voice import Voice

        voice = Voice()
    source = opener(options.source)
    live = bool(source.is_live)
    mirror = live if options.mirror is None else options.mirror
    setup = live if options.setup_check is None else options.setup_check
    size = (getattr(source, "width", None), getattr(source, "height", None))
    image_size = size if None not in size else None
    paths: dict[str, Path] = {}
    sinks: list[Sink] = []
    try:
        coaching = ExerciseCoaching(exercise, image_size=image_size, source=source.name,
                                    fps=source.fps)
        backend = PoseBackend(options.model, mode="video", max_people=options.max_people)
    except BaseException:
        source.close()
        raise
    capture = FrameCapture(lambda: opener(options.source), live=live, first_source=source,
                           give_up_after_s=options.reconnect_timeout_s)
    try:
        if options.output is not None:
            paths["video"] = Path(options.output) / f"{exercise.slug}.mp4"
            sinks.append(VideoSink(paths["video"], source.fps))
        if not options.headless:
            sinks.append(WindowSink(f"coach - {exercise.name}"))
        config = SessionConfig(view=exercise.meta.view, mirror_display=mirror,
                               setup_check=setup)
        session = Session(capture, backend.detect, coaching, config, sinks, source.fps,
                          speak=None if voice is None else voice.say)
        with _sigterm_as_interrupt():
            outcome = session.run()
    finally:
        capture.stop()
        backend.close()
        if voice is not None:
            voice.close()
        _close_sinks(sinks)
    if "video" in paths and not paths["video"].exists():
        del paths["video"]
    summary = session_summary(exercise.slug, exercise.name, options.source, outcome, paths)
    text = summary_text(summary, outcome)
    result = LiveResult(outcome, summary, text, files=paths)
    history_error: CoachError | None = None
    if options.save_history:
        try:
            result.session_id = save_to_history(options, exercise.slug, summary, outcome,
                                                result.files.get("video"))
            summary["session_id"] = result.session_id
        except CoachError as err:  # the summary files are still written, then this is raised
            history_error = err
    if options.output is not None:
        out = Path(options.output)
        result.files["summary_json"] = out / f"{exercise.slug}.json"
        result.files["summary_text"] = out / f"{exercise.slug}.txt"
        with atomic_write(result.files["summary_json"], "w") as handle:
            json.dump(summary, handle, indent=2)
        with atomic_write(result.files["summary_text"], "w") as handle:
            handle.write(text + "\n")
    if history_error is not None:
        raise CoachError(f"the session could not be saved to the history ({history_error})"
                         + (f"; its summary is in {options.output}" if options.output else ""))
    return result


def _close_sinks(sinks: list[Sink]) -> None:
    errors = []
    for sink in sinks:
        try:
            sink.close()
        except Exception as err:  # noqa: BLE001 - close every sink, then report
            log.error("closing %s failed: %s", type(sink).__name__, err)
            errors.append(err)
    if errors:
        raise CoachError(f"the annotated video could not be written ({errors[0]})")


def session_summary(slug: str, name: str, source: str, outcome: SessionOutcome,
                    files: dict[str, Path]) -> dict[str, Any]:
    """The JSON summary of a session."""
    report = None if outcome.report is None else outcome.report.to_dict()
    return {
        "exercise": slug,
        "exercise_name": name,
        "source": str(source),
        "started_at": outcome.started_at.isoformat(timespec="seconds"),
        "duration_s": round(outcome.duration_s, 2),
        "ended": outcome.reason,
        "message": outcome.message,
        "frames": {"processed": outcome.frames_processed, "coached": outcome.frames_coached,
                   "scored": outcome.frames_scored, "dropped_by_capture": outcome.frames_dropped},
        "fps": rounded(outcome.mean_fps),
        "overall": None if report is None else report.get("overall"),
        "regions": None if report is None else report.get("regions"),
        "cues_shown": [{"cue": text, "frames": n} for text, n in outcome.cue_counts.most_common()],
        "report": report,
        "not_scored_because": outcome.report_error or None,
        "files": {key: os.fspath(path) for key, path in files.items()},
    }


def summary_text(summary: dict[str, Any], outcome: SessionOutcome) -> str:
    """A few lines for the terminal and the ``.txt`` summary."""
    lines = [f"Session: {summary['exercise_name']} ({summary['exercise']}), "
             f"{summary['duration_s']:.1f} s, ended: {summary['ended']}"
             + (f" ({summary['message']})" if summary["message"] and
                summary["ended"] != "finished" else "")]
    frames = summary["frames"]
    lines.append(f"  frames: {frames['processed']} processed, {frames['scored']} scored"
                 + (f", {frames['dropped_by_capture']} dropped" if frames["dropped_by_capture"]
                    else "") + (f", {summary['fps']} fps" if summary["fps"] else ""))
    if outcome.report is not None:
        lines.append(outcome.report.summary_text())
    else:
        lines.append(f"  not scored: {summary['not_scored_because']}")
    if summary["cues_shown"]:
        lines.append("  cues shown during the session:")
        lines += [f"    {c['cue']}" for c in summary["cues_shown"][:5]]
    return "\n".join(lines)


def save_to_history(options: LiveOptions, slug: str, summary: dict[str, Any],
                    outcome: SessionOutcome, video: Path | None) -> int:
    """Store the session; returns its id."""
    cues = tuple(c["cue"] for c in summary["cues_shown"]) or tuple(
        (summary["report"] or {}).get("cues", ()))
    record = SessionRecord(
        exercise=slug, started_at=outcome.started_at, duration_s=outcome.duration_s,
        frames=outcome.frames_scored, overall=summary["overall"],
        region_scores=summary["regions"] or {}, cues=cues[:5], source=str(options.source),
        summary=summary,
        recording_npz=recording_bytes(outcome.recording) if len(outcome.recording) else None,
        video_mp4=video.read_bytes() if options.keep_video and video is not None else None,
    )
    with HistoryStore(options.db) as store:
        return store.save(record)
