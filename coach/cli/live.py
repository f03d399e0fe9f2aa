"""``coach live --exercise NAME``: the live coaching session (camera, or a video as camera)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coach.cli import EXIT_INTERRUPTED
from coach.cli.options import add_db_option, add_library_option, add_model_option
from coach.live.keys import KEY_HELP

EXIT_SOURCE_FAILED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``live`` subcommand."""
    parser = subparsers.add_parser(
        "live", help="coach an exercise live from a camera (or a video file as the camera)",
        description="Coach an exercise of the reference library live: setup check, "
                    "countdown, skeleton coloured by deviation, the reference ghost and a "
                    "figure to follow, cues, score and progress. The window first shows the "
                    "safety notes and asks for your pain (0-10, optional), and at the end the "
                    f"summary. Keys: {KEY_HELP}. The session is saved to the "
                    "history at the end, on Ctrl-C, or when the window closes; files in "
                    "--output are named after the exercise and the time, so sessions never "
                    "overwrite each other.",
    )
    parser.add_argument("--exercise", required=True, help="exercise name or slug")
    parser.add_argument("--source", default="0",
                        help="camera index, stream URL or video file (default: camera 0)")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None,
                        help="show the picture as a mirror (default: on for cameras, off for "
                             "video files); cues always name the person's own left and right")
    parser.add_argument("--voice", action="store_true",
                        help="speak the cues (offline, needs espeak-ng)")
    parser.add_argument("--headless", action="store_true",
                        help="no window: write the annotated video and summary to --output")
    parser.add_argument("--output", type=Path,
                        help="folder for the annotated H.264 video and the summary (JSON, text)")
    parser.add_argument("--setup-check", action=argparse.BooleanOptionalAction, default=None,
                        help="check the camera setup and count down before coaching "
                             "(default: on for cameras, off for video files)")
    parser.add_argument("--reconnect-timeout", type=float, default=60.0, metavar="S",
                        help="end the session when a lost camera has not come back after S "
                             "seconds (default: 60)")
    parser.add_argument("--keep-video", action="store_true",
                        help="also store the annotated video in the session history")
    parser.add_argument("--no-history", action="store_true",
                        help="do not save the session to the history")
    parser.add_argument("--fast", action="store_true",
                        help="with a window, process a video file as fast as possible instead "
                             "of at its own speed (headless runs always are)")
    parser.add_argument("--pain-before", type=_pain, metavar="0-10",
                        help="your pain before the session (0 none, 10 worst), stored in the "
                             "history; with a window it is also asked on the first screen")
    parser.add_argument("--pain-after", type=_pain, metavar="0-10",
                        help="your pain after the session; with a window it is also asked on "
                             "the summary screen")
    add_db_option(parser)
    add_library_option(parser)
    add_model_option(parser)
    parser.set_defaults(handler=run)


def _pain(text: str) -> int:
    from coach.history import PAIN_MAX, PAIN_MIN

    if not text.strip().isdigit() or not PAIN_MIN <= int(text) <= PAIN_MAX:
        raise argparse.ArgumentTypeError(f"expected a whole number {PAIN_MIN}-{PAIN_MAX}, "
                                         f"got {text!r}")
    return int(text)


def _say(line: str) -> None:
    """Lines for the person before the session: warnings to stderr, the rest to stdout."""
    print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run the session, print its summary and where it was saved."""
    window = None
    if not args.headless:  # the window opens at once, with a loading screen, before the rest
        from coach.library import Library
        from coach.live.display import require_display

        name = Library.open(tuple(args.library)).get(args.exercise).name
        require_display()
        from coach.live.screens import open_loading_window

        window = open_loading_window(name)
    from coach.live.app import LiveOptions, run_live

    options = LiveOptions(
        exercise=args.exercise, source=args.source, mirror=args.mirror, voice=args.voice,
        headless=args.headless, output=args.output, db=args.db,
        library_dirs=tuple(args.library), model=args.model, max_people=args.max_people,
        setup_check=args.setup_check,
        keep_video=args.keep_video, save_history=not args.no_history,
        reconnect_timeout_s=args.reconnect_timeout, fast=args.fast,
        pain_before=args.pain_before, pain_after=args.pain_after,
    )
    result = run_live(options, say=_say, window=window)
    print(result.text)
    if result.outcome is None:
        return 0
    for kind, path in result.files.items():
        print(f"{kind.replace('_', ' ')}: {path}")
    if result.session_id is not None:
        print(f"saved to the session history as session {result.session_id}")
    reason = result.outcome.reason
    if reason == "source failed":
        print(f"coach: the video source failed: {result.outcome.message}", file=sys.stderr)
        return EXIT_SOURCE_FAILED
    if reason == "interrupted":
        return EXIT_INTERRUPTED
    return 0
