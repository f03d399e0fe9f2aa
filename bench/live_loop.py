"""Frames per second of the whole live loop against the bare pose loop, the cost of scoring
and drawing per frame, and memory over a long session.

The clip is first letterboxed to a 640x480, 30 fps H.264 file (what a webcam gives), so that
capturing a frame costs what a camera frame costs: one 640x480 decode.

1. Rate: the live loop (capture thread decoding the 640x480 clip, pose model, One Euro
   smoothing, online alignment, scoring, cues, every overlay, the follow-along figure,
   mirrored display) with its real sink against the bare ``PoseLandmarker.detect_for_video``
   loop on the same frames already decoded into memory: the H.264 writer (as ``--headless``
   runs), and the window (under the display in ``DISPLAY``, or a virtual one started with
   Xvfb when there is none). Goal: the live loop keeps at least 0.9 of the bare rate. For
   reference, the simplest real loop (read a frame, detect, repeat, in one thread) is timed
   too. Where the time goes: the CPU each thread of the process took per frame, in the live
   loop and in the bare one (on two cores, every millisecond the live loop spends beside the
   model is one the model does not get), and how often the loop waited for the video
   encoder (it never drops a frame from the video: it waits). The machine's load average
   is printed before and after, since other processes share the cores.
2. Scoring and drawing, ms per frame at 640x480: the same session with the pose model replaced
   by the poses it found (looked up per frame); the CPU time of the coaching loop's thread
   (scoring, drawing, hand-over bookkeeping: the model and the capture run in threads of
   their own), with scoring timed on its own. Goal: under 3 ms together.
3. Memory: the live loop (real model) on the clip looped for ``--minutes``; resident memory
   printed over time next to what the session's landmark recording needs (it keeps every
   frame with a person, about 1 kB each, for the end-of-session report). Goal: no growth
   beyond the recording.

    .venv/bin/python bench/live_loop.py [--clip VIDEO] [--exercise SLUG] [--frames N]
                                        [--minutes M]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from pose_throughput import bare_fps  # the same bare loop as the pose throughput benchmark

from coach.backend import PoseBackend
from coach.library import Library
from coach.live.app import follow_along
from coach.live.coaching import ExerciseCoaching
from coach.live.session import Session, SessionConfig
from coach.live.sinks import Sink, VideoSink, WindowSink
from coach.overlay.follow import FollowAlong
from coach.pipeline import FrameCapture
from coach.pose import FramePose
from coach.sources import Frame, VideoFileSource
from coach.video_writer import VideoWriter

ROOT = Path(__file__).resolve().parent.parent
SIZE = (640, 480)
RATE_GOAL = 0.9
COST_GOAL_MS = 3.0
#: Bytes per frame of the scorer's float32 recording (image, world, visibility, time, count).
RECORDING_BYTES_PER_FRAME = 33 * 3 * 4 * 2 + 33 * 4 + 8 + 8


def letterbox(rgb: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """The picture scaled to fit ``size`` (width, height) on black, like a 4:3 webcam."""
    width, height = size
    scale = min(width / rgb.shape[1], height / rgb.shape[0])
    w, h = int(rgb.shape[1] * scale), int(rgb.shape[0] * scale)
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - w) // 2, (height - h) // 2
    out[y:y + h, x:x + w] = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
    return out


def webcam_clip(clip: Path, folder: Path) -> Path:
    """``clip`` letterboxed to 640x480 at 30 fps, as an H.264 file in ``folder``."""
    path = folder / "webcam.mp4"
    with VideoWriter(path, fps=30.0) as writer, VideoFileSource(clip) as source:
        for frame in source:
            writer.write(letterbox(frame.rgb))
    return path


class LoopedClip:
    """A video file decoded over and over, with times as a 30 fps camera would give them:
    ``frames`` in all, or until ``seconds`` of wall time have passed."""

    is_live = False
    still_images = False
    frame_count = None

    def __init__(self, path: Path, frames: int | None = None,
                 seconds: float | None = None, fps: float = 30.0) -> None:
        self.path, self.frames, self.seconds, self.fps = path, frames, seconds, fps
        self.name = f"{path.name} looped"

    def __iter__(self) -> Iterator[Frame]:
        index, start = 0, time.monotonic()
        while True:
            for raw in VideoFileSource(self.path):
                if (self.frames is not None and index >= self.frames) or (
                        self.seconds is not None and time.monotonic() - start >= self.seconds):
                    return
                yield Frame(raw.rgb, index * 1000.0 / self.fps, index)
                index += 1

    def close(self) -> None:
        """Nothing stays open between passes."""

    def __enter__(self) -> LoopedClip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullSink:
    """Takes the annotated frames (drawing happens, nothing is shown)."""

    interactive = False

    def show(self, scene: np.ndarray, timestamp_ms: float) -> None:
        return None

    def close(self, completed: bool = True) -> None:
        return None


class TimedCoaching:
    """Wraps ExerciseCoaching to time ``update`` (the scoring)."""

    def __init__(self, inner: ExerciseCoaching) -> None:
        self.inner = inner
        self.title = inner.title
        self.seconds = 0.0
        self.calls = 0

    def update(self, pose: FramePose):  # noqa: ANN201 - LiveView
        start = time.thread_time()
        view = self.inner.update(pose)
        self.seconds += time.thread_time() - start
        self.calls += 1
        return view

    def reset(self) -> None:
        self.inner.reset()

    def recording(self):  # noqa: ANN201 - PoseSequence
        return self.inner.recording()

    def report(self):  # noqa: ANN201 - the exercise report
        return self.inner.report()


def run_session(source, detect: Callable[[Frame], FramePose], coaching,
                sink: Sink | None = None, follow: FollowAlong | None = None
                ) -> tuple[float, float, int]:
    """Run a session over ``source`` into ``sink`` (default: nowhere); (wall seconds, CPU
    seconds of the coaching loop's own thread, frames processed). The sink is closed (the
    video finished) inside the timed span."""
    sink = sink or NullSink()
    capture = FrameCapture(lambda: source, live=False, first_source=source)
    session = Session(capture, detect, coaching,
                      SessionConfig(setup_check=False, mirror_display=True), [sink],
                      source.fps, follow=follow)
    start, cpu = time.perf_counter(), time.thread_time()
    outcome = session.run()
    sink.close()
    return time.perf_counter() - start, time.thread_time() - cpu, outcome.frames_processed


def live_fps(clip: Path, exercise, frames: int, sink: Sink) -> tuple[float, ThreadCpu]:
    """The whole live loop into ``sink``, decoding included: (frames per second, the CPU its
    threads took while the session ran)."""
    follow = follow_along(exercise, mirror=True)
    coaching = ExerciseCoaching(exercise, image_size=SIZE)
    with PoseBackend() as backend, ThreadCpu() as cpu:
        seconds, _, done = run_session(LoopedClip(clip, frames=frames), backend.detect,
                                       coaching, sink, follow)
    return done / seconds, cpu


def _thread_cpu_s() -> dict[int, tuple[str, float]]:
    """CPU seconds each thread of this process has taken so far: thread id -> (name, s).
    Python threads go by their name, the others (the pose model's, the encoder's) by the
    name the system knows them by. Empty where there is no ``/proc``."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for task in Path("/proc/self/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended
        system_name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(task.name)] = (names.get(int(task.name), system_name),
                                 (int(fields[11]) + int(fields[12])) / tick)
    return found


