"""Score matrix on real recordings: every clip scored against every reference of its plane.

Rows are attempts, columns references (one take each, default tolerances). World plane: the
four pose2sim views of one lunge-and-reach movement, the squat clip and the dance clip (the
real model on the bundled videos). Image plane: the three KERAAL low-back-pain exercises
(published landmark files without world landmarks). The separation the scorer must show:
the other views of the movement well above the squats and dance against the ``cam01``
reference, each KERAAL exercise near 100 against itself and low against the others.

Usage: .venv/bin/python bench/score_matrix.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from clips import load_all

from coach.errors import NotEnoughPoseError
from coach.pose import PoseSequence
from coach.scoring import score
from coach.template import Template, template_from_sequence

GROUPS = {
    "world plane (3D landmarks)": ["cam01", "cam02", "cam03", "cam04", "squats", "dance"],
    "image plane (KERAAL)": ["keraal_RTK", "keraal_ELK", "keraal_CTK"],
}


def overall(attempt: PoseSequence, template: Template) -> float:
    """The overall score, NaN when the attempt is refused as too short for the reference."""
    try:
        return score(attempt, template).overall
    except NotEnoughPoseError:
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="folder to keep extracted recordings in")
    args = parser.parse_args()
    seqs = load_all(args.cache)
    for title, names in GROUPS.items():
        templates = {n: template_from_sequence(seqs[n], n) for n in names}
        t0 = time.perf_counter()
        matrix = {a: {r: overall(seqs[a], templates[r]) for r in names} for a in names}
        ms = (time.perf_counter() - t0) / len(names) ** 2 * 1000
        print(f"\n{title}: overall score, attempt (row) against reference (column; 'short': "
              f"refused as too short to hold that reference); {ms:.0f} ms per score")
        print(f"{'':12s}" + "".join(f"{r:>12s}" for r in names))
        for a in names:
            print(f"{a:12s}" + "".join(f"{matrix[a][r]:12.1f}" if np.isfinite(matrix[a][r])
                                       else f"{'short':>12s}" for r in names))
        if "cam01" in names:
            views = [matrix[v]["cam01"] for v in ("cam02", "cam03", "cam04")]
            others = [matrix[o]["cam01"] for o in ("squats", "dance")]
            print(f"against cam01: other views {min(views):.1f}-{max(views):.1f}, different "
                  f"movements {min(others):.1f}-{max(others):.1f}, margin "
                  f"{min(views) - max(others):.1f}")
            report = score(seqs["cam03"], templates["cam01"])
            print("\ncam03 against cam01, as `coach score` shows it:")
            print(report.summary_text())
        else:
            diag = [matrix[n][n] for n in names]
            off = [matrix[a][r] for a in names for r in names if a != r]
            print(f"each against itself {min(diag):.1f}-{max(diag):.1f}; against the others "
                  f"{min(off):.1f}-{max(off):.1f}; flank stretch (ELK) against trunk rotation "
                  f"(RTK) {matrix['keraal_ELK']['keraal_RTK']:.1f}")


if __name__ == "__main__":
    main()
