"""Time alignment of an attempt's features with a reference's, offline (DTW) and online.

People move at their own speed, so frames are compared over aligned time, never frame i with
frame i. The local cost between an attempt frame ``a`` (F,) with confidences ``c`` (F,) and a
reference moment ``r`` (F,) with tolerances ``s`` (F,) is

    cost = sum_f w_f c_f q_f ((a_f - r_f) / s_f)^2 / sum_f w_f c_f q_f

a confidence- and weight-averaged squared deviation in tolerance units (q_f = 1 where the
reference value is known, 0 where it is NaN). ``ReferenceModel.cost`` computes it for whole
blocks with four matrix products.

Offline (``align``): dtaidistance's C DTW (``dtw_ndim.warping_paths``) on the features scaled
by sqrt(weight) / tolerance, with a Sakoe-Chiba window of ``band`` x the longer length and
psi relaxation on the reference (the attempt may start late or stop early in the movement, by
up to ``open_end`` of the reference at each end; skipping is free for the path, so a larger
share lets it dodge hard stretches: on four views of one movement 0.3 skipped a fifth of the
reference, 0.15 keeps the tempo read near 1). dtaidistance has no per-frame confidence, so for
the path low-confidence values (below ``MIN_CONFIDENCE``) are treated as missing and filled
by interpolation in time, and each feature uses its median tolerance; the reported costs and
every score use the exact cost above. Each attempt frame is matched to the last reference
moment its path visits, so the index is non-decreasing. Above ``MAX_CELLS`` cells the
attempt is aligned at a coarser time step and the index interpolated, to bound memory.
``bench/align_speed.py`` measures it against dtaidistance's own ``warping_path``.

Online (``OnlineAligner``): every attempt frame is matched to one reference moment; the
reference may advance 0 to ``MAX_STEP`` moments per frame; old costs fade with time constant
``memory_s`` (exponential forgetting) so that it follows the person and recovers from a bad
stretch. Cost per frame is O(R x F) for a reference of R moments, independent of how long
the session has run (``bench/align_speed.py`` checks the tenth minute against the first).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from dtaidistance import dtw, dtw_ndim

#: Online: the reference may advance at most this many moments per attempt frame.
MAX_STEP = 3
#: Online: extra cost (tolerance units squared) for standing still or skipping on the
#: reference, so that the diagonal wins ties.
STEP_PENALTY = (0.02, 0.0, 0.02, 0.05)
#: Online: extra cost of going from the end of the reference back to its start (a repetition).
WRAP_PENALTY = 0.5
#: Offline: extra cost of a non-diagonal step, per unit of total feature weight.
OFFLINE_PENALTY = 0.02
#: Cost of a pair with no feature measurable in both.
MISSING_COST = 1.0
#: Default Sakoe-Chiba band, as a fraction of the longer sequence.
DEFAULT_BAND = 0.3
#: Default share of the reference the attempt may skip at its start and at its end.
DEFAULT_OPEN_END = 0.15
#: Below this confidence a value is filled in for the offline path.
MIN_CONFIDENCE = 0.3
#: Largest DTW matrix (attempt frames x reference moments) aligned at full time resolution.
MAX_CELLS = 16_000_000


def centred(values: np.ndarray) -> np.ndarray:
    """(T, F) values minus each feature's median over time (NaN kept; a feature never seen is
    left as it is): what alignment compares, so that a constant offset (a build, a camera
    angle, another start posture) does not steer which moments are matched."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN columns: 0
        med = np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=0) \
            if np.isfinite(values).any() else np.zeros(values.shape[1])
    return values - np.where(np.isfinite(med), med, 0.0)


