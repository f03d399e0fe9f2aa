"""``coach history``: past practice sessions by exercise, and a plot of their trends."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coach.cli.options import add_db_option

if TYPE_CHECKING:
    from coach.history import SessionRecord


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    parser = subparsers.add_parser(
        "history", help="show past sessions by exercise and the trend of their scores",
        description="List the sessions saved by 'coach live', grouped by exercise, oldest "
                    "first, with the overall and per-region scores, the pain before and after "
                    "and the main cue; optionally plot each exercise's trend to a PNG. The "
                    "database is only read, never changed.",
    )
    parser.add_argument("--exercise", help="only sessions of this exercise (slug)")
    parser.add_argument("--plot", type=Path, metavar="PATH",
                        help="write a PNG of each exercise's scores and pain over time")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print one table per exercise (and write the plot)."""
    from coach.history import HistoryStore, by_exercise, default_db_path, write_trend_plot

    path = args.db or default_db_path()
    with HistoryStore(path, readonly=True) as store:
        records = store.sessions(args.exercise)
        skipped = store.skipped
        known = store.exercises()
    if not records:
        what = f" for '{args.exercise}'" if args.exercise else ""
        others = f" (sessions exist for: {', '.join(known)})" if known else ""
        print(f"no sessions{what} in {path}{others}")
        return 0
    for number, (exercise, group) in enumerate(by_exercise(records).items()):
        if number:
            print()
        print(session_table(exercise, group))
    if skipped:
        print(f"skipped {skipped} malformed session row{'s' * (skipped != 1)} in {path}")
    if args.plot:
        title = f"Sessions: {args.exercise}" if args.exercise else "Practice sessions"
        print(f"plot: {write_trend_plot(records, args.plot, title)}")
    return 0


def session_table(exercise: str, records: Sequence[SessionRecord]) -> str:
    """An exercise's sessions as a text table with a heading and its trend line."""
    from coach.landmarks import REGIONS

    head = ["id", "date", "time", "length", "overall", *REGIONS, "pain", "main cue"]
    rows = []
    for r in records:
        local = r.started_at.astimezone()
        rows.append([str(r.id), local.strftime("%Y-%m-%d"), local.strftime("%H:%M"),
                     f"{r.duration_s:.0f}s", _score(r.overall),
                     *[_score(r.region_scores.get(region)) for region in REGIONS],
                     f"{_pain(r.pain_before)}->{_pain(r.pain_after)}",
                     r.cues[0] if r.cues else ""])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    lines = [f"{exercise}: {len(records)} session{'s' * (len(records) != 1)}"]
    for row in [head, *rows]:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths,
                                                                       strict=False))
                     + "  " + row[-1])
    scored = [r.overall for r in records if r.overall is not None]
    if len(scored) >= 2:
        lines.append(f"  trend: overall {scored[0]:.0f} -> {scored[-1]:.0f} over "
                     f"{len(scored)} scored sessions")
    return "\n".join(lines)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _pain(value: int | None) -> str:
    return "-" if value is None else str(value)
