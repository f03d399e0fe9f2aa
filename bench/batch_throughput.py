"""Batch throughput: video-seconds scored per wall-second, against the bare pose loop.

    .venv/bin/python bench/batch_throughput.py [--copies 1] [--exercise auto]

Inputs: the bundled sample videos (squats, dance, the four pose2sim views, the sports clip),
each ``--copies`` times (a copy gets a distinct MP4 ``free`` box at its end, so its content
hash differs and the batch scores it again). In the same run it measures:

- the bare single-process pose loop: one ``PoseBackend``, every frame of every video through
  ``detect``, nothing else (no scoring, no pictures, no files, no worker processes);
- ``run_batch`` (process pool) with 1 and 2 workers and stride 1 and 2, each into a fresh
  output folder (so worker start-up, scoring, thumbnails and the store are all counted).

Each batch run is preceded by its own bare-loop run (the ratio compares runs that met the
same machine load). It prints video-seconds per wall-second for each, the ratio to the bare
loop, the CPU cores used, the scaling from 1 to 2 workers, and the peak resident memory of
each worker process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from coach.backend import PoseBackend
from coach.batch.runner import BatchOptions, run_batch
from coach.sources import Frame, open_source

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
                    backend.detect(Frame(frame.rgb, frame.timestamp_ms + offset_ms,
                                         frame.index))
                    last_ms = frame.timestamp_ms
                video_s += last_ms / 1000.0 + 1.0 / source.fps
            offset_ms += last_ms + 1000.0
    return video_s, time.perf_counter() - start, time.process_time() - cpu_start


def batch_run(videos: list[Path], workers: int, stride: int, exercise: str,
              work: Path) -> tuple[float, float, dict[int, float], int]:
    """(wall seconds, CPU seconds in jobs, peak RSS MB per worker pid, failures) of one
    fresh batch."""
    out = work / f"out-w{workers}-s{stride}"
    start = time.perf_counter()
    summary = run_batch(BatchOptions([str(v) for v in videos], exercise, out,
                                     workers=workers, stride=stride))
    wall = time.perf_counter() - start
    peaks: dict[int, float] = defaultdict(float)
    cpu = 0.0
    for result in summary.results:
        run = result.get("run") or {}
        if "pid" in run:
            peaks[run["pid"]] = max(peaks[run["pid"]], run["peak_rss_mb"])
            cpu += run["cpu_s"]
    return wall, cpu, dict(peaks), summary.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="copies of each sample video")
    parser.add_argument("--exercise", default="auto", help="reference to score against")
    args = parser.parse_args()
    cpus = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        work = Path(tmp)
        folder = work / "videos"
        folder.mkdir()
        videos = make_inputs(folder, args.copies)
        print(f"{len(videos)} videos, {cpus} CPUs, exercise {args.exercise}")
        print("Each batch run follows its own bare-loop run, so both meet the same machine "
              "load;\n'cores' = CPU seconds / wall seconds (below the worker count: waiting "
              "for the CPU or for start-up).")
        print(f"{'run':<30}{'wall s':>8}{'video-s/s':>11}{'x bare':>8}{'cores':>7}"
              f"{'load':>6}  peak RSS per worker")
        ratios: dict[tuple[int, int], float] = {}
        for stride in (1, 2):
            for workers in (1, 2):
                load = os.getloadavg()[0]
                video_s, bare_wall, bare_cpu = bare_loop(videos)
                bare = video_s / bare_wall
                print(f"{'  bare pose loop (1 process)':<30}{bare_wall:>8.1f}{bare:>11.2f}"
                      f"{1.0:>8.2f}{bare_cpu / bare_wall:>7.2f}{load:>6.1f}")
                load = os.getloadavg()[0]
                wall, cpu, peaks, failed = batch_run(videos, workers, stride, args.exercise,
                                                     work)
                rate = video_s / wall
                ratios[(workers, stride)] = rate / bare
                memory = ", ".join(f"{mb:.0f} MB" for mb in sorted(peaks.values()))
                label = f"batch {workers} worker(s), stride {stride}"
                print(f"{label:<30}{wall:>8.1f}{rate:>11.2f}{rate / bare:>8.2f}"
                      f"{cpu / wall:>7.2f}{load:>6.1f}  {memory}"
                      + (f"  ({failed} failed)" if failed else ""))
        for stride in (1, 2):
            print(f"scaling 1 -> 2 workers, stride {stride} (ratio of their x-bare figures): "
                  f"{ratios[(2, stride)] / ratios[(1, stride)]:.2f}x")
        print(f"stride 2 vs stride 1, 2 workers: {ratios[(2, 2)] / ratios[(2, 1)]:.2f}x")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
