"""Fuzzed metadata, landmark files and slugs: every bad one refused with a clear message, and
the library on disk unchanged afterwards (tree hash before and after)."""

from __future__ import annotations

import io
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.errors import CoachError
from coach.library import Library, LibraryError, MetadataError, SlugError, TakeError, parse_meta
from coach.library.store import MAX_TAKE_BYTES, MAX_TAKE_FRAMES
from coach.recording import load_keraal, recording_bytes
from tests.library.library_helpers import FLOWING_TOML, tree_hash, write_exercise

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT_FIELDS = ("name", "tradition", "kind", "view", "description")
LIST_FIELDS = ("teaching_points", "safety_notes")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"
    raise TypeError(type(value))


def to_toml(data: dict) -> str:
    """A TOML document of ``data`` (inline tables for nested dicts)."""
    return "".join(f'"{k}" = {_toml_value(v)}\n' for k, v in data.items())


class Fixture:
    """A writable library with one good exercise in it, and a staging folder for imports."""

    def __init__(self, root: Path) -> None:
        self.root = root / "own"
        self.incoming = root / "incoming"
        self.library = Library.open([self.root], include_builtin=False)
        self.library.save_meta("existing", parse_meta(FLOWING_TOML, "t"))
        self.before = tree_hash(self.root)

    def refused(self, exc: type[BaseException] = CoachError, **kwargs: object) -> str:
        """Import ``incoming/candidate``; assert it is refused and nothing changed."""
        with pytest.raises(exc) as err:
            self.library.import_path(self.incoming / "candidate", **kwargs)
        assert tree_hash(self.root) == self.before
        message = str(err.value)
        assert "\n" not in message and len(message) < 600
        return message


@pytest.fixture()
def lib(tmp_path: Path) -> Fixture:
    return Fixture(tmp_path)


@pytest.fixture(scope="module")
def small_take(sample_path) -> object:  # noqa: ANN001
    return load_keraal(sample_path("keraal_CTK")).slice(0, 30)


def _fresh(lib: Fixture, toml_text: str, takes: dict[str, bytes] | None = None) -> None:
    import shutil

    shutil.rmtree(lib.incoming, ignore_errors=True)
    write_exercise(lib.incoming / "candidate", toml_text, takes)


@FUZZ
@given(cut=st.integers(0, len(FLOWING_TOML) - 1))
def test_truncated_metadata(lib: Fixture, cut: int) -> None:
    text = FLOWING_TOML[:cut]
    _fresh(lib, text)
    try:
        parse_meta(text, "x")
    except MetadataError:
        message = lib.refused(MetadataError)
        assert "candidate/exercise.toml" in message
    else:  # the cut left a complete, valid file: it imports
        assert lib.library.import_path(lib.incoming / "candidate").slug == "candidate"
        lib.library.remove("candidate")


wrong_for_text = st.one_of(st.integers(), st.floats(), st.booleans(),
                           st.lists(st.integers(), max_size=3), st.just(""), st.just("   "))
wrong_for_list = st.one_of(st.integers(), st.text(max_size=5), st.floats(),
                           st.lists(st.one_of(st.integers(), st.just(""), st.floats()),
                                    min_size=1, max_size=3))
wrong_number = st.one_of(st.just(float("nan")), st.just(float("inf")), st.just(-1.0),
                         st.just(1e9), st.text(max_size=4), st.booleans(), st.lists(st.floats()))


@FUZZ
@given(data=st.data())
def test_fields_of_wrong_type_or_value(lib: Fixture, data: st.DataObject) -> None:
    doc = tomllib.loads(FLOWING_TOML)
    field = data.draw(st.sampled_from(TEXT_FIELDS + LIST_FIELDS + (
        "weights", "tolerances", "format_version", "missing")))
    if field in TEXT_FIELDS:
        doc[field] = data.draw(wrong_for_text)
    elif field in LIST_FIELDS:
        doc[field] = data.draw(wrong_for_list)
    elif field in ("weights", "tolerances"):
        doc[field] = {"trunk_flexion_deg": data.draw(wrong_number)}
        field = f"{field}.trunk_flexion_deg"
    elif field == "format_version":
        doc[field] = data.draw(st.one_of(st.integers().filter(lambda v: v != 1), st.text(),
                                         st.floats()))
    else:
        field = data.draw(st.sampled_from(TEXT_FIELDS + LIST_FIELDS + ("format_version",)))
        del doc[field]
    _fresh(lib, to_toml(doc))
    message = lib.refused(MetadataError)
    assert "candidate/exercise.toml: field '" in message
    assert field.split(".")[0] in message


@pytest.mark.parametrize("change", [
    lambda d: d.update(teaching_points=["point"] * 10_000),
    lambda d: d.update(description="x" * 100_000),
    lambda d: d.update(weights={f"f{i}": 1.0 for i in range(5000)}),
    lambda d: d.update(hold={"seconds": float("nan"), "targets": {}}),
])
def test_huge_or_nan_metadata(lib: Fixture, change) -> None:  # noqa: ANN001
    doc = tomllib.loads(FLOWING_TOML)
    change(doc)
    _fresh(lib, to_toml(doc))
    message = lib.refused(MetadataError)
    assert "candidate/exercise.toml" in message


