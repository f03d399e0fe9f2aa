"""How well the scorer judges people it has never seen: UI-PRMD, leave one subject out.

Protocol (fixed before looking at results):
- ``../shared/data/uiprmd``: subjects s01-s06, ten movements, each done ten times correctly
  and ten times incorrectly by each person (Kinect skeletons, imported by
  ``coach.skeletons``).
- Each subject in turn is the instructor: their ten correct repetitions are the takes of an
  exercise written to a temporary library folder (``exercise.toml`` with ``either_side =
  true``, takes as landmark recordings), and the reference is built the library's normal way
  (``Exercise.template``). Some people work with the left arm or leg and others with the
  right: ``either_side`` makes the scorer compare with the reference and its mirror image and
  keep the better, as it does for any one-sided exercise.
- The attempts are the OTHER five subjects' correct and incorrect repetitions, each scored by
  the exercise's scorer (``Exercise.scorer().score``). The instructor's own repetitions are never
  attempts.
- Per movement and pooled (every attempt's score ranked together: what one score threshold
  means to a user): ROC AUC (correct above incorrect), median score of correct and of incorrect
  attempts, the share of correct attempts given any cue (false cues), the share of incorrect
  attempts given a cue about the body ("bad cued"), and how often that first cue names the
  body region that differs most. That region is found
  without the scorer: the incorrect repetition against the same person's own correct
  repetitions (DTW-aligned), per feature in units of that person's between-repetition spread,
  the region of the largest difference (the goal's "1st cue"). Beside it, two looser readings
  of the same truth, not goals: the first cue names one of the two regions that differ most
  ("top 2"), or a region that truly changed, by at least ``CHANGED_Z`` of the person's spreads
  ("changed"). Several regions often change together in an incorrect repetition, and which
  one changes most depends on the spread's floor (``TRUTH_SPREAD_FLOOR``).
- Beside it, in the same run, a plain baseline: eight joint angles (trunk flexion, lateral bend,
  both shoulders, both hips, both knees: ``BASELINE_FEATURES``), z-scored by the takes, the mean
  multi-dimensional DTW distance to the takes (either side: the better of plain and mirrored).
- Camera-angle rows: the pose2sim lunge filmed by four cameras, ``cam01`` as the reference and
  the other three views as attempts (score and number of cues); same person, other
  repetition: the squat clip cut into its repetitions, the first as the reference.

Usage: .venv/bin/python bench/quality.py [--movements m01,m07] [--workers 2] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from camera_views import other_views_rows
from dtaidistance import dtw_ndim

from coach.features import SPECS, mirror_indices
from coach.landmarks import REGIONS
from coach.library.meta import ExerciseMeta, meta_to_toml
from coach.library.multitake import fill_gaps
from coach.library.store import Exercise, load_exercise
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.recording import save_recording
from coach.skeletons import load_uiprmd
from coach.template import prepare_sequence

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
UIPRMD = DATA / "uiprmd"
MOVEMENTS = {
    "m01": "deep squat", "m02": "hurdle step", "m03": "inline lunge", "m04": "side lunge",
    "m05": "sit to stand", "m06": "standing active straight leg raise",
    "m07": "standing shoulder abduction", "m08": "standing shoulder extension",
    "m09": "standing shoulder internal-external rotation", "m10": "standing shoulder scaption",
}
SUBJECTS = ("s01", "s02", "s03", "s04", "s05", "s06")
REPS = range(1, 11)
BASELINE_FEATURES = ("trunk_flexion_deg", "lateral_bend_deg", "left_shoulder_deg",
                     "right_shoulder_deg", "left_hip_deg", "right_hip_deg", "left_knee_deg",
                     "right_knee_deg")
#: Floor of a person's between-repetition spread when finding the region that differs (deg).
TRUTH_SPREAD_FLOOR = 3.0
#: A region "truly changed" in an incorrect repetition when it differs from the person's own
#: correct ones by at least this many of their between-repetition spreads.
CHANGED_Z = 2.0


def uiprmd_path(movement: str, subject: str, rep: int, correct: bool) -> Path:
    folder = "correct" if correct else "incorrect"
    suffix = "" if correct else "_inc"
    return (UIPRMD / folder / "kinect" / "positions"
            / f"{movement}_{subject}_e{rep:02d}_positions{suffix}.txt.gz")


def load_movement(movement: str) -> dict[tuple[str, bool], list[PoseSequence]]:
    """(subject, correct) -> the ten repetitions."""
    return {(s, ok): [load_uiprmd(uiprmd_path(movement, s, r, ok)) for r in REPS]
            for s in SUBJECTS for ok in (True, False)}


def features_of(seq: PoseSequence) -> tuple[tuple[str, ...], np.ndarray]:
    """Feature names and (T, F) values of a sequence as the scorer prepares it."""
    _, track = prepare_sequence(seq)
    return track.names, track.values


def _filled(values: np.ndarray) -> np.ndarray:
    """NaN runs interpolated (``coach.library.multitake.fill_gaps``), never-seen columns 0."""
    return np.nan_to_num(fill_gaps(values))


def _column_mean(values: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """Mean over axis 0 ignoring NaN; NaN, without a warning, for a feature never measured
    (Kinect skeletons have no ears: the neck features)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmean(values, axis=0)


