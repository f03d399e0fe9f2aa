"""One report for every exercise, flowing or held, and its one way to JSON and to text.

The batch's CSV row and HTML page are made from ``Report.to_dict()`` (``coach.batch``).

How the overall is made from the timeline (the same for ``coach score``, a live session's
report and the batch)::

    form    = mean of the timeline (one score 0-100 per scored frame)
    overall = form x coverage_factor x tempo_factor

``coverage_factor`` is ``min(1, reference_covered / coverage_full)`` and ``tempo_factor`` the
cost of a clearly rushed or dragging pace (``coach.tempo.tempo_factor``); both are 1 for a
held posture. A recording of several repetitions is scored one repetition at a time and the
overall is the mean of the repetitions' overalls weighted by their frames, so with factors of
1 it is the mean of the whole timeline. A live session's report is made from the frame scores
its dial showed (the needle trails them a little: ``coach.live.coaching.needle_mean``), so
the overall is what the dial read on average.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from coach.numbers import rounded


@dataclass(frozen=True)
class Moment:
    """One of the worst moments: when (ms), which region, what was wrong, the score there."""

    timestamp_ms: float
    region: str
    what: str
    score: float


@dataclass(frozen=True)
class TargetResult:
    """How one target feature of a held posture went: values in the feature's unit."""

    name: str
    region: str
    target: float
    tolerance: float
    median: float
    in_zone_fraction: float
    score: float


@dataclass(frozen=True)
class HeldSection:
    """What only a held posture has: time in the target zone, steadiness, the targets.

    in_zone: (N,) bool per timeline frame. steadiness: 0-100 (None with too few frames in
    the zone). unmeasured: targets that cannot be measured from these landmarks.
    """

    time_in_zone_s: float
    longest_hold_s: float
    target_hold_s: float
    steadiness: float | None
    targets: tuple[TargetResult, ...]
    in_zone: np.ndarray
    unmeasured: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_in_zone_s": rounded(self.time_in_zone_s, 2),
            "longest_hold_s": rounded(self.longest_hold_s, 2),
            "target_hold_s": rounded(self.target_hold_s, 2),
            "steadiness": rounded(self.steadiness),
            "targets": [{"feature": t.name, "region": t.region, "target": t.target,
                         "tolerance": t.tolerance, "median": rounded(t.median),
                         "in_zone_fraction": rounded(t.in_zone_fraction, 3),
                         "score": rounded(t.score)} for t in self.targets],
            "not_measurable": list(self.unmeasured),
        }


def _whole(value: float | None) -> str:
    """A score as a whole number, from the same 0.1 rounding as the JSON ("-" when missing),
    so the text and the JSON never disagree by a rounding."""
    number = rounded(value)
    return "-" if number is None else f"{number:.0f}"


