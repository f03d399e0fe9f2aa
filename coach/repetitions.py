"""Repetitions: a recording of several (the movement done again from the start) is cut into
passes by following it with the online aligner (``repetition_starts``), each pass is scored on
its own (``coach.scoring``) and the reports are combined (``combine_reports``): one pass of the
reference cannot be aligned with several. A pass is a repetition of its own only when it got
far enough through the reference and lasted long enough to hold it (``kept_starts``,
``require_duration``).
"""

from __future__ import annotations

import numpy as np

from coach.align import OnlineAligner, ReferenceModel
from coach.cues import REGION_PRIORITY, cue
from coach.errors import NotEnoughPoseError
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.report import Moment, Report, read_only
from coach.template import Template
from coach.tempo import tempo_words


def shortest_duration_s(template: Template, params: ScoringParams) -> float:
    """Seconds of movement needed to hold the reference even at ``params.max_tempo`` times
    its pace."""
    return template.duration_s / params.max_tempo


def require_duration(seen_s: float, template: Template, label: str,
                     params: ScoringParams) -> None:
    """Refuse (``NotEnoughPoseError``) ``seen_s`` seconds of movement as too short to hold the
    reference (``shortest_duration_s``)."""
    shortest_s = shortest_duration_s(template, params)
    if seen_s < shortest_s:
        raise NotEnoughPoseError(f"{label}: {seen_s:.1f} s of movement is too short to hold "
                                 f"'{template.name}' ({template.duration_s:.1f} s; at least "
                                 f"{shortest_s:.1f} s needed), not scored")


def repetition_starts(values: np.ndarray, conf: np.ndarray, ts: np.ndarray,
                      template: Template, params: ScoringParams = DEFAULT_PARAMS) -> list[int]:
    """Frames (indices into values (T, F)) where the attempt starts the movement again, found
    by following it with the online aligner (``coach.align.OnlineAligner``); [] for one pass.

    A pass that gets less than ``params.min_repetition_share`` of the way through the
    reference (a last fragment, a stumble) is not a repetition of its own: it stays with the
    pass before it.
    """
    n = params.min_frames
    if len(ts) < 2 * n:
        return []
    online = OnlineAligner(ReferenceModel(template.mean, template.spread, template.weights))
    starts: list[int] = []
    reached: list[float] = []  # how far each pass got, the first pass included
    furthest = 0.0
    for i in range(len(ts)):
        done = online.repetitions
        online.update(values[i], conf[i], ts[i])
        if online.repetitions > done and n <= i <= len(ts) - n:
            starts.append(i)
            reached.append(furthest)
            furthest = 0.0
        furthest = max(furthest, online.progress)
    reached.append(furthest)
    return kept_starts(starts, reached, ts, template, params)


def kept_starts(starts: list[int], reached: list[float], ts: np.ndarray, template: Template,
                params: ScoringParams) -> list[int]:
    """The starts of new passes (frame indices into ``ts`` (T,), ms) that begin a repetition
    of their own: the pass before and the new one each got at least
    ``params.min_repetition_share`` of the way through the reference (``reached``: one per
    pass) and each lasted long enough to hold it (``shortest_duration_s``). A stumble, a last
    fragment or a jump of the aligner stays with the pass before it."""
    edges = [0, *starts, len(ts)]
    shortest_ms = 1000.0 * shortest_duration_s(template, params)

    def whole(k: int) -> bool:
        last = ts[edges[k + 1] - 1]
        return reached[k] >= params.min_repetition_share and \
            last - ts[edges[k]] >= shortest_ms

    return [s for k, s in enumerate(starts) if whole(k) and whole(k + 1)]


def _cue_group(key: tuple[str, str]) -> int:
    """Order of cue groups in a combined report: spine, tempo, other regions, coverage."""
    region = cue(key[0], key[1], 0.0).region
    if key[0] == "coverage":
        return 99
    if region == "tempo":
        return 1
    return 0 if region == "spine" else 2 + REGION_PRIORITY.index(region)


def _nan_if_none(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def combine_reports(reports: list[Report],
                    params: ScoringParams = DEFAULT_PARAMS) -> Report:
    """One report for several repetitions of a movement, each scored against the same
    reference: means weighted by frames scored, timelines joined, cues ordered as in a single
    report (spine first) and, within a group, by how many repetitions needed them."""
    if not reports:
        raise ValueError("combine_reports: no reports")
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    n = np.array([r.frames_used for r in reports], dtype=np.float64)

    def mean(values: list[float | None]) -> float | None:
        pairs = [(v, w) for v, w in zip(values, n, strict=True) if v is not None
                 and np.isfinite(v)]
        return sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else None

    regions = {k: mean([r.regions.get(k) for r in reports]) for k in first.regions}
    features = {k: mean([r.features.get(k) for r in reports]) for k in first.features}
    seen: dict[tuple[str, str], list] = {}
    for r in reports:
        for rank, (key, text) in enumerate(zip(r.cue_keys, r.cues, strict=True)):
            entry = seen.setdefault(key, [0, text, rank])
            entry[0] += 1
            entry[2] = min(entry[2], rank)
    order = sorted(seen, key=lambda k: (_cue_group(k), -seen[k][0], seen[k][2]))
    order = order[:params.max_cues]
    moments: list[Moment] = []
    for m in sorted((m for r in reports for m in r.worst_moments), key=lambda m: m.score):
        if len(moments) < params.worst_count and all(abs(m.timestamp_ms - o.timestamp_ms)
                                                     >= params.worst_gap_ms for o in moments):
            moments.append(m)
    ratio = _nan_if_none(mean([r.tempo_ratio for r in reports]))
    return Report(
        kind="flowing", reference_name=first.reference_name,
        reference_version=first.reference_version,
        overall=_nan_if_none(mean([r.overall for r in reports])),
        form=_nan_if_none(mean([r.form for r in reports])),
        coverage_factor=_nan_if_none(mean([r.coverage_factor for r in reports])),
        tempo_factor=_nan_if_none(mean([r.tempo_factor for r in reports])),
        regions=regions, features=features,
        timeline_ms=read_only(np.concatenate([r.timeline_ms for r in reports])),
        timeline_score=read_only(np.concatenate([r.timeline_score for r in reports])),
        reference_index=read_only(np.concatenate([r.reference_index for r in reports
                                                  if r.reference_index is not None]), np.int64),
        worst_moments=tuple(moments), tempo_ratio=ratio, tempo_text=tempo_words(ratio, params),
        reference_covered=float(mean([r.reference_covered for r in reports]) or 0.0),
        cues=tuple(seen[k][1] for k in order), cue_keys=tuple(order), plane=first.plane,
        frames_used=int(n.sum()), frames_dropped=sum(r.frames_dropped for r in reports),
        mirrored=first.mirrored, source=first.source,
        repetitions=sum(r.repetitions for r in reports))
