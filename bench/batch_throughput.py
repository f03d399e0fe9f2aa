"""Batch throughput: video-seconds scored per wall-second, against the bare pose loop.

    .venv/bin/python bench/batch_throughput.py [--copies 1] [--exercise auto] [--rounds 3]

Inputs: the bundled sample videos (squats, dance, the four pose2sim views, the sports clip),
each ``--copies`` times (a copy gets a distinct MP4 ``free`` box at its end, so its content
hash differs and the batch scores it again). In the same run it measures:

- the bare single-process pose loop: one ``PoseBackend``, every frame of every video through
  ``detect``, nothing else (no scoring, no pictures, no files, no worker processes);
- ``run_batch`` (process pool) with 1 and 2 workers and stride 1 and 2, each into a fresh
  output folder (so worker start-up, scoring, thumbnails and the store are all counted).

Each batch run is preceded by its own bare-loop run (the ratio compares runs that met the
same machine load), and the whole set is repeated ``--rounds`` times: the figures at the end
are medians over the rounds, since one run on a shared machine can be 20% off. It prints
video-seconds per wall-second for each, the ratio to the bare loop, the CPU cores used, the
scaling from 1 to 2 workers, and the peak resident memory of each worker process.

Why the scaling is what it is: a batch on N cores cannot finish before its jobs' CPU time / N.
So the scaling from 1 to 2 workers is at most (1-worker wall time) / (2-worker job CPU / 2):
the "CPU ceiling", about 2 / (cores one worker keeps busy). The scaling reached is that
ceiling times the share of the two cores the 2-worker run kept busy; the idle rest is split
into worker start-up, gaps between jobs, the last jobs running alone and the summary at the
end (core-seconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from coach.backend import PoseBackend
from coach.batch.runner import BatchOptions, run_batch
from coach.sources import open_source

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [ROOT / "samples" / p for p in (
    "tfjs_squats/pose_squats.mp4", "mediapipe_dance/pose_segmentation.mp4",
    "pose2sim_lunge/cam01.mp4", "pose2sim_lunge/cam02.mp4", "pose2sim_lunge/cam03.mp4",
    "pose2sim_lunge/cam04.mp4", "sports2d_multi/demo.mp4")]


def make_inputs(folder: Path, copies: int) -> list[Path]:
    """The sample videos, ``copies`` times each, every copy with its own content hash."""
    made = []
    for sample in SAMPLES:
        for n in range(copies):
            target = folder / f"{sample.stem}-{n}{sample.suffix}"
            shutil.copy(sample, target)
            if n:
                with open(target, "ab") as handle:  # a top-level MP4 'free' box: padding
                    handle.write(struct.pack(">I4sI", 12, b"free", n))
            made.append(target)
    return made


def bare_loop(videos: list[Path]) -> tuple[float, float, float]:
    """(video seconds, wall seconds, CPU seconds) of the plain pose loop over ``videos``."""
    video_s = 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    offset_ms = 0.0
    with PoseBackend() as backend:
        for video in videos:
            backend.reset_follow()
            with open_source(video) as source:
                last_ms = 0.0
                for frame in source:
                    backend.detect(frame.at(frame.timestamp_ms + offset_ms))
                    last_ms = frame.timestamp_ms
                video_s += last_ms / 1000.0 + 1.0 / source.fps
            offset_ms += last_ms + 1000.0
    return video_s, time.perf_counter() - start, time.process_time() - cpu_start


@dataclass
class BatchRun:
    """What one fresh batch took: wall seconds, CPU seconds in jobs, peak RSS MB per worker
    pid, failures, and the workers' idle core-seconds by cause."""

    wall_s: float
    cpu_s: float
    peaks_mb: dict[int, float]
    failed: int
    not_judged: int
    idle_s: dict[str, float]


def batch_run(videos: list[Path], workers: int, stride: int, exercise: str,
              work: Path) -> BatchRun:
    """Run one fresh batch; time every job from its result (elapsed seconds) and from when
    its result reached the main process."""
    out = work / f"out-w{workers}-s{stride}"
    done_at: dict[str, float] = {}
    start = time.perf_counter()

    def listen(kind: str, value: object) -> None:
        if kind == "done":
            done_at[value["key"]] = time.perf_counter() - start  # type: ignore[index]

    summary = run_batch(BatchOptions([str(v) for v in videos], exercise, out,
                                     workers=workers, stride=stride), listen)
    wall = time.perf_counter() - start
    peaks: dict[int, float] = defaultdict(float)
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)  # pid -> (start, end) s
    cpu = 0.0
    for result in summary.results:
        run = result.get("run") or {}
        if "pid" in run:
            peaks[run["pid"]] = max(peaks[run["pid"]], run["peak_rss_mb"])
            cpu += run["cpu_s"]
            end = done_at[result["key"]]
            spans[run["pid"]].append((end - run["elapsed_s"], end))
    return BatchRun(wall, cpu, dict(peaks), summary.failed, summary.not_judged,
                    idle_core_seconds(spans, wall))