def _aligned_diff(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(F,) mean |a - b| along the DTW path between (Ta, F) and (Tb, F) (scaled for the path)."""
    path = np.array(dtw_ndim.warping_path(np.ascontiguousarray(_filled(a) / scale),
                                          np.ascontiguousarray(_filled(b) / scale),
                                          use_c=True))
    return _column_mean(np.abs(a[path[:, 0]] - b[path[:, 1]]))


def region_differences(names: tuple[str, ...], wrong: np.ndarray,
                       own_correct: list[np.ndarray]) -> dict[str, float]:
    """Region -> how much its features differ (the largest) between an incorrect repetition
    and the same person's correct ones, in units of that person's between-repetition spread;
    -inf for a region with no measurable feature."""
    scale = np.full(len(names), 10.0)  # degrees, only to steer the alignment
    diffs = _column_mean([_aligned_diff(wrong, c, scale) for c in own_correct])
    between = []
    for i, c in enumerate(own_correct):
        for d in own_correct[i + 1:i + 3]:
            between.append(_aligned_diff(c, d, scale))
    spread = np.maximum(_column_mean(between), TRUTH_SPREAD_FLOOR)
    z = diffs / spread
    return {r: max((float(z[f]) for f, n in enumerate(names) if SPECS[n].region == r
                    and np.isfinite(z[f])), default=-np.inf) for r in REGIONS}


def baseline_distance(attempt: np.ndarray, takes: list[np.ndarray], cols: list[int],
                      mirror_cols: list[int], mirror_sign: np.ndarray) -> float:
    """Mean DTW distance of the attempt (T, F) to the takes on z-scored baseline angles, the
    better of plain and mirrored."""
    stack = np.concatenate([t[:, cols] for t in takes])
    mu, sd = np.nanmean(stack, axis=0), np.maximum(np.nanstd(stack, axis=0), 1.0)
    ref = [np.ascontiguousarray(_filled((t[:, cols] - mu) / sd)) for t in takes]
    best = np.inf
    for use, sign in ((cols, 1.0), (mirror_cols, mirror_sign)):
        a = np.ascontiguousarray(_filled((attempt[:, use] * sign - mu) / sd))
        best = min(best, float(np.mean([dtw_ndim.distance(a, r, use_c=True) for r in ref])))
    return best


@dataclass
class Attempt:
    movement: str
    instructor: str
    subject: str
    correct: bool
    score: float
    cues: tuple[str, ...]
    first_region: str
    truth: dict[str, float]  # region -> difference (``region_differences``); {} if correct
    baseline: float

    @property
    def truth_region(self) -> str:
        """The region that differs most ("" for a correct attempt)."""
        return max(self.truth, key=lambda r: self.truth[r]) if self.truth else ""

    @property
    def truth_top_two(self) -> tuple[str, ...]:
        return tuple(sorted(self.truth, key=lambda r: -self.truth[r])[:2])


def _cue_region(key: tuple[str, str]) -> str:
    return SPECS[key[0]].region if key[0] in SPECS else "tempo"


def _exercise_of(folder: Path, movement: str, takes: list[PoseSequence]) -> Exercise:
    """The instructor's correct repetitions written as an exercise of a library folder (with
    ``either_side``) and read back the library's normal way."""
    (folder / "takes").mkdir(parents=True)
    meta = ExerciseMeta(name=f"{MOVEMENTS[movement]} ({folder.name})",
                        tradition="rehabilitation", kind="flowing", view="front",
                        description=MOVEMENTS[movement], teaching_points=("-",),
                        safety_notes=("-",), either_side=True)
    (folder / "exercise.toml").write_text(meta_to_toml(meta), encoding="utf-8")
    for k, take in enumerate(takes, 1):
        save_recording(take, folder / "takes" / f"take-{k:03d}.npz")
    return load_exercise(folder, read_only=True, load_takes=True)


