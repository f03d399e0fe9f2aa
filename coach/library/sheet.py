"""A reference sheet for one exercise, as a PNG an instructor can look at.

Flowing movement with takes: a strip of key poses (stick figures of the template's pose at
evenly spaced moments) and the main feature curves with their tolerance bands. Held posture:
the target values with their tolerances (and key poses when a take exists). Waiting movement:
the metadata and a plain "waiting for an instructor's recording". Teaching points throughout.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.atomic import atomic_path
from coach.features import SPECS
from coach.landmarks import SEGMENTS
from coach.library.errors import LibraryError
from coach.library.store import Exercise
from coach.overlay.skeleton import spine_points
from coach.pose import PoseSequence

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.gridspec import SubplotSpec

log = logging.getLogger(__name__)

#: Key poses shown in the strip.
KEY_POSES = 6
#: Feature curves shown (the highest-weighted features).
CURVES = 4
#: Line colour of each body region (matplotlib colours).
REGION_COLOURS = {"spine": "#d4a000", "neck": "#8e44ad", "shoulders": "#2e86c1",
                  "hips": "#c0392b", "arms": "#16a085", "legs": "#7f8c8d"}


def _image_points(pose: PoseSequence) -> np.ndarray:
    """(T, 33, 2) image points, x scaled by the aspect ratio, y pointing up for plotting."""
    aspect = 1.0 if pose.image_size is None else pose.image_size[0] / pose.image_size[1]
    pts = pose.image_xyz[..., :2] * np.array([aspect, 1.0])
    pts[..., 1] = -pts[..., 1]
    return pts


def key_moments(pose: PoseSequence, count: int = KEY_POSES) -> np.ndarray:
    """Indices of ``count`` frames with a person, evenly spaced in time."""
    present = np.flatnonzero(pose.present)
    if present.size == 0:
        return present
    ts = pose.timestamps_ms[present]
    wanted = np.linspace(ts[0], ts[-1], min(count, present.size))
    return np.unique(present[np.searchsorted(ts, wanted).clip(0, present.size - 1)])


def draw_stick_figure(ax: Axes, points_xy: np.ndarray, visibility: np.ndarray,
                      min_visibility: float = 0.3) -> None:
    """Draw one pose (33, 2) on a matplotlib axes: segments by region, the spine in bold."""
    seen = (visibility >= min_visibility) & np.isfinite(points_xy).all(axis=1)
    for start, end, region in SEGMENTS:
        if region != "spine" and seen[start] and seen[end]:
            ax.plot(*points_xy[[start, end]].T, color=REGION_COLOURS[region], lw=2.2,
                    solid_capstyle="round")
    spine = spine_points(points_xy)
    if np.isfinite(spine).all():
        ax.plot(*spine.T, color=REGION_COLOURS["spine"], lw=4, solid_capstyle="round")
    ax.scatter(points_xy[seen, 0], points_xy[seen, 1], s=6, color="#333333", zorder=3)


def _pose_strip(fig: Figure, grid: SubplotSpec, pose: PoseSequence, title: str) -> np.ndarray:
    """Fill one grid row with key poses; returns the chosen frame indices."""
    idx = key_moments(pose)
    pts = _image_points(pose)
    body = pts[idx][np.isfinite(pts[idx]).all(axis=2)]
    lo, hi = body.min(axis=0), body.max(axis=0)
    pad = 0.08 * (hi - lo).max()
    sub = grid.subgridspec(1, max(len(idx), 1), wspace=0.05)
    t0 = pose.timestamps_ms[0]
    for k, i in enumerate(idx):
        ax = fig.add_subplot(sub[0, k])
        draw_stick_figure(ax, pts[i], pose.visibility[i])
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{(pose.timestamps_ms[i] - t0) / 1000:.1f} s", fontsize=9)
        if k == 0:
            ax.set_ylabel(title, fontsize=9)
    return idx


def _feature_curves(fig: Figure, grid: SubplotSpec, exercise: Exercise) -> None:
    template = exercise.template()
    order = np.argsort(-template.weights, kind="stable")
    known = [i for i in order if np.isfinite(template.mean[:, i]).any()][:CURVES]
    sub = grid.subgridspec(1, len(known), wspace=0.35)
    t_s = (template.timestamps_ms - template.timestamps_ms[0]) / 1000.0
    moments = key_moments(template.pose)
    for k, f in enumerate(known):
        name = template.feature_names[f]
        ax = fig.add_subplot(sub[0, k])
        mean, spread = template.mean[:, f], template.spread[:, f]
        colour = REGION_COLOURS[SPECS[name].region]
        ax.fill_between(t_s, mean - spread, mean + spread, color=colour, alpha=0.2, lw=0,
                        label="tolerance")
        ax.plot(t_s, mean, color=colour, lw=1.8, label="reference")
        for m in moments:
            ax.axvline(t_s[m], color="#999999", lw=0.6, ls=":")
        ax.set_title(f"{name.removesuffix('_deg').replace('_', ' ')} (deg)\n"
                     f"weight {template.weights[f]:g}", fontsize=9)
        ax.set_xlabel("time (s)", fontsize=8)
        ax.tick_params(labelsize=8)
        if k == 0:
            ax.legend(fontsize=7, loc="best")


def _targets_chart(fig: Figure, grid: SubplotSpec, exercise: Exercise) -> None:
    hold = exercise.meta.hold
    assert hold is not None, "a held posture's metadata has its hold"
    names = list(hold.targets)
    ax = fig.add_subplot(grid)
    y = np.arange(len(names))[::-1]
    targets = np.array([hold.targets[n] for n in names])
    tol = np.array([exercise.meta.tolerances[n] for n in names])
    colours = [REGION_COLOURS[SPECS[n].region] for n in names]
    ax.barh(y, 2 * tol, left=targets - tol, color=colours, alpha=0.3, height=0.6)
    ax.scatter(targets, y, color=colours, zorder=3, marker="|", s=300)
    for yy, t, d in zip(y, targets, tol, strict=True):
        ax.text(t + d + 2, yy, f"{t:g} \u00b1 {d:g}", va="center", fontsize=8)
    ax.set_yticks(y, [n.removesuffix("_deg").replace("_", " ") for n in names], fontsize=8)
    ax.set_xlabel("target angle and tolerance (deg)", fontsize=8)
    ax.set_xlim(min(-10.0, float((targets - tol).min()) - 10),
                max(190.0, float((targets + tol).max()) + 40))
    ax.set_title(f"held posture: hold {hold.seconds:g} s inside every tolerance", fontsize=9)
    ax.tick_params(labelsize=8)


def _text_block(exercise: Exercise) -> str:
    meta = exercise.meta
    lines = textwrap.wrap(meta.description, 130)
    lines.append("")
    lines += [f"\u2022 {p}" for p in meta.teaching_points]
    lines += [f"! {s}" for s in meta.safety_notes]
    if meta.left_right_mirrored:
        lines.append("Note: the takes' left and right labels are mirrored (the source flipped "
                     "its frames); scoring compares both ways.")
    return "\n".join(lines)


def render_sheet(exercise: Exercise, path: str | Path) -> Path:
    """Draw the reference sheet of ``exercise`` to a PNG at ``path`` (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise LibraryError(f"{path}: the reference sheet is written as a .png")
    meta = exercise.meta
    has_pose = bool(exercise.take_paths)
    rows: list[str] = []
    if has_pose:
        rows.append("poses")
    if exercise.is_held:
        rows.append("targets")
    elif has_pose:
        rows.append("curves")
    heights = {"poses": 2.6, "targets": 2.6, "curves": 2.4}
    text = _text_block(exercise)
    text_h = 0.16 * (text.count("\n") + 2)
    fig = plt.figure(figsize=(13, 1.0 + sum(heights[r] for r in rows) + text_h + 0.6),
                     layout="constrained")
    try:
        grid = fig.add_gridspec(len(rows) + 1, 1,
                                height_ratios=[heights[r] for r in rows] + [text_h])
        status = exercise.status if not exercise.is_waiting else \
            "WAITING FOR AN INSTRUCTOR'S RECORDING"
        fig.suptitle(f"{meta.name}  ({exercise.slug})\n{meta.tradition}, {meta.kind} "
                     f"{'posture' if meta.is_held else 'movement'}, filmed from the {meta.view}"
                     f"  \u2014  {status}", fontsize=12)
        for k, row in enumerate(rows):
            if row == "poses":
                pose = exercise.template().pose if not exercise.is_held else exercise.takes[0]
                label = "key poses (reference)" if not exercise.is_held else "key poses (take 1)"
                _pose_strip(fig, grid[k], pose, label)
            elif row == "curves":
                _feature_curves(fig, grid[k], exercise)
            else:
                _targets_chart(fig, grid[k], exercise)
        ax = fig.add_subplot(grid[len(rows)])
        ax.axis("off")
        ax.text(0.0, 1.0, text, va="top", ha="left", fontsize=9, transform=ax.transAxes,
                family="DejaVu Sans")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90, format="png")
    finally:
        plt.close(fig)
    log.info("wrote reference sheet %s", path)
    return path
