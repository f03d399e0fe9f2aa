"""Numbers for reports: missing values (None, NaN, infinite) become None, never 0."""

from __future__ import annotations

import math


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    """``value`` rounded to ``digits`` decimals for JSON, or None when it is missing."""
    number = finite_or_none(value)
    return None if number is None else round(number, digits)
