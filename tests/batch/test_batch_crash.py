"""A worker process that dies on one input: that input becomes an error row, the rest are
scored, and the pool carries on with fresh workers."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from coach.backend import default_model_path
from coach.batch.engines import run_pool, run_pool_job
from coach.batch.jobs import Job, hash_input, result_key
from coach.batch.references import load_references
from coach.batch.store import Outcome
from coach.batch.worker import WorkerConfig
from coach.library import Library

pytestmark = pytest.mark.slow


def die_on_poison(job: Job) -> Outcome:
    """Like the pool's own job runner, but the process is killed by an input named poison."""
    if "poison" in job.name:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_pool_job(job)


def test_a_crashing_input_is_isolated_and_the_batch_goes_on(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    refs = load_references(Library.open([], env={}), "keraal-trunk-rotation")
    config = WorkerConfig(str(default_model_path()), refs)
    jobs = []
    for name, data in (("a.json", sample_path("keraal_RTK").read_bytes()),
                       ("poison.json", b"{}"),
                       ("b.json", sample_path("keraal_ELK").read_bytes()),
                       ("c.json", sample_path("keraal_CTK").read_bytes())):
        path = tmp_path / name
        path.write_bytes(data)
        sha, size = hash_input(path)
        jobs.append(Job(str(path), sha, size, result_key(sha, refs.exercise, refs.version, 1,
                                                        "m"), refs.exercise, 1, False))
    events: list[tuple[str, object]] = []
    outcomes = list(run_pool(jobs, config, 2, lambda k, v: events.append((k, v)),
                             job_runner=die_on_poison))
    by_name = {Path(o.result["input"]["path"]).name: o.result for o in outcomes}
    assert sorted(by_name) == ["a.json", "b.json", "c.json", "poison.json"]  # each once
    assert by_name["poison.json"]["status"] == "error"
    assert by_name["poison.json"]["error"]["type"] == "WorkerCrash"
    assert "worker process died" in by_name["poison.json"]["error"]["message"]
    assert all(by_name[n]["status"] == "ok" for n in ("a.json", "b.json", "c.json"))
