"""``coach record EXERCISE --source CAMERA_OR_VIDEO``: record an instructor's take."""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.cli.options import add_library_option, add_model_option, open_library
from coach.errors import CoachError
from coach.library import (
    METADATA_FILE,
    ExerciseMeta,
    LibraryError,
    check_slug,
    prepare_take,
    read_meta,
)
from coach.library.meta import KINDS, TRADITIONS, VIEWS
from coach.library.recorder import (
    COUNTDOWN_S,
    LOST_AFTER_S,
    TakeMoment,
    Watcher,
    preview_scene,
    record_take,
)
from coach.library.store import TAKE_VIDEO_SUFFIX
from coach.library.take_video import MAX_SIDE_PX
from coach.sources import names_camera, open_source

if TYPE_CHECKING:
    from coach.live.window import Window

#: Said when a camera recording cannot open its preview window.
NO_PREVIEW_HINT = ("use --headless to record without a preview, or run where a screen is "
                   "attached")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``record`` subcommand."""
    parser = subparsers.add_parser(
        "record", help="record an instructor's take of an exercise (camera or video file)",
        description="Record a take for the reference library. From a camera: a preview "
                    "window, the setup check of a live session (in the picture, distance, "
                    "view, light), a countdown, then the recording (Q or Esc in the window, "
                    "Ctrl-C or --duration ends it; a camera lost for --reconnect-timeout "
                    "seconds ends it with nothing saved). Then trimming of the "
                    "still start and end, and a quality check (whole body in frame, landmark "
                    "visibility, camera view) that refuses a bad take with the reason. The take "
                    "is saved next to the earlier ones in your own library, with the "
                    "recorded video beside it when asked (--keep-video). Recording an "
                    "exercise of the built-in library starts your own version of it.")
    parser.add_argument("exercise", help="exercise slug, e.g. qigong-the-wave")
    parser.add_argument("--source", required=True,
                        help="camera index (0), stream URL, video file, image folder or "
                             "landmark recording (.npz/.json, as coach extract writes, or a "
                             "UI-PRMD Kinect skeleton mXX_sYY_eZZ_positions.txt[.gz])")
    parser.add_argument("--countdown", type=float, default=COUNTDOWN_S, metavar="S",
                        help=f"seconds before a camera recording starts (default "
                             f"{COUNTDOWN_S:g})")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after this many seconds (default: Ctrl-C or the video's end)")
    parser.add_argument("--headless", action="store_true",
                        help="record from a camera without the preview window (the setup "
                             "check's instructions are printed instead)")
    parser.add_argument("--setup-check", action=argparse.BooleanOptionalAction, default=True,
                        help="check the camera setup before the countdown (default: on; "
                             "cameras only)")
    parser.add_argument("--reconnect-timeout", type=float, default=LOST_AFTER_S, metavar="S",
                        help=f"end the recording, saving nothing, when the camera has given "
                             f"no picture for S seconds (default: {LOST_AFTER_S:g})")
    parser.add_argument("--keep-video", action="store_true",
                        help=f"keep the recorded video beside the take (takes/take-NNN.mp4, "
                             f"at most {MAX_SIDE_PX} px on its longer side): a live session's "
                             "follow-along panel then shows it instead of a figure (cameras "
                             "and video files only)")
    add_model_option(parser)
    new = parser.add_argument_group("a new exercise (not yet in any library)")
    new.add_argument("--name", help="display name (default: from the slug)")
    new.add_argument("--tradition", choices=TRADITIONS)
    new.add_argument("--kind", choices=KINDS, default="flowing")
    new.add_argument("--view", choices=VIEWS, default="front",
                     help="the camera view the exercise is filmed from")
    new.add_argument("--description", help="what the exercise is, in a sentence or two")
    add_library_option(parser)
    parser.set_defaults(handler=run)


def _new_meta(args: argparse.Namespace, slug: str) -> ExerciseMeta:
    missing = [flag for flag, value in (("--tradition", args.tradition),
                                        ("--description", args.description)) if not value]
    if missing:
        raise LibraryError(f"'{slug}' is a new exercise: give {' and '.join(missing)} "
                           "(see coach record --help)")
    if args.kind == "held":
        raise LibraryError(f"'{slug}': a held posture is defined by target values in its "
                           "exercise.toml; write that file first, then record takes for it")
    return ExerciseMeta(name=args.name or slug.replace("-", " ").capitalize(),
                        tradition=args.tradition, kind=args.kind, view=args.view,
                        description=args.description, teaching_points=(), safety_notes=())


def run(args: argparse.Namespace) -> int:
    """Record, trim, check, save; prints what happened at each step."""
    if args.duration is not None and not args.duration > 0:
        raise LibraryError(f"--duration: expected a positive number of seconds, got "
                           f"{args.duration:g}")
    if not args.countdown >= 0:
        raise LibraryError(f"--countdown: expected 0 or more seconds, got {args.countdown:g}")
    if not args.reconnect_timeout > 0:
        raise LibraryError(f"--reconnect-timeout: expected a positive number of seconds, got "
                           f"{args.reconnect_timeout:g}")
    library = open_library(args)
    slug = check_slug(args.exercise)
    found = library.find_folder(slug)
    meta = read_meta(found[0] / METADATA_FILE) if found is not None else _new_meta(args, slug)

    def countdown(seconds_left: int) -> None:
        print(f"recording '{slug}' in {seconds_left} ...", file=sys.stderr, flush=True)

    def started() -> None:
        print("recording: move now (Ctrl-C to stop)", file=sys.stderr, flush=True)

    with ExitStack() as scratch:  # the video until the take is saved, removed on every exit
        video = (Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="coach-record-")))
                 / "take.mp4") if args.keep_video else None
        with ExitStack() as stack:
            watchers: list[Watcher] = [_TerminalLines()]
            if names_camera(args.source) and not args.headless:
                from coach.live.display import require_display
                from coach.live.window import Window

                require_display(NO_PREVIEW_HINT)  # before any window call
                window = stack.enter_context(Window(f"coach record: {meta.name}"))
                watchers.append(_Preview(window, meta.name, args.duration))
            raw = record_take(args.source, model_path=args.model, max_people=args.max_people,
                              countdown_s=args.countdown, duration_s=args.duration,
                              on_countdown=countdown, on_start=started,
                              setup_view=meta.view if args.setup_check else None,
                              watch=_every(watchers), lost_after_s=args.reconnect_timeout,
                              opener=open_source, video=video)
        try:
            take, quality = prepare_take(raw, meta.view, held=meta.is_held)
        except CoachError as exc:  # a refusal names what was recorded
            if str(args.source) in str(exc):
                raise
            raise type(exc)(f"{args.source}: {exc}") from None
        library.ensure_own(slug, meta if found is None else None)
        path = library.add_take(slug, take, video=video)
    kept = f"; its video {path.with_suffix(TAKE_VIDEO_SUFFIX).name}" if video is not None else ""
    print(f"saved take {path} ({len(take)} of {len(raw)} frames kept after trimming, "
          f"{take.duration_s:.1f} s; camera view {quality.view}, whole body in frame "
          f"{quality.in_frame_fraction:.0%}{kept})")
    return 0


def _every(watchers: list[Watcher]) -> Watcher:
    """One watcher showing each moment to all of ``watchers``; "quit" from any stops."""
    def watch(moment: TakeMoment) -> str | None:
        commands = [watcher(moment) for watcher in watchers]
        return "quit" if "quit" in commands else None

    return watch


class _TerminalLines:
    """Prints what to change while the setup check runs, and that the camera is lost, each
    when it changes."""

    def __init__(self) -> None:
        self._said: tuple[str, ...] = ()

    def __call__(self, moment: TakeMoment) -> None:
        if moment.phase == "setup":
            said = moment.lines
            line = f"setup: {'; '.join(said)}"
        elif moment.phase == "waiting":
            said = ("waiting",)
            line = f"no picture from the camera, waiting for it ({moment.lines[0]})"
        else:
            said, line = (), ""
        if said and said != self._said:
            print(line, file=sys.stderr, flush=True)
        self._said = said


class _Preview:
    """The preview window of a camera recording; its Q, Esc or close button stop it."""

    def __init__(self, window: Window, title: str, duration_s: float | None) -> None:
        self.window = window
        self.title = title
        self.duration_s = duration_s
        self._last: np.ndarray | None = None

    def __call__(self, moment: TakeMoment) -> str | None:
        scene = preview_scene(moment, self.title, self._last, self.duration_s)
        if moment.frame is not None:
            self._last = scene
        return self.window.show(scene)
