"""Run a batch: discover inputs, key them, skip finished work, score the rest, write the summary.

    summary = run_batch(BatchOptions(["uploads/"], exercise="auto", out_dir=Path("out")))
    print(summary.failed, summary.csv_path, summary.html_path)

A result is stored as soon as it arrives (see ``coach.batch.store``), so a batch killed at any
moment keeps everything finished; running it again scores only what is missing. Inputs that
cannot be read even to hash them, and inputs whose worker process died, become error rows
without a stored result: the next run tries them again.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.backend import DEFAULT_MAX_PEOPLE
from coach.batch.discover import discover_inputs
from coach.batch.engines import (
    ENGINES,
    WorkerCrash,
    check_ray_address,
    import_ray,
    run_pool,
    run_ray,
)
from coach.batch.jobs import Job, hash_file, hash_input, result_key
from coach.batch.references import ReferenceSet, load_references
from coach.batch.report import (
    REPORT_HTML,
    SUMMARY_CSV,
    check_reportable,
    summary_row,
    write_report_html,
    write_summary_csv,
)
from coach.batch.scratch import make_scratch, remove_stale_scratch
from coach.batch.store import RESULTS_DIR, Outcome, ResultStore
from coach.batch.worker import WorkerConfig, error_result
from coach.errors import CoachError, InputError, OutputError
from coach.sources import usable_cores

log = logging.getLogger(__name__)

#: Progress callback of a batch: ("total", n_jobs), ("skipped", n), ("start", key),
#: ("frames", n), ("done", result).
Listener = Callable[[str, Any], None]


@dataclass(frozen=True)
class BatchOptions:
    """One batch.

    inputs: files, folders and globs (see ``coach.batch.discover``).
    exercise: a library exercise (slug or name), or "auto" for every scorable one.
    out_dir: the output folder (results, thumbnails, videos, summary.csv, report.html).
    workers: worker processes (pool) or actors (Ray; None = the cluster's CPUs).
    stride: score every ``stride``-th frame.
    engine: "pool" or "ray"; address: the Ray cluster (None = start a local one).
    annotate: also write annotated videos. library_dirs: extra library folders.
    model_path: the pose model bundle (None = the default one). max_people: people the model
    looks for in each frame.
    """

    inputs: list[str]
    exercise: str
    out_dir: Path
    workers: int | None = None
    stride: int = 1
    engine: str = "pool"
    address: str | None = None
    annotate: bool = False
    library_dirs: list[str] = field(default_factory=list)
    model_path: str | None = None
    max_people: int = DEFAULT_MAX_PEOPLE


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: one result per input (in input order), how many results this run
    computed (failures included) and reused from earlier runs, and the files written."""

    results: list[dict[str, Any]]
    computed: int
    reused: int
    csv_path: Path
    html_path: Path

    @property
    def not_judged(self) -> int:
        """Inputs refused with the reason (no person, no exercise matched clearly): an
        answer, not a failure."""
        return sum(1 for r in self.results if r["status"] == "not_judged")

    @property
    def failed(self) -> int:
        """Inputs that failed (unreadable, broken, an error while scoring)."""
        return sum(1 for r in self.results if r["status"] == "error")


def _check_options(options: BatchOptions) -> None:
    if options.stride < 1:
        raise CoachError(f"--stride: expected 1 or more, got {options.stride}")
    if options.max_people < 1:
        raise CoachError(f"--max-people: expected 1 or more, got {options.max_people}")
    if options.workers is not None and options.workers < 1:
        raise CoachError(f"--workers: expected 1 or more, got {options.workers}")
    if options.engine not in ENGINES:
        raise CoachError(f"--engine: expected one of {', '.join(ENGINES)}, got "
                         f"{options.engine!r}")
    if options.address and options.engine != "ray":
        raise CoachError("--address is for --engine ray")
    if options.engine == "ray":
        import_ray()
        if options.address:
            check_ray_address(options.address)
    if options.out_dir.exists() and not options.out_dir.is_dir():
        raise OutputError(f"{options.out_dir}: the output folder is a file")


def check_output_folder(folder: Path) -> None:
    """Make the output folder and prove it takes a file, before anything is scored: an
    unwritable folder found only after the scoring would throw the work away."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: the output folder is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=".write-check.", dir=folder):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        for parent in folder.parents:
            if parent.exists() and not parent.is_dir():
                why = f"{parent} is a file, not a folder"
                break
        raise OutputError(f"{folder}: the output folder cannot be written ({why})") from None


def plan_jobs(inputs: list[Path], options: BatchOptions, refs: ReferenceSet,
              model_sha256: str) -> tuple[list[Job | dict[str, Any]], list[Job]]:
    """Per input its ``Job`` (or an error result when it cannot be read), and the unique jobs."""
    planned: list[Job | dict[str, Any]] = []
    unique: dict[str, Job] = {}
    for path in inputs:
        try:
            sha, size = hash_input(path)
        except InputError as exc:
            stub = Job(str(path), "", 0, "", options.exercise, options.stride, options.annotate)
            planned.append(error_result(stub, exc))
            continue
        key = result_key(sha, refs.exercise, refs.version, options.stride, model_sha256,
                         options.max_people)
        job = Job(str(path), sha, size, key, refs.exercise, options.stride, options.annotate)
        planned.append(job)
        unique.setdefault(key, job)
    return planned, list(unique.values())


def run_batch(options: BatchOptions, listener: Listener | None = None) -> BatchSummary:
    """Run the batch; raises ``CoachError`` only for problems that stop every input (bad
    options, unknown exercise, missing model), never for one bad input."""
    from coach.backend import check_model_file, default_model_path
    from coach.library import Library

    listen = listener or (lambda kind, value: None)
    _check_options(options)
    inputs = discover_inputs(options.inputs, skip=options.out_dir)
    refs = load_references(Library.open(options.library_dirs), options.exercise)
    model = Path(options.model_path) if options.model_path else default_model_path()
    check_model_file(model)
    check_output_folder(options.out_dir)  # before any input is read or scored
    planned, jobs = plan_jobs(inputs, options, refs, hash_file(model))
    store = ResultStore(options.out_dir)
    store.remove_stale_temps()
    done = {j.key: r for j in jobs
            if (r := store.load(j.key)) is not None and not _stale(r, options)}
    # Largest inputs first: the long videos start early and the workers finish together.
    todo = sorted((j for j in jobs if j.key not in done), key=lambda j: -j.size_bytes)
    listen("total", len(jobs))
    listen("skipped", len(done))
    workers = options.workers or (usable_cores() if options.engine == "pool" else None)
    remove_stale_scratch()
    # Pool workers make their temp folders in one scratch folder, removed however this ends
    # (SIGTERM arrives as SystemExit); Ray's workers may run on other machines.
    scratch = make_scratch("batch") if options.engine == "pool" else None
    config = WorkerConfig(str(model), refs, max_people=options.max_people,
                          scratch_dir=None if scratch is None else str(scratch))
    fresh: dict[str, dict[str, Any]] = {}
    try:
        outcomes = _outcomes(todo, config, workers, options, listen)
        with contextlib.closing(outcomes):  # stops the workers before their folder goes
            for outcome in outcomes:
                fresh[outcome.result["key"]] = _store(store, outcome, todo)
                listen("done", fresh[outcome.result["key"]])
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    results = []
    for item in planned:
        if isinstance(item, Job):
            results.append(fresh.get(item.key) or done[item.key])
            results[-1] = {**results[-1], "input": {**results[-1]["input"], "path": item.path,
                                                    "name": item.name}}
        else:
            results.append(item)
    return _write_summary(results, options, refs, store, len(fresh), len(done))


def _outcomes(todo: list[Job], config: WorkerConfig, workers: int | None,
              options: BatchOptions, listen: Listener) -> Generator[Outcome, None, None]:
    """The outcomes of ``todo`` from the chosen engine, as they finish; closing this stops the
    engine's workers."""
    if not todo:
        return
    if options.engine == "ray":
        yield from run_ray(todo, config, workers, options.address, listen)
    else:
        yield from run_pool(todo, config, workers or 1, listen)


def _stale(result: dict[str, Any], options: BatchOptions) -> bool:
    """A stored result that lacks what this run asks for (an annotated video)."""
    return options.annotate and result["status"] == "ok" and not result.get("annotated_video")


def _store(store: ResultStore, outcome: Outcome, jobs: list[Job]) -> dict[str, Any]:
    """Keep the outcome, except a worker crash: it may come from the machine (memory) rather
    than the input, so the next run tries that input again. A result that cannot be stored
    (a full disk, a value JSON cannot hold) becomes that input's error, not the batch's."""
    if (outcome.result.get("error") or {}).get("type") == WorkerCrash.__name__:
        return outcome.result
    try:
        store.save(outcome)
    except (CoachError, ValueError, TypeError, OSError) as exc:
        job = next(j for j in jobs if j.key == outcome.result["key"])
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return error_result(job, CoachError(f"{job.path}: the result cannot be stored "
                                            f"({reason.removeprefix(f'{job.path}: ')})"))
    return outcome.result


def _write_summary(results: list[dict[str, Any]], options: BatchOptions, refs: ReferenceSet,
                   store: ResultStore, computed: int, reused: int) -> BatchSummary:
    rows = []
    for index, result in enumerate(results):
        key = result.get("key")
        stored = isinstance(key, str) and bool(key) and store.result_path(key).is_file()
        try:
            rows.append(summary_row(result, f"{RESULTS_DIR}/{key}.json" if stored else ""))
            check_reportable(result)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            path = str((result.get("input") or {}).get("path", "?"))
            stub = Job(path, "", 0, "", options.exercise, options.stride, options.annotate)
            results[index] = error_result(stub, CoachError(
                f"{path}: the result cannot be reported ({type(exc).__name__}: {exc})"))
            rows.append(summary_row(results[index], ""))
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_summary_csv(rows, out / SUMMARY_CSV)
    html_path = write_report_html(
        results, rows, out / REPORT_HTML, title="Practice video report",
        settings={"exercise": refs.exercise, "stride": options.stride,
                  "max_people": options.max_people, "reference_version": refs.version})
    return BatchSummary(results, computed, reused, csv_path, html_path)
