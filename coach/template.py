"""A reference movement as the scorer sees it: features per moment with tolerances.

A ``Template`` is built from one instructor take (``template_from_sequence``, default
tolerances from the feature catalogue) or from several aligned takes (the reference library
averages them and passes the spread between takes as ``spread``). Construction checks every
array and raises ``TemplateError`` naming the field that is wrong.

Tolerance (``spread``) is "how far from the reference still counts as right", per moment and
feature, in the feature's unit. With one take it is the between-person floor
``ScoringParams.tolerance_deg``; with several takes the library widens it where the takes
differ (``coach.library.multitake``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from coach.errors import InputError, NotEnoughPoseError
from coach.features import (
    SPECS,
    FeatureTrack,
    compute_features,
    feature_names,
    mirror_indices,
    whole_body_mirrored,
)
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.smoothing import smooth_sequence


class TemplateError(InputError):
    """A template's arrays or fields are inconsistent."""


def _frozen_array(name: str, value: object, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"template {name}: not a numeric array ({exc})") from None
    if arr.shape != shape:
        raise TemplateError(f"template {name}: expected shape {shape}, got {arr.shape}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class Template:
    """A reference movement on its own timeline of R moments.

    name: exercise name.
    feature_names: (F,) names from ``coach.features.FEATURES``, all of ``plane``'s features or
        a subset, in catalogue order.
    mean: (R, F) reference feature values (NaN = not measured at that moment, not compared).
    spread: (R, F) tolerance per moment and feature, in the feature's unit, > 0 where mean is
        known.
    weights: (F,) >= 0, at least one > 0.
    timestamps_ms: (R,) strictly increasing times of the moments.
    plane: "world" or "image", the plane the features were computed in.
    takes: number of instructor takes behind it (>= 1).
    pose: R frames on the template timeline (a representative take), for the reference ghost.
    band: (2, R, F) tolerance where an attempt is below and where it is above ``mean``, when
        they differ (the scorer's widening for one attempt, ``coach.allowances.widened``); None:
        ``spread`` both ways.
    version: content hash of the arrays and fields above (computed, not passed).
    """

    name: str
    feature_names: tuple[str, ...]
    mean: np.ndarray
    spread: np.ndarray
    weights: np.ndarray
    timestamps_ms: np.ndarray
    plane: str
    takes: int
    pose: PoseSequence
    band: np.ndarray | None = None
    version: str = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise TemplateError("template name: expected a non-empty string")
        if self.plane not in ("world", "image"):
            raise TemplateError(f"template plane: expected 'world' or 'image', got {self.plane!r}")
        names = tuple(self.feature_names)
        allowed = feature_names(self.plane)
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise TemplateError(f"template feature_names: {unknown or 'none given'} not "
                                f"{self.plane}-plane features ({', '.join(allowed)})")
        if list(names) != sorted(names, key=allowed.index) or len(set(names)) != len(names):
            raise TemplateError("template feature_names: expected unique names in catalogue "
                                "order")
        object.__setattr__(self, "feature_names", names)
        r, f = np.shape(self.mean)[0] if np.ndim(self.mean) == 2 else -1, len(names)
        if r < 2:
            raise TemplateError(f"template mean: expected shape (R >= 2, {f}), got "
                                f"{np.shape(self.mean)}")
        mean = _frozen_array("mean", self.mean, (r, f))
        spread = _frozen_array("spread", self.spread, (r, f))
        weights = _frozen_array("weights", self.weights, (f,))
        ts = _frozen_array("timestamps_ms", self.timestamps_ms, (r,))
        if np.isinf(mean).any():
            raise TemplateError("template mean: infinite values")
        known = np.isfinite(mean)
        if not known.any():
            raise TemplateError("template mean: no measured values")
        if not (np.isfinite(spread[known]).all() and (spread[known] > 0).all()):
            raise TemplateError("template spread: expected finite values > 0 wherever mean is "
                                "known")
        if not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            raise TemplateError("template weights: expected finite values >= 0, not all 0")
        if not (np.isfinite(ts).all() and (np.diff(ts) > 0).all()):
            raise TemplateError("template timestamps_ms: expected strictly increasing times")
        if isinstance(self.takes, bool) or not isinstance(self.takes, int | np.integer) \
                or self.takes < 1:
            raise TemplateError(f"template takes: expected an integer >= 1, got {self.takes!r}")
        if not isinstance(self.pose, PoseSequence) or len(self.pose) != r:
            got = len(self.pose) if isinstance(self.pose, PoseSequence) else type(self.pose)
            raise TemplateError(f"template pose: expected a PoseSequence of {r} frames, got "
                                f"{got}")
        if self.plane == "world" and not self.pose.has_world:
            raise TemplateError("template pose: a world-plane template needs world landmarks")
        arrays = [mean, spread, weights, ts]
        if self.band is not None:
            band = _frozen_array("band", self.band, (2, r, f))
            if not (np.isfinite(band[:, known]).all() and (band[:, known] > 0).all()):
                raise TemplateError("template band: expected finite values > 0 wherever mean "
                                    "is known")
            object.__setattr__(self, "band", band)
            arrays.append(band)
        for key, value in (("mean", mean), ("spread", spread), ("weights", weights),
                           ("timestamps_ms", ts)):
            object.__setattr__(self, key, value)
        object.__setattr__(self, "takes", int(self.takes))
        digest = hashlib.sha256()
        digest.update(f"{self.name}|{self.plane}|{self.takes}|{','.join(names)}".encode())
        for arr in arrays:
            digest.update(np.ascontiguousarray(arr).tobytes())
        object.__setattr__(self, "version", digest.hexdigest()[:16])

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last moment, in seconds."""
        return float(self.timestamps_ms[-1] - self.timestamps_ms[0]) / 1000.0

    def mirrored(self) -> Template:
        """The template as its mirror image (for a person following as in a mirror)."""
        full = feature_names(self.plane)
        perm, signs = mirror_indices(full)
        cols = [full.index(n) for n in self.feature_names]
        mirror_of = [full[perm[c]] for c in cols]
        if any(m not in self.feature_names for m in mirror_of):
            raise TemplateError("template feature_names: a left/right feature lacks its twin, "
                                "cannot mirror")
        src = [self.feature_names.index(m) for m in mirror_of]
        sign = signs[cols]
        band = None
        if self.band is not None:  # a feature whose sign flips swaps below and above
            band = self.band[:, :, src]
            band = np.where(sign < 0, band[::-1], band)
        return Template(f"{self.name} (mirrored)", self.feature_names, self.mean[:, src] * sign,
                        self.spread[:, src], self.weights[src], self.timestamps_ms, self.plane,
                        self.takes, self.pose.mirrored(), band)

    def in_plane(self, plane: str, params: ScoringParams = DEFAULT_PARAMS) -> Template:
        """This template in ``plane``; to the image plane it is recomputed from ``pose`` with
        default tolerances (world-plane spreads do not carry over)."""
        if plane == self.plane:
            return self
        if plane != "image":
            raise TemplateError(f"template {self.name!r}: has no world landmarks to score in "
                                f"the world plane")
        image_pose = replace(self.pose, world_xyz=None)
        track = compute_features(image_pose, params=params)
        w = dict(zip(self.feature_names, self.weights, strict=True))
        names = track.names
        return Template(self.name, names, track.values,
                        default_spread(names, len(track), params=params),
                        np.array([w.get(n, SPECS[n].weight) for n in names]),
                        self.timestamps_ms, "image", self.takes, image_pose)


def default_weights(names: tuple[str, ...],
                    overrides: Mapping[str, float] | None = None) -> np.ndarray:
    """(F,) catalogue weights for ``names``, with ``overrides`` by name."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(names)
    if unknown:
        raise TemplateError(f"template weights: unknown features {sorted(unknown)}")
    return np.array([float(overrides.get(n, SPECS[n].weight)) for n in names])


def default_spread(names: tuple[str, ...], length: int,
                   overrides: Mapping[str, float] | None = None,
                   params: ScoringParams = DEFAULT_PARAMS) -> np.ndarray:
    """(R, F) one-take tolerances: ``params.tolerance_deg``, with ``overrides`` by name."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(names)
    if unknown:
        raise TemplateError(f"template tolerances: unknown features {sorted(unknown)}")
    tol = np.array([float(overrides.get(n, params.tolerance(n))) for n in names])
    return np.broadcast_to(tol, (length, len(names))).copy()


def prepare_sequence(seq: PoseSequence, params: ScoringParams = DEFAULT_PARAMS
                     ) -> tuple[PoseSequence, FeatureTrack]:
    """Smoothed ``seq`` with whole-body mirrored frames blanked, and its features.

    Mirrored frames are blanked before smoothing so they do not bleed into their neighbours.
    """
    mirrored = whole_body_mirrored(seq, params)
    if mirrored.any():
        image = np.array(seq.image_xyz, copy=True)
        world = np.array(seq.world_xyz, copy=True)
        vis = np.array(seq.visibility, copy=True)
        image[mirrored] = np.nan
        world[mirrored] = np.nan
        vis[mirrored] = 0.0
        seq = replace(seq, image_xyz=image, world_xyz=world, visibility=vis)
    smooth = smooth_sequence(seq)
    return smooth, compute_features(smooth, drop_mirrored=False, params=params)


def template_from_sequence(seq: PoseSequence, name: str,
                           weights: Mapping[str, float] | None = None,
                           tolerances: Mapping[str, float] | None = None,
                           params: ScoringParams = DEFAULT_PARAMS) -> Template:
    """A one-take template: smoothed features of ``seq``'s usable frames, default tolerances.

    ``weights`` / ``tolerances`` override the catalogue's per feature name. Raises
    ``NotEnoughPoseError`` when fewer than two frames show a usable pose.
    """
    if not isinstance(seq, PoseSequence):
        raise TemplateError(f"template {name!r}: expected a PoseSequence, got {type(seq)}")
    label = seq.source or name
    if len(seq) == 0 or not seq.present.any():
        raise NotEnoughPoseError(f"{label}: no frame with a person, cannot build a reference")
    smooth, track = prepare_sequence(seq, params)
    keep = track.usable & smooth.present
    if keep.sum() < 2:
        raise NotEnoughPoseError(f"{label}: {int(keep.sum())} usable frame(s) with a person; "
                                 "a reference needs at least 2")
    names = track.names
    return Template(name, names, track.values[keep], default_spread(names, int(keep.sum()),
                    tolerances, params), default_weights(names, weights), track.timestamps_ms[keep],
                    track.plane, 1, smooth.select(keep))
