"""Time alignment of an attempt's features with a reference's, offline (DTW) and online.

People move at their own speed, so frames are compared over aligned time, never frame i with
frame i. Both aligners use the same local cost between an attempt frame ``a`` (F,) with
confidences ``c`` (F,) and a reference moment ``r`` (F,) with tolerances ``s`` (F,):

    cost = sum_f w_f c_f q_f ((a_f - r_f) / s_f)^2 / sum_f w_f c_f q_f

a confidence- and weight-averaged squared deviation in tolerance units (q_f = 1 where the
reference value is known, 0 where it is NaN). It is computed for whole blocks with four
matrix products, so the cost matrix costs little more than a BLAS call.

Offline (``align``): every attempt frame is matched to exactly one reference moment, and the
reference may advance 0 to ``MAX_STEP`` moments per attempt frame (the attempt may be up to
``MAX_STEP`` times faster than the reference, and any amount slower). All paths hold exactly
one cell per attempt frame, so their costs compare fairly and begin/end are open on the
reference axis: the attempt may start late or stop early in the movement, within a
Sakoe-Chiba band of ``band`` x reference length around the stretched diagonal. The dynamic
programme runs one numpy row at a time (T rows of vector work); only int8 back-pointers are
kept. ``bench/align_speed.py`` compares it with dtaidistance on 3,600 x 3,600 frames.

Online (``OnlineAligner``): the same recursion, one attempt frame at a time, over a vector of
the reference's length, with exponential forgetting of old costs (``memory_s``) so that it
follows the person and recovers from a bad stretch. Cost per frame is O(R x F) for a reference
of R moments, independent of how long the session has run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The reference may advance at most this many moments per attempt frame.
MAX_STEP = 3
#: Extra cost (tolerance units squared) for standing still or skipping on the reference, so
#: that the diagonal wins ties.
STEP_PENALTY = (0.02, 0.0, 0.02, 0.05)
#: Cost of a pair with no feature measurable in both.
MISSING_COST = 1.0
#: Default Sakoe-Chiba band, as a fraction of the reference length.
DEFAULT_BAND = 0.3
#: Rows of the cost matrix computed at once.
_BLOCK = 256


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
        # Right-hand factors of the separable cost, each (F, R).
        object.__setattr__(self, "_q", known.astype(np.float64).T.copy())
        object.__setattr__(self, "_inv", inv_s2.T.copy())
        object.__setattr__(self, "_r_inv", (r0 * inv_s2).T.copy())
        object.__setattr__(self, "_r2_inv", (r0 * r0 * inv_s2).T.copy())
        object.__setattr__(self, "_w", w)

    def __len__(self) -> int:
        return int(np.shape(self.mean)[0])

    def cost(self, values: np.ndarray, confidence: np.ndarray | None = None,
             columns: slice = slice(None)) -> np.ndarray:
        """Local cost (N, R') of attempt frames values (N, F) against reference ``columns``."""
        a, c = _prepare(np.atleast_2d(values), None if confidence is None
                        else np.atleast_2d(confidence))
        cw = c * self._w
        q, inv = self._q[:, columns], self._inv[:, columns]
        num = (cw * a * a) @ inv - 2.0 * (cw * a) @ self._r_inv[:, columns] \
            + cw @ self._r2_inv[:, columns]
        den = cw @ q
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
    """

    reference_index: np.ndarray
    cost: np.ndarray
    reference_length: int

    @property
    def mean_cost(self) -> float:
        """Mean local cost along the path."""
        return float(np.mean(self.cost))

    @property
    def coverage(self) -> float:
        """Fraction of the reference the attempt went through, in [0, 1]."""
        ri = self.reference_index
        return float(ri[-1] - ri[0] + 1) / self.reference_length


def _band_limits(t: int, r: int, band: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Per attempt row, allowed reference columns [lo, hi) of the band."""
    if band is None or t < 2:
        return np.zeros(t, dtype=np.int64), np.full(t, r, dtype=np.int64)
    centre = np.arange(t) * (r - 1) / (t - 1)
    radius = max(band * r, MAX_STEP + 1.0)
    lo = np.clip(np.floor(centre - radius), 0, r).astype(np.int64)
    hi = np.clip(np.ceil(centre + radius) + 1, 0, r).astype(np.int64)
    return lo, hi


def _dtw(model: ReferenceModel, a: np.ndarray, ca: np.ndarray,
         band: float | None) -> Alignment | None:
    t, r = a.shape[0], len(model)
    lo, hi = _band_limits(t, r, band)
    back = np.zeros((t, r), dtype=np.int8)
    penalty = np.asarray(STEP_PENALTY)
    prev = np.full(r, np.inf)
    for start in range(0, t, _BLOCK):
        stop = min(start + _BLOCK, t)
        c_lo, c_hi = int(lo[start:stop].min()), int(hi[start:stop].max())
        block = model.cost(a[start:stop], ca[start:stop], slice(c_lo, c_hi))
        for i in range(start, stop):
            row = np.full(r, np.inf)
            seg = block[i - start, lo[i] - c_lo:hi[i] - c_lo]
            if i == 0:
                row[lo[i]:hi[i]] = seg
                prev = row
                continue
            best = np.full(hi[i] - lo[i], np.inf)
            arg = np.zeros(hi[i] - lo[i], dtype=np.int8)
            for k in range(MAX_STEP + 1):
                a0 = lo[i] - k
                cand_lo = max(a0, 0)
                cand = np.full(hi[i] - lo[i], np.inf)
                cand[cand_lo - a0:] = prev[cand_lo:hi[i] - k] + penalty[k]
                better = cand < best
                best = np.where(better, cand, best)
                arg[better] = k
            row[lo[i]:hi[i]] = seg + best
            back[i, lo[i]:hi[i]] = arg
            prev = row
    if not np.isfinite(prev).any():
        return None
    j = int(np.argmin(prev))
    index = np.empty(t, dtype=np.int64)
    for i in range(t - 1, -1, -1):
        index[i] = j
        j -= int(back[i, j])
    return Alignment(index, _pair_costs(model, a, ca, index), r)


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


def align(values: np.ndarray, confidence: np.ndarray | None, reference: ReferenceModel,
          band: float | None = DEFAULT_BAND) -> Alignment:
    """DTW of attempt features values (T, F) (confidences (T, F) or None) with ``reference``.

    ``band``: Sakoe-Chiba radius as a fraction of the reference length (None = no band). When
    the band leaves no path (an attempt far faster than ``MAX_STEP`` x), it is dropped.
    """
    a, ca = _prepare(values, confidence)
    if a.ndim != 2 or a.shape[1] != np.shape(reference.mean)[1]:
        raise ValueError(f"attempt features: expected (T, {np.shape(reference.mean)[1]}), "
                         f"got {a.shape}")
    if a.shape[0] == 0 or len(reference) == 0:
        raise ValueError("cannot align an empty sequence")
    result = _dtw(reference, a, ca, band)
    if result is None and band is not None:
        result = _dtw(reference, a, ca, None)
    assert result is not None
    return result


class OnlineAligner:
    """Follows, frame by frame, where in the reference the person is now.

    The offline recursion with exponential forgetting: old costs fade with time constant
    ``memory_s`` seconds, so the estimate follows the person and recovers from a bad stretch.
    The person is assumed to start within the first ``open_begin`` fraction of the reference.
    Cost per frame: O(R x F), independent of the session's length.
    """

    def __init__(self, reference: ReferenceModel, memory_s: float = 2.0,
                 open_begin: float = 0.1) -> None:
        self.reference = reference
        self.memory_s = memory_s
        self.open_begin = open_begin
        self._penalty = np.asarray(STEP_PENALTY)
        self.reset()

    def reset(self) -> None:
        """Start again from the beginning of the reference."""
        r = len(self.reference)
        self._acc = np.full(r, np.inf)
        self._acc[: max(1, int(round(self.open_begin * r)))] = 0.0
        self._last_ms: float | None = None
        self.position: int | None = None

    @property
    def progress(self) -> float:
        """Where the person is in the reference, 0..1 (0 before the first frame)."""
        if self.position is None:
            return 0.0
        return self.position / max(1, len(self.reference) - 1)

    def update(self, values: np.ndarray, confidence: np.ndarray | None,
               timestamp_ms: float) -> tuple[int, float]:
        """Take one attempt frame (F,); returns (reference index now, local cost there)."""
        cost = self.reference.cost(values, confidence)[0]
        dt_s = 1.0 / 30.0 if self._last_ms is None else max(
            (timestamp_ms - self._last_ms) / 1000.0, 1e-3)
        self._last_ms = timestamp_ms
        decay = float(np.exp(-dt_s / self.memory_s))
        prev = self._acc
        best = prev + self._penalty[0]
        for k in range(1, MAX_STEP + 1):
            cand = np.full_like(prev, np.inf)
            cand[k:] = prev[:-k] + self._penalty[k]
            np.minimum(best, cand, out=best)
        self._acc = cost + decay * best
        j = int(np.argmin(self._acc))
        self.position = j
        return j, float(cost[j])