class ThreadCpu:
    """CPU seconds taken by each thread while the block runs, summed by thread name in
    ``seconds``. Threads that end inside the block are counted up to their last sample
    (every ``interval_s``)."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s = interval_s
        self.seconds: Counter[str] = Counter()
        self._stop = threading.Event()

    def __enter__(self) -> ThreadCpu:
        self._start = _thread_cpu_s()
        self._last = dict(self._start)
        self._thread = threading.Thread(target=self._sample, name="cpu sampler", daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._last.update(_thread_cpu_s())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._last.update(_thread_cpu_s())
        for tid, (name, seconds) in self._last.items():
            if name != "cpu sampler":
                self.seconds[name] += seconds - self._start.get(tid, (name, 0.0))[1]


def cpu_line(cpu: ThreadCpu, frames: int) -> str:
    """``cpu`` as milliseconds per frame, the busiest threads first."""
    total = sum(cpu.seconds.values())
    parts = [f"{name} {seconds / frames * 1000:.1f}" for name, seconds
             in cpu.seconds.most_common() if seconds / frames * 1000 >= 0.05]
    return f"{total / frames * 1000:.1f} ms/frame ({', '.join(parts)})"


def load() -> str:
    """The machine's load average over the last minute (processes wanting a core)."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


@contextmanager
def a_display() -> Iterator[str | None]:
    """The display to open the window on: ``DISPLAY``, else a virtual one (Xvfb) for the
    duration; None when neither is possible."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    number = next((n for n in range(170, 200) if not Path(f"/tmp/.X{n}-lock").exists()), None)
    if xvfb is None or number is None:
        yield None
        return
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1280x1024x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.environ["DISPLAY"] = f":{number}"
        yield os.environ["DISPLAY"]
    finally:
        os.environ.pop("DISPLAY", None)
        proc.terminate()
        proc.wait(timeout=10)


def read_detect_fps(clip: Path, frames: int) -> float:
    """The simplest real loop: read a frame, detect, repeat, one thread (frames per second)."""
    with PoseBackend() as backend:
        start = time.perf_counter()
        for frame in LoopedClip(clip, frames=frames):
            backend.detect(frame)
        return frames / (time.perf_counter() - start)


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=ROOT / "samples/tfjs_squats/pose_squats.mp4")
    parser.add_argument("--exercise", default="squat")
    parser.add_argument("--frames", type=int, default=390, help="frames per rate run")
    parser.add_argument("--repeats", type=int, default=5, help="rate runs of each loop")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the memory run")
    parser.add_argument("--parts", default="123", help="which measurements to run (1, 2, 3)")
    args = parser.parse_args()
    exercise = Library.open().get(args.exercise)
    ok = True
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as tmp:
        clip = webcam_clip(args.clip, Path(tmp))
        frames = list(LoopedClip(clip, frames=args.frames))
        print(f"clip {args.clip.name} letterboxed to {SIZE[0]}x{SIZE[1]} at 30 fps, "
              f"{len(frames)} frames, exercise '{exercise.slug}'")
        if "1" in args.parts:
            video = Path(tmp) / "session.mp4"
            ok &= rate(clip, args.repeats, exercise, frames, "the H.264 video writer",
                       lambda: VideoSink(video, 30.0))
            check_video(video, len(frames))
            with a_display() as display:
                if display is None:
                    print("   the window: not measured (no display, and Xvfb is not installed)")
                else:
                    from coach.live.window import Window

                    ok &= rate(clip, args.repeats, exercise, frames,
                               f"the window on display {display}",
                               lambda: WindowSink(Window("coach bench")))
        if "2" in args.parts:
            ok &= cost(exercise, frames)
        if "3" in args.parts:
            ok &= memory_run(clip, exercise, args.minutes)
    return 0 if ok else 1


def rate(clip: Path, repeats: int, exercise, frames: list[Frame], sink_name: str,
         new_sink: Callable[[], Sink]) -> bool:
    """Part 1: the whole live loop into a new sink against the bare pose loop.

    Run in back-to-back pairs (the order alternating) so that both loops of a pair see the
    same load from anything else on the machine; the median of the pairs' ratios is reported.
    The CPU per thread is that of the last pair.
    """
    ratios, bares, lives, simples, waits = [], [], [], [], []
    before = load()
    for i in range(repeats):
        sink = new_sink()
        bare_cpu = ThreadCpu()
        if i % 2:
            live, live_cpu = live_fps(clip, exercise, len(frames), sink)
            with bare_cpu:
                bare = bare_fps(frames)
        else:
            with bare_cpu:
                bare = bare_fps(frames)
            live, live_cpu = live_fps(clip, exercise, len(frames), sink)
        simples.append(read_detect_fps(clip, len(frames)))
        bares.append(bare)
        lives.append(live)
        ratios.append(live / bare)
        if isinstance(sink, VideoSink):
            waits.append((sink.frames_waited, sink.waited_s))
    ratio = float(np.median(ratios))
    print(f"1. rate into {sink_name} (load {before} before, {load()} after): bare pose loop "
          f"{np.median(bares):.1f} fps, whole live loop {np.median(lives):.1f} fps (medians of "
          f"{repeats} runs); ratio {ratio:.3f}, pairs {', '.join(f'{r:.2f}' for r in ratios)} "
          f"({'meets' if ratio >= RATE_GOAL else 'MISSES'} the {RATE_GOAL} goal)")
    print(f"   for reference, read + detect in one thread: {np.median(simples):.1f} fps "
          f"(the live loop does {np.median(lives) / np.median(simples):.2f} times that)")
    print(f"   CPU of the last pair, live loop: {cpu_line(live_cpu, len(frames))}")
    print(f"   CPU of the last pair, bare loop (loading the model included): "
          f"{cpu_line(bare_cpu, len(frames))}")
    if waits:
        print("   the loop waited for the encoder (no frame is dropped: it waits): "
              + ", ".join(f"{n} of {len(frames)} frames, {s:.2f} s" for n, s in waits))
    return ratio >= RATE_GOAL


def check_video(path: Path, frames: int) -> None:
    """Say whether the last session's video holds every frame, at 30 fps."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        seconds = float(stream.duration * stream.time_base) if stream.duration else float("nan")
    print(f"   the last run's video: {decoded} frames of {frames}, {seconds:.2f} s "
          f"({frames / 30.0:.2f} s expected), {path.stat().st_size / 1e6:.1f} MB")


