"""Options shared by several subcommands, defined once so they read and behave alike."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.backend import DEFAULT_MAX_PEOPLE
from coach.errors import CoachError
from coach.library import Library


def add_library_option(parser: argparse.ArgumentParser) -> None:
    """``--library DIR`` (repeatable): reference libraries searched before the built-in one.

    The first one named is the instructor's own, where new takes are saved.
    """
    parser.add_argument("--library", type=Path, action="append", default=[], metavar="DIR",
                        help="your own reference library, searched before the built-in one "
                             "(repeatable; default: $COACH_LIBRARY, else "
                             "~/.local/share/coach/references)")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``: the session history database."""
    parser.add_argument("--db", type=Path,
                        help="session history database (default: $COACH_DB, else "
                             "history.sqlite3 in the user data folder)")


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """``--model PATH``: another PoseLandmarker bundle instead of the bundled one;
    ``--max-people N``: how many people the model looks for in each frame."""
    parser.add_argument("--model", type=Path,
                        help="a PoseLandmarker .task bundle to use (default: the bundled "
                             "model, or $COACH_MODEL)")
    parser.add_argument("--max-people", type=int, default=DEFAULT_MAX_PEOPLE,
                        metavar="N",
                        help=f"people the model looks for in each frame (default "
                             f"{DEFAULT_MAX_PEOPLE}: others in view are noticed and the same "
                             f"person is followed). 1 needs about 40%% less model time "
                             f"when only the practitioner is in view, but nobody else is "
                             f"noticed")


def check_model_options(args: argparse.Namespace) -> None:
    """Refuse a bad ``--max-people`` before any command opens a camera, a file or the model."""
    people = getattr(args, "max_people", DEFAULT_MAX_PEOPLE)
    if people < 1:
        raise CoachError(f"--max-people: expected 1 or more, got {people}")


def open_library(args: argparse.Namespace) -> Library:
    """The library search path from ``--library`` and the environment."""
    return Library.open(args.library)
