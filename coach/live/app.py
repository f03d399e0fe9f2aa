"""Putting a live session together: library exercise, source, pose model, window or video,
voice; the safety screen and pain check-in before it; then the summary files, the session
history and the summary screen. ``coach live`` is a thin layer on this.

A session is never lost: the summary and the landmark recording are written to ``--output``
(or, when the history cannot take them and there is no ``--output``, to a folder of unsaved
sessions) before any error about the history or the video is raised, and the error says where
they are.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from coach.atomic import atomic_write
from coach.backend import DEFAULT_MAX_PEOPLE, PoseBackend
from coach.errors import CoachError, InputError, OutputError
from coach.history import HistoryError, HistoryStore, SessionRecord, user_data_dir
from coach.library import Exercise, Library
from coach.library.take_video import reference_video
from coach.live.coaching import ExerciseCoaching
from coach.live.display import require_display
from coach.live.screens import (
    ENTER_KEYS,
    ESCAPE,
    LOADING_SIZE,
    SPACE,
    PainInput,
    open_loading_window,
    safety_screen,
    summary_screen,
)
from coach.live.session import Session, SessionConfig, SessionOutcome
from coach.live.sinks import Sink, VideoSink, WindowSink
from coach.live.window import CLOSED
from coach.numbers import rounded
from coach.overlay.follow import FollowAlong
from coach.overlay.target import target_pose
from coach.pipeline import FrameCapture
from coach.recording import recording_bytes
from coach.sources import FrameSource, open_source

log = logging.getLogger(__name__)

#: Where a session goes when the history cannot take it and no --output was given.
UNSAVED_FOLDER = "unsaved-sessions"
#: Earlier sessions' scores shown on the summary screen.
TREND_SESSIONS = 5
#: The suffixes of one session's files in --output.
SESSION_SUFFIXES = (".mp4", ".json", ".txt", ".npz")
STOP_IF_IT_HURTS = "Stop if it hurts; ask a doctor or qualified instructor if you have pain."


@dataclass(frozen=True)
class LiveOptions:
    """Everything ``coach live`` can be told.

    source: camera index, stream URL or video file. mirror: flip the display (None: flip for
    live cameras, not for files). headless: no window (needs ``output``). setup_check: None =
    on for live cameras, off for files. keep_video: also store the annotated video in the
    session history. db: the history database (None: ``COACH_DB`` or the default).
    reconnect_timeout_s: give up on a lost camera after this long (None: keep trying).
    max_people: people the pose model looks for in each frame (1: nobody else is noticed).
    fast: with a window, process a video file as fast as possible instead of at its own
    speed (headless sessions always run as fast as possible).
    pain_before / pain_after: the pain check-in (0-10) given on the command line; with a
    window it is also asked on the first and last screens.
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
    fast: bool = False
    pain_before: int | None = None
    pain_after: int | None = None


@dataclass
class LiveResult:
    """The outcome plus where it was written (``outcome`` is None when the person stopped
    on the safety screen, before the session began)."""

    outcome: SessionOutcome | None
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


def safety_lines(exercise: Exercise) -> list[str]:
    """What is said before every session: the exercise's safety notes, then stop if it
    hurts."""
    return [*exercise.meta.safety_notes, STOP_IF_IT_HURTS]


def earlier_sessions(options: LiveOptions, slug: str) -> tuple[list[SessionRecord], str]:
    """The exercise's stored sessions (read only), and why the history cannot be used ("" when
    it can; a missing database is fine)."""
    if not options.save_history:
        return [], ""
    try:
        with HistoryStore(options.db, readonly=True) as store:
            return store.sessions(slug), ""
    except HistoryError as err:
        if "no session history yet" in str(err):
            return [], ""
        return [], str(err)


def follow_along(exercise: Exercise, mirror: bool = False) -> FollowAlong | None:
    """What the person follows: the reference movement, or a held posture's target pose."""
    if exercise.is_held:
        hold = exercise.meta.hold
        return None if hold is None else FollowAlong(target_pose(hold.targets), mirror)
    pose = exercise.template().pose
    return FollowAlong(pose, mirror, video=reference_video(pose))


