"""Score one input in a worker process: the pose backend is built once and reused for every job.

``BatchWorker`` is what each pool process or Ray actor holds. For every job it extracts the
followed person's poses (every ``stride``-th frame, timestamps the source's own), scores them
against the packed references, picks the worst moments, renders their thumbnails with the
skeleton drawn (and, when asked, an annotated video), and returns an ``Outcome``: the result
JSON plus the artefact bytes. The batch's main process stores them; a worker writes nothing
the batch keeps, so workers may run on other machines.

Any failure of one input (unreadable, truncated, empty, not a video, nobody in it) becomes a
result with ``status: "error"`` and a one-line message naming the file; the worker goes on.

The result JSON (``RESULT_FORMAT`` in ``coach.batch.jobs``)::

    key, format, status ("ok" | "error"), error {type, message} | null,
    input {path, name, sha256, size_bytes}, exercise, reference_version, stride,
    video {frames_scored, frames_with_person, duration_s, fps, image_size, has_world},
    match {exercise, overall, margin, candidates [{exercise, overall, error}]},
    summary {overall, regions, cues, tempo, plane, kind, timeline {t_ms, score},
             worst [{timestamp_ms, region, what, score, thumbnail}]},
    report (the scorer's own ``to_dict()`` for the best match),
    thumbnails [{file, timestamp_ms}], annotated_video, warnings [one line each],
    run {elapsed_s, cpu_s, pid, host, peak_rss_mb}
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import re
import resource
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from coach.batch.jobs import RESULT_FORMAT, Job
from coach.batch.references import AUTO, ReferenceSet, UnpackedReferences
from coach.batch.store import THUMBS_DIR, VIDEOS_DIR, Outcome
from coach.errors import CoachError, InputError
from coach.pose import PoseSequence
from coach.sources import Frame

log = logging.getLogger(__name__)

#: Gap left between two videos on a reused backend's clock (VIDEO mode needs increasing times).
VIDEO_GAP_MS = 1000.0
#: Frames between two progress reports.
PROGRESS_EVERY = 25
#: Worst moments kept per video, and the least time between two of them.
WORST_MOMENTS, WORST_GAP_MS = 3, 1000.0
#: Thumbnail width in pixels; JPEG quality.
THUMB_WIDTH_PX, JPEG_QUALITY = 360, 85
#: Thumbnails show the person with this margin (fraction of their size), at most this tall
#: for their width.
CROP_MARGIN, CROP_MAX_ASPECT = 0.15, 1.6
#: Canvas of a landmark recording drawn without its video (pixels, when its size is unknown).
CANVAS_PX = (480, 480)

#: A video whose decoded frames fall short of this share of the frames its container declares
#: is reported as possibly truncated.
TRUNCATED_SHARE = 0.98

#: Progress callback: ("start", key) when a job begins, ("frames", n) as frames are decoded.
Progress = Callable[[str, Any], None]


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs: the pose model, the packed references, rendering choices."""

    model_path: str
    references: ReferenceSet
    thumbnails: int = WORST_MOMENTS


def _no_progress(kind: str, value: Any) -> None:
    """A progress callback that drops every report."""


class _ShiftedSource:
    """A frame source whose frames run ``offset_ms`` later, recording the original times.

    Lets one VIDEO-mode backend, whose clock must only move forward, read video after video.
    """

    def __init__(self, source: Any, offset_ms: float, progress: Progress) -> None:
        self._source = source
        self.offset_ms = offset_ms
        self.name, self.fps, self.frame_count = source.name, source.fps, source.frame_count
        self.original_ms: list[float] = []
        self._progress = progress

    def __iter__(self) -> Iterator[Frame]:
        pending = 0
        for frame in self._source:
            self.original_ms.append(frame.timestamp_ms)
            pending += 1
            if pending >= PROGRESS_EVERY:
                self._progress("frames", pending)
                pending = 0
            yield Frame(frame.rgb, frame.timestamp_ms + self.offset_ms, frame.index)
        if pending:
            self._progress("frames", pending)

    def close(self) -> None:
        self._source.close()


