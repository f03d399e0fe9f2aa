"""Exercise metadata: the built-in files parse, the writer round-trips, errors name the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.features import FEATURES
from coach.library import (
    BUILTIN_DIR,
    ExerciseMeta,
    HoldSpec,
    MetadataError,
    SlugError,
    check_slug,
    meta_to_toml,
    parse_meta,
    read_meta,
    slugify,
)
from coach.library.meta import KINDS, TRADITIONS, VIEWS
from coach.text import printable
from tests.library.library_helpers import FLOWING_TOML

NAMES = [s.name for s in FEATURES]


def test_every_builtin_metadata_file_is_valid() -> None:
    folders = sorted(p for p in BUILTIN_DIR.iterdir() if p.is_dir())
    assert len(folders) >= 13
    metas = {f.name: read_meta(f / "exercise.toml") for f in folders}
    assert {m.tradition for m in metas.values()} == set(TRADITIONS)
    for slug, meta in metas.items():
        assert meta.teaching_points and meta.safety_notes, slug
        if meta.is_held:
            assert meta.hold.targets, slug


text_st = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda s: printable(s).strip() != "")


@st.composite
def metas(draw: st.DrawFn) -> ExerciseMeta:
    kind = draw(st.sampled_from(KINDS))
    tol = draw(st.dictionaries(st.sampled_from(NAMES),
                               st.floats(0.5, 90, allow_nan=False), max_size=5))
    hold = None
    if kind == "held":
        if not tol:
            tol = {NAMES[0]: 5.0}
        targets = {n: draw(st.floats(-180, 180, allow_nan=False)) for n in tol}
        hold = HoldSpec(seconds=draw(st.floats(0.5, 600)), targets=targets)
    weights = draw(st.dictionaries(st.sampled_from(NAMES), st.floats(0.1, 10), max_size=5))
    return ExerciseMeta(
        name=draw(text_st).strip(), tradition=draw(st.sampled_from(TRADITIONS)), kind=kind,
        view=draw(st.sampled_from(VIEWS)), description=draw(text_st).strip(),
        teaching_points=tuple(t.strip() for t in draw(st.lists(text_st, max_size=3))),
        safety_notes=tuple(t.strip() for t in draw(st.lists(text_st, max_size=2))),
        weights=weights, tolerances=tol, hold=hold, source=draw(st.text(max_size=20)).strip(),
        left_right_mirrored=draw(st.booleans()), either_side=draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(metas())
def test_written_metadata_reads_back_equal(meta: ExerciseMeta) -> None:
    text = meta_to_toml(meta)
    back = parse_meta(text, "exercise.toml")
    assert back.to_dict() == meta.to_dict()


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("name"), "name"),
    (lambda d: d.update(tradition="pilates"), "tradition"),
    (lambda d: d.update(kind=3), "kind"),
    (lambda d: d.update(view="top"), "view"),
    (lambda d: d.update(teaching_points="one string"), "teaching_points"),
    (lambda d: d.update(teaching_points=["ok", 5]), "teaching_points[1]"),
    (lambda d: d.update(format_version=2), "format_version"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["weights"].update(spine_twist_deg=1.0), "weights.spine_twist_deg"),
    (lambda d: d["weights"].update(trunk_flexion_deg=float("nan")), "weights.trunk_flexion_deg"),
    (lambda d: d["tolerances"].update(trunk_flexion_deg=0.0), "tolerances.trunk_flexion_deg"),
    (lambda d: d["tolerances"].update(trunk_flexion_deg="ten"), "tolerances.trunk_flexion_deg"),
    (lambda d: d.update(kind="held"), "hold"),
    (lambda d: d.update(hold={"seconds": 10, "targets": {"trunk_flexion_deg": 0}}), "hold"),
    (lambda d: d.update(left_right_mirrored="yes"), "left_right_mirrored"),
])
def test_a_bad_field_is_named_with_the_file(change, field: str) -> None:  # noqa: ANN001
    data = tomllib.loads(FLOWING_TOML)
    change(data)
    from coach.library import meta_from_dict

    with pytest.raises(MetadataError) as err:
        meta_from_dict(data, "lib/x/exercise.toml")
    message = str(err.value)
    assert message.startswith("lib/x/exercise.toml: field '")
    assert f"'{field}'" in message


def test_held_target_without_tolerance_is_refused() -> None:
    text = FLOWING_TOML.replace('kind = "flowing"', 'kind = "held"') + (
        "\n[hold]\nseconds = 20\n\n[hold.targets]\nlateral_bend_deg = 0.0\n")
    with pytest.raises(MetadataError, match=r"hold.targets.lateral_bend_deg.*no tolerance"):
        parse_meta(text, "e.toml")


def test_missing_and_non_utf8_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match="exercise.toml: missing"):
        read_meta(tmp_path / "exercise.toml")
    (tmp_path / "exercise.toml").write_bytes(b"\xff\xfe name")
    with pytest.raises(MetadataError, match="not UTF-8"):
        read_meta(tmp_path / "exercise.toml")
    (tmp_path / "exercise.toml").write_text(FLOWING_TOML[:70])
    with pytest.raises(MetadataError, match="not valid TOML"):
        read_meta(tmp_path / "exercise.toml")


@pytest.mark.parametrize("slug", ["../../etc", "..", "a/b", "A", "-x", "x-", "", "x" * 65,
                                  "é", "a b", ".hidden", "etc/passwd", "a\\b"])
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(SlugError, match="not a valid slug"):
        check_slug(slug)


def test_slugify_makes_valid_slugs() -> None:
    assert slugify("Child's pose") == "child-s-pose"
    assert slugify("The Wave / Dragon Back") == "the-wave-dragon-back"