def _prepare(values: np.ndarray, confidence: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    v = np.asarray(values, dtype=np.float64)
    c = np.ones_like(v) if confidence is None else np.asarray(confidence, dtype=np.float64)
    ok = np.isfinite(v) & np.isfinite(c)
    return np.where(ok, v, 0.0), np.where(ok, np.clip(c, 0.0, 1.0), 0.0)


@dataclass(frozen=True)
class ReferenceModel:
    """A reference prepared for cost computation.

    mean: (R, F) reference feature values; spread: (R, F) tolerances (> 0); weights: (F,).
    """

    mean: np.ndarray
    spread: np.ndarray
    weights: np.ndarray
    # Right-hand factors of the separable cost, each (F, R), and the weights as float (F,);
    # derived from the three above in __post_init__.
    _q: np.ndarray = field(init=False, repr=False, compare=False)
    _inv: np.ndarray = field(init=False, repr=False, compare=False)
    _r_inv: np.ndarray = field(init=False, repr=False, compare=False)
    _r2_inv: np.ndarray = field(init=False, repr=False, compare=False)
    _w: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        r = np.asarray(self.mean, dtype=np.float64)
        s = np.asarray(self.spread, dtype=np.float64)
        w = np.asarray(self.weights, dtype=np.float64)
        if r.ndim != 2 or s.shape != r.shape or w.shape != (r.shape[1],):
            raise ValueError(f"reference: expected mean (R, F), spread (R, F), weights (F,), "
                             f"got {r.shape}, {s.shape}, {w.shape}")
        known = np.isfinite(r) & np.isfinite(s) & (s > 0)
        inv_s2 = np.where(known, 1.0 / np.where(known, s, 1.0) ** 2, 0.0)
        r0 = np.where(known, r, 0.0)
        object.__setattr__(self, "_q", known.astype(np.float64).T.copy())
        object.__setattr__(self, "_inv", inv_s2.T.copy())
        object.__setattr__(self, "_r_inv", (r0 * inv_s2).T.copy())
        object.__setattr__(self, "_r2_inv", (r0 * r0 * inv_s2).T.copy())
        object.__setattr__(self, "_w", w)

    def __len__(self) -> int:
        return int(np.shape(self.mean)[0])

    def cost(self, values: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
        """Local cost (N, R) of attempt frames values (N, F) against every reference moment."""
        a, c = _prepare(np.atleast_2d(values), None if confidence is None
                        else np.atleast_2d(confidence))
        cw = c * self._w
        num = (cw * a * a) @ self._inv - 2.0 * (cw * a) @ self._r_inv + cw @ self._r2_inv
        den = cw @ self._q
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 1e-9, np.maximum(num, 0.0) / den, MISSING_COST)
        return out


@dataclass(frozen=True)
class Alignment:
    """An attempt aligned with a reference.

    reference_index: (T,) int, the reference moment matched to each attempt frame
        (non-decreasing).
    cost: (T,) local cost of each matched pair (tolerance units squared).
    reference_length: R, the number of reference moments.
    path: (K, 2) int, the whole warping path as (attempt frame, reference moment) pairs, in
        order: every attempt frame and every reference moment it goes through appears (a
        fast stretch of the attempt passes several reference moments in one frame).
    """

    reference_index: np.ndarray
    cost: np.ndarray
    reference_length: int
    path: np.ndarray

    @property
    def mean_cost(self) -> float:
        """Mean local cost along the path."""
        return float(np.mean(self.cost))

    @property
    def coverage(self) -> float:
        """Fraction of the reference the attempt went through, in [0, 1]."""
        ri = self.reference_index
        return float(ri[-1] - ri[0] + 1) / self.reference_length


def _pair_costs(model: ReferenceModel, a: np.ndarray, ca: np.ndarray,
                index: np.ndarray) -> np.ndarray:
    """Local cost of each (attempt frame, matched reference moment) pair, (T,)."""
    ref = np.asarray(model.mean)[index]
    spread = np.asarray(model.spread)[index]
    with np.errstate(invalid="ignore", divide="ignore"):
        z2 = ((a - ref) / spread) ** 2
    z2 = np.where(spread > 0, z2, np.nan)
    cw = ca * model.weights * np.isfinite(z2)
    den = cw.sum(axis=1)
    num = np.nansum(cw * np.where(np.isfinite(z2), z2, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-9, num / den, MISSING_COST)


def _filled(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """(T, F) with unknown entries linearly interpolated in time (a column never known: 0)."""
    out = np.where(known, values, 0.0)
    t = np.arange(len(out))
    for f in range(out.shape[1]):
        ok = known[:, f]
        if ok.any() and not ok.all():
            out[~ok, f] = np.interp(t[~ok], t[ok], out[ok, f])
    return out


def _path_index(a: np.ndarray, ca: np.ndarray, reference: ReferenceModel,
                band: float | None, open_end: float) -> tuple[np.ndarray, np.ndarray]:
    """(T,) reference moment matched to each attempt frame by dtaidistance's DTW, and the
    path (K, 2)."""
    r_mean = np.asarray(reference.mean, dtype=np.float64)
    spread = np.asarray(reference.spread, dtype=np.float64)
    r_known = np.isfinite(r_mean) & np.isfinite(spread) & (spread > 0)
    a_known = ca >= MIN_CONFIDENCE
    with np.errstate(invalid="ignore"):
        tol = np.array([np.median(spread[r_known[:, f], f]) if r_known[:, f].any() else 1.0
                        for f in range(r_mean.shape[1])])
    used = a_known.any(axis=0) & r_known.any(axis=0) & (reference.weights > 0)
    scale = np.where(used, np.sqrt(np.where(used, reference.weights, 0.0)) / tol, 0.0)
    a_s = np.ascontiguousarray(_filled(a, a_known) * scale)
    r_s = np.ascontiguousarray(_filled(r_mean, r_known) * scale)
    t, r = len(a_s), len(r_s)
    window = None if band is None else int(np.ceil(band * max(t, r))) + 1
    psi_ref = min(r - 1, int(round(open_end * r)))
    penalty = OFFLINE_PENALTY * float(np.sum(scale > 0))
    # dtaidistance's C backtracking mis-handles psi ends, so the end is chosen here
    _, acc = dtw_ndim.warping_paths(a_s, r_s, window=window, psi=(0, 0, psi_ref, psi_ref),
                                    penalty=penalty, use_c=True, psi_neg=False,
                                    keep_int_repr=True)
    last = acc[t, r - psi_ref:]
    end = r - psi_ref + int(np.argmin(last))
    path = dtw.best_path(acc, row=t, col=end, penalty=penalty)
    pairs = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    index = np.full(t, -1, dtype=np.int64)
    np.maximum.at(index, pairs[:, 0], pairs[:, 1])
    index = np.maximum.accumulate(index)  # rows psi let the path skip keep the previous moment
    return np.maximum(index, 0), pairs


def align(values: np.ndarray, confidence: np.ndarray | None, reference: ReferenceModel,
          band: float | None = DEFAULT_BAND,
          open_end: float = DEFAULT_OPEN_END) -> Alignment:
    """DTW of attempt features values (T, F) (confidences (T, F) or None) with ``reference``.

    ``band``: Sakoe-Chiba window as a fraction of the longer sequence (None = no window);
    ``open_end``: share of the reference that may be skipped at its start and at its end.
    """
    a, ca = _prepare(values, confidence)
    if a.ndim != 2 or a.shape[1] != np.shape(reference.mean)[1]:
        raise ValueError(f"attempt features: expected (T, {np.shape(reference.mean)[1]}), "
                         f"got {a.shape}")
    if a.shape[0] == 0 or len(reference) == 0:
        raise ValueError("cannot align an empty sequence")
    t, r = a.shape[0], len(reference)
    step = max(1, int(np.ceil(t * r / MAX_CELLS)))
    if step == 1:
        index, path = _path_index(a, ca, reference, band, open_end)
    else:
        coarse = np.arange(0, t, step)
        coarse_index, coarse_path = _path_index(a[coarse], ca[coarse], reference, band,
                                                open_end)
        index = np.round(np.interp(np.arange(t), coarse, coarse_index)).astype(np.int64)
        path = np.stack([coarse[coarse_path[:, 0]], coarse_path[:, 1]], axis=1)
    return Alignment(index, _pair_costs(reference, a, ca, index), r, path)


class OnlineAligner:
    """Follows, frame by frame, where in the reference the person is now.

    The offline recursion with exponential forgetting: old costs fade with time constant
    ``memory_s`` seconds, so the estimate follows the person and recovers from a bad stretch.
    The person is assumed to start within the first ``open_begin`` fraction of the reference.
    With ``repeat``, a path may also go from the last ``open_begin`` of the reference back to
    its first (at ``WRAP_PENALTY``): a person doing the movement again is followed through
    every repetition, and ``repetitions`` counts the completed ones (a pass shorter than a
    third of the reference's frames is not counted). A slowly updated per-feature offset
    (``offset_memory_s``) between the person and the reference is taken out before matching,
    so that a constant difference (camera angle, a habitual lean) does not derail it.
    Cost per frame: O(R x F), independent of the session's length.
    """

    def __init__(self, reference: ReferenceModel, memory_s: float = 2.0,
                 open_begin: float = 0.1, repeat: bool = True,
                 offset_memory_s: float | None = 5.0) -> None:
        self.reference = reference
        self.memory_s = memory_s
        self.offset_memory_s = offset_memory_s
        self.open_begin = open_begin
        self.repeat = repeat
        self._penalty = np.asarray(STEP_PENALTY)
        self._edge = max(1, int(round(open_begin * len(reference))))
        self.reset()

    def reset(self) -> None:
        """Start again from the beginning of the reference."""
        self._acc = np.full(len(self.reference), np.inf)
        self._acc[: self._edge] = 0.0
        self._last_ms: float | None = None
        self.position: int | None = None
        self.repetitions = 0
        self._pass_frames = 0
        self.offset = np.zeros(np.shape(self.reference.mean)[1])

    @property
    def progress(self) -> float:
        """Where the person is in the reference, 0..1 (0 before the first frame)."""
        if self.position is None:
            return 0.0
        return self.position / max(1, len(self.reference) - 1)

    def update(self, values: np.ndarray, confidence: np.ndarray | None,
               timestamp_ms: float) -> tuple[int, float]:
        """Take one attempt frame (F,); returns (reference index now, local cost there)."""
        values = np.asarray(values, dtype=np.float64)
        cost = self.reference.cost(values - self.offset, confidence)[0]
        dt_s = 1.0 / 30.0 if self._last_ms is None else max(
            (timestamp_ms - self._last_ms) / 1000.0, 1e-3)
        self._last_ms = timestamp_ms
        decay = float(np.exp(-dt_s / self.memory_s))
        prev = self._acc
        best = prev + self._penalty[0]
        for k in range(1, MAX_STEP + 1):  # a step of k reference frames
            np.minimum(best[k:], prev[:-k] + self._penalty[k], out=best[k:])
        if self.repeat:
            wrap = float(np.min(prev[-self._edge:])) + WRAP_PENALTY
            np.minimum(best[: self._edge], wrap, out=best[: self._edge])
        self._acc = cost + decay * best
        j = int(np.argmin(self._acc))
        r = len(self.reference)
        self._pass_frames += 1
        if self.repeat and self.position is not None \
                and self.position >= r - self._edge - MAX_STEP \
                and j < self.position - r // 2 and self._pass_frames >= r // 3:
            self.repetitions += 1  # back from the end to the first half: a new pass
            self._pass_frames = 0
        self.position = j
        if self.offset_memory_s is not None:
            gap = values - np.asarray(self.reference.mean)[j] - self.offset
            rate = 1.0 - float(np.exp(-dt_s / self.offset_memory_s))
            self.offset = self.offset + rate * np.where(np.isfinite(gap), gap, 0.0)
        return j, float(cost[j])
