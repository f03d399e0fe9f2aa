"""The library on disk: search path, takes, shadowing, import/export/remove, atomic writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from coach.library import (
    BUILTIN_DIR,
    Library,
    LibraryError,
    MetadataError,
    SlugError,
    TakeError,
    parse_meta,
    user_library_dir,
)
from coach.recording import load_keraal, recording_bytes
from tests.library.library_helpers import FLOWING_TOML, tree_hash, write_exercise


@pytest.fixture(scope="module")
def keraal_take(sample_path) -> object:  # noqa: ANN001
    return load_keraal(sample_path("keraal_RTK"))


def test_search_path_order_env_and_default(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    default = Library.open(env=env)
    assert default.writable_dir == tmp_path / "xdg" / "coach" / "references"
    assert default.roots[-1].path == BUILTIN_DIR and not default.roots[-1].writable
    assert user_library_dir({"HOME": "/h"}).parts[-2:] == ("coach", "references")
    env["COACH_LIBRARY"] = f"{tmp_path / 'a'}:{tmp_path / 'b'}"
    lib = Library.open([tmp_path / "cli"], env=env)
    assert [r.path for r in lib.roots[:3]] == [tmp_path / "cli", tmp_path / "a", tmp_path / "b"]
    assert lib.writable_dir == tmp_path / "cli"


def test_builtin_library_lists_waiting_and_ready_exercises(tmp_path: Path) -> None:
    lib = Library.open([tmp_path / "own"])
    listed = {e.slug: e for e in lib.list()}
    for slug in ("qigong-the-wave", "qigong-dragon-whips-its-tail", "cat-cow"):
        assert listed[slug].is_waiting
        assert listed[slug].status == "waiting for an instructor's recording"
    for slug in ("keraal-trunk-rotation", "keraal-flank-stretch", "keraal-arm-raises", "squat",
                 "lunge-and-reach"):
        assert not listed[slug].is_waiting and len(listed[slug].take_paths) == 1
    held = [e for e in listed.values() if e.is_held]
    assert {e.slug for e in held} >= {"mountain-pose", "sphinx-pose", "childs-pose",
                                      "bridge-pose", "bird-dog"}
    assert lib.get("Mountain pose alignment").slug == "mountain-pose"
    assert lib.get("keraal-flank-stretch").meta.left_right_mirrored


def test_waiting_exercise_has_no_template(tmp_path: Path) -> None:
    wave = Library.open([tmp_path]).get("qigong-the-wave")
    with pytest.raises(LibraryError, match="waiting for an instructor's recording"):
        wave.template()


def test_takes_are_numbered_after_earlier_ones_and_temp_files_ignored(tmp_path: Path,
                                                                      keraal_take) -> None:
    lib = Library.open([tmp_path], include_builtin=False)
    lib.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    first = lib.add_take("flow", keraal_take)
    (tmp_path / "flow" / "takes" / ".take-002.abc.tmp.npz").write_bytes(b"half a file")
    second = lib.add_take("flow", keraal_take.slice(0, 100))
    assert (first.name, second.name) == ("take-001.npz", "take-002.npz")
    exercise = lib.get("flow")
    assert [len(t) for t in exercise.takes] == [len(keraal_take), 100]
    assert exercise.template().takes == 2


def test_own_exercise_shadows_builtin_and_recording_copies_metadata(tmp_path: Path,
                                                                    keraal_take) -> None:
    lib = Library.open([tmp_path])
    own = lib.ensure_own("qigong-the-wave")
    assert not own.read_only and own.is_waiting
    lib.add_take("qigong-the-wave", keraal_take)
    wave = lib.get("qigong-the-wave")
    assert wave.folder == tmp_path / "qigong-the-wave" and not wave.is_waiting
    assert wave.meta.name == "The Wave / Dragon Back"


def test_remove_refuses_builtin_and_removes_own(tmp_path: Path, keraal_take) -> None:
    lib = Library.open([tmp_path])
    before = tree_hash(BUILTIN_DIR)
    with pytest.raises(LibraryError, match="built in"):
        lib.remove("squat")
    lib.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    lib.add_take("flow", keraal_take)
    lib.remove("flow")
    assert not (tmp_path / "flow").exists() and list(tmp_path.iterdir()) == []
    assert tree_hash(BUILTIN_DIR) == before


def test_export_then_import_round_trip(tmp_path: Path, keraal_take) -> None:
    lib = Library.open([tmp_path / "a"], include_builtin=False)
    lib.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    lib.add_take("flow", keraal_take)
    archive = lib.export("flow", tmp_path)
    assert archive.name == "flow.zip"
    other = Library.open([tmp_path / "b"], include_builtin=False)
    imported = other.import_path(archive)
    assert imported.slug == "flow" and len(imported.takes) == 1
    np.testing.assert_array_equal(imported.takes[0].image_xyz, keraal_take.image_xyz)
    with pytest.raises(LibraryError, match="already exists"):
        other.import_path(archive)
    renamed = other.import_path(archive, slug="flow-two")
    assert renamed.meta.name == "Test flow"
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["flow", "flow-two"]


def test_import_refuses_a_builtin_slug_and_exports_builtins(tmp_path: Path) -> None:
    lib = Library.open([tmp_path / "own"])
    archive = lib.export("squat", tmp_path / "squat.zip")
    names = zipfile.ZipFile(archive).namelist()
    assert "squat/exercise.toml" in names and "squat/LICENSE" in names
    with pytest.raises(LibraryError, match="already exists"):
        lib.import_path(archive)
    assert not (tmp_path / "own").exists() or list((tmp_path / "own").iterdir()) == []


@pytest.mark.parametrize("member", ["flow/../../evil.toml", "/abs/exercise.toml",
                                    "flow/takes/../../x.npz", "flow/run.sh", "flow/sub/x.npz"])
def test_archive_with_unexpected_members_is_refused(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("flow/exercise.toml", FLOWING_TOML)
        zf.writestr(member, "x")
    root = tmp_path / "own"
    root.mkdir()
    lib = Library.open([root], include_builtin=False)
    with pytest.raises(LibraryError):
        lib.import_path(archive)
    assert list(root.iterdir()) == []
    assert not (tmp_path / "evil.toml").exists()


def test_import_checks_every_take(tmp_path: Path, keraal_take) -> None:
    source = write_exercise(tmp_path / "src" / "flow", takes={
        "take-001.npz": recording_bytes(keraal_take), "take-002.npz": b"PK\x03\x04 broken"})
    root = tmp_path / "own"
    lib = Library.open([root], include_builtin=False)
    with pytest.raises(TakeError, match=r"take-002.npz"):
        lib.import_path(source)
    assert not root.exists() or [p.name for p in root.iterdir()] == []


def test_unreadable_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    write_exercise(tmp_path / "good")
    write_exercise(tmp_path / "bad", FLOWING_TOML.replace('view = "front"', 'view = "top"'))
    (tmp_path / "Not A Slug").mkdir()
    lib = Library.open([tmp_path], include_builtin=False)
    good, bad = lib.scan()
    assert [e.slug for e in good] == ["good"]
    assert len(bad) == 2
    assert any(isinstance(e, MetadataError) and "bad/exercise.toml: field 'view'" in str(e)
               for e in bad)
    assert any(isinstance(e, SlugError) for e in bad)
    with pytest.raises(MetadataError, match="field 'view'"):
        lib.get("bad")


def test_a_take_saved_at_the_same_time_is_not_overwritten(tmp_path: Path, keraal_take,
                                                          monkeypatch) -> None:  # noqa: ANN001
    import coach.library.store as store

    lib = Library.open([tmp_path], include_builtin=False)
    lib.save_meta("flow", parse_meta(FLOWING_TOML, "t"))
    lib.add_take("flow", keraal_take)
    lib.add_take("flow", keraal_take.slice(0, 50))
    other = (tmp_path / "flow" / "takes" / "take-002.npz").read_bytes()
    stale = store.take_paths(tmp_path / "flow")[:1]  # as listed before take-002 was saved
    monkeypatch.setattr(store, "take_paths", lambda folder: stale)
    third = lib.add_take("flow", keraal_take.slice(0, 80))
    assert third.name == "take-003.npz"
    assert (tmp_path / "flow" / "takes" / "take-002.npz").read_bytes() == other
    assert sorted(p.name for p in (tmp_path / "flow" / "takes").iterdir()) == [
        "take-001.npz", "take-002.npz", "take-003.npz"]