def evaluate_movement(movement: str, instructors: tuple[str, ...],
                      params: ScoringParams = DEFAULT_PARAMS) -> list[Attempt]:
    """Each instructor in turn: every OTHER subject's repetitions scored against the
    reference built from the instructor's correct ones."""
    reps = load_movement(movement)
    names = features_of(reps[(SUBJECTS[0], True)][0])[0]
    values = {(s, ok, k): features_of(seq)[1] for (s, ok), seqs in reps.items()
              for k, seq in enumerate(seqs)}
    truth = {(s, k): region_differences(names, values[(s, False, k)],
                                        [values[(s, True, i)] for i in range(len(REPS))])
             for s in SUBJECTS for k in range(len(REPS))}
    cols = [names.index(n) for n in BASELINE_FEATURES]
    perm, signs = mirror_indices(names)
    mirror_cols = [int(perm[c]) for c in cols]
    out = []
    with tempfile.TemporaryDirectory(prefix="coach-quality-") as tmp:
        for instructor in instructors:
            exercise = _exercise_of(Path(tmp) / instructor, movement,
                                    reps[(instructor, True)])
            takes = [values[(instructor, True, k)] for k in range(len(REPS))]
            for subject in SUBJECTS:
                if subject == instructor:
                    continue
                for correct in (True, False):
                    for k, seq in enumerate(reps[(subject, correct)]):
                        report = exercise.scorer(params=params).score(seq)
                        keys = tuple(tuple(key) for key in report.cue_keys)
                        out.append(Attempt(
                            movement, instructor, subject, correct, float(report.overall),
                            tuple(report.cues), _cue_region(keys[0]) if keys else "",
                            {} if correct else truth[(subject, k)],
                            baseline_distance(values[(subject, correct, k)], takes, cols,
                                              mirror_cols, signs[cols])))
    return out


def auc(good: list[float], bad: list[float]) -> float:
    """ROC AUC: probability that a correct attempt scores above an incorrect one (ties half)."""
    if not good or not bad:
        return float("nan")
    g, b = np.asarray(good)[:, None], np.asarray(bad)[None, :]
    return float(np.mean((g > b) + 0.5 * (g == b)))


def summarise(rows: list[Attempt]) -> dict[str, float]:
    good = [a for a in rows if a.correct]
    bad = [a for a in rows if not a.correct]
    return {
        "auc": auc([a.score for a in good], [a.score for a in bad]),
        "baseline_auc": auc([-a.baseline for a in good], [-a.baseline for a in bad]),
        "median_correct": float(np.median([a.score for a in good])),
        "median_incorrect": float(np.median([a.score for a in bad])),
        "false_cues": float(np.mean([bool(a.cues) for a in good])),
        "cued_bad": float(np.mean([a.first_region in REGIONS for a in bad])),
        "first_cue_right": float(np.mean([a.first_region == a.truth_region for a in bad
                                          if a.first_region in REGIONS] or [np.nan])),
        "first_cue_top_two": float(np.mean([a.first_region in a.truth_top_two for a in bad
                                            if a.first_region in REGIONS] or [np.nan])),
        "first_cue_changed": float(np.mean([a.truth.get(a.first_region, -np.inf) >=
                                            CHANGED_Z for a in bad
                                            if a.first_region in REGIONS] or [np.nan])),
        "n": len(rows),
    }


def print_table(rows: list[Attempt]) -> dict[str, float]:
    by_movement: dict[str, list[Attempt]] = defaultdict(list)
    for a in rows:
        by_movement[a.movement].append(a)
    head = (f"{'movement':44s} {'AUC':>5s} {'base':>5s} {'med ok':>6s} {'med bad':>7s} "
            f"{'false cue':>9s} {'bad cued':>8s} {'1st cue':>7s} {'top 2':>5s} {'changed':>7s} "
            f"{'n':>5s}")
    print(head)
    print("-" * len(head))

    def line(label: str, s: dict[str, float]) -> None:
        print(f"{label:44s} {s['auc']:5.3f} {s['baseline_auc']:5.3f} {s['median_correct']:6.1f} "
              f"{s['median_incorrect']:7.1f} {s['false_cues']:9.0%} {s['cued_bad']:8.0%} "
              f"{s['first_cue_right']:7.0%} {s['first_cue_top_two']:5.0%} "
              f"{s['first_cue_changed']:7.0%} {s['n']:5d}")

    for m in sorted(by_movement):
        line(f"{m} {MOVEMENTS[m]}"[:44], summarise(by_movement[m]))
    pooled = summarise(rows)
    print("-" * len(head))
    line("pooled (every attempt ranked together)", pooled)
    print(f"AUC against one reference at a time, mean: {_mean_auc(rows, by_person=False):.3f}; "
          f"for one reference and one attempting person: {_mean_auc(rows, by_person=True):.3f}")
    return pooled


