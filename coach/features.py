"""Spine and joint features per frame, in degrees, from a ``PoseSequence``.

Two planes:
- ``"world"`` (sequences with world landmarks): 3D angles measured in a body frame built from
  an estimated vertical ("up") and the hip line, so where the camera stands does not change
  them, and rotating, moving or scaling the body leaves them unchanged.
- ``"image"`` (image landmarks only, e.g. imported KERAAL recordings): the same names where
  the 2D projection means the same thing for a camera facing the person (lateral bend,
  shoulder and hip level, joint angles); sagittal and twist features are not measurable and
  are left out. Image x is scaled by the aspect ratio when ``image_size`` is known.

Sign conventions (left and right are the person's own, as labelled by the pose model):
- trunk_flexion_deg: trunk (mid-hip -> mid-shoulder) against vertical in the sagittal plane,
  positive = bending forward.
- lateral_bend_deg: trunk against vertical in the frontal plane, positive = leaning to the
  person's left.
- axial_twist_deg: shoulder line against hip line about the vertical, positive = chest turned
  to the person's left of the hips.
- spine_curve_deg: 3D angle at the mid-hip between the mid-shoulder and the mid-ear, 0 = ears,
  shoulders and hips in one line; larger = more curved (a rounded upper back, head forward).
  Measured from the hips so that lifting the shoulders (a shrug) barely changes it.
- neck_flexion_deg / neck_lateral_deg: neck relative to the trunk line, positive = head
  forward / tilted to the person's left.
- shoulder_level_deg / hip_level_deg: the line right -> left against horizontal, positive =
  the left side is higher.
- shoulder_shrug_deg: atan(half the shoulder width / mid-shoulder-to-mid-ear distance), about
  half the angle the shoulders span seen from the head's centre; larger = shoulders raised
  towards the ears. A shrug shortens the neck's distance while the shoulder width stays, and
  nodding or tilting the head (a turn about the base of the neck) hardly changes either.
  World plane only: in the picture the shoulder width shrinks as the body turns.
- <side>_shoulder_deg: angle hip-shoulder-elbow, 0 = arm along the trunk, 180 = overhead.
- <side>_elbow_deg, <side>_hip_deg, <side>_knee_deg: included angle, 180 = straight.

The ``view_robust`` features (spine, neck, levels, shrug) agree within about 10 deg between camera
views of the same movement and weigh more by default; joints and twist want a reference filmed
from a similar angle. Lateral features are measured out of the body's sagittal plane, so they
stay continuous through a forward fold past horizontal. Tolerances and every other tuned
number live in ``coach.params``.

"Up", the body's frame and its facing direction are defined in ``coach.geometry``: up is
estimated from the first still second (ankles -> hips, perpendicular to the hip line).

Left-right mirrored frames (the model sometimes flips the whole body, depth included, or the
upper body alone) are frames whose hips or shoulders face away from the frames around them
(``mirrored_frames``); they become NaN.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from coach.geometry import (
    CAMERA_UP,
    HIP_LINE,
    PICTURE_UP,
    SHOULDER_LINE,
    UP_WINDOW_S,
    angle_between_deg,
    aspect_ratio,
    body_axes,
    cross,
    dot,
    ear_centre,
    estimate_up,
    facing_deg,
    heading_change_deg,
    hip_centre,
    picture_xy,
    shoulder_centre,
    trunk_vector,
    unit,
)
from coach.landmarks import REGIONS, Landmark
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import FramePose, PoseSequence

log = logging.getLogger(__name__)

L = Landmark


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: what it measures, its unit and sign, and how it is compared.

    region: one of ``coach.landmarks.REGIONS``.
    view_robust: agrees within about 10 deg across camera views (measured, see module doc).
    planes: planes in which it is computed ("world", "image").
    weight: default weight in alignment and scoring.
    mirror_name, mirror_sign: the feature's value in the mirror image is
        ``mirror_sign * value`` of ``mirror_name`` (left/right twins swap, signed lateral
        features change sign).
    landmarks: the landmarks it is computed from (its confidence is their lowest visibility).
    """

    name: str
    unit: str
    region: str
    sign: str
    description: str
    view_robust: bool
    planes: tuple[str, ...]
    weight: float
    mirror_name: str
    mirror_sign: float
    landmarks: tuple[Landmark, ...]


