"""``coach batch INPUTS... --exercise NAME|auto``: score many practice videos, resumably."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from coach.batch.engines import ENGINES
from coach.batch.runner import BatchOptions, run_batch
from coach.cli.options import add_library_option, add_model_option
from coach.text import printable

#: Exit code when the batch ran but some inputs could not be scored.
EXIT_SOME_FAILED = 1
#: Exit code after SIGTERM (128 + 15, as shells report it).
EXIT_TERMINATED = 143


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``batch`` subcommand."""
    parser = subparsers.add_parser(
        "batch", help="score many videos or landmark files and write a report",
        description="Score every video, image folder and landmark file named (files, folders, "
                    "globs) against a reference, or against every reference with --exercise "
                    "auto. Results are kept per input in OUT/results/, so running the same "
                    "batch again scores only what is missing. Writes OUT/summary.csv and "
                    "OUT/report.html. An input the scorer will not judge (too little pose, "
                    "too short, or with --exercise auto a movement far from every reference) "
                    "gets no score and the reason. Exit code 1 when some inputs failed.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video, landmark file (.npz/.json, or a UI-PRMD Kinect skeleton "
                             "mXX_sYY_eZZ_positions.txt[.gz]), image folder, folder of "
                             "videos, or a glob such as 'uploads/**/*.mp4'")
    parser.add_argument("--exercise", required=True,
                        help="reference exercise (slug or name), or 'auto' to score against "
                             "every reference and report the best match")
    parser.add_argument("-o", "--output", type=Path, default=Path("batch-out"),
                        help="output folder (default: batch-out)")
    parser.add_argument("--workers", type=int,
                        help="worker processes (default: one per CPU; Ray: the cluster's CPUs)")
    parser.add_argument("--stride", type=int, default=1,
                        help="score every K-th frame, for long slow movements (default 1)")
    parser.add_argument("--engine", choices=ENGINES, default="pool",
                        help="pool: local processes (default); ray: a Ray cluster "
                             "(pip install coach[ray])")
    parser.add_argument("--address",
                        help="Ray cluster address (default: start a local Ray)")
    parser.add_argument("--annotate", action="store_true",
                        help="also write annotated videos (skeleton and score) to OUT/videos/")
    add_library_option(parser)
    add_model_option(parser)
    parser.set_defaults(handler=run)


class _Progress:
    """Two bars on stderr: inputs finished, and frames decoded. They appear once the batch
    knows its inputs, so an error found before (bad options, no such exercise) is one line."""

    def __init__(self) -> None:
        self.videos: tqdm | None = None
        self.frames: tqdm | None = None

    def __call__(self, kind: str, value: Any) -> None:
        if self.videos is None or self.frames is None:
            self.videos = tqdm(desc="videos", unit="video", position=0, file=sys.stderr)
            self.frames = tqdm(desc="frames", unit="frame", position=1, file=sys.stderr)
        if kind == "total":
            self.videos.reset(total=value)
        elif kind == "skipped":
            self.videos.update(value)
            if value:
                self.videos.set_postfix_str(f"{value} already done")
        elif kind == "frames":
            self.frames.update(value)
        elif kind == "done":
            self.videos.update(1)
            if value["status"] != "ok":
                what = "not judged" if value["status"] == "not_judged" else "failed"
                tqdm.write(f"coach: {what}: {printable(value['error']['message'])}",
                           file=sys.stderr)

    def close(self) -> None:
        for bar in (self.frames, self.videos):
            if bar is not None:
                bar.close()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(EXIT_TERMINATED)


def run(args: argparse.Namespace) -> int:
    """Run the batch; prints where the summary and report are, and how many inputs failed."""
    options = BatchOptions(
        inputs=list(args.inputs), exercise=args.exercise, out_dir=args.output,
        workers=args.workers, stride=args.stride, engine=args.engine, address=args.address,
        annotate=args.annotate, library_dirs=list(args.library),
        model_path=str(args.model) if args.model else None, max_people=args.max_people,
    )
    progress = _Progress()
    # SIGTERM ends the batch like Ctrl-C does: workers stopped, finished results kept.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        summary = run_batch(options, progress)
    finally:
        signal.signal(signal.SIGTERM, previous)
        progress.close()
    ok = len(summary.results) - summary.failed - summary.not_judged
    print(f"{len(summary.results)} inputs: {ok} scored ({summary.reused} from earlier runs), "
          + (f"{summary.not_judged} not judged, " if summary.not_judged else "")
          + f"{summary.failed} failed")
    for result in summary.results:
        if result["status"] != "ok":
            what = "not judged" if result["status"] == "not_judged" else "failed"
            print(f"  {what}: {printable(result['error']['message'])}")  # names from disk
    print(f"summary: {summary.csv_path}")
    print(f"report:  {summary.html_path}")
    # an input not judged is an answer (no score, and why), not a failure
    return EXIT_SOME_FAILED if summary.failed else 0
