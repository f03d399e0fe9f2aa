"""The attempt's pace against the reference's: the tempo ratio (``tempo_ratio``: reference
time per attempt second over the middle half of the path, 2.0 = twice as fast as the
reference, ignoring the ambiguous ends), what it costs in the overall score (``tempo_factor``:
rushing costs more than going slowly, as the exercises are slow and gentle) and its words in a
report (``tempo_words``).
"""

from __future__ import annotations

import numpy as np

from coach.params import DEFAULT_PARAMS, ScoringParams


def tempo_factor(ratio: float, params: ScoringParams = DEFAULT_PARAMS) -> float:
    """Multiplier in (0, 1] for a tempo ratio (attempt speed / reference speed)."""
    low, high = params.tempo_same
    if not np.isfinite(ratio) or ratio <= 0:
        return 1.0
    if ratio > high:
        return float(np.exp(-params.tempo_penalty_fast * np.log2(ratio / high) ** 2))
    if ratio < low:
        return float(np.exp(-params.tempo_penalty_slow * np.log2(low / ratio) ** 2))
    return 1.0


def tempo_words(ratio: float, params: ScoringParams = DEFAULT_PARAMS) -> str:
    """The tempo ratio in words."""
    if not np.isfinite(ratio):
        return "unknown"
    if params.tempo_same[0] <= ratio <= params.tempo_same[1]:
        return f"about the reference's pace ({ratio:.2f}x)"
    if ratio > params.tempo_same[1]:
        return f"faster than the reference ({ratio:.2f}x its speed)"
    return f"slower than the reference ({ratio:.2f}x its speed)"


def tempo_ratio(attempt_ms: np.ndarray, matched_ref_ms: np.ndarray) -> float:
    """Reference time per attempt time over the middle half of the path (NaN if unknown)."""
    n = len(attempt_ms)
    lo, hi = n // 4, max(n // 4 + 1, (3 * n) // 4)
    hi = min(hi, n - 1)
    span = (attempt_ms[hi] - attempt_ms[lo]) / 1000.0
    if span <= 0:
        return float("nan")
    return float((matched_ref_ms[hi] - matched_ref_ms[lo]) / 1000.0 / span)
