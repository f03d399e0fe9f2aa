"""Engines run jobs on workers and hand back outcomes as they finish, in any order.

Both engines keep one ``BatchWorker`` per worker process (one pose backend each, reused for
every job it gets) and report progress through ``on_event(kind, value)``: ("start", key) when
a worker begins a job, ("frames", n) as frames are decoded.

- ``run_pool``: a local process pool (the default). A worker that dies (a crash in a native
  decoder or in the model) breaks the pool: the jobs it was running are then run again one
  at a time, and an input that kills its worker again becomes an error result; the rest go on.
- ``run_ray``: the same jobs on Ray actors, on a local Ray instance or an existing cluster
  (``address``). Inputs travel to the actors as bytes, so the actors need no shared folder.
  Ray is an optional dependency: ``pip install coach[ray]``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue as queue_module
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from coach.batch.jobs import Job, input_files
from coach.batch.store import Outcome
from coach.batch.worker import BatchWorker, WorkerConfig, error_result
from coach.errors import CoachError

log = logging.getLogger(__name__)

EventSink = Callable[[str, Any], None]
#: Seconds between two looks at the progress queue while waiting for results.
POLL_S = 0.2
#: Seconds to wait for a Ray cluster's address to answer before giving up.
RAY_CONNECT_TIMEOUT_S = 5.0
ENGINES = ("pool", "ray")


class WorkerCrash(CoachError):
    """The worker process died while it was scoring an input."""


# -- process pool -----------------------------------------------------------------------------

_worker: BatchWorker | None = None


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the batch's main process dies, even by SIGKILL, so
    no worker goes on alone (elsewhere the worker ends when it next talks to the pool)."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _init_pool_worker(config: WorkerConfig, events: Any, parent_pid: int) -> None:
    """Pool initializer: build this process's worker once; its temp folders go into the
    batch's scratch folder, which the main process removes however the batch ends."""
    import atexit
    import signal
    import tempfile

    global _worker
    _die_with_parent()
    if os.getppid() != parent_pid:  # the batch died before the line above could take effect
        os._exit(0)
    if config.scratch_dir is not None:
        tempfile.tempdir = config.scratch_dir
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _worker = BatchWorker(config, progress=lambda kind, value: events.put((kind, value)))
    atexit.register(_worker.close)


def pool_worker() -> BatchWorker:
    """This pool process's worker (built by the pool's initializer)."""
    assert _worker is not None, "pool worker used before its initializer ran"
    return _worker


def run_pool_job(job: Job) -> Outcome:
    """Score one job on this pool process's worker."""
    return pool_worker().run(job)


def _drain(events: Any, on_event: EventSink, started: set[str]) -> None:
    while True:
        try:
            kind, value = events.get_nowait()
        except queue_module.Empty:
            return
        if kind == "start":
            started.add(value)
        on_event(kind, value)


JobRunner = Callable[[Job], Outcome]


def _pool_round(jobs: list[Job], config: WorkerConfig, workers: int, on_event: EventSink,
                started: set[str], finished: set[str], job_runner: JobRunner
                ) -> Iterator[Outcome]:
    """Run ``jobs`` on a fresh pool until done or until the pool breaks; yield outcomes."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    children_before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_init_pool_worker,
                               initargs=(config, events, os.getpid()))
    completed = False
    try:
        futures: dict[Future[Outcome], Job] = {}
        for job in jobs:
            try:
                futures[pool.submit(job_runner, job)] = job
            except BrokenProcessPool:  # a worker died already: finish what was submitted
                break
        remaining = set(futures)
        while remaining:
            done, remaining = wait(remaining, timeout=POLL_S, return_when=FIRST_COMPLETED)
            _drain(events, on_event, started)
            broken = False
            for future in done:
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                finished.add(futures[future].key)
                yield outcome
            if broken:
                log.warning("a worker process died; the inputs it may have been reading are "
                            "run again one at a time")
                return
        completed = len(futures) == len(jobs)
    finally:
        # After a normal end the workers are waited for (they close their backends). After a
        # crash or an interruption the workers left are killed: nothing waits for their jobs,
        # and a worker the pool started while breaking would otherwise wait for work forever.
        if not completed:
            for process in set(multiprocessing.active_children()) - children_before:
                process.kill()
        pool.shutdown(wait=completed, cancel_futures=True)
        _drain(events, on_event, started)
        events.close()


def run_pool(jobs: list[Job], config: WorkerConfig, workers: int, on_event: EventSink, *,
             job_runner: JobRunner = run_pool_job) -> Iterator[Outcome]:
    """Run ``jobs`` on ``workers`` local processes; yield each outcome as it finishes.

    ``job_runner``: the function a worker process calls per job (a module-level function, so
    it can be sent to the processes); it finds the process's worker with ``pool_worker()``.
    """
    todo = list(jobs)
    broken_rounds: dict[str, int] = {}
    while todo:
        started: set[str] = set()
        finished: set[str] = set()
        yield from _pool_round(todo, config, min(workers, len(todo)), on_event, started,
                               finished, job_runner)
        unfinished = [j for j in todo if j.key not in finished]
        for job in unfinished:
            broken_rounds[job.key] = broken_rounds.get(job.key, 0) + 1
        # A job seen starting, or caught in two broken rounds (its start report may have been
        # lost with its worker), runs alone next.
        alone_next = {j.key for j in unfinished if j.key in started or broken_rounds[j.key] > 1}
        suspects = [j for j in unfinished if j.key in alone_next]
        todo = [j for j in unfinished if j.key not in alone_next]
        for job in suspects:  # alone, so a crash names its input for certain
            alone: set[str] = set()
            outcomes = list(_pool_round([job], config, 1, on_event, set(), alone, job_runner))
            if outcomes:
                yield outcomes[0]
            else:
                yield Outcome(error_result(job, WorkerCrash(
                    f"{job.path}: the worker process died while reading this input (a crash "
                    "in the video decoder or the pose model)")))


# -- Ray --------------------------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module, or a CoachError telling how to install the optional extra."""
    try:
        import ray
    except ImportError:
        raise CoachError("the Ray engine needs Ray, an optional extra: "
                         "pip install coach[ray]") from None
    return ray


