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
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np

from coach import __version__
from coach.atomic import atomic_write
from coach.backend import DEFAULT_MAX_PEOPLE
from coach.errors import RecordingError
from coach.landmarks import NUM_LANDMARKS, landmark_from_name
from coach.pose import MAX_TIMESTAMP_MS, PoseSequence
from coach.readers import check_regular_file, zip_member_fault
from coach.skeletons import is_uiprmd_path, load_uiprmd

FORMAT_NAME = "coach-landmarks"
FORMAT_VERSION = 1
RECORDING_SUFFIXES = frozenset({".npz", ".json"})
#: Frame rate assumed for KERAAL recordings, which do not state theirs (frames per second).
KERAAL_FPS = 30.0

# Limits, checked before anything is allocated: a recording beyond one is refused with one line
# naming the file and the limit. A hostile header or a huge file must not cost gigabytes.
#: Most frames in a recording: two hours at 30 fps. Its arrays then take about 400 MB.
MAX_FRAMES = 216_000
#: Largest ``.npz`` read (bytes): about 1 kB per frame compressed, so ``MAX_FRAMES`` fit.
MAX_NPZ_BYTES = 400 * 1024 * 1024
#: Largest ``.json`` recording read (bytes). JSON takes 5-8 kB per frame, and parsing costs
#: several times the text in memory, so long recordings belong in ``.npz``.
MAX_JSON_BYTES = 256 * 1024 * 1024
#: Deepest nesting of arrays and objects in a JSON recording. The formats read need 5 (KERAAL:
#: object > positions > frame > landmark > list); a deeper file is not a recording, and
#: very deep nesting would exhaust the parser's stack.
MAX_JSON_DEPTH = 16
#: Largest array in an ``.npz`` (elements): the landmark arrays of ``MAX_FRAMES`` frames.
MAX_ARRAY_ELEMENTS = MAX_FRAMES * NUM_LANDMARKS * 3
#: Longest text field (characters), such as ``source``.
MAX_TEXT_CHARS = 4096
#: Least time between two frames (ms): a 20,000 fps camera. Closer times are not frames, and
#: a step that small makes speeds (change / time) overflow.
MIN_FRAME_STEP_MS = 0.05
#: Landmark coordinates lie within this far of 0 (normalized image units, or metres).
MAX_COORDINATE = 1000.0
#: Largest frame side in pixels, and most people counted in one frame.
MAX_IMAGE_SIDE, MAX_PEOPLE_SEEN = 65_536, 1000


def is_recording_path(path: str | Path) -> bool:
    """True when ``path`` names a landmark recording (by suffix, or a skeleton file of another
    tool that ``coach.skeletons`` reads) rather than a video."""
    return Path(path).suffix.lower() in RECORDING_SUFFIXES or is_uiprmd_path(path)


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
    # allow_pickle is numpy's default, named so that no field can be taken for it.
    np.savez_compressed(buffer, allow_pickle=True,
                        **{k: np.asarray(v) for k, v in fields.items()})
    return buffer.getvalue()


