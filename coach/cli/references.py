"""``coach references list | show NAME | import PATH | export NAME | remove NAME``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from coach.cli.options import add_library_option, open_library
from coach.errors import CoachError
from coach.library.sheet import render_sheet
from coach.library.store import take_video_path

#: Exit code when the person answered "no" to removing an exercise.
EXIT_NOT_CONFIRMED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``references`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "references", help="list, show, import, export or remove reference exercises",
        description="Manage the reference library: the instructors' exercises that attempts "
                    "are scored against.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("list", help="list every exercise and whether it can be scored")
    add_library_option(p)
    p.set_defaults(handler=run_list)
    p = actions.add_parser("show", help="describe an exercise and draw its reference sheet")
    p.add_argument("name", help="exercise slug or name")
    p.add_argument("-o", "--output", type=Path,
                   help="PNG to write (default: NAME.png in the current folder)")
    add_library_option(p)
    p.set_defaults(handler=run_show)
    p = actions.add_parser("import", help="add an exercise from a folder or an exported .zip")
    p.add_argument("path", type=Path, help="exercise folder or .zip archive")
    p.add_argument("--as", dest="slug", help="store it under this slug instead")
    add_library_option(p)
    p.set_defaults(handler=run_import)
    p = actions.add_parser("export", help="write an exercise as a .zip to share")
    p.add_argument("name", help="exercise slug or name")
    p.add_argument("-o", "--output", type=Path, default=Path("."),
                   help="a .zip path or a folder (default: NAME.zip in the current folder)")
    add_library_option(p)
    p.set_defaults(handler=run_export)
    p = actions.add_parser("remove", help="delete an exercise from your own library",
                           description="Delete an exercise and its takes from your own "
                                       "library, after asking for confirmation (--yes to not "
                                       "ask, for scripts).")
    p.add_argument("name", help="exercise slug")
    p.add_argument("-y", "--yes", action="store_true",
                   help="remove without asking (needed when not run from a terminal)")
    add_library_option(p)
    p.set_defaults(handler=run_remove)


def run_list(args: argparse.Namespace) -> int:
    """Print one line per exercise, then any folder that could not be read."""
    library = open_library(args)
    exercises, broken = library.scan()
    width = max((len(e.slug) for e in exercises), default=10)
    if exercises:
        print(f"{'exercise':<{width}}  {'tradition':<14} {'kind':<8} {'view':<5} "
              f"{'library':<8} status  (name)")
    for e in exercises:
        where = "built-in" if e.read_only else "own"
        print(f"{e.slug:<{width}}  {e.meta.tradition:<14} {e.meta.kind:<8} {e.meta.view:<5} "
              f"{where:<8} {e.status}  ({e.meta.name})")
    for error in broken:
        print(f"unreadable: {error}")
    if not exercises and not broken:
        print("the library is empty")
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the metadata and write the reference sheet PNG."""
    exercise = open_library(args).get(args.name)
    meta = exercise.meta
    print(f"{meta.name} ({exercise.slug}): {meta.tradition}, {meta.kind}, filmed from the "
          f"{meta.view}; {exercise.status}")
    print(f"  folder: {exercise.folder}{' (built-in)' if exercise.read_only else ''}")
    print(f"  {meta.description}")
    for point in meta.teaching_points:
        print(f"  - {point}")
    for note in meta.safety_notes:
        print(f"  ! {note}")
    if meta.source:
        print(f"  source: {meta.source}")
    for path, take in zip(exercise.take_paths, exercise.takes, strict=True):
        video = take_video_path(path)
        kept = f"with its video {video.name}" if video is not None else "no video"
        print(f"  take {path.name}: {len(take)} frames, {take.duration_s:.1f} s, {kept}")
    output = args.output or Path(f"{exercise.slug}.png")
    print(f"reference sheet: {render_sheet(exercise, output)}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import and report where the exercise now lives."""
    exercise = open_library(args).import_path(args.path, slug=args.slug)
    print(f"imported '{exercise.slug}' ({exercise.meta.name}, {exercise.status}) into "
          f"{exercise.folder}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export to a zip."""
    path = open_library(args).export(args.name, args.output)
    print(f"exported to {path}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove from the writable library, once confirmed (``--yes`` or "y" at the prompt)."""
    library = open_library(args)
    found = library.find_folder(args.name)
    if found is not None and not found[1] and not args.yes:
        if not sys.stdin.isatty():
            raise CoachError(f"removing '{args.name}' ({found[0]}) needs confirmation: run it "
                             "in a terminal to be asked, or pass --yes")
        answer = input(f"Remove '{args.name}' and all its takes from {found[0]}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return EXIT_NOT_CONFIRMED
    folder = library.remove(args.name)
    print(f"removed {folder}")
    return 0