def _mean_auc(rows: list[Attempt], by_person: bool) -> float:
    """Mean AUC over references (movement, instructor), or over references and the people
    attempting them: what ranking every attempt together costs, and what is left."""
    groups: dict[tuple[str, ...], list[Attempt]] = defaultdict(list)
    for a in rows:
        groups[(a.movement, a.instructor, a.subject if by_person else "")].append(a)
    return float(np.nanmean([auc([a.score for a in g if a.correct],
                                 [a.score for a in g if not a.correct])
                             for g in groups.values()]))


def region_confusion(rows: list[Attempt]) -> None:
    """Where first cues went, against the region that differs most (incorrect attempts)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a in rows:
        if not a.correct:
            counts[a.truth_region][a.first_region or "none"] += 1
    print("\nfirst cue's region (columns) on incorrect attempts, by the region that differs "
          "most (rows)")
    cols = [*REGIONS, "tempo", "none"]
    print(f"{'':10s}" + "".join(f"{c:>10s}" for c in cols))
    for r in REGIONS:
        if counts[r]:
            print(f"{r:10s}" + "".join(f"{counts[r][c]:10d}" for c in cols))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", default=",".join(MOVEMENTS),
                        help="comma-separated movements (default: all ten)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--cache", type=Path, help="folder for extracted clip landmarks")
    parser.add_argument("--no-clips", action="store_true", help="UI-PRMD only")
    parser.add_argument("--instructors", default=",".join(SUBJECTS),
                        help="comma-separated subjects to take as the instructor (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="score with a ScoringParams number changed (repeatable), e.g. "
                             "--set score_softness=1.2")
    args = parser.parse_args()
    if not UIPRMD.is_dir():
        sys.exit(f"{UIPRMD}: the UI-PRMD development set is not there")
    movements = [m.strip() for m in args.movements.split(",") if m.strip()]
    instructors = [s.strip() for s in args.instructors.split(",") if s.strip()]
    params = replace(DEFAULT_PARAMS, **{k: float(v) for k, v in
                                        (item.split("=", 1) for item in args.set)})
    if args.set:
        print("changed from the defaults: " + ", ".join(args.set))
    jobs = [(m, tuple(instructors), params) for m in movements]
    t0 = time.perf_counter()
    rows: list[Attempt] = []
    with ProcessPoolExecutor(args.workers) as pool:
        for part in pool.map(evaluate_movement, *zip(*jobs, strict=True)):
            rows.extend(part)
    print(f"UI-PRMD, leave one subject out: {len(jobs) * len(instructors)} references, "
          f"{len(rows)} attempts "
          f"scored in {time.perf_counter() - t0:.0f} s\n")
    pooled = print_table(rows)
    region_confusion(rows)
    goals = [("pooled AUC >= 0.90", pooled["auc"] >= 0.90),
             ("AUC >= baseline + 0.05", pooled["auc"] >= pooled["baseline_auc"] + 0.05),
             ("median correct >= 80", pooled["median_correct"] >= 80),
             ("no cue on >= 80% of correct", pooled["false_cues"] <= 0.20),
             ("median incorrect >= 15 below correct",
              pooled["median_correct"] - pooled["median_incorrect"] >= 15),
             ("first cue names the differing region >= 70%", pooled["first_cue_right"] >= 0.70)]
    print("\ngoals: " + "; ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals))
    if not args.no_clips:
        clips = other_views_rows(args.cache)
        views = [clips[c] for c in ("cam02", "cam03", "cam04")]
        cues = [clips[f"{c}_cues"] for c in ("cam02", "cam03", "cam04")]
        ok = min(views) >= 85 and max(cues) <= 1
        print(f"\ngoal: other views >= 85 with at most one cue each: "
              f"{'met' if ok else 'MISSED'} ({min(views):.1f}-{max(views):.1f}, "
              f"{max(cues):.0f} cue(s) at most)")


if __name__ == "__main__":
    main()
