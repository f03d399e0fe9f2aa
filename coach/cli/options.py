"""Options shared by several subcommands, defined once so they read and behave alike."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    """``--model PATH``: another PoseLandmarker bundle instead of the bundled one."""
    parser.add_argument("--model", type=Path,
                        help="a PoseLandmarker .task bundle to use (default: the bundled "
                             "model, or $COACH_MODEL)")


def open_library(args: argparse.Namespace) -> Library:
    """The library search path from ``--library`` and the environment."""
    return Library.open(args.library)
