"""The quick part of the fuzz suite, run by ``make test``: a sample of every kind of generated
bad input through the real ``coach`` command (``make fuzz`` runs them all)."""

from __future__ import annotations

from tests.fuzz.generators import all_cases, quick_cases
from tests.fuzz.runner import PROBLEMS, report, run


def test_every_kind_of_bad_input_is_refused_cleanly() -> None:
    cases = quick_cases()
    assert {c.kind for c in cases} == {c.kind for c in all_cases()}
    outcomes = run(cases, progress=False)
    counts, text = report(outcomes)
    assert not any(counts[p] for p in PROBLEMS), text
    assert sum(o.code not in (0, None) for o in outcomes) > 0.8 * len(outcomes), text


def test_the_installed_script_behaves_as_the_forked_entry_point() -> None:
    """A few cases through an exec of the ``coach`` script itself, as a user runs it."""
    cases = [c for c in quick_cases(per_kind=1) if not c.model and c.kind != "batch"]
    counts, text = report(run(cases, use_exec=True, progress=False))
    assert not any(counts[p] for p in PROBLEMS), text
