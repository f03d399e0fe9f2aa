"""An attempt with a gap (the person not found, frames the pose model turned round): the
alignment keeps the gap's length, and the moments passed in it are not judged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from coach.pose import PoseSequence
from coach.scoring import score, with_gaps
from coach.template import template_from_sequence


def test_with_gaps_puts_missing_frames_back_as_unknown_rows() -> None:
    ts = np.array([0.0, 33.0, 67.0, 100.0, 333.0, 367.0])  # 30 fps, 6 frames missing
    values = np.arange(12, dtype=float).reshape(6, 2)
    conf = np.full((6, 2), 0.9)
    full_values, full_conf, rows = with_gaps(values, conf, ts, longest_ms=5000.0)
    assert rows.tolist() == [0, 1, 2, 3, 10, 11]
    assert full_values.shape == (12, 2)
    np.testing.assert_array_equal(full_values[rows], values)
    assert np.isnan(full_values[4:10]).all() and (full_conf[4:10] == 0).all()
    # no gap (a little timing jitter is not one): nothing added
    even = np.array([0.0, 33.0, 68.0, 100.0, 132.0, 167.0])
    same_values, _, same_rows = with_gaps(values, conf, even, longest_ms=5000.0)
    assert same_rows.tolist() == list(range(6))
    np.testing.assert_array_equal(same_values, values)
    # a gap longer than the reference passes no more of it than its whole length
    _, _, capped = with_gaps(values, conf, ts, longest_ms=100.0)
    assert capped.tolist() == [0, 1, 2, 3, 6, 7]
    _, _, hour = with_gaps(values, conf, np.array([0.0, 33, 67, 100, 3.6e6, 3.6e6 + 33]),
                           longest_ms=100.0)
    assert hour[-1] == 7


def _blanked(seq: PoseSequence, start: int, stop: int) -> PoseSequence:
    """``seq`` with the person not found in frames ``start:stop``."""
    image, world = np.array(seq.image_xyz, copy=True), np.array(seq.world_xyz, copy=True)
    vis = np.array(seq.visibility, copy=True)
    image[start:stop], world[start:stop], vis[start:stop] = np.nan, np.nan, 0.0
    return replace(seq, image_xyz=image, world_xyz=world, visibility=vis)


def test_a_gap_keeps_its_place_in_the_reference(
        real_sequence: Callable[[str], PoseSequence]) -> None:
    """The lunge from the side (cam04) against the front view's take (cam01), the person lost
    for 27 frames in the middle of the movement: after the gap the attempt is matched where
    it was without the gap, not where the gap's first frame was left (which put it 17
    moments behind, so its end never reached the reference's)."""
    reference = template_from_sequence(real_sequence("cam01"), "lunge")
    attempt = real_sequence("cam04")
    whole = score(attempt, reference)
    gapped = score(_blanked(attempt, 34, 61), reference)
    assert gapped.frames_used == whole.frames_used - 27
    before, after = whole.reference_index[[33, 61]]
    g_before, g_after = gapped.reference_index[[33, 34]]
    print(f"matched moments either side of the gap: {g_before}, {g_after}; the same frames "
          f"without the gap: {before}, {after}; frame scores after it "
          f"{gapped.timeline_score[34:].mean():.1f} and {whole.timeline_score[61:].mean():.1f}")
    assert abs(g_after - after) <= 6
    assert g_after - g_before >= 0.6 * (after - before)