_TRUNK = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP)
_NECK = _TRUNK + (L.LEFT_EAR, L.RIGHT_EAR)
_SHOULDERS_EARS = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_EAR, L.RIGHT_EAR)
_BOTH = ("world", "image")
_WORLD = ("world",)


def _spec(name: str, region: str, sign: str, description: str, robust: bool,
          planes: tuple[str, ...], weight: float, mirror_name: str | None,
          mirror_sign: float, landmarks: tuple[Landmark, ...]) -> FeatureSpec:
    return FeatureSpec(name, "deg", region, sign, description, robust, planes, weight,
                       mirror_name or name, mirror_sign, landmarks)


def _sides(joint: str, region: str, sign: str, description: str, weight: float,
           landmarks: tuple[str, str, str]) -> tuple[FeatureSpec, FeatureSpec]:
    """The left and right feature of a joint angle (mirror twins of each other)."""
    specs = []
    for side, other in (("left", "right"), ("right", "left")):
        lms = tuple(Landmark[f"{side.upper()}_{p}"] for p in landmarks)
        specs.append(_spec(f"{side}_{joint}_deg", region, sign, f"{description}, {side} side",
                           False, _BOTH, weight, f"{other}_{joint}_deg", 1.0, lms))
    return specs[0], specs[1]


#: The feature catalogue, in the column order of ``FeatureTrack.values`` (world plane).
FEATURES: tuple[FeatureSpec, ...] = (
    _spec("trunk_flexion_deg", "spine", "+ = bending forward",
          "Trunk (mid-hip to mid-shoulder) against vertical, sagittal plane", True, _WORLD,
          2.0, None, 1.0, _TRUNK),
    _spec("lateral_bend_deg", "spine", "+ = leaning to the person's left",
          "Trunk against vertical, frontal plane", True, _BOTH, 2.0, None, -1.0, _TRUNK),
    _spec("axial_twist_deg", "spine", "+ = chest turned to the person's left",
          "Shoulder line against hip line about the vertical", False, _WORLD, 0.5,
          None, -1.0, _TRUNK),
    _spec("spine_curve_deg", "spine", "0 = ears, shoulders, hips in line; + = curved",
          "Angle at the hips between shoulders and ears (ears - shoulders - hips)", True, _WORLD,
          1.0, None, 1.0, _NECK),
    _spec("neck_flexion_deg", "neck", "+ = head forward of the trunk line",
          "Neck (mid-shoulder to mid-ear) relative to the trunk, sagittal plane", True, _WORLD,
          1.0, None, 1.0, _NECK),
    _spec("neck_lateral_deg", "neck", "+ = head tilted to the person's left",
          "Neck relative to the trunk, frontal plane", True, _BOTH, 1.0, None, -1.0,
          _NECK),
    _spec("shoulder_level_deg", "shoulders", "+ = left shoulder higher",
          "Shoulder line (right to left) against horizontal", True, _BOTH, 1.5, None,
          -1.0, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)),
    _spec("shoulder_shrug_deg", "shoulders", "+ = shoulders raised towards the ears",
          "Shoulder width against the shoulders' distance from the mid-ear", True, _WORLD, 1.0,
          None, 1.0, _SHOULDERS_EARS),
    *_sides("shoulder", "shoulders", "0 = arm along trunk, 180 = overhead",
            "Angle hip-shoulder-elbow", 0.7, ("HIP", "SHOULDER", "ELBOW")),
    _spec("hip_level_deg", "hips", "+ = left hip higher",
          "Hip line (right to left) against horizontal", True, _BOTH, 1.0, None, -1.0,
          (L.LEFT_HIP, L.RIGHT_HIP)),
    *_sides("hip", "hips", "180 = straight", "Angle shoulder-hip-knee", 0.8,
            ("SHOULDER", "HIP", "KNEE")),
    *_sides("elbow", "arms", "180 = straight", "Angle shoulder-elbow-wrist", 0.4,
            ("SHOULDER", "ELBOW", "WRIST")),
    *_sides("knee", "legs", "180 = straight", "Angle hip-knee-ankle", 0.6,
            ("HIP", "KNEE", "ANKLE")),
)