def session_stem(folder: Path, slug: str, started: datetime) -> str:
    """A name for one session's files in ``folder`` that no earlier session's files have:
    ``<exercise>-<local date>-<time>``, with ``-2``, ``-3``... when taken."""
    base = f"{slug}-{started.astimezone():%Y%m%d-%H%M%S}"
    stem, n = base, 1
    while any((folder / f"{stem}{suffix}").exists() for suffix in SESSION_SUFFIXES):
        n += 1
        stem = f"{base}-{n}"
    return stem


def run_live(options: LiveOptions, opener: Callable[[str], FrameSource] = open_source,
             say: Callable[[str], object] = log.info, window: Any = None) -> LiveResult:
    """Run one session and save it; raises CoachError for what the user must fix (after
    writing the summary and the landmark recording, when only the history or the video could
    not be written). ``say`` receives the lines meant for the person at the start (safety
    notes, a history that cannot be used). ``window``: the coaching window when the caller
    has already opened it (``coach.live.screens.open_loading_window``); it is closed here."""
    if options.headless and options.output is None:
        raise InputError("--headless needs --output DIR for the annotated video and summary")
    if options.keep_video and not options.save_history and options.output is None:
        raise InputError("--keep-video stores the video in the session history: it needs the "
                         "history (drop --no-history) or --output DIR")
    if not options.headless and window is None:
        require_display()  # before any window call: OpenCV aborts without a display
    exercise = Library.open(options.library_dirs).get(options.exercise)
    exercise.require_recording("coached")
    if options.output is not None:
        _make_folder(Path(options.output))
    earlier, history_problem = earlier_sessions(options, exercise.slug)
    if history_problem:
        say(f"warning: {history_problem}; this session will be written to "
            f"{options.output or _unsaved_folder()} instead")
    if not options.headless and window is None:
        window = open_loading_window(exercise.name)
    try:
        return _run(options, opener, say, exercise, earlier, window)
    finally:
        if window is not None:
            window.close()


def _run(options: LiveOptions, opener: Callable[[str], FrameSource],
         say: Callable[[str], object], exercise: Exercise, earlier: list[SessionRecord],
         window: Any) -> LiveResult:
    voice = None
    if options.voice:
        from coach.voice import Voice

        voice = Voice()
    source = opener(options.source)
    live = bool(source.is_live)
    mirror = live if options.mirror is None else options.mirror
    setup = live if options.setup_check is None else options.setup_check
    width, height = getattr(source, "width", None), getattr(source, "height", None)
    image_size = (int(width), int(height)) if width is not None and height is not None \
        else None
    try:
        coaching = ExerciseCoaching(exercise, image_size=image_size, source=source.name,
                                    fps=source.fps)
        follow = follow_along(exercise, mirror)
        backend = PoseBackend(options.model, mode="video", max_people=options.max_people)
    except BaseException:
        source.close()
        if voice is not None:
            voice.close()
        raise
    pain_before = options.pain_before
    for line in safety_lines(exercise):
        say(f"safety: {line}")
    if window is not None:
        started, pain_before = _safety_check(window, exercise, follow, image_size, pain_before)
        if not started:
            source.close()
            backend.close()
            if voice is not None:
                voice.close()
            return LiveResult(None, {}, "Session not started: stopped on the safety screen")
    capture = FrameCapture(lambda: opener(options.source), live=live, first_source=source,
                           give_up_after_s=options.reconnect_timeout_s,
                           real_time=window is not None and not options.fast)
    paths: dict[str, Path] = {}
    sinks: list[Sink] = []
    stem = None
    video_error = ""
    # the video only for the history (--keep-video without --output) lives in a temp folder
    # removed on every exit, once the session is saved
    with ExitStack() as scratch:
        video: Path | None = None  # --output's video, or one only for the history
        try:
            if options.output is not None:
                stem = session_stem(Path(options.output), exercise.slug,
                                    datetime.now().astimezone())
                video = paths["video"] = Path(options.output) / f"{stem}.mp4"
            elif options.keep_video and options.save_history:
                video = Path(scratch.enter_context(
                    tempfile.TemporaryDirectory(prefix="coach-live-"))) / "session.mp4"
            if video is not None:
                sinks.append(VideoSink(video, source.fps))
            if window is not None:
                sinks.append(WindowSink(window))
            config = SessionConfig(view=exercise.meta.view, mirror_display=mirror,
                                   setup_check=setup)
            session = Session(capture, backend.detect, coaching, config, sinks, source.fps,
                              speak=None if voice is None else voice.say, follow=follow)
            with _sigterm_as_interrupt():
                outcome = session.run()
        finally:
            capture.stop()
            backend.close()
            if voice is not None:
                voice.close()
            video_error = _close_sinks(sinks)
        if video is not None and not video.exists():
            paths.pop("video", None)
            video = None
        return _save(options, exercise, outcome, paths, stem, pain_before, earlier, window,
                     video_error, video)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{folder}: cannot write the session there "
                          f"({err.strerror or err})") from err