def check_ray_address(address: str) -> None:
    """Fail at once, with one line, when nothing answers at a Ray cluster ``address``
    ("host:port" or "ray://host:port"; "auto" and addresses without a port are left to Ray),
    instead of Ray retrying for minutes."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)),
                                 timeout=RAY_CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CoachError(f"--address {address}: no Ray cluster answers there ({reason})") \
            from None


class RayWorker:
    """The Ray actor's body: a ``BatchWorker`` reporting progress through a Ray queue."""

    def __init__(self, config: WorkerConfig, events: Any) -> None:
        self._worker = BatchWorker(config, progress=lambda kind, value: events.put((kind, value)))

    def run(self, job: Job, data: dict[str, bytes]) -> Outcome:
        return self._worker.run(job, data)


def read_input(job: Job) -> dict[str, bytes]:
    """The bytes of an input for a worker that cannot see its path (see ``BatchWorker.run``).

    A file or folder that cannot be read ships as nothing; the worker then reports it.
    """
    path = Path(job.path)
    try:
        if path.is_dir():
            return {p.name: p.read_bytes() for p in input_files(path)}
        return {job.name: path.read_bytes()}
    except OSError:
        return {}


def run_ray(jobs: list[Job], config: WorkerConfig, workers: int | None, address: str | None,
            on_event: EventSink) -> Iterator[Outcome]:
    """Run ``jobs`` on Ray actors; yield each outcome as it finishes.

    ``address``: an existing cluster ("auto", "ray://host:10001", "host:6379"); None starts a
    local Ray with ``workers`` CPUs. ``workers``: actors to start (default: the cluster's CPUs).
    """
    ray = import_ray()
    from ray.exceptions import RayActorError
    from ray.util.queue import Queue

    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "logging_level": logging.WARNING}
        try:
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise CoachError(f"cannot start or reach {where} "
                             f"({str(exc).strip().splitlines()[0][:160]})") from None
    try:
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        events = Queue(actor_options={"num_cpus": 0})
        actor_class = ray.remote(num_cpus=1, max_restarts=0)(RayWorker)
        config_ref = ray.put(config)
        idle = [actor_class.remote(config_ref, events) for _ in range(min(count, len(jobs)))]
        pending = deque(jobs)
        running: dict[Any, tuple[Any, Job]] = {}
        try:
            while pending or running:
                while idle and pending:
                    job = pending.popleft()
                    actor = idle.pop()
                    running[actor.run.remote(job, read_input(job))] = (actor, job)
                ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
                _drain_ray(events, on_event)
                for ref in ready:
                    actor, job = running.pop(ref)
                    try:
                        outcome = ray.get(ref)
                        idle.append(actor)
                    except RayActorError:
                        outcome = Outcome(error_result(job, WorkerCrash(
                            f"{job.path}: the worker died while reading this input (a crash "
                            "in the video decoder or the pose model)")))
                        idle.append(actor_class.remote(config_ref, events))
                    yield outcome
            _drain_ray(events, on_event)
        finally:
            for actor in idle + [a for a, _ in running.values()]:
                ray.kill(actor)
    finally:
        if started_here:
            ray.shutdown()


def _drain_ray(events: Any, on_event: EventSink) -> None:
    count = events.qsize()
    if count:
        for kind, value in events.get_nowait_batch(count):
            on_event(kind, value)