def cost(exercise, frames: list[Frame]) -> bool:
    """Part 2: scoring and drawing per frame, the pose model replaced by its results."""
    with PoseBackend() as backend:
        poses = [backend.detect(f) for f in frames]
    timed = TimedCoaching(ExerciseCoaching(exercise, image_size=SIZE))
    best = float("inf")
    for _ in range(3):
        timed.reset()
        timed.seconds, timed.calls = 0.0, 0
        _, cpu, done = run_session(FramesInMemory(frames), lambda f: poses[f.index], timed)
        if cpu / done * 1000.0 < best:
            best = cpu / done * 1000.0
            scoring = timed.seconds / max(timed.calls, 1) * 1000.0
    print(f"2. scoring + drawing at {SIZE[0]}x{SIZE[1]}: {best:.2f} ms/frame "
          f"(scoring {scoring:.2f} ms, drawing and loop {best - scoring:.2f} ms; "
          f"{'meets' if best < COST_GOAL_MS else 'MISSES'} the {COST_GOAL_MS} ms goal)")
    return best < COST_GOAL_MS


class FramesInMemory:
    """Frames already in memory, as a source."""

    is_live = False
    still_images = False
    fps = 30.0
    name = "frames in memory"
    frame_count = None

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames

    def __iter__(self) -> Iterator[Frame]:
        return iter(self.frames)

    def close(self) -> None:
        """Nothing to release."""