def _unsaved_folder() -> Path:
    return user_data_dir() / UNSAVED_FOLDER


def _safety_check(window: Any, exercise: Exercise, follow: FollowAlong | None,
                  image_size: tuple[int, int] | None,
                  pain_before: int | None) -> tuple[bool, int | None]:
    """The safety screen with the pain check-in: (start the session?, pain before)."""
    pain = PainInput(pain_before)
    size = image_size or LOADING_SIZE
    notes = exercise.meta.safety_notes
    key = window.wait(lambda ms: safety_screen(size, exercise.name, notes, pain, follow, ms),
                      lambda code: not pain.key(code) and code in (*ENTER_KEYS, SPACE, ESCAPE,
                                                                  ord("q")))
    return key in (*ENTER_KEYS, SPACE), pain.value if key != CLOSED else pain_before


def _close_sinks(sinks: list[Sink]) -> str:
    """Close every sink; returns why the video could not be written ("" when it was)."""
    errors = []
    for sink in sinks:
        try:
            sink.close()
        except Exception as err:  # noqa: BLE001 - close every sink, then report
            log.error("closing %s failed: %s", type(sink).__name__, err)
            errors.append(str(err) or type(err).__name__)
    return errors[0] if errors else ""


def _save(options: LiveOptions, exercise: Exercise, outcome: SessionOutcome,
          paths: dict[str, Path], stem: str | None, pain_before: int | None,
          earlier: list[SessionRecord], window: Any, video_error: str,
          video: Path | None) -> LiveResult:
    """Write the session everywhere it goes, then say what could not be written and where
    the session is instead. ``video``: the annotated video, in ``paths`` when it is one of
    the session's files (--output), else only for the history (removed by the caller)."""
    summary = session_summary(exercise.slug, exercise.name, options.source, outcome, paths)
    summary["pain_before"] = pain_before
    summary["pain_after"] = options.pain_after
    text = summary_text(summary, outcome)
    result = LiveResult(outcome, summary, text, files=paths)
    recording = recording_bytes(outcome.recording) if len(outcome.recording) else None
    problems = []
    if video_error:
        problems.append(f"the annotated video could not be written ({video_error})")
    history_error = ""
    if options.save_history:
        try:
            result.session_id = save_to_history(options, exercise.slug, summary, outcome,
                                                video, recording)
            summary["session_id"] = result.session_id
        except (HistoryError, OSError) as err:
            history_error = str(err)
            log.debug("history not saved", exc_info=True)
    folder = None if options.output is None else Path(options.output)
    if history_error and folder is None:
        folder = _unsaved_folder()
    written_to = ""
    if folder is not None:
        stem = stem or session_stem(folder, exercise.slug, outcome.started_at)
        if video is not None and "video" not in result.files:
            _keep_video(video, folder / f"{stem}.mp4", result)  # the history did not take it
        written_to = _write_files(result, folder, stem, recording)
    if window is not None:
        _summary_screen(window, options, result, earlier, pain_before, written_to)
        if written_to and result.summary.get("pain_after") is not None:
            _write_files(result, folder, stem, None)  # type: ignore[arg-type]
    if history_error:
        where = f"; its summary and landmark recording are in {written_to}" if written_to \
            else ""
        problems.insert(0, f"the session could not be saved to the history ({history_error})"
                        + where)
    if problems:
        raise CoachError("; ".join(problems))
    return result


