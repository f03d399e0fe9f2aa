"""``coach extract VIDEO -o run.npz``: keep a video's landmarks as a recording."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.cli.options import add_model_option
from coach.errors import InputError
from coach.extract import extract_sequence
from coach.recording import save_recording


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``extract`` subcommand."""
    parser = subparsers.add_parser(
        "extract", help="extract pose landmarks from a video or image folder to a recording",
        description="Run the pose model on a video, image folder or camera and write the "
                    "landmarks as a recording that every other command accepts as input. "
                    "A camera or stream is read until it ends or Ctrl-C, which keeps the "
                    "frames captured so far.",
    )
    parser.add_argument("input", help="video file, image folder, camera index or stream URL")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="recording to write (.npz or .json)")
    parser.add_argument("--format", choices=("npz", "json"),
                        help="file format (default: from the output suffix); the output must "
                             "end in .npz or .json to match")
    add_model_option(parser)
    parser.add_argument("--stride", type=int, default=1, help="use every K-th frame")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, extract and save; prints one summary line."""
    if args.stride < 1:
        raise InputError(f"--stride: expected 1 or more, got {args.stride}")
    fmt = args.format or ("json" if args.output.suffix.lower() == ".json" else "npz")
    if args.output.suffix.lower() != f".{fmt}":
        raise InputError(f"{args.output}: a recording in {fmt} format must end in .{fmt}, "
                         "so that other commands recognise it as a recording")
    sequence = extract_sequence(args.input, args.model, max_people=args.max_people,
                                progress=True, stride=args.stride)
    path = save_recording(sequence, args.output, fmt)
    found = int(sequence.present.sum())
    print(f"{path}: {len(sequence)} frames, person found in {found}, "
          f"{sequence.duration_s:.1f} s at {sequence.fps:.1f} fps"
          + ("" if sequence.has_world else ", image landmarks only"))
    return 0