def memory_run(clip: Path, exercise, minutes: float) -> bool:
    """The live loop on the looped clip for ``minutes``; prints memory over time."""
    coaching = ExerciseCoaching(exercise, image_size=SIZE)
    samples: list[tuple[float, float, int]] = []
    stop = threading.Event()
    interval = max(5.0, minutes * 60.0 / 12)

    def sample() -> None:
        # samples during coaching only: the end-of-session report (the whole recording scored
        # offline) allocates for a moment and is not what a long session accumulates
        start = time.monotonic()
        while not stop.wait(interval) and time.monotonic() - start < minutes * 60.0 - 1.0:
            samples.append((time.monotonic() - start, rss_mb(), coaching.frames_kept))

    print(f"3. memory over a {minutes:.1f}-minute session (clip looped, real model):")
    with PoseBackend() as backend:
        watcher = threading.Thread(target=sample, daemon=True)
        samples.append((0.0, rss_mb(), 0))
        watcher.start()
        seconds, _, done = run_session(LoopedClip(clip, seconds=minutes * 60.0),
                                       backend.detect, coaching)
        stop.set()
        watcher.join()
    print(f"   {'time s':>7}{'RSS MB':>9}{'frames kept':>13}{'recording MB':>14}"
          f"{'RSS - recording':>17}")
    for t, rss, kept in samples:
        rec = kept * RECORDING_BYTES_PER_FRAME / 1e6
        print(f"   {t:>7.0f}{rss:>9.1f}{kept:>13}{rec:>14.1f}{rss - rec:>17.1f}")
    # after the first sample (warm-up: model, caches), memory beyond the recording stays flat
    warm = samples[1:] if len(samples) > 2 else samples
    rest = [rss - kept * RECORDING_BYTES_PER_FRAME / 1e6 for _, rss, kept in warm]
    growth = max(rest) - rest[0]
    # the recording's arrays double in capacity as they fill: allow one doubling's worth
    slack = max(8.0, warm[-1][2] * RECORDING_BYTES_PER_FRAME / 1e6)
    flat = growth <= slack
    print(f"   {done} frames in {seconds:.0f} s ({done / seconds:.1f} fps); memory beyond the "
          f"recording grew {growth:.1f} MB after warm-up ({'flat' if flat else 'GROWING'}; "
          f"allowance for the recording's spare capacity {slack:.1f} MB)")
    return flat


if __name__ == "__main__":
    raise SystemExit(main())
