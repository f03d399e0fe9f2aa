"""Skeletons from other tools as a ``PoseSequence`` in the 33-landmark layout.

Supported layout (checked on real files; a layout without a real file to check is not
claimed):

- **UI-PRMD Kinect** (``mXX_sYY_eZZ_positions[_inc].txt[.gz]`` beside its ``..._angles``
  file): 22 joints, one comma-separated line per frame at 30 frames/s. Only the waist is
  absolute; every other joint is an offset (centimetres) in its parent's frame, and the
  angles file gives each joint's orientation (Euler angles, degrees). World positions come
  from forward kinematics along the chains waist-spine-chest-neck-head-head tip,
  chest-collar-shoulder-elbow-wrist and waist-hip-knee-ankle-toes, as the dataset's own
  viewer does them (a joint's rotation is ``Rz(c) @ Ry(b) @ Rx(a)`` of its angles (a, b, c);
  the arm chains start from the chest's own rotation and the leg chains from the waist's).

Landmarks the source does not have (face, ears, hands beyond the wrist, heels) are NaN with
visibility 0, so every feature that needs them is reported as missing, never guessed.
World landmarks are converted to the pose model's convention (metres, origin between the
hips, x right, y down, z away from the camera); ``image_xyz`` is the orthographic view along
the camera axis, scaled so that 2.5 m fill the picture, for drawing only.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np

from coach.errors import RecordingError
from coach.landmarks import NUM_LANDMARKS, Landmark
from coach.pose import PoseSequence
from coach.readers import check_regular_file

L = Landmark

#: Frame rate of the UI-PRMD Kinect recordings (frames per second).
UIPRMD_FPS = 30.0
#: Joints per UI-PRMD frame, and values per joint.
UIPRMD_JOINTS = 22
#: A UI-PRMD repetition longer than this is refused (the longest real one has 160 frames).
UIPRMD_MAX_FRAMES = 100_000
#: A skeleton file larger than this is refused before it is read (bytes, uncompressed).
MAX_SKELETON_BYTES = 200 * 1024 * 1024
#: Coordinates further than this from the waist (centimetres) are not a person.
UIPRMD_MAX_CM = 1000.0
#: Parent of each UI-PRMD joint (-1: the waist, absolute), and whose rotation starts its chain.
UIPRMD_PARENT = (-1, 0, 1, 2, 3, 4, 2, 6, 7, 8, 2, 10, 11, 12, 0, 14, 15, 16, 0, 18, 19, 20)
#: Joints that start a chain: their offset is placed by their root's own rotation alone.
UIPRMD_CHAIN_STARTS = frozenset({1, 6, 10, 14, 18})
#: UI-PRMD joint -> BlazePose landmark (shoulder = upper-arm joint, wrist = hand joint).
UIPRMD_TO_BLAZEPOSE: dict[int, Landmark] = {
    7: L.LEFT_SHOULDER, 8: L.LEFT_ELBOW, 9: L.LEFT_WRIST,
    11: L.RIGHT_SHOULDER, 12: L.RIGHT_ELBOW, 13: L.RIGHT_WRIST,
    14: L.LEFT_HIP, 15: L.LEFT_KNEE, 16: L.LEFT_ANKLE, 17: L.LEFT_FOOT_INDEX,
    18: L.RIGHT_HIP, 19: L.RIGHT_KNEE, 20: L.RIGHT_ANKLE, 21: L.RIGHT_FOOT_INDEX,
}
#: Width of the picture ``image_xyz`` is drawn in, in metres of the scene.
IMAGE_SPAN_M = 2.5

_UIPRMD_NAME = re.compile(r"(m\d+_s\d+_e\d+)_positions(_inc)?\.txt(\.gz)?", re.IGNORECASE)


def is_uiprmd_path(path: str | Path) -> bool:
    """True when ``path`` is named like a UI-PRMD Kinect positions file."""
    return _UIPRMD_NAME.fullmatch(Path(path).name) is not None


def uiprmd_angles_path(positions: Path) -> Path:
    """The angles file that belongs to a UI-PRMD positions file (same folder layout)."""
    name = positions.name.replace("_positions", "_angles")
    parent = positions.parent
    if parent.name == "positions":
        parent = parent.parent / "angles"
    return parent / name


def _read_table(path: Path, columns: int) -> np.ndarray:
    """(T, columns) floats from a comma-separated text file, gzip or plain."""
    if not path.is_file():
        raise RecordingError(f"{path}: no such skeleton file")
    check_regular_file(path, MAX_SKELETON_BYTES, "a skeleton file", RecordingError)
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".gz":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as zf:
                raw = zf.read(MAX_SKELETON_BYTES + 1)
            if len(raw) > MAX_SKELETON_BYTES:
                raise RecordingError(f"{path}: unpacks to more than "
                                     f"{MAX_SKELETON_BYTES // 2**20} MB, refused")
        text = raw.decode("ascii")
    except RecordingError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise RecordingError(f"{path}: unreadable skeleton file ({str(exc)[:100]})") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise RecordingError(f"{path}: the skeleton file holds no frames")
    if len(lines) > UIPRMD_MAX_FRAMES:
        raise RecordingError(f"{path}: more than {UIPRMD_MAX_FRAMES} frames, refused")
    rows = []
    for n, line in enumerate(lines, 1):
        cells = line.split(",")
        if len(cells) != columns:
            raise RecordingError(f"{path}: line {n}: expected {columns} comma-separated values, "
                                 f"got {len(cells)}")
        try:
            rows.append([float(c) for c in cells if len(c) < 40])
        except ValueError:
            raise RecordingError(f"{path}: line {n}: not a number") from None
        if len(rows[-1]) != columns:
            raise RecordingError(f"{path}: line {n}: a value with too many digits")
    table = np.array(rows)
    if not np.isfinite(table).all():
        raise RecordingError(f"{path}: infinite or NaN values")
    return table


def _rotations(angles_deg: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation ``Rz(c) @ Ry(b) @ Rx(a)`` for angles (..., 3) = (a, b, c) degrees."""
    a, b, c = np.radians(np.moveaxis(angles_deg, -1, 0))
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    one, zero = np.ones_like(a), np.zeros_like(a)

    def stack(rows: list[list[np.ndarray]]) -> np.ndarray:
        return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)

    rx = stack([[one, zero, zero], [zero, ca, -sa], [zero, sa, ca]])
    ry = stack([[cb, zero, sb], [zero, one, zero], [-sb, zero, cb]])
    rz = stack([[cc, -sc, zero], [sc, cc, zero], [zero, zero, one]])
    return rz @ ry @ rx


