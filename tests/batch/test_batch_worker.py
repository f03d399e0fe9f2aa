"""The batch worker on the real model and real clips: a clean pose state per input, true
timestamps, bad inputs turned into error results."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from coach.backend import default_model_path
from coach.batch.jobs import Job, hash_input, result_key
from coach.batch.references import load_references
from coach.batch.render import THUMB_WIDTH_PX
from coach.batch.worker import BatchWorker, WorkerConfig
from coach.library import Library
from coach.pose import PoseSequence

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def worker() -> BatchWorker:
    refs = load_references(Library.open([], env={}), "squat")
    events: list[tuple[str, object]] = []
    made = BatchWorker(WorkerConfig(str(default_model_path()), refs),
                       progress=lambda kind, value: events.append((kind, value)))
    made.events = events  # type: ignore[attr-defined]
    yield made
    made.close()


def _job(path: Path, stride: int = 1) -> Job:
    sha, size = hash_input(path)
    return Job(str(path), sha, size, result_key(sha, "squat", "v", stride, "m"), "squat",
               stride, False)


def test_a_clip_scores_the_same_alone_and_after_other_inputs(
        sample_path: Callable[[str], Path],
        real_sequence: Callable[[str], PoseSequence]) -> None:
    """Every input starts from a clean pose state: no tracking carried over from the last."""
    refs = load_references(Library.open([], env={}), "squat")
    alone = BatchWorker(WorkerConfig(str(default_model_path()), refs))
    after = BatchWorker(WorkerConfig(str(default_model_path()), refs))
    try:
        first = alone.run(_job(sample_path("squats"))).result
        after.run(_job(sample_path("dance")))
        after.run(_job(sample_path("multi"), stride=4))
        second = after.run(_job(sample_path("squats"))).result
        again = after.extract(sample_path("squats"), 1)
    finally:
        alone.close()
        after.close()
    assert first["status"] == second["status"] == "ok"
    assert first["summary"] == second["summary"] and first["match"] == second["match"]
    fresh = real_sequence("squats")
    np.testing.assert_array_equal(again.timestamps_ms, fresh.timestamps_ms)
    np.testing.assert_array_equal(again.image_xyz, fresh.image_xyz)
    np.testing.assert_array_equal(again.world_xyz, fresh.world_xyz)


def test_workers_look_for_as_many_people_as_configured(
        sample_path: Callable[[str], Path]) -> None:
    refs = load_references(Library.open([], env={}), "squat")
    seen = {}
    for max_people in (1, 3):
        config = WorkerConfig(str(default_model_path()), refs, max_people=max_people)
        single = BatchWorker(config)
        try:
            seen[max_people] = int(single.extract(sample_path("multi"), 3).people_seen.max())
        finally:
            single.close()
    assert seen == {1: 1, 3: 3}


def test_stride_keeps_the_source_timestamps(
        worker: BatchWorker, sample_path: Callable[[str], Path],
        real_sequence: Callable[[str], PoseSequence]) -> None:
    fresh = real_sequence("squats")
    strided = worker.extract(sample_path("squats"), 2)
    np.testing.assert_array_equal(strided.timestamps_ms, fresh.timestamps_ms[::2])
    assert strided.fps == pytest.approx(fresh.fps / 2)
    assert strided.present.all()


def test_a_clip_is_scored_with_thumbnails_of_its_worst_moments(
        worker: BatchWorker, sample_path: Callable[[str], Path]) -> None:
    worker.events.clear()  # type: ignore[attr-defined]
    outcome = worker.run(_job(sample_path("squats")))
    result = outcome.result
    assert result["status"] == "ok", result["error"]
    assert result["match"]["exercise"] == "squat" and result["max_people"] == 3
    assert result["summary"]["overall"] > 80  # the clip the squat reference was made from
    assert set(result["summary"]["regions"]) >= {"spine", "legs"}
    assert len(result["summary"]["timeline"]["t_ms"]) == result["video"]["frames_scored"] == 65
    # no moment scores poorly against its own reference: no worst moment, no thumbnail
    assert result["summary"]["worst"] == [] and result["thumbnails"] == []
    kinds = [k for k, _ in worker.events]  # type: ignore[attr-defined]
    assert kinds[0] == "start" and "frames" in kinds
    frames = sum(v for k, v in worker.events if k == "frames")  # type: ignore[attr-defined]
    assert frames == 65
    # the same squats judged as mountain pose (standing tall): she leans and bends her knees
    refs = load_references(Library.open([], env={}), "mountain-pose")
    standing = BatchWorker(WorkerConfig(str(default_model_path()), refs))
    try:
        held = standing.run(_job(sample_path("squats")))
    finally:
        standing.close()
    worst = held.result["summary"]["worst"]
    assert held.result["summary"]["kind"] == "held" and 1 <= len(worst) <= 3
    assert all(m["score"] < 90 and m["thumbnail"] for m in worst)
    assert [t["timestamp_ms"] for t in held.result["thumbnails"]] == \
        [m["timestamp_ms"] for m in worst]
    for thumb in held.result["thumbnails"]:
        image = cv2.imdecode(np.frombuffer(held.artefacts[thumb["file"]], np.uint8),
                             cv2.IMREAD_COLOR)
        assert image is not None and image.shape[1] == THUMB_WIDTH_PX


def test_bad_inputs_become_error_results_and_the_worker_goes_on(
        worker: BatchWorker, tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    from coach.video_writer import VideoWriter

    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video", encoding="utf-8")
    nobody = tmp_path / "nobody.mp4"
    with VideoWriter(nobody, 10) as writer:
        for i in range(12):
            writer.write(np.full((240, 320, 3), 80 + i, np.uint8))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(sample_path("cam01").read_bytes()[:60_000])
    expected = {empty: "empty", text: "not a readable video", nobody: "nobody is visible",
                truncated: "truncated.mp4"}
    for path, words in expected.items():
        result = worker.run(_job(path)).result
        assert result["status"] == "error"
        assert words in result["error"]["message"]
        assert str(path) in result["error"]["message"]  # names the file
    folder = tmp_path / "stills"
    folder.mkdir()
    for i in range(2):
        shutil.copy(sample_path("warrior"), folder / f"{i:03d}.jpg")
    stills = worker.extract(folder, 1)  # an image folder, in IMAGE mode
    assert len(stills) == 2 and stills.present.all()
    result = worker.run(_job(folder)).result  # two stills may be too short a movement
    assert result["status"] == "ok" or str(folder) in result["error"]["message"]


def test_annotated_video_is_browser_playable_h264(worker: BatchWorker,
                                                  sample_path: Callable[[str], Path]) -> None:
    import av

    job = _job(sample_path("squats"))
    outcome = worker.run(Job(job.path, job.input_sha256, job.size_bytes, job.key, job.exercise,
                             job.stride, True))
    name = outcome.result["annotated_video"]
    assert name == f"videos/{job.key}.mp4"
    with av.open(io.BytesIO(outcome.artefacts[name])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == 65
    assert frames[0].shape[:2] == (1280, 720)


def test_a_video_cut_short_is_scored_with_a_warning(worker: BatchWorker, tmp_path: Path,
                                                    sample_path: Callable[[str], Path]) -> None:
    from coach.sources import open_source
    from coach.video_writer import VideoWriter

    whole = tmp_path / "whole.mp4"  # index first (faststart), so a cut file still opens
    with open_source(sample_path("squats")) as source, VideoWriter(whole, source.fps) as out:
        for frame in source:
            out.write(frame.rgb, frame.timestamp_ms)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    result = worker.run(_job(cut)).result
    assert result["status"] == "ok", result["error"]
    assert 0 < result["video"]["frames_scored"] < 65
    [warning] = result["warnings"]
    assert warning.startswith(f"{cut}: decoding stopped after "
                              f"{result['video']['frames_scored']} of 65 frames (the file "
                              "may be truncated")
    assert worker.run(_job(whole)).result["warnings"] == []