def _keep_video(video: Path, target: Path, result: LiveResult) -> None:
    """Move the history's video to ``target`` beside the session's other files (logged when
    it cannot be)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(video, target)
    except OSError as err:
        log.error("%s: the session's video could not be kept (%s)", target,
                  err.strerror or err)
        return
    result.files["video"] = target


def _write_files(result: LiveResult, folder: Path, stem: str, recording: bytes | None) -> str:
    """The summary (JSON, text) and the landmark recording (.npz) as ``folder/stem.*``;
    returns the folder, or "" with the reason logged when it cannot be written."""
    files = {"summary_json": folder / f"{stem}.json", "summary_text": folder / f"{stem}.txt"}
    if recording is not None:
        files["recording"] = folder / f"{stem}.npz"
    result.summary["files"] = {key: os.fspath(path) for key, path in
                               {**result.files, **files}.items()}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(files["summary_json"], "w") as handle:
            json.dump(result.summary, handle, indent=2)
        with atomic_write(files["summary_text"], "w") as handle:
            handle.write(result.text + "\n")
        if recording is not None:
            with atomic_write(files["recording"], "wb") as handle:
                handle.write(recording)
    except OSError as err:
        log.error("%s: the session's files could not be written (%s)", folder,
                  err.strerror or err)
        return ""
    result.files.update(files)
    return str(folder)


def _summary_screen(window: Any, options: LiveOptions, result: LiveResult,
                    earlier: list[SessionRecord], pain_before: int | None,
                    written_to: str) -> None:
    """The summary until a key is pressed; a pain rating typed there is stored too."""
    summary = result.summary
    pain = PainInput(options.pain_after)
    size = window.size or LOADING_SIZE
    cues = main_cues(summary)
    scores = [r.overall for r in earlier if r.overall is not None][-TREND_SESSIONS:]
    note = f"Saved to {written_to}" if written_to else ""
    with suppress(KeyboardInterrupt):
        window.wait(lambda ms: summary_screen(size, summary["exercise_name"],
                                              summary["overall"], cues, scores, pain_before,
                                              pain, note, summary["not_scored_because"] or ""),
                    lambda code: not pain.key(code))
    if pain.value is None or pain.value == options.pain_after:
        return
    summary["pain_after"] = pain.value
    result.text = summary_text(summary, result.outcome)  # type: ignore[arg-type]
    if result.session_id is not None:
        try:
            with HistoryStore(options.db) as store:
                store.set_pain_after(result.session_id, pain.value)
        except HistoryError as err:
            log.error("the pain after the session could not be stored (%s)", err)


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
        "wall_s": round(outcome.wall_s, 2),
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
    pains = [f"{when} {summary[f'pain_{when}']}" for when in ("before", "after")
             if summary.get(f"pain_{when}") is not None]
    if pains:
        lines.append(f"  pain (0-10): {', '.join(pains)}")
    if summary["cues_shown"]:
        lines.append("  cues shown during the session:")
        lines += [f"    {c['cue']}" for c in summary["cues_shown"][:5]]
    return "\n".join(lines)


def main_cues(summary: dict[str, Any]) -> list[str]:
    """The cues shown most, most frequent first (else the report's cues)."""
    return [c["cue"] for c in summary["cues_shown"]] or list(
        (summary["report"] or {}).get("cues", ()))


def save_to_history(options: LiveOptions, slug: str, summary: dict[str, Any],
                    outcome: SessionOutcome, video: Path | None,
                    recording: bytes | None) -> int:
    """Store the session; returns its id (HistoryError or OSError when it cannot)."""
    record = SessionRecord(
        exercise=slug, started_at=outcome.started_at, duration_s=outcome.duration_s,
        frames=outcome.frames_scored, overall=summary["overall"],
        region_scores=summary["regions"] or {}, cues=tuple(main_cues(summary)[:5]),
        source=str(options.source), summary=summary, recording_npz=recording,
        video_mp4=video.read_bytes() if options.keep_video and video is not None else None,
        pain_before=summary.get("pain_before"), pain_after=summary.get("pain_after"),
    )
    with HistoryStore(options.db) as store:
        return store.save(record)
