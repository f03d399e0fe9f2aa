"""Offline DTW and online alignment on synthetic feature curves."""

from __future__ import annotations

import numpy as np
import pytest

from coach.align import Alignment, OnlineAligner, ReferenceModel, align


def _curves(phase: np.ndarray) -> np.ndarray:
    """(T, 3) smooth, non-repeating feature curves over phase in [0, 1], degrees."""
    return np.stack([40 * np.sin(np.pi * phase) ** 2, 30 * phase ** 2,
                     25 * np.sin(2 * np.pi * phase)], axis=1)


def _model(r: int = 120) -> tuple[ReferenceModel, np.ndarray]:
    phase = np.linspace(0, 1, r)
    return ReferenceModel(_curves(phase), np.full((r, 3), 10.0), np.ones(3)), phase


def test_cost_matrix_matches_direct_formula() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 20, (7, 4))
    ref[2, 1] = np.nan
    spread = rng.uniform(5, 15, (7, 4))
    w = np.array([2.0, 1.0, 0.5, 0.0])
    model = ReferenceModel(ref, spread, w)
    a = rng.normal(0, 20, (5, 4))
    c = rng.uniform(0.2, 1.0, (5, 4))
    got = model.cost(a, c)
    for i in range(5):
        for j in range(7):
            known = np.isfinite(ref[j])
            ww = w * c[i] * known
            z2 = np.where(known, (a[i] - np.nan_to_num(ref[j])) / spread[j], 0.0) ** 2
            assert got[i, j] == pytest.approx((ww * z2).sum() / ww.sum(), rel=1e-9, abs=1e-9)


def test_recovers_a_known_time_warp() -> None:
    model, phase = _model()
    t = np.linspace(0, 1, 200) ** 1.4  # slow start, faster end
    al = align(_curves(t), None, model)
    truth = np.round(t * 119).astype(int)
    assert isinstance(al, Alignment)
    assert np.abs(al.reference_index - truth).max() <= 3
    assert np.all(np.diff(al.reference_index) >= 0)
    assert al.mean_cost < 0.01 and al.coverage > 0.98


@pytest.mark.parametrize("part", [(0.0, 0.88), (0.12, 1.0)])
def test_open_begin_and_end(part: tuple[float, float]) -> None:
    """An attempt that starts late or stops early matches only that part of the reference."""
    model, _ = _model()
    t = np.linspace(*part, 90)
    al = align(_curves(t), None, model)
    assert al.reference_index[0] == pytest.approx(part[0] * 119, abs=3)
    assert al.reference_index[-1] == pytest.approx(part[1] * 119, abs=3)
    assert al.coverage == pytest.approx(part[1] - part[0], abs=0.05)


def test_confidence_and_nan_are_respected() -> None:
    model, _ = _model()
    a = _curves(np.linspace(0, 1, 100))
    conf = np.ones_like(a)
    a[40:50, 0] = np.nan  # lost
    a[60:70, 1] += 500.0  # garbage with no confidence
    conf[60:70, 1] = 0.0
    al = align(a, conf, model)
    assert np.isfinite(al.cost).all() and al.mean_cost < 0.05


def test_a_much_faster_attempt_still_aligns() -> None:
    """7.5x faster than the reference, with a narrow band: the window follows both
    diagonals, so the whole reference is still gone through."""
    model, _ = _model(300)
    al = align(_curves(np.linspace(0, 1, 40)), None, model, band=0.05)
    assert np.all(np.diff(al.reference_index) >= 0)
    assert al.coverage > 0.95 and al.mean_cost < 0.05


def test_very_long_attempts_are_aligned_at_a_coarser_step(monkeypatch) -> None:
    import coach.align as align_module

    model, _ = _model()
    t = np.linspace(0, 1, 600) ** 1.4
    fine = align(_curves(t), None, model)
    monkeypatch.setattr(align_module, "MAX_CELLS", 600 * 120 // 4)
    coarse = align(_curves(t), None, model)
    assert len(coarse.reference_index) == 600
    assert np.abs(coarse.reference_index - fine.reference_index).max() <= 3


def test_shape_errors_are_clear() -> None:
    model, _ = _model()
    with pytest.raises(ValueError, match=r"expected \(T, 3\)"):
        align(np.zeros((10, 4)), None, model)
    with pytest.raises(ValueError, match="expected mean"):
        ReferenceModel(np.zeros((5, 3)), np.ones((5, 2)), np.ones(3))


@pytest.mark.parametrize("speed", [0.5, 1.0, 2.0])
def test_online_aligner_follows_the_person(speed: float) -> None:
    model, _ = _model()
    online = OnlineAligner(model)
    n = int(120 / speed)
    t = np.linspace(0, 1, n)
    a = _curves(t) + np.random.default_rng(1).normal(0, 1.0, (n, 3))
    positions = [online.update(a[i], None, i * 1000 / 30)[0] for i in range(n)]
    truth = t * 119
    err = np.abs(np.array(positions) - truth)
    assert np.median(err) <= 3 and err[n // 4:].max() <= 12
    assert online.progress == pytest.approx(1.0, abs=0.05)


def test_online_state_does_not_grow() -> None:
    model, _ = _model()
    online = OnlineAligner(model)
    a = _curves(np.linspace(0, 1, 120))
    for k in range(5 * 120):  # five passes, as a looping session
        online.update(a[k % 120], None, k * 33.3)
        if k == 10:
            size = sum(v.nbytes for v in vars(online).values() if isinstance(v, np.ndarray))
    assert sum(v.nbytes for v in vars(online).values() if isinstance(v, np.ndarray)) == size
    online.reset()
    assert online.position is None and online.progress == 0.0


def test_online_aligner_follows_repetitions() -> None:
    model, _ = _model()
    online = OnlineAligner(model)
    a = _curves(np.linspace(0, 1, 150))
    positions = []
    for k in range(3 * 150):
        positions.append(online.update(a[k % 150], None, k * 33.3)[0])
    assert online.repetitions == 2
    for rep in range(3):
        seg = np.array(positions[rep * 150 + 20: rep * 150 + 140])
        truth = np.linspace(0, 1, 150)[20:140] * 119
        assert np.median(np.abs(seg - truth)) <= 3
    once = OnlineAligner(model, repeat=False)
    for k in range(2 * 150):
        once.update(a[k % 150], None, k * 33.3)
    assert once.repetitions == 0 and once.progress > 0.9
