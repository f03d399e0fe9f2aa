"""A take the library saves is a take it can load again: the size limits agree."""

from __future__ import annotations

from pathlib import Path

import pytest

import coach.library.store as store
from coach.library import Library, TakeError, parse_meta
from coach.recording import recording_bytes
from tests.library.library_helpers import FLOWING_TOML


def test_longest_take_allowed_fits_the_file_size_limit(real_sequence) -> None:  # noqa: ANN001
    take = real_sequence("squats")
    bytes_per_frame = len(recording_bytes(take, "npz")) / len(take)
    assert bytes_per_frame * store.MAX_TAKE_FRAMES * 1.25 <= store.MAX_TAKE_BYTES


def test_take_too_large_to_load_is_not_saved(tmp_path: Path, real_sequence,  # noqa: ANN001
                                             monkeypatch) -> None:  # noqa: ANN001
    library = Library.open([tmp_path], include_builtin=False)
    library.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    take = real_sequence("squats")
    monkeypatch.setattr(store, "MAX_TAKE_BYTES", len(recording_bytes(take, "npz")) - 1)
    with pytest.raises(TakeError, match="larger than a take may be"):
        library.add_take("flow", take)
    assert list((tmp_path / "flow" / "takes").iterdir()) == []
