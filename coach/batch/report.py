"""The batch's summary: a CSV (one row per input, failures included) and an HTML report.

The HTML report is one file that works offline and from the file system: inline CSS and a
few lines of inline JavaScript (to sort the table), score timelines as inline SVG, and the
thumbnails as relative links to ``thumbs/`` beside it. Both files are written atomically.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from coach.atomic import atomic_write
from coach.batch.references import CLOSE_CALL_POINTS
from coach.batch.report_template import REPORT_TEMPLATE
from coach.landmarks import REGIONS
from coach.text import printable

SUMMARY_CSV = "summary.csv"
REPORT_HTML = "report.html"
CSV_COLUMNS = ("input", "status", "exercise", "overall", "margin", "close_call", *REGIONS,
               "tempo", "main_cue", "frames_scored", "frames_with_person", "duration_s",
               "error", "warning", "result")
#: A timeline is broken where frames are missing for more than this many typical frame steps.
GAP_STEPS = 3.0
#: Size of the timeline drawing, in SVG user units.
TIMELINE_W, TIMELINE_H, TIMELINE_PAD = 640.0, 150.0, 28.0


def summary_row(result: Mapping[str, Any], result_file: str) -> dict[str, Any]:
    """One CSV row from a result (``coach.batch.worker`` describes its fields)."""
    summary = result.get("summary") or {}
    match = result.get("match") or {}
    video = result.get("video") or {}
    regions = summary.get("regions") or {}
    cues = summary.get("cues") or []
    error = result.get("error") or {}
    return {
        "input": result["input"]["path"], "status": result["status"],
        "exercise": match.get("exercise") or result.get("exercise", ""),
        "overall": _blank(summary.get("overall")), "margin": _blank(match.get("margin")),
        "close_call": _close_call(match.get("margin")),
        **{r: _blank(regions.get(r)) for r in REGIONS},
        "tempo": summary.get("tempo") or "", "main_cue": cues[0] if cues else "",
        "frames_scored": _blank(video.get("frames_scored")),
        "frames_with_person": _blank(video.get("frames_with_person")),
        "duration_s": _blank(video.get("duration_s")),
        "error": error.get("message", ""),
        "warning": "; ".join(result.get("warnings") or []), "result": result_file,
    }


def _close_call(margin: float | None) -> str:
    """"yes" when the best match leads the next best by less than ``CLOSE_CALL_POINTS``, "no"
    when it leads by more, "" when there was nothing to compare it with."""
    if margin is None:
        return ""
    return "yes" if margin < CLOSE_CALL_POINTS else "no"


def _blank(value: Any) -> Any:
    return "" if value is None else value


#: First characters that make a spreadsheet read a cell as a formula (or run it).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell as a spreadsheet shows it: text that would start a formula (an input named
    ``=HYPERLINK(...)``) gets a leading apostrophe, control characters are dropped; numbers
    stay numbers."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def write_summary_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Write the summary rows as CSV (UTF-8, header first); text cells through ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    with atomic_write(path, "w") as handle:
        handle.write(buffer.getvalue())
    return path


def timeline_svg(times_ms: Sequence[float | None], scores: Sequence[float | None],
                 marks_ms: Sequence[float] = ()) -> dict[str, Any]:
    """Geometry of a score timeline for the template: polylines (gaps where no score), marks
    for the worst moments, and axis ticks, in a ``TIMELINE_W`` x ``TIMELINE_H`` box."""
    pairs = [(t, s) for t, s in zip(times_ms, scores, strict=True) if t is not None]
    if not pairs:
        return {"lines": [], "marks": [], "xticks": [], "width": TIMELINE_W,
                "height": TIMELINE_H}
    t0, t1 = pairs[0][0], pairs[-1][0]
    span = max(t1 - t0, 1.0)
    left, right, top, bottom = TIMELINE_PAD + 8, TIMELINE_W - 8, 8.0, TIMELINE_H - TIMELINE_PAD

    def x(t: float) -> float:
        return round(left + (t - t0) / span * (right - left), 1)

    def y(s: float) -> float:
        return round(bottom - max(0.0, min(100.0, s)) / 100.0 * (bottom - top), 1)

    steps = sorted(b[0] - a[0] for a, b in zip(pairs, pairs[1:], strict=False))
    max_step = GAP_STEPS * steps[len(steps) // 2] if steps else math.inf
    lines: list[str] = []
    current: list[str] = []
    last_t = -math.inf
    for t, s in pairs:
        if s is None or not math.isfinite(s) or t - last_t > max_step:
            if current:
                lines.append(" ".join(current))
            current = []
        last_t = t
        if s is not None and math.isfinite(s):
            current.append(f"{x(t)},{y(s)}")
    if current:
        lines.append(" ".join(current))
    by_time = dict(pairs)
    marks = [{"x": x(t), "y": y(by_time.get(t) or 0.0), "label": f"{t / 1000:.1f} s"}
             for t in marks_ms if t0 <= t <= t1]
    step = _tick_step(span / 1000.0)
    first = math.ceil(t0 / 1000.0 / step) * step
    xticks = [{"x": x(v * 1000.0), "label": f"{v:g} s"}
              for v in _frange(first, t1 / 1000.0, step)]
    return {"lines": lines, "marks": marks, "xticks": xticks,
            "yticks": [{"y": y(v), "label": str(v)} for v in (0, 50, 80, 100)],
            "left": left, "right": right, "width": TIMELINE_W, "height": TIMELINE_H,
            "bottom": bottom}


#: Most ticks on a timeline's time axis.
MAX_TICKS = 8


def _tick_step(span_s: float) -> float:
    """A round step in seconds that puts at most ``MAX_TICKS`` ticks on a span of any length."""
    for step in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if span_s / step <= MAX_TICKS:
            return float(step)
    hours = span_s / 3600.0 / MAX_TICKS
    power = 10.0 ** math.floor(math.log10(hours))
    return 3600.0 * next(m * power for m in (1, 2, 5, 10) if m * power >= hours)


def _frange(start: float, stop: float, step: float) -> list[float]:
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 3) for i in range(min(max(count, 0), MAX_TICKS + 1))]


def _entry(result: Mapping[str, Any], index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    summary = result.get("summary") or {}
    timeline = summary.get("timeline") or {}
    worst = summary.get("worst") or []
    return {
        "anchor": f"v{index}", "row": row, "result": result,
        "name": result["input"]["name"], "summary": summary,
        "match": result.get("match") or {}, "video": result.get("video") or {},
        "svg": timeline_svg(timeline.get("t_ms") or [], timeline.get("score") or [],
                            [m["timestamp_ms"] for m in worst
                             if m.get("timestamp_ms") is not None]),
        "worst": worst,
        "annotated_video": result.get("annotated_video"),
    }


def check_reportable(result: Mapping[str, Any]) -> None:
    """Raise (KeyError, TypeError, ValueError ...) if ``result`` cannot be drawn in the report."""
    _entry(result, 0, {})


def score_class(score: float | None) -> str:
    """CSS class of a 0-100 score: good from 80, fair from 60, poor below."""
    if score is None or score == "":
        return "none"
    return "good" if float(score) >= 80 else "fair" if float(score) >= 60 else "poor"


def write_report_html(results: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                      path: Path, *, title: str, settings: Mapping[str, Any]) -> Path:
    """Render the HTML report for ``results`` (one per summary row, same order)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["score_class"] = score_class
    env.filters["whole"] = lambda v: "" if v in (None, "") else f"{float(v):.0f}"
    env.filters["without_path"] = lambda message, path: message.removeprefix(f"{path}: ")
    env.filters["seconds"] = lambda ms: "" if ms is None else f"{ms / 1000:.1f} s"
    entries = [_entry(r, i, row) for i, (r, row) in
               enumerate(zip(results, rows, strict=True))]
    html = env.from_string(REPORT_TEMPLATE).render(
        title=title, settings=settings, regions=REGIONS,
        entries=entries, scored=[e for e in entries if e["result"]["status"] == "ok"],
        not_judged=[e for e in entries if e["result"]["status"] == "not_judged"],
        failed=[e for e in entries if e["result"]["status"] == "error"],
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    with atomic_write(path, "w") as handle:
        handle.write(html)
    return path