def save_recording(seq: PoseSequence, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``seq`` atomically; the format follows ``fmt`` or the suffix (.npz / .json)."""
    path = Path(path)
    fmt = fmt or (path.suffix.lower().lstrip(".") or "npz")
    data = recording_bytes(seq, fmt)
    with atomic_write(path) as handle:
        handle.write(data)
    return path


@overload
def _array(fields: dict[str, Any], key: str, where: str, shape: tuple[int | None, ...],
           required: Literal[True] = True) -> np.ndarray: ...


@overload
def _array(fields: dict[str, Any], key: str, where: str, shape: tuple[int | None, ...],
           required: Literal[False]) -> np.ndarray | None: ...


def _array(fields: dict[str, Any], key: str, where: str, shape: tuple[int | None, ...],
           required: bool = True) -> np.ndarray | None:
    if key not in fields or fields[key] is None:
        if required:
            raise RecordingError(f"{where}: missing field '{key}'")
        return None
    try:
        value = np.array(fields[key], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise RecordingError(f"{where}: field '{key}' is not an array of numbers") from None
    ok = value.ndim == len(shape) and all(e is None or e == s for e, s in zip(shape, value.shape,
                                                                              strict=True))
    if not ok:
        want = "(" + ", ".join("T" if e is None else str(e) for e in shape) + ")"
        raise RecordingError(f"{where}: field '{key}' has shape {value.shape}, expected {want}")
    return value


def check_timestamps(times: np.ndarray, where: str) -> None:
    """Refuse timestamps that are not finite, not strictly increasing by at least
    ``MIN_FRAME_STEP_MS``, or beyond ``MAX_TIMESTAMP_MS``."""
    if not np.all(np.isfinite(times)):
        raise RecordingError(f"{where}: timestamps_ms must be finite numbers")
    if np.abs(times).max(initial=0.0) > MAX_TIMESTAMP_MS:
        raise RecordingError(f"{where}: timestamps_ms beyond {MAX_TIMESTAMP_MS:.0f} ms "
                             "(ten days) are not plausible")
    if len(times) > 1 and not np.all(np.diff(times) >= MIN_FRAME_STEP_MS):
        raise RecordingError(f"{where}: timestamps_ms must be strictly increasing, by at "
                             f"least {MIN_FRAME_STEP_MS} ms from frame to frame")


def _check_landmarks(name: str, array: np.ndarray, where: str) -> None:
    finite = array[np.isfinite(array)]
    if np.any(np.isinf(array)) or np.abs(finite).max(initial=0.0) > MAX_COORDINATE:
        raise RecordingError(f"{where}: {name} holds coordinates beyond +-{MAX_COORDINATE:g}")


def _text(value: Any, key: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise RecordingError(f"{where}: field '{key}' must be text of at most "
                             f"{MAX_TEXT_CHARS} characters")
    return value


def _shown(value: Any) -> str:
    """A field's value for an error message: short, and printable."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def sequence_from_fields(fields: dict[str, Any], where: str) -> PoseSequence:
    """Validate the fields of a version-1 recording and build the sequence; ``where`` names it
    (and becomes the sequence's ``source``: the file read, not what the file says of itself)."""
    name = fields.get("format")
    if not isinstance(name, str) or name != FORMAT_NAME:
        raise RecordingError(f"{where}: not a coach landmark recording (format field is "
                             f"{_shown(name)})")
    version = fields.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise RecordingError(f"{where}: unsupported recording version {_shown(version)} "
                             f"(this coach reads version {FORMAT_VERSION})")
    _text(fields.get("source"), "source", where)
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
    check_timestamps(times, where)
    _check_landmarks("image_xyz", image, where)
    if world is not None:
        _check_landmarks("world_xyz", world, where)
    if np.any(~np.isfinite(visibility)) or visibility.min() < 0 or visibility.max() > 1:
        raise RecordingError(f"{where}: visibility must lie in [0, 1]")
    try:
        fps = float(fields["fps"])
    except (KeyError, TypeError, ValueError, OverflowError):
        raise RecordingError(f"{where}: field 'fps' is not a number") from None
    if not (math.isfinite(fps) and 0 < fps <= 1000):
        raise RecordingError(f"{where}: fps {fps} is not a plausible frame rate")
    if size is not None and (not np.all(np.isfinite(size)) or size.min() < 1
                             or size.max() > MAX_IMAGE_SIDE):
        raise RecordingError(f"{where}: image_size must be two whole numbers of pixels from 1 "
                             f"to {MAX_IMAGE_SIDE}")
    if people is not None and (not np.all(np.isfinite(people)) or people.min() < 0
                               or people.max() > MAX_PEOPLE_SEEN):
        raise RecordingError(f"{where}: people_seen must be counts from 0 to "
                             f"{MAX_PEOPLE_SEEN}")
    return PoseSequence(
        image_xyz=image, visibility=visibility, world_xyz=world, timestamps_ms=times, fps=fps,
        source=where,
        image_size=None if size is None else (int(size[0]), int(size[1])),
        # A recording without the counts had one person in view in every frame.
        people_seen=np.ones(n, dtype=np.int64) if people is None else people.astype(np.int64),
    )


def _scalar(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def _read_bytes(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    check_regular_file(path, limit, what, RecordingError)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in the JSON ``text`` (strings ignored)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    steps = np.frombuffer(bare.encode("utf-8", "replace"), dtype=np.uint8)
    change = (np.isin(steps, (ord("["), ord("{"))).astype(np.int64)
              - np.isin(steps, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(change).max(initial=0))


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse a JSON file of at most ``limit`` bytes and ``MAX_JSON_DEPTH`` levels of nesting."""
    raw = _read_bytes(path, limit, "a JSON recording")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordingError(f"{path}: not UTF-8 text") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise RecordingError(f"{path}: JSON nested more than {MAX_JSON_DEPTH} levels deep is "
                             "not a recording")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise RecordingError(f"{path}: not valid JSON ({reason})") from None


#: Array types an ``.npz`` recording may hold: numbers, booleans and short text.
_NPZ_KINDS = frozenset("fiubU")


def _npz_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One array of an ``.npz``, its header checked before its data is read."""
    fault = zip_member_fault(info)
    if fault:
        raise RecordingError(f"{where}: {fault}")
    with zf.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise RecordingError(f"{where}: member {_shown(info.filename)} has an unknown "
                                 f"array format {version}")
        count = math.prod(shape)
        if dtype.kind not in _NPZ_KINDS or dtype.hasobject:
            raise RecordingError(f"{where}: member {_shown(info.filename)} holds {dtype}, not "
                                 "numbers or text")
        if count > MAX_ARRAY_ELEMENTS or count * dtype.itemsize > info.file_size:
            raise RecordingError(f"{where}: member {_shown(info.filename)} claims shape "
                                 f"{shape}, more than the file holds or a recording may hold")
    with zf.open(info) as handle:
        return np.lib.format.read_array(handle, allow_pickle=False)


def _read_npz(path: Path) -> dict[str, Any]:
    """The arrays of an ``.npz`` recording by name, every member checked before it is read."""
    check_regular_file(path, MAX_NPZ_BYTES, "an .npz recording", RecordingError)
    fields: dict[str, Any] = {}
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if sum(m.file_size for m in members) > 4 * MAX_NPZ_BYTES:
            raise RecordingError(f"{path}: unpacks to more than {4 * MAX_NPZ_BYTES} bytes")
        for member in members:
            if not member.filename.endswith(".npy") or member.filename[:-4] in fields:
                raise RecordingError(f"{path}: unexpected member {_shown(member.filename)} "
                                     "(an .npz recording holds .npy arrays)")
            fields[member.filename[:-4]] = _scalar(_npz_member(zf, member, str(path)))
    return fields


def load_recording(path: str | Path) -> PoseSequence:
    """Read a recording written by ``save_recording``; RecordingError names the fault."""
    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such landmark recording")
    if is_uiprmd_path(path):
        return load_uiprmd(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            fields = _read_npz(path)
        elif suffix == ".json":
            fields = read_json(path)
            if not isinstance(fields, dict):
                raise RecordingError(f"{path}: expected a JSON object at the top level")
        else:
            raise RecordingError(f"{path}: unknown recording type (use .npz or .json)")
    except RecordingError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError,
            NotImplementedError, RuntimeError) as exc:  # the last two: zip features unread
        reason = str(exc).splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise RecordingError(f"{path}: unreadable or truncated recording ({reason})") from None
    if suffix == ".json" and "positions" in fields and "format" not in fields:
        return keraal_from_json(fields, path)
    return sequence_from_fields(fields, str(path))


def load_keraal(path: str | Path, fps: float = KERAAL_FPS) -> PoseSequence:
    """Read a KERAAL BlazePose recording: {"positions": {"<frame>": {"Nose": [x,y,z], ...}}}.

    These carry normalized image x, y and a non-metric z only, so the sequence has no world
    landmarks. The dataset flipped frames horizontally before running the model, so its left and
    right labels are likely the mirror of the person's own.
    """
    path = Path(path)
    return keraal_from_json(read_json(path), path, fps)


def keraal_from_json(data: Any, path: Path, fps: float = KERAAL_FPS) -> PoseSequence:
    """The sequence of a parsed KERAAL recording (see ``load_keraal``); ``path`` names it."""
    positions = data.get("positions") if isinstance(data, dict) else None
    if not isinstance(positions, dict):
        raise RecordingError(f"{path}: not a KERAAL BlazePose recording (no 'positions' object)")
    if not positions:
        raise RecordingError(f"{path}: the recording holds no frames")
    if len(positions) > MAX_FRAMES:
        raise RecordingError(f"{path}: {len(positions)} frames is more than the {MAX_FRAMES} "
                             "allowed")
    try:
        numbered = sorted((float(k), k) for k in positions)
    except (ValueError, OverflowError):
        raise RecordingError(f"{path}: frame names must be numbers") from None
    frame_numbers = np.array([n for n, _ in numbered])
    keys = [k for _, k in numbered]
    if not (np.isfinite(frame_numbers).all() and np.all(np.diff(frame_numbers) > 0)):
        raise RecordingError(f"{path}: frame numbers must be finite and distinct")
    image = np.full((len(keys), NUM_LANDMARKS, 3), np.nan)
    for t, key in enumerate(keys):
        frame = positions[key]
        if not isinstance(frame, dict):
            raise RecordingError(f"{path}: frame {_shown(key)}: expected an object of "
                                 f"landmarks, got {type(frame).__name__}")
        for name, xyz in frame.items():
            try:
                image[t, landmark_from_name(name)] = xyz
            except (KeyError, ValueError, TypeError, OverflowError) as exc:
                raise RecordingError(f"{path}: frame {_shown(key)}: bad landmark "
                                     f"{_shown(name)} ({str(exc)[:80]})") from None
    _check_landmarks("landmarks", image, str(path))
    times = (frame_numbers - frame_numbers[0]) * 1000 / fps
    check_timestamps(times, str(path))
    visibility = np.where(np.isfinite(image).all(axis=2), 1.0, 0.0)
    return PoseSequence(image, visibility, None, times, fps, source=str(path))


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