class BatchWorker:
    """One worker's state: pose backends (built on first use, then reused) and references."""

    def __init__(self, config: WorkerConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress or _no_progress
        self.references = UnpackedReferences(config.references.bundles)
        self._backends: dict[str, Any] = {}
        self._clock_ms = 0.0
        #: Problems with the last input that did not stop its scoring (one line each).
        self.warnings: list[str] = []
        #: Pose backends this worker has built (one per running mode it has needed).
        self.backends_built = 0

    def close(self) -> None:
        """Release the backends and the unpacked references."""
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
        self.references.close()

    def _backend(self, mode: str) -> Any:
        if mode not in self._backends:
            from coach.backend import PoseBackend

            self._backends[mode] = PoseBackend(self.config.model_path, mode=mode)
            self.backends_built += 1
        return self._backends[mode]

    # -- one job -----------------------------------------------------------------------------

    def run(self, job: Job, data: Mapping[str, bytes] | None = None) -> Outcome:
        """Score ``job``; ``data`` carries the input's bytes when the worker cannot see its
        path (name relative to the input -> bytes; one entry named after a file input)."""
        start, cpu_start = time.monotonic(), time.process_time()
        self.progress("start", job.key)
        self.warnings = []
        staged: Path | None = None
        try:
            path = Path(job.path)
            if data is not None:
                staged = Path(tempfile.mkdtemp(prefix="coach-input-"))
                path = _stage_input(staged, job, data)
            outcome = self._score(job, path)
        except CoachError as exc:
            outcome = _error_outcome(job, exc, staged)
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
            log.error("%s: unexpected failure\n%s", job.path, traceback.format_exc())
            outcome = _error_outcome(job, exc, staged)
        finally:
            if staged is not None:
                shutil.rmtree(staged, ignore_errors=True)
        outcome.result["run"] = {
            "elapsed_s": round(time.monotonic() - start, 3),
            "cpu_s": round(time.process_time() - cpu_start, 3), "pid": os.getpid(),
            "host": platform.node(),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        return outcome

    def extract(self, path: Path, stride: int) -> PoseSequence:
        """Poses of every ``stride``-th frame of a video, image folder or landmark file."""
        from coach.recording import is_recording_path, load_recording

        if path.is_file() and is_recording_path(path):
            seq = load_recording(path)
            self.progress("frames", len(seq))
            return seq.slice(0, None, stride) if stride > 1 else seq
        from coach.extract import extract_from_source
        from coach.sources import open_source

        if not (path.is_file() or path.is_dir()):
            raise InputError(f"{path}: no such file or folder")
        with open_source(path) as source:
            backend = self._backend("image" if source.still_images else "video")
            backend.reset_follow()
            shifted = _ShiftedSource(source, self._clock_ms, self.progress)
            try:
                seq = extract_from_source(shifted, backend, stride=stride)
            finally:
                if shifted.original_ms:
                    self._clock_ms += shifted.original_ms[-1] + VIDEO_GAP_MS
            decoded, declared = len(shifted.original_ms), source.frame_count
            if declared and decoded < declared * TRUNCATED_SHARE:
                self.warnings.append(f"{path}: decoding stopped after {decoded} of {declared} "
                                     "frames (the file may be truncated)")
        return replace(seq, timestamps_ms=np.array(shifted.original_ms[::stride]))

    def _score(self, job: Job, path: Path) -> Outcome:
        refs = self.config.references
        seq = self.extract(path, job.stride)
        if not seq.present.any():
            raise InputError(f"{path}: nobody is visible in any of its {len(seq)} frames")
        best, candidates = self._best_match(seq, refs)
        report = best.to_dict()
        report["source"] = job.path
        summary = _summary(report, WORST_MOMENTS)
        artefacts: dict[str, bytes] = {}
        thumbs = _moment_times(summary["worst"])[: self.config.thumbnails]
        renders = render_input(path, seq, thumbs, summary, job.annotate)
        thumbnails = []
        for n, (t_ms, jpeg) in enumerate(renders.thumbnails):
            name = f"{THUMBS_DIR}/{job.key}-{n}.jpg"
            artefacts[name] = jpeg
            thumbnails.append({"file": name, "timestamp_ms": t_ms})
            for moment in summary["worst"]:
                if moment["timestamp_ms"] == t_ms:
                    moment["thumbnail"] = name
        video_name = None
        if renders.video is not None:
            video_name = f"{VIDEOS_DIR}/{job.key}.mp4"
            artefacts[video_name] = renders.video
        ranked = sorted(candidates, key=lambda c: -1 if c["overall"] is None else c["overall"],
                        reverse=True)
        scored = [c["overall"] for c in ranked if c["overall"] is not None]
        result = _base_result(job, refs)
        result.update({
            "status": "ok", "error": None,
            "video": {
                "frames_scored": len(seq), "frames_with_person": int(seq.present.sum()),
                "duration_s": round(seq.duration_s, 3), "fps": round(seq.fps, 3),
                "image_size": list(seq.image_size) if seq.image_size else None,
                "has_world": seq.has_world,
            },
            "match": {
                "exercise": ranked[0]["exercise"], "overall": scored[0],
                "margin": round(scored[0] - scored[1], 1) if len(scored) > 1 else None,
                "candidates": ranked,
            },
            "summary": summary, "report": _json_safe(report),
            "thumbnails": thumbnails, "annotated_video": video_name,
            "warnings": [w.replace(str(path), job.path) for w in self.warnings],
        })
        return Outcome(result, artefacts)

    def _best_match(self, seq: PoseSequence, refs: ReferenceSet) -> tuple[Any, list[dict]]:
        """Score against every packed reference; the best report and one row per candidate."""
        from coach.library import score_exercise

        best = None
        candidates: list[dict] = []
        first_error: CoachError | None = None
        for exercise in self.references.get(refs.slugs):
            try:
                report = score_exercise(seq, exercise)
            except CoachError as exc:
                if refs.exercise != AUTO:
                    raise
                first_error = first_error or exc
                candidates.append({"exercise": exercise.slug, "overall": None,
                                   "error": str(exc)})
                continue
            overall = _round(report.overall)
            candidates.append({"exercise": exercise.slug, "overall": overall, "error": None})
            if best is None or (overall or 0.0) > (_round(best.overall) or 0.0):
                best = report
        if best is None:
            assert first_error is not None
            raise first_error
        return best, candidates


# -- results ----------------------------------------------------------------------------------


def _base_result(job: Job, refs: ReferenceSet) -> dict[str, Any]:
    return {
        "format": RESULT_FORMAT, "key": job.key,
        "input": {"path": job.path, "name": job.name, "sha256": job.input_sha256,
                  "size_bytes": job.size_bytes},
        "exercise": job.exercise, "reference_version": refs.version, "stride": job.stride,
        "thumbnails": [], "annotated_video": None,
    }


def _error_outcome(job: Job, exc: BaseException, staged: Path | None) -> Outcome:
    """A failed input as a result: the error's type and a one-line message naming the file."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = re.sub(r"\[Errno -?\d+\] ", "", message)  # FFmpeg's error numbers say nothing
    if staged is not None:  # name the user's file, not the worker's private copy
        message = message.replace(str(staged / Path(job.path).name), job.path)
    if not isinstance(exc, CoachError):
        message = f"{job.path}: unexpected error ({type(exc).__name__}: {message})"
    elif job.path not in message and job.name not in message:
        message = f"{job.path}: {message}"
    result = _base_result(job, _NO_REFS)
    result.update({"status": "error", "error": {"type": type(exc).__name__, "message": message}})
    result.pop("reference_version")
    return Outcome(result, {})


_NO_REFS = ReferenceSet("", {}, {}, "")


def error_result(job: Job, exc: BaseException) -> dict[str, Any]:
    """The result of a job that could not run at all (its worker died while reading it)."""
    return _error_outcome(job, exc, None).result


def _stage_input(folder: Path, job: Job, data: Mapping[str, bytes]) -> Path:
    """Write a shipped input into ``folder`` under its own name; return its path."""
    target = folder / job.name
    if list(data) == [job.name]:
        target.write_bytes(data[job.name])
        return target
    target.mkdir()
    for rel, blob in data.items():
        path = target / rel
        if path.parent != target:
            raise InputError(f"{job.path}: shipped file {rel!r} is not inside the folder")
        path.write_bytes(blob)
    return target


def _round(value: Any, digits: int = 1) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _json_safe(value: Any) -> Any:
    """Plain JSON data: numpy scalars and arrays to Python, NaN and infinities to None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def _timeline(report: Mapping[str, Any]) -> tuple[list[float], list[float | None]]:
    """(times in ms, scores) from a report's timeline, in either of the scorers' layouts."""
    timeline = report.get("timeline") or {}
    if isinstance(timeline, Mapping):
        return list(timeline.get("timestamp_ms") or []), list(timeline.get("score") or [])
    return [p.get("t_ms") for p in timeline], [p.get("score") for p in timeline]


def _summary(report: Mapping[str, Any], count: int) -> dict[str, Any]:
    """The part of a report the summary table and the HTML report show."""
    times, scores = _timeline(report)
    worst = [dict(m) for m in report.get("worst_moments") or []]
    if not worst:
        worst = worst_from_timeline(times, scores, count)
    tempo = report.get("tempo")
    return _json_safe({
        "overall": _round(report.get("overall")),
        "regions": {k: _round(v) for k, v in (report.get("regions") or {}).items()},
        "cues": list(report.get("cues") or []),
        "tempo": tempo.get("text") if isinstance(tempo, Mapping) else None,
        "plane": report.get("plane"),
        "kind": report.get("kind") or ("held" if "held" in report else "flowing"),
        "timeline": {"t_ms": times, "score": scores},
        "worst": worst[:count],
    })


def worst_from_timeline(times: list[float], scores: list[float | None],
                        count: int) -> list[dict[str, Any]]:
    """The ``count`` lowest-scoring moments at least ``WORST_GAP_MS`` apart, worst first."""
    order = sorted((s, t) for t, s in zip(times, scores, strict=True)
                   if s is not None and t is not None and math.isfinite(s))
    picked: list[dict[str, Any]] = []
    for score, t_ms in order:
        if len(picked) >= count:
            break
        if all(abs(t_ms - m["timestamp_ms"]) >= WORST_GAP_MS for m in picked):
            picked.append({"timestamp_ms": t_ms, "region": None, "what": "lowest score",
                           "score": score})
    return picked


def _moment_times(worst: list[dict[str, Any]]) -> list[float]:
    return [m["timestamp_ms"] for m in worst if m.get("timestamp_ms") is not None]


# -- rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Renders:
    """Pictures of one input: (timestamp_ms, JPEG bytes) per thumbnail; annotated MP4 bytes."""

    thumbnails: list[tuple[float, bytes]]
    video: bytes | None


def render_input(path: Path, seq: PoseSequence, moments_ms: list[float],
                 summary: Mapping[str, Any], annotate: bool) -> Renders:
    """Thumbnails at ``moments_ms`` with the skeleton drawn, and the annotated video if asked.

    Videos are decoded once more (decoding is cheap next to the pose model); image folders
    use their images; landmark recordings are drawn on a plain canvas.
    """
    from coach.recording import is_recording_path

    if path.is_file() and is_recording_path(path):
        frames: Iterator[Frame] = _canvas_frames(seq)
        fps = seq.fps
    else:
        from coach.sources import open_source

        source = open_source(path)
        frames, fps = iter(source), source.fps
    regions = {m["timestamp_ms"]: m.get("region") for m in summary["worst"]}
    wanted = sorted(moments_ms)
    thumbs: dict[float, bytes] = {}
    times, scores = summary["timeline"]["t_ms"], summary["timeline"]["score"]
    video = None
    with tempfile.TemporaryDirectory(prefix="coach-render-") as tmp:
        video_path = Path(tmp) / "annotated.mp4"
        with contextlib.ExitStack() as stack:
            close = getattr(frames, "close", None)
            if callable(close):
                stack.callback(close)
            writer = None
            if annotate:
                from coach.video_writer import VideoWriter

                writer = stack.enter_context(VideoWriter(video_path, fps))
            for frame in frames:
                i = int(np.searchsorted(seq.timestamps_ms, frame.timestamp_ms + 0.5)) - 1
                pose = seq.frame(i) if i >= 0 else None
                exact = [t for t in wanted if abs(t - frame.timestamp_ms) < 0.5]
                if exact and pose is not None:
                    picture = draw_pose(frame.rgb.copy(), pose, regions.get(exact[0]))
                    thumbs[exact[0]] = thumbnail_jpeg(crop_to_person(picture, pose))
                if writer is not None:
                    picture = frame.rgb.copy()
                    if pose is not None:
                        draw_pose(picture, pose, None)
                    draw_score(picture, _score_at(times, scores, frame.timestamp_ms))
                    writer.write(picture, frame.timestamp_ms)
                elif len(thumbs) == len(wanted):
                    break
        if annotate:
            video = video_path.read_bytes()
    return Renders([(t, thumbs[t]) for t in moments_ms if t in thumbs], video)


def _canvas_frames(seq: PoseSequence) -> Iterator[Frame]:
    width, height = seq.image_size or CANVAS_PX
    for i, t_ms in enumerate(seq.timestamps_ms):
        yield Frame(np.full((height, width, 3), 32, np.uint8), float(t_ms), i)


def _score_at(times: list[float], scores: list[float | None], t_ms: float) -> float | None:
    """The timeline score at or just before ``t_ms`` (None before the first scored frame)."""
    i = int(np.searchsorted(np.asarray(times, dtype=float), t_ms + 0.5)) - 1
    return scores[i] if 0 <= i < len(scores) else None


def draw_pose(picture: np.ndarray, pose: Any, bad_region: str | None) -> np.ndarray:
    """The skeleton on ``picture`` (RGB, in place), the region at fault in red."""
    from coach.overlay.draw import BAD
    from coach.overlay.skeleton import SkeletonAnnotator

    colours = {bad_region: BAD} if bad_region else None
    return SkeletonAnnotator().annotate(picture, pose, region_colours=colours)


def draw_score(picture: np.ndarray, score: float | None) -> None:
    """The moment's score in the top-left corner, coloured by how good it is."""
    from coach.overlay.draw import put_text, score_colour, ui_scale

    scale = ui_scale(picture)
    text = "score --" if score is None else f"score {score:.0f}"
    put_text(picture, text, (int(12 * scale), int(34 * scale)), 0.9 * scale,
             score_colour(score), max(1, int(round(2 * scale))))


def crop_to_person(picture: np.ndarray, pose: Any) -> np.ndarray:
    """The part of ``picture`` around the person, with a margin of ``CROP_MARGIN`` of their
    size on every side, no taller than ``CROP_MAX_ASPECT`` times its width."""
    height, width = picture.shape[:2]
    xy = pose.image_xyz[:, :2][np.isfinite(pose.image_xyz[:, :2]).all(axis=1)]
    if len(xy) == 0:
        return picture
    (x0, y0), (x1, y1) = xy.min(axis=0) * (width, height), xy.max(axis=0) * (width, height)
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    x0, x1, y0, y1 = x0 - margin, x1 + margin, y0 - margin, y1 + margin
    min_width = (y1 - y0) / CROP_MAX_ASPECT
    if x1 - x0 < min_width:
        middle = (x0 + x1) / 2
        x0, x1 = middle - min_width / 2, middle + min_width / 2
    left, right = max(0, int(x0)), min(width, int(np.ceil(x1)))
    top, bottom = max(0, int(y0)), min(height, int(np.ceil(y1)))
    if right - left < 16 or bottom - top < 16:
        return picture
    return picture[top:bottom, left:right]


def thumbnail_jpeg(picture: np.ndarray, width: int = THUMB_WIDTH_PX) -> bytes:
    """``picture`` (RGB) scaled to ``width`` pixels wide, as JPEG bytes."""
    import cv2

    height = max(1, round(picture.shape[0] * width / picture.shape[1]))
    small = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise InputError("thumbnail could not be encoded")
    return data.tobytes()