def idle_core_seconds(spans: dict[int, list[tuple[float, float]]], wall: float
                      ) -> dict[str, float]:
    """Core-seconds the workers spent without a job, by cause, from each worker's job
    (start, end) times in seconds since the batch began."""
    idle = {"start-up": 0.0, "between jobs": 0.0, "last jobs alone": 0.0, "summary": 0.0}
    if not spans:  # no job ran to the end in a worker
        return idle
    last_end = max(end for jobs in spans.values() for _, end in jobs)
    for jobs in spans.values():
        first, last = min(s for s, _ in jobs), max(e for _, e in jobs)
        idle["start-up"] += first
        idle["between jobs"] += max(0.0, (last - first) - sum(e - s for s, e in jobs))
        idle["last jobs alone"] += last_end - last
        idle["summary"] += wall - last_end
    return idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of each sample video")
    parser.add_argument("--exercise", default="auto", help="reference to score against")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of all runs; the figures are medians over the rounds")
    args = parser.parse_args()
    if args.rounds < 1 or args.copies < 1:
        parser.error("--rounds and --copies: expected 1 or more")
    cpus = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        work = Path(tmp)
        folder = work / "videos"
        folder.mkdir()
        videos = make_inputs(folder, args.copies)
        print(f"{len(videos)} videos, {cpus} CPUs, exercise {args.exercise}, "
              f"{args.rounds} round(s)")
        print("Each batch run follows its own bare-loop run, so both meet the same machine "
              "load;\n'cores' = CPU seconds / wall seconds (below the worker count: waiting "
              "for the CPU or for start-up).")
        print(f"{'run':<30}{'wall s':>8}{'video-s/s':>11}{'x bare':>8}{'cores':>7}"
              f"{'load':>6}  peak RSS per worker")
        ratios: dict[tuple[int, int], list[float]] = defaultdict(list)
        scaling: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}")
            for stride in (1, 2):
                runs = {workers: measured_run(videos, workers, stride, args.exercise,
                                              work / f"round{round_number}", ratios)
                        for workers in (1, 2)}
                one, two = runs[1], runs[2]
                scaling["x bare"][stride].append(ratios[(2, stride)][-1]
                                                 / ratios[(1, stride)][-1])
                scaling["wall"][stride].append(one.wall_s / two.wall_s)
                scaling["ceiling"][stride].append(one.wall_s / (two.cpu_s / 2))
                scaling["busy"][stride].append(two.cpu_s / (2 * two.wall_s))
                scaling["one worker cores"][stride].append(one.cpu_s / one.wall_s)
        print(f"medians over {args.rounds} round(s):")
        for stride in (1, 2):
            m = {name: statistics.median(values[stride]) for name, values in scaling.items()}
            print(f"  1 worker {statistics.median(ratios[(1, stride)]):.2f}x bare, 2 workers "
                  f"{statistics.median(ratios[(2, stride)]):.2f}x bare, stride {stride}")
            print(f"  scaling 1 -> 2 workers, stride {stride}: {m['x bare']:.2f}x (ratio of "
                  f"their x-bare figures; per round "
                  + ", ".join(f"{v:.2f}" for v in scaling["x bare"][stride])
                  + f"); {m['wall']:.2f}x in wall time = CPU ceiling {m['ceiling']:.2f}x (one "
                  f"worker keeps {m['one worker cores']:.2f} cores busy) x {m['busy']:.0%} of "
                  f"both cores kept busy")
        print(f"  stride 2 vs stride 1, 2 workers: "
              f"{statistics.median(ratios[(2, 2)]) / statistics.median(ratios[(2, 1)]):.2f}x")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


def measured_run(videos: list[Path], workers: int, stride: int, exercise: str, work: Path,
                 ratios: dict[tuple[int, int], list[float]]) -> BatchRun:
    """A bare-loop run, then a fresh batch; prints both and appends the batch's x-bare ratio."""
    load = os.getloadavg()[0]
    video_s, bare_wall, bare_cpu = bare_loop(videos)
    bare = video_s / bare_wall
    print(f"{'  bare pose loop (1 process)':<30}{bare_wall:>8.1f}{bare:>11.2f}"
          f"{1.0:>8.2f}{bare_cpu / bare_wall:>7.2f}{load:>6.1f}")
    load = os.getloadavg()[0]
    run = batch_run(videos, workers, stride, exercise, work)
    rate = video_s / run.wall_s
    ratios[(workers, stride)].append(rate / bare)
    memory = ", ".join(f"{mb:.0f} MB" for mb in sorted(run.peaks_mb.values()))
    label = f"batch {workers} worker(s), stride {stride}"
    print(f"{label:<30}{run.wall_s:>8.1f}{rate:>11.2f}{rate / bare:>8.2f}"
          f"{run.cpu_s / run.wall_s:>7.2f}{load:>6.1f}  {memory}"
          + (f"  ({run.not_judged} not judged)" if run.not_judged else "")
          + (f"  ({run.failed} failed)" if run.failed else ""))
    print("    idle core-seconds: " + ", ".join(
        f"{cause} {seconds:.1f}" for cause, seconds in run.idle_s.items()), flush=True)
    return run


if __name__ == "__main__":
    main()
