"""Landmark recordings on disk: score again without the model, keep landmarks without video.

Format ``coach-landmarks`` version 1, as ``.npz`` (compact, the default) or ``.json`` (for
other tools). Both hold the same fields:

=================  ==============  ======================================================
field              shape / type    meaning
=================  ==============  ======================================================
format             str             always ``"coach-landmarks"``
version            int             1
image_xyz          (T, 33, 3)      normalized image x, y in [0, 1], relative depth z
visibility         (T, 33)         landmark visibility in [0, 1]
world_xyz          (T, 33, 3)      metres, hip-centred, camera axes; absent for
                                   recordings with image landmarks only
timestamps_ms      (T,)            strictly increasing, from the source
fps                float           nominal frame rate
source             str             where the landmarks came from
image_size         (2,) int        frame width, height in pixels; absent when unknown
people_seen        (T,) int        people in view per frame
coach_version      str             the version of coach that wrote the file
=================  ==============  ======================================================

In JSON, arrays are nested lists and a missing value (NaN) is ``null``.
Every write goes to a temp file first and is renamed into place when complete.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from coach import __version__
from coach.atomic import atomic_write
from coach.backend import DEFAULT_MAX_PEOPLE
from coach.errors import RecordingError
from coach.landmarks import NUM_LANDMARKS, landmark_from_name
from coach.pose import PoseSequence

FORMAT_NAME = "coach-landmarks"
FORMAT_VERSION = 1
RECORDING_SUFFIXES = frozenset({".npz", ".json"})
#: A recording longer than this many frames is refused as implausible (about 9 hours at 30 fps).
MAX_FRAMES = 1_000_000
#: Frame rate assumed for KERAAL recordings, which do not state theirs (frames per second).
KERAAL_FPS = 30.0


def is_recording_path(path: str | Path) -> bool:
    """True when ``path`` names a landmark recording (by suffix) rather than a video."""
    return Path(path).suffix.lower() in RECORDING_SUFFIXES


def _fields(seq: PoseSequence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "image_xyz": seq.image_xyz,
        "visibility": seq.visibility,
        "timestamps_ms": seq.timestamps_ms,
        "fps": float(seq.fps),
        "source": seq.source,
        "people_seen": seq.people_seen,
        "coach_version": __version__,
    }
    if seq.world_xyz is not None:
        out["world_xyz"] = seq.world_xyz
    if seq.image_size is not None:
        out["image_size"] = np.array(seq.image_size, dtype=np.int64)
    return out


def _to_json_value(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return [_to_json_value(v) for v in value] if value.ndim > 1 else [
                None if not math.isfinite(v) else float(v) for v in value.tolist()]
        return value.tolist()
    return value


def recording_bytes(seq: PoseSequence, fmt: str = "npz") -> bytes:
    """The recording of ``seq`` as the bytes of an ``.npz`` or ``.json`` file."""
    fields = _fields(seq)
    if fmt == "json":
        return json.dumps({k: _to_json_value(v) for k, v in fields.items()}).encode()
    if fmt != "npz":
        raise ValueError(f"format: expected 'npz' or 'json', got {fmt!r}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in fields.items()})
    return buffer.getvalue()


def save_recording(seq: PoseSequence, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``seq`` atomically; the format follows ``fmt`` or the suffix (.npz / .json)."""
    path = Path(path)
    fmt = fmt or (path.suffix.lower().lstrip(".") or "npz")
    data = recording_bytes(seq, fmt)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


