"""Score one input in a worker process, from a clean pose state for every input.

``BatchWorker`` is what each pool process or Ray actor holds. For every job it builds a fresh
pose backend (the model's tracking state would otherwise carry over from the input before, and
a score would depend on what the worker read first: about 0.1 s per input), extracts the
followed person's poses (every ``stride``-th frame, timestamps the source's own), scores them
against the packed references, picks the worst moments, renders their thumbnails with the
skeleton drawn (and, when asked, an annotated video), and returns an ``Outcome``: the result
JSON plus the artefact bytes. The batch's main process stores them; a worker writes nothing
the batch keeps, so workers may run on other machines.

Any failure of one input (unreadable, truncated, empty, not a video, nobody in it) becomes a
result with ``status: "error"`` and a one-line message naming the file; the worker goes on. An
input the scorer refuses to judge (too little pose or too short to hold the movement; with
``--exercise auto``, far from every exercise: ``coach.batch.references.unmatched_reason``)
gets ``status: "not_judged"`` and the reason, never a score.

The result JSON (``RESULT_FORMAT`` in ``coach.batch.jobs``)::

    key, format, status ("ok" | "not_judged" | "error"), error {type, message} | null,
    input {path, name, sha256, size_bytes}, exercise, reference_version, stride,
    max_people (scored inputs: people the model looked for in each frame),
    video {frames_scored, frames_with_person, duration_s, fps, image_size, has_world},
    match {exercise, overall, margin, candidates [{exercise, overall, error}]},
    summary {overall, regions, cues, tempo, plane, kind, timeline {t_ms, score},
             worst [{timestamp_ms, region, what, score, thumbnail}]},
    report (the scorer's own ``to_dict()`` for the best match),
    thumbnails [{file, timestamp_ms}], annotated_video, warnings [one line each],
    run {elapsed_s, cpu_s, pid, host, peak_rss_mb}
"""

from __future__ import annotations

import logging
import math
import os
import platform
import re
import resource
import shutil
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from coach.backend import DEFAULT_MAX_PEOPLE
from coach.batch.jobs import RESULT_FORMAT, Job
from coach.batch.references import AUTO, ReferenceSet, UnpackedReferences, unmatched_reason
from coach.batch.render import BATCH_DECODE_THREADS, render_input
from coach.batch.scratch import make_scratch
from coach.batch.store import THUMBS_DIR, VIDEOS_DIR, Outcome
from coach.errors import CoachError, InputError, NoClearMatchError, NotJudgedError
from coach.numbers import rounded
from coach.params import DEFAULT_PARAMS
from coach.pose import PoseSequence
from coach.report import Report
from coach.sources import Frame

log = logging.getLogger(__name__)

#: Frames between two progress reports.
PROGRESS_EVERY = 25
#: Worst moments kept per video (the report's own, ``ScoringParams.worst_count``).
WORST_MOMENTS = DEFAULT_PARAMS.worst_count