def uiprmd_world_cm(positions: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(T, 22, 3) joint positions in the sensor's axes (centimetres, y up) from the offsets
    (T, 22, 3) and joint orientations (T, 22, 3) of a UI-PRMD recording (forward kinematics)."""
    local = _rotations(angles)  # (T, 22, 3, 3)
    used = np.empty_like(local)  # the rotation that places each joint's offset
    out = np.empty_like(positions)
    out[:, 0] = positions[:, 0]
    for j in range(1, UIPRMD_JOINTS):
        parent = UIPRMD_PARENT[j]
        base = local[:, parent] if j in UIPRMD_CHAIN_STARTS else used[:, parent] @ local[:, parent]
        used[:, j] = base
        out[:, j] = np.einsum("tij,tj->ti", base, positions[:, j]) + out[:, parent]
    return out


def _to_model_axes(world_cm: np.ndarray) -> np.ndarray:
    """Sensor axes (cm; x to the person's left when facing the sensor, y up, z towards the
    sensor) -> the pose model's (metres; x right in the picture, y down, z away), hip-centred."""
    m = world_cm / 100.0 * np.array([1.0, -1.0, -1.0])
    hips = (m[:, [14]] + m[:, [18]]) / 2.0
    return m - hips


def sequence_from_joints(joints_m: np.ndarray, mapping: dict[int, Landmark], fps: float,
                         source: str) -> PoseSequence:
    """A ``PoseSequence`` from source joints (T, J, 3) in the model's world axes (metres,
    hip-centred): mapped landmarks get visibility 1, the rest NaN and visibility 0."""
    t = len(joints_m)
    world = np.full((t, NUM_LANDMARKS, 3), np.nan)
    for j, lm in mapping.items():
        world[:, lm] = joints_m[:, j]
    visibility = np.where(np.isfinite(world).all(axis=2), 1.0, 0.0)
    centre = np.nanmean(world[:, :, :2].reshape(-1, 2), axis=0) if t else np.zeros(2)
    image = np.full_like(world, np.nan)
    image[..., :2] = 0.5 + (world[..., :2] - centre) / IMAGE_SPAN_M
    image[..., 2] = world[..., 2] / IMAGE_SPAN_M
    return PoseSequence(image, visibility, world, np.arange(t) * 1000.0 / fps, fps,
                        source=source, image_size=(1000, 1000))


def load_uiprmd(path: str | Path) -> PoseSequence:
    """One UI-PRMD Kinect repetition (positions file; its angles file is found beside it)."""
    path = Path(path)
    positions = _read_table(path, UIPRMD_JOINTS * 3).reshape(-1, UIPRMD_JOINTS, 3)
    angles_path = uiprmd_angles_path(path)
    angles = _read_table(angles_path, UIPRMD_JOINTS * 3).reshape(-1, UIPRMD_JOINTS, 3)
    if len(angles) != len(positions):
        raise RecordingError(f"{path}: {len(positions)} frames but {angles_path.name} has "
                             f"{len(angles)}")
    if np.abs(positions[:, 1:]).max(initial=0.0) > UIPRMD_MAX_CM:
        raise RecordingError(f"{path}: joint offsets beyond {UIPRMD_MAX_CM:.0f} cm, "
                             "not a person")
    world = _to_model_axes(uiprmd_world_cm(positions, angles))
    return sequence_from_joints(world, UIPRMD_TO_BLAZEPOSE, UIPRMD_FPS, str(path))
