"""The pose backend: MediaPipe Tasks ``PoseLandmarker`` behind a small interface.

VIDEO running mode for streams and files (it tracks between frames: faster and steadier),
IMAGE mode for stills. Several people may be detected; ``PersonFollower`` keeps the same one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from coach import shipped_folder
from coach.errors import ModelError
from coach.pose import FramePose
from coach.sources import Frame
from coach.tracking import PersonFollower

log = logging.getLogger(__name__)

#: The bundled BlazePose GHUM "full" model (see models/README.md for how it is built).
BUNDLED_MODEL = shipped_folder("models") / "pose_landmarker_full.task"
#: Files a PoseLandmarker bundle must hold.
BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
#: How many people the detector looks for: enough to notice a second person and ignore them.
DEFAULT_MAX_PEOPLE = 3


@contextlib.contextmanager
def _native_logs_silenced() -> Iterator[None]:
    """Send the native library's start-up chatter on stderr (fd 2) to /dev/null meanwhile.

    MediaPipe's C++ logs ignore Python's logging; set ``COACH_NATIVE_LOGS=1`` to see them.
    """
    if os.environ.get("COACH_NATIVE_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def default_model_path() -> Path:
    """The model used when none is given: ``$COACH_MODEL`` if set, else the bundled one."""
    return Path(os.environ.get("COACH_MODEL", BUNDLED_MODEL))


def check_model_file(path: Path) -> None:
    """Raise ModelError naming ``path`` unless it is a complete pose landmarker bundle."""
    if not path.is_file():
        raise ModelError(f"{path}: pose model not found")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a MediaPipe .task model bundle (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as bundle:
            names = set(bundle.namelist())
            missing = [m for m in BUNDLE_MEMBERS if m not in names]
            if missing:
                raise ModelError(f"{path}: not a pose landmarker bundle (missing "
                                 f"{', '.join(missing)})")
            broken = bundle.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{path}: the model bundle is damaged or truncated ({exc})") from None
    if broken is not None:
        raise ModelError(f"{path}: the model bundle is damaged ({broken} fails its checksum)")


def model_image(rgb: np.ndarray) -> object:
    """``rgb`` ((H, W, 3) uint8) copied into a MediaPipe image, ready for ``detect``.

    Independent of any model, so a decoding thread can prepare it while the model works.
    """
    import mediapipe as mp

    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


class PoseBackend:
    """MediaPipe pose landmarks for one followed person per frame.

    model_path: a ``.task`` bundle (default: ``default_model_path()``), e.g. the official lite
    or heavy bundle downloaded by the user. mode: "video" (frames in time order, tracked)
    or "image" (each frame on its own). max_people: people looked for in each frame. While
    fewer are tracked, VIDEO mode runs the person detector on every frame to find the others;
    with 1 it runs only when the tracked person is lost, which saves model time per frame
    (``bench/pose_throughput.py``; figures in the README), but nobody else in view is noticed.
    """

    def __init__(self, model_path: str | Path | None = None, mode: str = "video",
                 max_people: int = DEFAULT_MAX_PEOPLE) -> None:
        if mode not in ("video", "image"):
            raise ValueError(f"mode: expected 'video' or 'image', got {mode!r}")
        if max_people < 1:
            raise ValueError(f"max_people: expected 1 or more, got {max_people}")
        self.model_path = Path(model_path) if model_path else default_model_path()
        check_model_file(self.model_path)
        from mediapipe.tasks.python import BaseOptions, vision

        running_mode = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=running_mode,
            num_poses=max_people,
        )
        try:
            with _native_logs_silenced():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"{self.model_path}: MediaPipe cannot load this model "
                             f"({str(exc).splitlines()[0][:160]})") from None
        self.mode = mode
        self._follower = PersonFollower()
        self._last_timestamp_ms = -1
        self._warmed_up = False

    def __enter__(self) -> PoseBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the native landmarker."""
        self._landmarker.close()

    def reset_follow(self) -> None:
        """Forget the followed person, so the next frame chooses afresh."""
        self._follower.reset()

    def detect(self, frame: Frame, image: object | None = None) -> FramePose:
        """Landmarks of the followed person in ``frame`` (NaN when nobody usable is seen).

        image: ``model_image(frame.rgb)`` if already made (e.g. by a decoding thread).
        """
        height, width = frame.rgb.shape[:2]
        self._follower.aspect = width / height
        if image is None:
            image = model_image(frame.rgb)
        if self._warmed_up:
            result = self._run(image, frame.timestamp_ms)
        else:  # the first call logs graph set-up warnings natively
            with _native_logs_silenced():
                result = self._run(image, frame.timestamp_ms)
            self._warmed_up = True
        return self._followed_pose(result, frame.timestamp_ms)

    def _run(self, image: object, timestamp_ms: float) -> object:
        if self.mode == "image":
            return self._landmarker.detect(image)
        # VIDEO mode needs strictly increasing integer milliseconds.
        timestamp = max(int(round(timestamp_ms)), self._last_timestamp_ms + 1)
        self._last_timestamp_ms = timestamp
        return self._landmarker.detect_for_video(image, timestamp)

    def _followed_pose(self, result: object, timestamp_ms: float) -> FramePose:
        people = result.pose_landmarks  # type: ignore[attr-defined]
        if not people:
            return FramePose.empty(timestamp_ms)
        candidates = [np.array([(p.x, p.y, p.z) for p in person]) for person in people]
        index = self._follower.choose(candidates, timestamp_ms)
        if index is None:
            return FramePose.empty(timestamp_ms, people_seen=len(people))
        visibility = np.array([p.visibility or 0.0 for p in people[index]])
        worlds = result.pose_world_landmarks  # type: ignore[attr-defined]
        world = np.array([(p.x, p.y, p.z) for p in worlds[index]]) if worlds else None
        return FramePose(candidates[index], visibility, world, timestamp_ms, len(people))
