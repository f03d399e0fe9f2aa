"""Corrective cues: one table of texts, the choice of cues from deviations, and live scheduling.

A deviation is ``(attempt - reference) / tolerance`` per feature (see ``coach.features`` for
each feature's sign): 1 means at the edge of the tolerance. ``CUE_TEXTS`` maps a feature and
the sign of its deviation to a short instruction naming a body part and a direction. Left and
right are always the person's own (the pose model's labels), also when the display is
mirrored or the person follows the reference as in a mirror.

Order: most severe first (|deviation| x feature weight), with the spine first while its cue is
nearly as severe as the top one (``order_cues``).

``CueScheduler`` (live) shows one cue at a time: a cue appears after its deviation stays above
``on_threshold`` for ``confirm_ms``, stays at least ``min_display_ms``, and goes only when its
deviation has stayed below ``off_threshold`` for ``release_ms`` (hysteresis) or, once the
minimum time is over, when a spine cue pre-empts a cue of another region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coach.features import SPECS
from coach.params import DEFAULT_PARAMS

#: (feature or topic, sign of the deviation) -> text. "+" = the attempt's value is larger.
CUE_TEXTS: dict[tuple[str, str], str] = {
    ("trunk_flexion_deg", "+"): "Lengthen your spine, you are bending forward",
    ("trunk_flexion_deg", "-"): "Bring your chest forward a little, you are leaning back",
    ("lateral_bend_deg", "+"): "Straighten your trunk, you are leaning to your left",
    ("lateral_bend_deg", "-"): "Straighten your trunk, you are leaning to your right",
    ("axial_twist_deg", "+"): "Turn your chest further to the right",
    ("axial_twist_deg", "-"): "Turn your chest further to the left",
    ("spine_curve_deg", "+"): "Lengthen your spine, your upper back is rounding",
    ("spine_curve_deg", "-"): "Let your spine soften and follow the movement",
    ("neck_flexion_deg", "+"): "Draw your chin back, your head is pushed forward",
    ("neck_flexion_deg", "-"): "Let your head come forward, in line with your spine",
    ("neck_lateral_deg", "+"): "Bring your head upright, it tilts to your left",
    ("neck_lateral_deg", "-"): "Bring your head upright, it tilts to your right",
    ("shoulder_level_deg", "+"): "Level your shoulders: your left is high",
    ("shoulder_level_deg", "-"): "Level your shoulders: your left is low",
    ("shoulder_shrug_deg", "+"): "Let your shoulders drop, away from your ears",
    ("shoulder_shrug_deg", "-"): "Let your shoulders rise as the instructor's do",
    ("hip_level_deg", "+"): "Level your hips: your left hip is high",
    ("hip_level_deg", "-"): "Level your hips: your left hip is low",
    ("left_shoulder_deg", "+"): "Lower your left arm",
    ("left_shoulder_deg", "-"): "Raise your left arm higher",
    ("right_shoulder_deg", "+"): "Lower your right arm",
    ("right_shoulder_deg", "-"): "Raise your right arm higher",
    ("left_hip_deg", "+"): "Fold a little more at your left hip",
    ("left_hip_deg", "-"): "Open your left hip, stand taller",
    ("right_hip_deg", "+"): "Fold a little more at your right hip",
    ("right_hip_deg", "-"): "Open your right hip, stand taller",
    ("left_elbow_deg", "+"): "Bend your left elbow more",
    ("left_elbow_deg", "-"): "Straighten your left arm",
    ("right_elbow_deg", "+"): "Bend your right elbow more",
    ("right_elbow_deg", "-"): "Straighten your right arm",
    ("left_knee_deg", "+"): "Bend your left knee more",
    ("left_knee_deg", "-"): "Straighten your left knee",
    ("right_knee_deg", "+"): "Bend your right knee more",
    ("right_knee_deg", "-"): "Straighten your right knee",
    ("tempo", "+"): "Slow down",
    ("tempo", "-"): "You can move a little faster",
    ("coverage", "-"): "Carry the movement through to the end",
}

#: Region order for choosing the first cue: spine first. Shoulders come before the neck: a
#: raised shoulder also shortens the neck line (mid-shoulder to ears), so it reads as a
#: forward head too, while a forward head leaves the shoulder level alone.
REGION_PRIORITY: tuple[str, ...] = ("spine", "shoulders", "neck", "hips", "legs", "arms")



@dataclass(frozen=True)
class Cue:
    """One instruction.

    key: (feature or topic, "+"/"-"), the ``CUE_TEXTS`` key.
    region: body region ("tempo" for tempo and coverage cues).
    severity: |deviation| in tolerance units, times min(1, feature weight).
    """

    key: tuple[str, str]
    text: str
    region: str
    severity: float

    @property
    def feature(self) -> str:
        """The feature (or topic) this cue is about."""
        return self.key[0]


def cue(feature: str, sign: str, severity: float) -> Cue:
    """The cue for ``feature`` deviating in direction ``sign`` ("+" or "-")."""
    text = CUE_TEXTS[(feature, sign)]
    region = SPECS[feature].region if feature in SPECS else "tempo"
    return Cue((feature, sign), text, region, float(severity))


def order_cues(cues: Sequence[Cue], spine_preference: float) -> list[Cue]:
    """Cues most severe first (severity: how far out, in tolerances, already scaled down for
    features weighing less than 1); the most severe spine cue comes first while it is at least
    ``spine_preference`` times as severe as the top cue (the spine matters most with back
    pain, but a far larger fault elsewhere must not wait behind a small one of the spine).
    Tempo and coverage cues go after the body's."""
    body = sorted((c for c in cues if c.region in REGION_PRIORITY),
                  key=lambda c: (-c.severity, REGION_PRIORITY.index(c.region)))
    rest = [c for c in cues if c.region not in REGION_PRIORITY]
    spine = [c for c in body if c.region == "spine"]
    if body and spine and spine[0] is not body[0] \
            and spine[0].severity >= spine_preference * body[0].severity:
        body.remove(spine[0])
        body.insert(0, spine[0])
    return body + rest