SPECS: dict[str, FeatureSpec] = {s.name: s for s in FEATURES}
assert all(s.region in REGIONS for s in FEATURES)
assert all(s.mirror_name in SPECS for s in FEATURES)


def feature_names(plane: str) -> tuple[str, ...]:
    """Names of the features computed in ``plane`` ("world" or "image"), in column order."""
    if plane not in ("world", "image"):
        raise ValueError(f"plane: expected 'world' or 'image', got {plane!r}")
    return tuple(s.name for s in FEATURES if plane in s.planes)


def mirror_indices(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(permutation (F,), signs (F,)) so that ``values[..., perm] * signs`` is the mirror image."""
    index = {n: i for i, n in enumerate(names)}
    perm = np.array([index[SPECS[n].mirror_name] for n in names], dtype=np.int64)
    signs = np.array([SPECS[n].mirror_sign for n in names], dtype=np.float64)
    return perm, signs


@dataclass(frozen=True)
class FeatureTrack:
    """Features over time.

    values: (T, F) in each feature's unit (degrees); NaN where not measurable.
    confidence: (T, F) in [0, 1], the lowest visibility of the landmarks each feature uses;
        0 where the value is NaN.
    names: (F,) feature names, see ``FEATURES``.
    timestamps_ms: (T,) frame times.
    plane: "world" or "image".
    up: (3,) the unit vertical used, in camera axes (world plane), or None (image plane).
    mirrored: (T,) bool, frames dropped as whole-body mirrored.
    """

    values: np.ndarray
    confidence: np.ndarray
    names: tuple[str, ...]
    timestamps_ms: np.ndarray
    plane: str
    up: np.ndarray | None = None
    mirrored: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = len(self.timestamps_ms)
        for name in ("values", "confidence", "timestamps_ms", "up", "mirrored"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = np.array(arr, dtype=bool if name == "mirrored" else np.float64, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.mirrored is None:
            arr = np.zeros(t, dtype=bool)
            arr.setflags(write=False)
            object.__setattr__(self, "mirrored", arr)
        shape = (t, len(self.names))
        if self.values.shape != shape or self.confidence.shape != shape:
            raise ValueError(f"values/confidence: expected shape {shape}, got "
                             f"{self.values.shape} and {self.confidence.shape}")
        if self.plane not in ("world", "image"):
            raise ValueError(f"plane: expected 'world' or 'image', got {self.plane!r}")

    def __len__(self) -> int:
        return len(self.timestamps_ms)

    def column(self, name: str) -> np.ndarray:
        """(T,) values of one feature."""
        return self.values[:, self.names.index(name)]

    @property
    def usable(self) -> np.ndarray:
        """(T,) bool: frames where at least half the features are measurable."""
        if not self.names:
            return np.zeros(len(self), dtype=bool)
        return np.isfinite(self.values).sum(axis=1) * 2 >= len(self.names)


# --- angles on (..., D) arrays, NaN in -> NaN out ----------------------------------------------

def _wrapped_deg(angle: np.ndarray) -> np.ndarray:
    """Angles (degrees) brought into [-180, 180)."""
    return (angle + 180.0) % 360.0 - 180.0


def _out_of_plane_deg(v: np.ndarray, normal: np.ndarray, *in_plane: np.ndarray) -> np.ndarray:
    """Angle (degrees, -90..90) of vectors v (..., D) out of the plane spanned by the unit
    vectors ``in_plane`` (each (D,) or (..., D)), towards ``normal``. Continuous whichever way
    v points inside that plane: a lean to the side stays a lean to the side through a forward
    fold past horizontal, where an angle measured against the vertical alone would wrap."""
    along = np.sqrt(sum(dot(v, a) ** 2 for a in in_plane))
    return np.degrees(np.arctan2(dot(v, normal), along))


def _shrug_deg(shoulder_line: np.ndarray, neck: np.ndarray) -> np.ndarray:
    """atan(half the shoulder width / the neck's length) in degrees (0-90), from the right ->
    left shoulder vectors (T, 3) and the mid-shoulder -> mid-ear vectors (T, 3)."""
    return np.degrees(np.arctan2(np.linalg.norm(shoulder_line, axis=-1) / 2.0,
                                 np.linalg.norm(neck, axis=-1)))


def _world_values(p: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """World-plane feature columns from world landmarks p (T, 33, 3) and unit up (3,)."""
    left, fwd = body_axes(p, up)
    mid_hip, mid_sh, mid_ear = hip_centre(p), shoulder_centre(p), ear_centre(p)
    trunk = mid_sh - mid_hip
    neck = mid_ear - mid_sh
    t_up, n_up = dot(trunk, up), dot(neck, up)
    flex = np.degrees(np.arctan2(dot(trunk, fwd), t_up))
    lat = _out_of_plane_deg(trunk, left, up, fwd)
    sh = p[:, L.LEFT_SHOULDER] - p[:, L.RIGHT_SHOULDER]
    hp = p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP]
    sh_h = sh - dot(sh, up)[:, None] * up
    hp_h = hp - dot(hp, up)[:, None] * up
    twist = np.degrees(np.arctan2(dot(cross(hp_h, sh_h), up), dot(hp_h, sh_h)))
    out = {
        "trunk_flexion_deg": flex,
        "lateral_bend_deg": lat,
        "axial_twist_deg": twist,
        "spine_curve_deg": angle_between_deg(trunk, mid_ear - mid_hip),
        "neck_flexion_deg": _wrapped_deg(np.degrees(np.arctan2(dot(neck, fwd), n_up)) - flex),
        "neck_lateral_deg": _out_of_plane_deg(neck, left, up, fwd) - lat,
        "shoulder_level_deg": np.degrees(np.arctan2(dot(sh, up), np.linalg.norm(sh_h, axis=-1))),
        "shoulder_shrug_deg": _shrug_deg(sh, neck),
        "hip_level_deg": np.degrees(np.arctan2(dot(hp, up), np.linalg.norm(hp_h, axis=-1))),
    }
    out.update(_joint_values(p))
    return out


_JOINTS = tuple(s for s in FEATURES if s.name.startswith(("left_", "right_")))
_JOINT_ABC = np.array([s.landmarks for s in _JOINTS], dtype=np.int64)  # (J, 3)


def _joint_values(p: np.ndarray) -> dict[str, np.ndarray]:
    """Included joint angles (degrees) on both sides from points p (T, 33, D)."""
    a, b, c = (p[:, _JOINT_ABC[:, k]] for k in range(3))
    angles = angle_between_deg(a - b, c - b)  # (T, J)
    return {s.name: angles[:, k] for k, s in enumerate(_JOINTS)}


def _image_values(p: np.ndarray) -> dict[str, np.ndarray]:
    """Image-plane feature columns from picture points p (T, 33, 2) (``picture_xy``)."""
    up = PICTURE_UP
    lr = (p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP]) + (p[:, L.LEFT_SHOULDER] - p[:, L.RIGHT_SHOULDER])
    left = np.stack([np.sign(lr[:, 0]), np.zeros(len(p))], axis=-1)
    left[left[:, 0] == 0] = np.nan
    trunk = trunk_vector(p)
    neck = ear_centre(p) - shoulder_centre(p)
    lat = _out_of_plane_deg(trunk, left, up)
    sh = p[:, L.LEFT_SHOULDER] - p[:, L.RIGHT_SHOULDER]
    hp = p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP]
    out = {
        "lateral_bend_deg": lat,
        "neck_lateral_deg": _out_of_plane_deg(neck, left, up) - lat,
        "shoulder_level_deg": np.degrees(np.arctan2(dot(sh, up), np.abs(sh[:, 0]))),
        "hip_level_deg": np.degrees(np.arctan2(dot(hp, up), np.abs(hp[:, 0]))),
    }
    out.update(_joint_values(p))
    return out


@lru_cache(maxsize=8)
def _landmark_table(names: tuple[str, ...]) -> np.ndarray:
    """(F, K) landmark indices each feature uses, padded by repeating its last landmark (which
    leaves their minimum unchanged), so that one gather serves every feature."""
    width = max(len(SPECS[n].landmarks) for n in names)
    table = np.array([[*SPECS[n].landmarks] + [SPECS[n].landmarks[-1]]
                      * (width - len(SPECS[n].landmarks)) for n in names], dtype=np.int64)
    table.setflags(write=False)
    return table


def _confidence(visibility: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(T, F) lowest visibility of the landmarks each feature uses."""
    if not names:
        return np.zeros((len(visibility), 0))
    return np.clip(visibility[:, _landmark_table(tuple(names))].min(axis=2), 0.0, 1.0)


def finite_points(points: np.ndarray) -> np.ndarray:
    """Landmarks (..., 3) with infinite or absurd coordinates (beyond 1 km) set to NaN."""
    return np.where(np.isfinite(points) & (np.abs(points) < 1e3), points, np.nan)


class UpWindow:
    """The vertical estimated live, frame by frame: from every frame with world landmarks
    seen so far, until they span ``UP_WINDOW_S``; from then on it stays fixed."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the frames and the fixed vertical (a new session)."""
        self._world: list[np.ndarray] = []
        self._visibility: list[np.ndarray] = []
        self._times_ms: list[float] = []
        #: The vertical (3,) once fixed, else None.
        self.fixed: np.ndarray | None = None

    def update(self, pose: FramePose) -> np.ndarray:
        """The vertical (3,) with ``pose`` (which must have world landmarks) taken in."""
        if self.fixed is not None:
            return self.fixed
        if pose.world_xyz is None:
            raise ValueError("pose: world landmarks are needed to estimate the vertical")
        self._world.append(pose.world_xyz)
        self._visibility.append(pose.visibility)
        self._times_ms.append(pose.timestamp_ms)
        up = estimate_up(np.stack(self._world), np.stack(self._visibility),
                         np.array(self._times_ms))
        if self._times_ms[-1] - self._times_ms[0] >= UP_WINDOW_S * 1000.0:
            self.fixed = up
            self._world, self._visibility, self._times_ms = [], [], []
        return up


def _heading_jumps_deg(heading_deg: np.ndarray, timestamps_ms: np.ndarray,
                       window_s: float) -> np.ndarray:
    """(T,) how far (degrees, 0-180) each frame's heading (T,) is from the circular mean of
    the headings ``window_s`` either side (the frame itself left out); NaN where the frame
    or its neighbourhood has none."""
    heading = np.radians(heading_deg)
    ok = np.isfinite(heading)
    own_c, own_s = np.where(ok, np.cos(heading), 0.0), np.where(ok, np.sin(heading), 0.0)
    cos = np.concatenate([[0.0], np.cumsum(own_c)])
    sin = np.concatenate([[0.0], np.cumsum(own_s)])
    half = window_s * 1000.0
    lo = np.searchsorted(timestamps_ms, timestamps_ms - half, side="left")
    hi = np.searchsorted(timestamps_ms, timestamps_ms + half, side="right")
    around_c = cos[hi] - cos[lo] - own_c
    around_s = sin[hi] - sin[lo] - own_s
    has_around = ok & (np.hypot(around_c, around_s) > 1e-9)
    jump = heading_change_deg(heading_deg, np.degrees(np.arctan2(around_s, around_c)))
    return np.where(has_around, jump, np.nan)


def mirrored_frames(world_xyz: np.ndarray, up: np.ndarray, timestamps_ms: np.ndarray,
                    params: ScoringParams = DEFAULT_PARAMS) -> np.ndarray:
    """(T,) bool: frames whose hip line or shoulder line faces more than
    ``params.mirror_jump_deg`` away from the frames around them (``params.mirror_window_s``
    either side, the frame itself left out): what the pose model does when it mirrors the
    whole body, or the upper body alone (the shoulders swapped over unswapped hips: a frame
    of the bundled lunge clip's cam02 read as a 70-degree twist, a level shoulder line and no
    shrug between frames that had none of these).

    Each frame is judged against its own neighbourhood, so one glitch drops that frame alone
    and the frames after it are kept; a person turning round turns gradually and stays with
    the frames around.
    """
    out = np.zeros(len(timestamps_ms), dtype=bool)
    for line in (HIP_LINE, SHOULDER_LINE):
        jump = _heading_jumps_deg(facing_deg(world_xyz, up, line), timestamps_ms,
                                  params.mirror_window_s)
        out |= np.nan_to_num(jump) > params.mirror_jump_deg
    return out


def whole_body_mirrored(seq: PoseSequence, params: ScoringParams = DEFAULT_PARAMS
                        ) -> np.ndarray:
    """(T,) bool: frames detected facing the wrong way as a whole (what ``compute_features``
    drops); all False without world landmarks."""
    if seq.world_xyz is None or not len(seq):
        return np.zeros(len(seq), dtype=bool)
    world = finite_points(seq.world_xyz)
    up = unit(np.asarray(estimate_up(world, seq.visibility, seq.timestamps_ms),
                         dtype=np.float64))
    return mirrored_frames(world, up, seq.timestamps_ms, params)


def compute_features(seq: PoseSequence, up: np.ndarray | None = None,
                     drop_mirrored: bool = True,
                     params: ScoringParams = DEFAULT_PARAMS) -> FeatureTrack:
    """Features of every frame of ``seq``.

    World plane when ``seq.has_world``, else image plane. ``up`` (3,) overrides the vertical
    estimated from the still start. Mirrored frames become NaN when ``drop_mirrored``.
    """
    ts = seq.timestamps_ms
    if seq.world_xyz is not None:
        names = feature_names("world")
        world = finite_points(seq.world_xyz)
        if up is None:
            up = estimate_up(world, seq.visibility, ts)
        up = unit(np.asarray(up, dtype=np.float64))
        cols = _world_values(world, up)
        mirrored = mirrored_frames(world, up, ts, params) if drop_mirrored and len(seq) \
            else None
        plane = "world"
    else:
        names = feature_names("image")
        cols = _image_values(picture_xy(finite_points(seq.image_xyz), aspect_ratio(seq.image_size)))
        mirrored, up, plane = None, None, "image"
    values = np.stack([cols[n] for n in names], axis=1) if len(seq) else np.empty((0, len(names)))
    conf = _confidence(seq.visibility, names) if len(seq) else np.empty((0, len(names)))
    if mirrored is not None and mirrored.any():
        log.info("%s: dropped %d whole-body mirrored frames", seq.source or "sequence",
                 int(mirrored.sum()))
        values = values.copy()
        values[mirrored] = np.nan
    conf = np.where(np.isfinite(values), conf, 0.0)
    return FeatureTrack(values, conf, names, ts, plane, up, mirrored)


def frame_features(frame: FramePose, up: np.ndarray | None,
                   image_size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features of one frame: (values (F,), confidence (F,)), plane as for a sequence.

    ``up`` is the world vertical (3,) (ignored in the image plane; None = camera -y).
    """
    vis = frame.visibility[None]
    if frame.world_xyz is not None:
        names = feature_names("world")
        u = CAMERA_UP if up is None else unit(np.asarray(up, dtype=np.float64))
        cols = _world_values(finite_points(frame.world_xyz[None]), u)
    else:
        names = feature_names("image")
        points = picture_xy(finite_points(frame.image_xyz[None]), aspect_ratio(image_size))
        cols = _image_values(points)
    values = np.array([cols[n][0] for n in names])
    conf = _confidence(vis, names)[0]
    return values, np.where(np.isfinite(values), conf, 0.0)