#: Progress callback: ("start", key) when a job begins, ("frames", n) as frames are decoded.
Progress = Callable[[str, Any], None]


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker needs: the pose model and how many people it looks for in each frame,
    the packed references, rendering choices."""

    model_path: str
    references: ReferenceSet
    thumbnails: int = WORST_MOMENTS
    max_people: int = DEFAULT_MAX_PEOPLE
    #: The batch's scratch folder, where a pool worker makes its temp folders (None: the
    #: system's temp folder, as on a Ray cluster's machines).
    scratch_dir: str | None = None


def _no_progress(kind: str, value: Any) -> None:
    """A progress callback that drops every report."""


class _CountedSource:
    """A frame source that reports decoded frames as progress."""

    def __init__(self, source: Any, progress: Progress) -> None:
        self._source = source
        self.name, self.fps, self.frame_count = source.name, source.fps, source.frame_count
        self._progress = progress

    def __iter__(self) -> Iterator[Frame]:
        pending = 0
        for frame in self._source:
            pending += 1
            if pending >= PROGRESS_EVERY:
                self._progress("frames", pending)
                pending = 0
            yield frame
        if pending:
            self._progress("frames", pending)

    def close(self) -> None:
        self._source.close()


class BatchWorker:
    """One worker's state: the references, and how many pose backends it has built."""

    def __init__(self, config: WorkerConfig, progress: Progress | None = None) -> None:
        self.config = config
        self.progress = progress or _no_progress
        self.references = UnpackedReferences(config.references.bundles)
        #: Problems with the last input that did not stop its scoring (one line each).
        self.warnings: list[str] = []
        #: Pose backends this worker has built (one per input read with the model).
        self.backends_built = 0

    def close(self) -> None:
        """Remove the unpacked references."""
        self.references.close()

    def _backend(self, mode: str) -> Any:
        """A fresh pose backend: nothing of the inputs before carries over into this one."""
        from coach.backend import PoseBackend

        backend = PoseBackend(self.config.model_path, mode=mode,
                              max_people=self.config.max_people)
        self.backends_built += 1
        return backend

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
                staged = make_scratch("input")
                path = _stage_input(staged, job, data)
            outcome = self._score(job, path)
        except CoachError as exc:
            outcome = _error_outcome(job, exc, staged)
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
            # The error row says what failed; the traceback is for whoever debugs coach.
            log.debug("%s: unexpected failure\n%s", job.path, traceback.format_exc())
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
        from coach.sources import VideoFileSource, open_source

        if not (path.is_file() or path.is_dir()):
            raise InputError(f"{path}: no such file or folder")
        with open_source(path, decode_threads=BATCH_DECODE_THREADS) as source, \
                self._backend("image" if source.still_images else "video") as backend:
            counted = _CountedSource(source, self.progress)
            seq = extract_from_source(counted, backend, stride=stride)
            note = source.shortfall() if isinstance(source, VideoFileSource) else None
            if note:
                self.warnings.append(note)
        return seq

    def _score(self, job: Job, path: Path) -> Outcome:
        refs = self.config.references
        seq = self.extract(path, job.stride)
        if not seq.present.any():
            raise InputError(f"{path}: nobody is visible in any of its {len(seq)} frames")
        best, candidates = self._best_match(seq, refs)
        report = replace(best, source=job.path)
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
            "status": "ok", "error": None, "max_people": self.config.max_people,
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
            "summary": summary, "report": _json_safe(report.to_dict()),
            "thumbnails": thumbnails, "annotated_video": video_name,
            "warnings": [w.replace(str(path), job.path) for w in self.warnings],
        })
        return Outcome(result, artefacts)

    def _best_match(self, seq: PoseSequence, refs: ReferenceSet) -> tuple[Report, list[dict]]:
        """Score against every packed reference; the best report and one row per candidate."""
        best: Report | None = None
        candidates: list[dict] = []
        first_error: CoachError | None = None
        for exercise in self.references.get(refs.slugs):
            try:
                report = exercise.scorer().score(seq)
            except CoachError as exc:
                if refs.exercise != AUTO:
                    raise
                first_error = first_error or exc
                candidates.append({"exercise": exercise.slug, "overall": None,
                                   "error": str(exc)})
                continue
            overall = rounded(report.overall)
            candidates.append({"exercise": exercise.slug, "overall": overall, "error": None})
            if best is None or (overall or 0.0) > (rounded(best.overall) or 0.0):
                best = report
        if best is None:
            assert first_error is not None
            raise first_error
        if refs.exercise == AUTO:
            ranked = sorted(((c["exercise"], c["overall"]) for c in candidates
                             if c["overall"] is not None), key=lambda c: -c[1])
            reason = unmatched_reason(ranked)
            if reason:
                raise NoClearMatchError(f"{seq.source}: {reason}")
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
    status = "not_judged" if isinstance(exc, NotJudgedError) else "error"
    result.update({"status": status, "error": {"type": type(exc).__name__, "message": message}})
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


def _summary(report: Report, count: int) -> dict[str, Any]:
    """The part of a report the summary table and the HTML report show."""
    data = report.to_dict()
    return _json_safe({
        "overall": data["overall"], "regions": data["regions"], "cues": data["cues"],
        "tempo": None if report.kind == "held" else data["tempo"]["text"],
        "plane": data["plane"], "kind": report.kind,
        "timeline": {"t_ms": data["timeline"]["timestamp_ms"],
                     "score": data["timeline"]["score"]},
        "worst": data["worst_moments"][:count],
    })


def _moment_times(worst: list[dict[str, Any]]) -> list[float]:
    return [m["timestamp_ms"] for m in worst if m.get("timestamp_ms") is not None]