def read_only(arr: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A read-only copy of ``arr`` as ``dtype``."""
    copy: np.ndarray = np.array(arr, dtype=dtype, copy=True)
    copy.setflags(write=False)
    return copy


@dataclass(frozen=True)
class Report:
    """How an attempt compares with an exercise (see the module docstring for the overall).

    kind: "flowing" (compared with a recorded reference) or "held" (with target angles).
    overall, form: 0-100. regions / features: name -> 0-100, or None when not measurable.
    timeline_ms: (N,) times of the scored frames; timeline_score: (N,) 0-100 (NaN where a
    frame had nothing measurable). reference_index: (N,) the matched reference moment of each
    scored frame (a flowing movement; None for a held posture).
    worst_moments: the lowest-scoring moments, worst first.
    tempo_ratio: reference time covered per attempt second (> 1 = faster; NaN when held);
    tempo_text: the same in words. reference_covered: fraction of the reference gone through
    (NaN when held).
    cues: ordered instructions; cue_keys: their ``coach.cues.CUE_TEXTS`` keys.
    plane: "world" or "image". frames_used / frames_dropped: frames scored / frames with no
    person or not usable (mirrored, nothing measurable).
    mirrored: compared with the reference's mirror image (the other side).
    repetitions: passes through the reference scored (1 for a held posture).
    held: the held posture's own section, None for a flowing movement.
    """

    kind: Literal["flowing", "held"]
    reference_name: str
    reference_version: str | None
    overall: float
    form: float
    coverage_factor: float
    tempo_factor: float
    regions: Mapping[str, float | None]
    features: Mapping[str, float | None]
    timeline_ms: np.ndarray
    timeline_score: np.ndarray
    reference_index: np.ndarray | None
    worst_moments: tuple[Moment, ...]
    tempo_ratio: float
    tempo_text: str
    reference_covered: float
    cues: tuple[str, ...]
    cue_keys: tuple[tuple[str, str], ...]
    plane: str
    frames_used: int
    frames_dropped: int
    mirrored: bool
    source: str = ""
    repetitions: int = 1
    held: HeldSection | None = None

    def __post_init__(self) -> None:
        for name in ("regions", "features"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    @property
    def timeline_mean(self) -> float:
        """The mean of the timeline's frame scores (NaN when none is known)."""
        known = self.timeline_score[np.isfinite(self.timeline_score)]
        return float(known.mean()) if len(known) else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (floats rounded to 0.1; missing values None)."""
        timeline: dict[str, Any] = {"timestamp_ms": [rounded(t) for t in self.timeline_ms],
                                    "score": [rounded(s) for s in self.timeline_score]}
        if self.reference_index is not None:
            timeline["reference_index"] = [int(i) for i in self.reference_index]
        if self.held is not None:
            timeline["in_zone"] = [bool(z) for z in self.held.in_zone]
        out = {
            "kind": self.kind,
            "source": self.source,
            "reference": {"name": self.reference_name, "version": self.reference_version},
            "overall": rounded(self.overall),
            "form": rounded(self.form),
            "factors": {"coverage": rounded(self.coverage_factor, 3),
                        "tempo": rounded(self.tempo_factor, 3)},
            "regions": {k: rounded(v) for k, v in self.regions.items()},
            "features": {k: rounded(v) for k, v in self.features.items()},
            "tempo": {"ratio": rounded(self.tempo_ratio, 2), "text": self.tempo_text},
            "reference_covered": rounded(self.reference_covered, 3),
            "cues": list(self.cues),
            "cue_keys": [list(k) for k in self.cue_keys],
            "worst_moments": [{"timestamp_ms": rounded(m.timestamp_ms), "region": m.region,
                               "what": m.what, "score": rounded(m.score)}
                              for m in self.worst_moments],
            "timeline": timeline,
            "plane": self.plane,
            "mirrored": self.mirrored,
            "repetitions": self.repetitions,
            "frames_used": self.frames_used,
            "frames_dropped": self.frames_dropped,
        }
        if self.held is not None:
            out["held"] = self.held.to_dict()
        return out

    def summary_text(self) -> str:
        """A few lines for the terminal and the ``.txt`` summary."""
        what = " (held posture)" if self.held is not None else (
            f" over {self.repetitions} repetitions" if self.repetitions > 1 else "")
        lines = [f"Score {_whole(self.overall)}/100 against '{self.reference_name}'"
                 + (" (mirrored)" if self.mirrored else "") + what,
                 "  " + "  ".join(f"{r} {_whole(v)}" for r, v in self.regions.items())]
        if self.held is not None:
            held = self.held
            lines.append(f"  Held in the zone {held.time_in_zone_s:.1f} s in all, longest "
                         f"{held.longest_hold_s:.1f} s of {held.target_hold_s:.0f} s asked; "
                         "steadiness " + ("n/a" if held.steadiness is None
                                          else f"{_whole(held.steadiness)}/100"))
            if held.unmeasured:
                lines.append("  Not measurable from these landmarks: "
                             + ", ".join(held.unmeasured))
        else:
            lines.append(f"  Tempo: {self.tempo_text}; reference covered "
                         f"{self.reference_covered:.0%}")
            if self.coverage_factor < 1.0 or self.tempo_factor < 1.0:
                lines.append(f"  Form {_whole(self.form)} x coverage {self.coverage_factor:.2f} "
                             f"x tempo {self.tempo_factor:.2f}")
        if self.cues:
            lines.append("  Cues:")
            lines += [f"    {i + 1}. {c}" for i, c in enumerate(self.cues)]
        for m in self.worst_moments:
            lines.append(f"  At {m.timestamp_ms / 1000:.1f} s ({m.region}, {_whole(m.score)}): "
                         f"{m.what}")
        plane = ("world landmarks (3D)" if self.plane == "world"
                 else "image plane only (no 3D landmarks: sagittal and twist not compared)")
        lines.append(f"  Compared on {plane}; {self.frames_used} frames scored, "
                     f"{self.frames_dropped} dropped")
        return "\n".join(lines)
