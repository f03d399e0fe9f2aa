"""``coach history``: past practice sessions as a table, and a plot of the scores over time."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.cli.options import add_db_option
from coach.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    parser = subparsers.add_parser(
        "history", help="show past sessions and the trend of their scores",
        description="List the sessions saved by 'coach live', oldest first, with the overall "
                    "and per-region scores and the main cue; optionally plot the scores over "
                    "time to a PNG.",
    )
    parser.add_argument("--exercise", help="only sessions of this exercise (slug)")
    parser.add_argument("--plot", type=Path, metavar="PATH",
                        help="write a PNG of the scores over time")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the table (and write the plot)."""
    from coach.history import HistoryStore, default_db_path, write_trend_plot
    from coach.landmarks import REGIONS

    path = args.db or default_db_path()
    if not Path(path).exists():
        raise InputError(f"{path}: no session history yet (run 'coach live' first)")
    with HistoryStore(path) as store:
        records = store.sessions(args.exercise)
        known = list(store.exercises())
    if not records:
        what = f" for '{args.exercise}'" if args.exercise else ""
        others = f" (sessions exist for: {', '.join(known)})" if known else ""
        print(f"no sessions{what} in {path}{others}")
        return 0
    head = ["id", "started", "exercise", "time", "overall", *REGIONS, "main cue"]
    rows = []
    for r in records:
        rows.append([str(r.id), r.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                     r.exercise, f"{r.duration_s:.0f}s", _score(r.overall),
                     *[_score(r.region_scores.get(region)) for region in REGIONS],
                     r.cues[0] if r.cues else ""])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    for row in [head, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
              + "  " + row[-1])
    scored = [r.overall for r in records if r.overall is not None]
    if len(scored) >= 2:
        print(f"trend: overall {scored[0]:.0f} -> {scored[-1]:.0f} over {len(scored)} "
              "scored sessions")
    if args.plot:
        title = f"Sessions: {args.exercise}" if args.exercise else "Practice sessions"
        print(f"plot: {write_trend_plot(records, args.plot, title)}")
    return 0


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
