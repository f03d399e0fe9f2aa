"""``coach score INPUT --exercise NAME [--json]``: score an attempt against a reference."""

from __future__ import annotations

import argparse
import json

from coach.cli.options import add_library_option, add_model_option, open_library
from coach.recording import load_pose_input


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``score`` subcommand."""
    parser = subparsers.add_parser(
        "score", help="score a video, image folder or landmark recording against an exercise",
        description="Compare a person's movement with a reference exercise: overall and "
                    "per-region scores, the main corrective cues, tempo, and the plane compared "
                    "(3D world landmarks or image plane only).")
    parser.add_argument("input", help="video file, image folder, landmark recording (.npz/.json "
                        "as coach extract writes) or UI-PRMD Kinect skeleton "
                        "(mXX_sYY_eZZ_positions.txt[.gz], its angles file beside it)")
    parser.add_argument("--exercise", required=True, help="exercise slug or name")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--mirror", action="store_true",
                        help="also compare with the mirror image (following as in a mirror)")
    add_model_option(parser)
    add_library_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the exercise first (fast failure), then the input, then score and print."""
    exercise = open_library(args).get(args.exercise)
    attempt = load_pose_input(args.input, args.model, max_people=args.max_people,
                              progress=not args.json)
    report = exercise.scorer(mirror=args.mirror).score(attempt)
    if args.json:
        print(json.dumps({"exercise": exercise.slug, **report.to_dict()}, indent=2))
    else:
        print(f"{exercise.meta.name} ({exercise.slug}): {args.input}")
        print(report.summary_text())
    return 0