def _fields(seq: object) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(recording_bytes(seq))) as data:
        return {k: data[k] for k in data.files}


def _npz(fields: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **fields)
    return buffer.getvalue()


@FUZZ
@given(data=st.data())
def test_landmark_files(lib: Fixture, small_take, data: st.DataObject) -> None:  # noqa: ANN001
    fields = _fields(small_take)
    n = len(small_take)
    how = data.draw(st.sampled_from(["truncate", "drop", "landmarks", "nan_time", "inf",
                                     "strings", "visibility", "frames", "fps", "json"]))
    if how == "truncate":
        raw = recording_bytes(small_take)
        blob = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:
        if how == "drop":
            del fields[data.draw(st.sampled_from(["format", "image_xyz", "visibility",
                                                  "timestamps_ms"]))]
        elif how == "landmarks":
            count = data.draw(st.sampled_from([0, 1, 17, 32, 34, 99]))
            fields["image_xyz"] = np.zeros((n, count, 3))
        elif how == "nan_time":
            times = fields["timestamps_ms"].copy()
            times[data.draw(st.integers(0, n - 1))] = np.nan
            fields["timestamps_ms"] = times
        elif how == "inf":
            image = fields["image_xyz"].copy()
            image[data.draw(st.integers(0, n - 1)), 0, 0] = np.inf
            fields["image_xyz"] = image
        elif how == "strings":
            fields[data.draw(st.sampled_from(["image_xyz", "timestamps_ms", "fps"]))] = \
                np.array(["a"] * 3)
        elif how == "visibility":
            fields["visibility"] = fields["visibility"] * data.draw(
                st.sampled_from([np.nan, -1.0, 7.0]))
        elif how == "frames":
            fields["image_xyz"] = fields["image_xyz"][: data.draw(st.integers(0, 4))]
        elif how == "fps":
            fields["fps"] = np.array(data.draw(st.sampled_from([0.0, -5.0, np.nan, 1e9])))
        else:
            fields["format"] = np.array(data.draw(st.text(max_size=12)))
        blob = _npz(fields)
    _fresh(lib, FLOWING_TOML, {"take-001.npz": recording_bytes(small_take),
                               "take-002.npz": blob})
    message = lib.refused(TakeError)
    assert "candidate/takes/take-002.npz" in message


def test_take_with_too_many_frames(lib: Fixture) -> None:
    n = MAX_TAKE_FRAMES + 1
    fields = {"format": np.array("coach-landmarks"), "version": np.array(1),
              "image_xyz": np.full((n, 33, 3), 0.5, dtype=np.float32),
              "visibility": np.ones((n, 33), dtype=np.float32),
              "timestamps_ms": np.arange(n, dtype=np.float64), "fps": np.array(30.0)}
    _fresh(lib, FLOWING_TOML, {"take-001.npz": _npz(fields)})
    message = lib.refused(TakeError)
    assert f"{n} frames" in message


def test_take_file_too_large(lib: Fixture) -> None:
    _fresh(lib, FLOWING_TOML)
    with open(lib.incoming / "candidate" / "takes" / "take-001.npz", "wb") as handle:
        handle.truncate(MAX_TAKE_BYTES + 1)  # sparse: no disk used
    message = lib.refused(TakeError)
    assert "larger than a take may be" in message


def test_take_with_nobody_in_it(lib: Fixture, small_take) -> None:  # noqa: ANN001
    fields = _fields(small_take)
    fields["image_xyz"] = np.full_like(fields["image_xyz"], np.nan)
    _fresh(lib, FLOWING_TOML, {"take-001.npz": _npz(fields)})
    assert "frames with a person" in lib.refused(TakeError)


@FUZZ
@given(slug=st.one_of(st.sampled_from(["../../etc", "..", ".", "/etc", "a/../../b", "~root",
                                       "CON", "x" * 300, "", "-", "etc/passwd"]),
                      st.text(max_size=20).filter(lambda s: not s.isalnum() or not s.islower())))
def test_bad_slugs_never_touch_the_disk(lib: Fixture, small_take, slug: str) -> None:  # noqa: ANN001
    if re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", slug):
        return  # a valid slug, drawn by chance
    _fresh(lib, FLOWING_TOML, {"take-001.npz": recording_bytes(small_take)})
    outside = tree_hash(lib.root.parent)
    with pytest.raises(SlugError, match="not a valid slug"):
        lib.library.import_path(lib.incoming / "candidate", slug=slug)
    for action in (lambda: lib.library.add_take(slug, small_take),
                   lambda: lib.library.save_meta(slug, parse_meta(FLOWING_TOML, "t")),
                   lambda: lib.library.remove(slug),
                   lambda: lib.library.export(slug, lib.root.parent / "x.zip")):
        with pytest.raises(LibraryError):
            action()
    with pytest.raises(LibraryError, match="no exercise called"):
        lib.library.get(slug)
    assert tree_hash(lib.root.parent) == outside