def cues_for_deviation(names: Sequence[str], deviation: np.ndarray,
                       weights: np.ndarray | Mapping[str, float] | None = None,
                       threshold: float = DEFAULT_PARAMS.cue_threshold,
                       spine_preference: float = DEFAULT_PARAMS.spine_preference
                       ) -> list[Cue]:
    """Cues for signed deviations (F,) in tolerance units, ordered by ``order_cues``.

    NaN deviations give no cue. ``weights`` (F,) or by name (default: the catalogue's). A
    feature weighing less than 1 (axial twist, elbows: they differ between camera angles)
    needs a proportionally larger deviation: severity = |deviation| x min(1, weight).
    """
    dev = np.asarray(deviation, dtype=np.float64)
    if dev.shape != (len(names),):
        raise ValueError(f"deviation: expected shape ({len(names)},), got {dev.shape}")
    if weights is None:
        w = [SPECS[n].weight for n in names]
    elif isinstance(weights, Mapping):
        w = [float(weights.get(n, SPECS[n].weight)) for n in names]
    else:
        w = list(np.asarray(weights, dtype=np.float64))
    found = []
    for name, d, wf in zip(names, dev, w, strict=True):
        severity = abs(d) * min(1.0, wf)
        if np.isfinite(d) and severity >= threshold and wf > 0:
            found.append(cue(name, "+" if d > 0 else "-", severity))
    return order_cues(found, spine_preference)


class CueScheduler:
    """Live cue choice: one cue at a time, spine first, with hysteresis and a minimum display.

    ``update(cues, timestamp_ms)`` takes the frame's candidate cues (ordered as by
    ``cues_for_deviation``, severities in tolerance units) and returns the cue to show or None.
    """

    def __init__(self, on_threshold: float = 1.5, off_threshold: float = 1.0,
                 min_display_ms: float = 2500.0, confirm_ms: float = 400.0,
                 release_ms: float = 600.0) -> None:
        if off_threshold > on_threshold:
            raise ValueError("off_threshold must not exceed on_threshold")
        self.on_threshold = on_threshold
        self.off_threshold = off_threshold
        self.min_display_ms = min_display_ms
        self.confirm_ms = confirm_ms
        self.release_ms = release_ms
        self.reset()

    def reset(self) -> None:
        """No cue shown, nothing pending."""
        self.current: Cue | None = None
        self._shown_ms = 0.0
        self._seen_ms = 0.0
        self._pending: tuple[str, str] | None = None
        self._pending_ms = 0.0

    def update(self, cues: Sequence[Cue], timestamp_ms: float) -> Cue | None:
        """The cue to show at ``timestamp_ms``."""
        severity = {c.key: c.severity for c in cues}
        strong = [c for c in cues if c.severity >= self.on_threshold]
        if self.current is not None:
            if severity.get(self.current.key, 0.0) >= self.off_threshold:
                self._seen_ms = timestamp_ms
                self.current = next(c for c in cues if c.key == self.current.key)
            if timestamp_ms - self._shown_ms < self.min_display_ms:
                return self.current
            spine_waiting = self.current.region != "spine" and any(
                c.region == "spine" for c in strong)
            if timestamp_ms - self._seen_ms < self.release_ms and not spine_waiting:
                return self.current
            self.current = None
        best = strong[0] if strong else None
        if best is None:
            self._pending = None
            return None
        if self._pending != best.key:
            self._pending, self._pending_ms = best.key, timestamp_ms
        if timestamp_ms - self._pending_ms >= self.confirm_ms:
            self.current, self._pending = best, None
            self._shown_ms = self._seen_ms = timestamp_ms
        return self.current
