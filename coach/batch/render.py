"""Pictures of one scored input: thumbnails of its worst moments with the skeleton drawn (the
region at fault in red), and the annotated video (skeleton and the moment's score on every
frame, H.264 through ``coach.video_writer``).

Videos are decoded once more for them (decoding is cheap next to the pose model); image folders
use their images; landmark recordings are drawn on a plain canvas.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import InputError
from coach.pose import PoseSequence
from coach.sources import SAME_FRAME_MS, Frame, iterating

#: Thumbnail width in pixels; JPEG quality.
THUMB_WIDTH_PX, JPEG_QUALITY = 360, 85
#: Thumbnails show the person with this margin (fraction of their size), at most this tall
#: for their width.
CROP_MARGIN, CROP_MAX_ASPECT = 0.15, 1.6
#: FFmpeg decoder threads per batch worker: a batch keeps every core busy with workers, and one
#: decoding thread already runs several times faster than the pose model.
BATCH_DECODE_THREADS = 1
#: Canvas of a landmark recording drawn without its video (pixels, when its size is unknown).
CANVAS_PX = (480, 480)


@dataclass(frozen=True)
class Renders:
    """Pictures of one input: (timestamp_ms, JPEG bytes) per thumbnail; annotated MP4 bytes."""

    thumbnails: list[tuple[float, bytes]]
    video: bytes | None


def render_input(path: Path, seq: PoseSequence, moments_ms: list[float],
                 summary: Mapping[str, Any], annotate: bool) -> Renders:
    """Thumbnails at ``moments_ms`` with the skeleton drawn, and the annotated video if asked.

    Videos are decoded once more (decoding is cheap next to the pose model), for thumbnails
    alone only up to their frames, jumping over whole keyframe intervals; image folders use
    their images; landmark recordings are drawn on a plain canvas.
    """
    from coach.recording import is_recording_path

    regions = {m["timestamp_ms"]: m.get("region") for m in summary["worst"]}
    wanted = sorted(moments_ms)
    only = None if annotate else wanted  # the annotated video needs every frame
    if path.is_file() and is_recording_path(path):
        frames: Iterator[Frame] = _canvas_frames(seq, only)
        fps = seq.fps
    else:
        from coach.sources import CameraSource, open_source

        source = open_source(path, decode_threads=BATCH_DECODE_THREADS)
        assert not isinstance(source, CameraSource), "a path opens as a video or image folder"
        frames, fps = (iter(source) if only is None else source.frames_at(only)), source.fps
    thumbs: dict[float, bytes] = {}
    times, scores = summary["timeline"]["t_ms"], summary["timeline"]["score"]
    video = None
    with tempfile.TemporaryDirectory(prefix=f"coach-render-{os.getpid()}-") as tmp:
        video_path = Path(tmp) / "annotated.mp4"
        with contextlib.ExitStack() as stack:
            frames = stack.enter_context(iterating(frames))
            writer = None
            if annotate:
                from coach.video_writer import VideoWriter

                writer = stack.enter_context(VideoWriter(video_path, fps))
            for frame in frames:
                i = int(np.searchsorted(seq.timestamps_ms, frame.timestamp_ms + SAME_FRAME_MS)) - 1
                pose = seq.frame(i) if i >= 0 else None
                exact = [t for t in wanted if abs(t - frame.timestamp_ms) < SAME_FRAME_MS]
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


def _canvas_frames(seq: PoseSequence, only: list[float] | None) -> Iterator[Frame]:
    """Plain canvases at the recording's times (or at those of them in ``only``)."""
    width, height = seq.image_size or CANVAS_PX
    for i, t_ms in enumerate(seq.timestamps_ms):
        if only is None or any(abs(t - t_ms) < SAME_FRAME_MS for t in only):
            yield Frame(np.full((height, width, 3), 32, np.uint8), float(t_ms), i)


def _score_at(times: list[float], scores: list[float | None], t_ms: float) -> float | None:
    """The timeline score at or just before ``t_ms`` (None before the first scored frame)."""
    i = int(np.searchsorted(np.asarray(times, dtype=float), t_ms + SAME_FRAME_MS)) - 1
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