def _array(fields: dict[str, Any], key: str, where: str, shape: tuple[int | None, ...],
           required: bool = True) -> np.ndarray | None:
    if key not in fields or fields[key] is None:
        if required:
            raise RecordingError(f"{where}: missing field '{key}'")
        return None
    try:
        value = np.array(fields[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise RecordingError(f"{where}: field '{key}' is not an array of numbers") from None
    ok = value.ndim == len(shape) and all(e is None or e == s for e, s in zip(shape, value.shape,
                                                                              strict=True))
    if not ok:
        want = "(" + ", ".join("T" if e is None else str(e) for e in shape) + ")"
        raise RecordingError(f"{where}: field '{key}' has shape {value.shape}, expected {want}")
    return value


def sequence_from_fields(fields: dict[str, Any], where: str) -> PoseSequence:
    """Validate the fields of a version-1 recording and build the sequence; ``where`` names it."""
    if fields.get("format") != FORMAT_NAME:
        raise RecordingError(f"{where}: not a coach landmark recording (format field is "
                             f"{fields.get('format')!r})")
    version = fields.get("version")
    if version != FORMAT_VERSION:
        raise RecordingError(f"{where}: unsupported recording version {version!r} "
                             f"(this coach reads version {FORMAT_VERSION})")
    image = _array(fields, "image_xyz", where, (None, NUM_LANDMARKS, 3))
    n = image.shape[0]
    if n == 0:
        raise RecordingError(f"{where}: the recording holds no frames")
    if n > MAX_FRAMES:
        raise RecordingError(f"{where}: {n} frames is more than the {MAX_FRAMES} allowed")
    visibility = _array(fields, "visibility", where, (n, NUM_LANDMARKS))
    world = _array(fields, "world_xyz", where, (n, NUM_LANDMARKS, 3), required=False)
    times = _array(fields, "timestamps_ms", where, (n,))
    people = _array(fields, "people_seen", where, (n,), required=False)
    size = _array(fields, "image_size", where, (2,), required=False)
    if not np.all(np.isfinite(times)) or (n > 1 and not np.all(np.diff(times) > 0)):
        raise RecordingError(f"{where}: timestamps_ms must be finite and strictly increasing")
    if np.any(np.isinf(image)) or (world is not None and np.any(np.isinf(world))):
        raise RecordingError(f"{where}: landmarks hold infinite values")
    if np.any(~np.isfinite(visibility)) or visibility.min() < 0 or visibility.max() > 1:
        raise RecordingError(f"{where}: visibility must lie in [0, 1]")
    try:
        fps = float(fields.get("fps"))
    except (TypeError, ValueError):
        raise RecordingError(f"{where}: field 'fps' is not a number") from None
    if not (math.isfinite(fps) and 0 < fps <= 1000):
        raise RecordingError(f"{where}: fps {fps} is not a plausible frame rate")
    if size is not None and (not np.all(np.isfinite(size)) or size.min() <= 0):
        raise RecordingError(f"{where}: image_size must be two positive numbers")
    if people is not None and (not np.all(np.isfinite(people)) or people.min() < 0):
        raise RecordingError(f"{where}: people_seen must be counts")
    return PoseSequence(
        image_xyz=image, visibility=visibility, world_xyz=world, timestamps_ms=times, fps=fps,
        source=str(fields.get("source", "")),
        image_size=None if size is None else (int(size[0]), int(size[1])),
        people_seen=None if people is None else people.astype(np.int64),
    )


def _scalar(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def load_recording(path: str | Path) -> PoseSequence:
    """Read a recording written by ``save_recording``; RecordingError names the fault."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"{path}: no such landmark recording")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                fields = {k: _scalar(data[k]) for k in data.files}
        elif suffix == ".json":
            fields = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(fields, dict):
                raise RecordingError(f"{path}: expected a JSON object at the top level")
        else:
            raise RecordingError(f"{path}: unknown recording type (use .npz or .json)")
    except RecordingError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: unreadable or truncated recording "
                             f"({str(exc).splitlines()[0][:120] if str(exc) else 'no data'})") \
            from None
    if suffix == ".json" and "positions" in fields and "format" not in fields:
        return load_keraal(path)
    return sequence_from_fields(fields, str(path))


def load_keraal(path: str | Path, fps: float = KERAAL_FPS) -> PoseSequence:
    """Read a KERAAL BlazePose recording: {"positions": {"<frame>": {"Nose": [x,y,z], ...}}}.

    These carry normalized image x, y and a non-metric z only, so the sequence has no world
    landmarks. The dataset flipped frames horizontally before running the model, so its left and
    right labels are likely the mirror of the person's own.
    """
    path = Path(path)
    try:
        positions = json.loads(path.read_text(encoding="utf-8"))["positions"]
        keys = sorted(positions, key=float)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{path}: not a KERAAL BlazePose recording ({exc})") from None
    if not keys:
        raise RecordingError(f"{path}: the recording holds no frames")
    frame_numbers = np.array([float(k) for k in keys])
    if not (np.isfinite(frame_numbers).all() and np.all(np.diff(frame_numbers) > 0)):
        raise RecordingError(f"{path}: frame numbers must be finite and distinct")
    image = np.full((len(keys), NUM_LANDMARKS, 3), np.nan)
    for t, key in enumerate(keys):
        if not isinstance(positions[key], dict):
            raise RecordingError(f"{path}: frame {key}: expected an object of landmarks, got "
                                 f"{type(positions[key]).__name__}")
        for name, xyz in positions[key].items():
            try:
                image[t, landmark_from_name(name)] = xyz
            except (KeyError, ValueError) as exc:
                raise RecordingError(f"{path}: frame {key}: bad landmark {name!r} ({exc})") \
                    from None
    visibility = np.where(np.isfinite(image).all(axis=2), 1.0, 0.0)
    return PoseSequence(image, visibility, None, (frame_numbers - frame_numbers[0]) * 1000 / fps,
                        fps, source=str(path))


def load_pose_input(path: str | Path, model_path: str | Path | None = None, *,
                    max_people: int = DEFAULT_MAX_PEOPLE, progress: bool = False,
                    stride: int = 1) -> PoseSequence:
    """What every command accepts as INPUT: a landmark recording, a video or an image folder.

    max_people: people the model looks for in each frame; recordings need no model.
    """
    if is_recording_path(path):
        sequence = load_recording(path)
        return sequence.slice(0, None, stride) if stride > 1 else sequence
    from coach.extract import extract_sequence

    return extract_sequence(path, model_path, max_people=max_people, progress=progress,
                            stride=stride)
