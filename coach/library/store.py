"""The reference library on disk: exercise folders in a search path of library roots.

One folder per exercise, named by its slug::

    <root>/<slug>/exercise.toml        metadata (see ``coach.library.meta``)
    <root>/<slug>/takes/take-001.npz   one landmark recording per instructor take
    <root>/<slug>/takes/take-001.mp4   the take's video, when kept (coach.library.take_video)
    <root>/<slug>/LICENSE, NOTICE.md   where recordings come from (optional)

Roots are searched in order and an earlier root's exercise hides a later one of the same slug.
The first root is the instructor's own, writable library (``--library DIR``, else the
``COACH_LIBRARY`` environment variable, else ``$XDG_DATA_HOME/coach/references``); the built-in
library (``reference_poses/``, see ``coach.shipped_folder``) comes last and is never written.
Every write is atomic: a take killed mid-write leaves only a hidden temp file that nothing loads.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Literal

import numpy as np

from coach import shipped_folder
from coach.atomic import atomic_path, atomic_write, default_file_mode
from coach.errors import CoachError, OutputError
from coach.library.errors import LibraryError, MetadataError, SlugError, TakeError
from coach.library.meta import (
    MAX_METADATA_BYTES,
    METADATA_FILE,
    ExerciseMeta,
    check_slug,
    meta_to_toml,
    parse_meta,
    read_meta,
)
from coach.params import DEFAULT_PARAMS, ScoringParams
from coach.pose import PoseSequence
from coach.readers import check_regular_file, zip_member_fault
from coach.text import printable

if TYPE_CHECKING:
    from coach.scorer import Scorer
    from coach.template import Template

log = logging.getLogger(__name__)

ENV_VAR = "COACH_LIBRARY"
BUILTIN_DIR = shipped_folder("reference_poses")
TAKES_DIR = "takes"
TAKE_RE = re.compile(r"^take-(\d{3,6})\.(npz|json)$")
#: A take's kept video has the take's name with this suffix (``take-001.mp4``).
TAKE_VIDEO_SUFFIX = ".mp4"
TAKE_VIDEO_RE = re.compile(r"^take-(\d{3,6})\.mp4$")
#: Files besides the metadata and the takes that an exercise folder may carry.
EXTRA_FILE_RE = re.compile(r"^(LICENSE|NOTICE|README)(\.[A-Za-z0-9]{1,8})?$")
#: What an exercise folder may hold, for messages (see ``_allowed_member``).
ALLOWED_MEMBERS = (f"{METADATA_FILE}, takes/take-NNN.npz (or .json), takes/take-NNN.mp4 "
                   "(the video of the take of that number), LICENSE, NOTICE, README")
#: Longest take accepted, in frames (an hour at 30 fps).
MAX_TAKE_FRAMES = 108_000
#: Largest take file read, in bytes. A saved take (.npz) measured about 1 kB per frame, so
#: ``MAX_TAKE_FRAMES`` frames come to about 100 MB; a take larger than this is not saved.
MAX_TAKE_BYTES = 160 * 1024 * 1024
#: Largest take video stored or imported, in bytes. Kept by ``coach record --keep-video``
#: (at most 640 px, H.264), the sample clips came to 1.1-4.3 MB a minute, so this holds an
#: hour's take (``MAX_TAKE_FRAMES``) at up to 5 MB a minute; a larger one is not saved.
MAX_TAKE_VIDEO_BYTES = 320 * 1024 * 1024
#: Fewest frames with a person that a take must hold.
MIN_TAKE_FRAMES = 5
#: Largest exercise archive read, uncompressed, in bytes.
MAX_ARCHIVE_BYTES = 8 * MAX_TAKE_BYTES
#: Largest license, notice or readme file of an exercise, in bytes (real ones are a few kB).
MAX_EXTRA_FILE_BYTES = 1024 * 1024
#: Most members in an exercise archive (metadata, license files and takes).
MAX_ARCHIVE_MEMBERS = 1000
#: Highest ratio of a member's unpacked to packed size. Takes (compressed .npz) pack about
#: 1:1 and text about 3:1; a file of zeros packs 1000:1, the mark of an archive bomb.
MAX_COMPRESSION_RATIO = 100


def user_library_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user library folder: ``$XDG_DATA_HOME/coach/references`` (default ~/.local/share)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "coach" / "references"


@dataclass(frozen=True)
class LibraryRoot:
    """One folder of exercise folders; ``writable`` is False for the built-in library."""

    path: Path
    writable: bool


# ---------------------------------------------------------------------------------------------
# Takes


def take_number(path: Path) -> int:
    """The number of a take file (``take-007.npz`` -> 7); ValueError for another name."""
    found = TAKE_RE.match(path.name)
    if found is None:
        raise ValueError(f"{path}: not a take file name")
    return int(found.group(1))


def take_video_path(take: Path) -> Path | None:
    """The video kept beside the take file ``take``, or None when there is none."""
    video = take.with_suffix(TAKE_VIDEO_SUFFIX)
    return video if video.is_file() else None


def take_paths(folder: Path) -> tuple[Path, ...]:
    """The take files of an exercise folder (landmark recordings, not their videos), in
    take-number order (temp files are ignored)."""
    takes = folder / TAKES_DIR
    if not takes.is_dir():
        return ()
    found = [(int(m.group(1)), p) for p in takes.iterdir()
             if (m := TAKE_RE.match(p.name)) and p.is_file()]
    return tuple(p for _, p in sorted(found))


def check_take(seq: PoseSequence, where: str) -> PoseSequence:
    """Refuse a sequence that cannot serve as a reference take; return it unchanged."""
    n = len(seq)
    if n > MAX_TAKE_FRAMES:
        raise TakeError(f"{where}: {n} frames, more than a take may hold ({MAX_TAKE_FRAMES})")
    if not np.isfinite(seq.timestamps_ms).all():
        raise TakeError(f"{where}: timestamps are not all finite numbers")
    for name, array in (("image_xyz", seq.image_xyz), ("world_xyz", seq.world_xyz)):
        if array is not None and np.isinf(array).any():
            raise TakeError(f"{where}: {name} holds infinite coordinates")
    if not np.isfinite(seq.visibility).all():
        raise TakeError(f"{where}: visibility holds NaN or infinite values")
    present = int(seq.present.sum())
    if present < MIN_TAKE_FRAMES:
        raise TakeError(f"{where}: only {present} frames with a person, a take needs at least "
                        f"{MIN_TAKE_FRAMES}")
    return seq


def load_take(path: Path) -> PoseSequence:
    """Load and check one take file; every failure is a ``TakeError`` naming the file."""
    from coach.recording import load_recording

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TakeError(f"{path}: cannot be read: {exc.strerror}") from None
    if size > MAX_TAKE_BYTES:
        raise TakeError(f"{path}: {size} bytes, larger than a take may be ({MAX_TAKE_BYTES})")
    try:
        seq = load_recording(path)
    except TakeError:
        raise
    except CoachError as exc:
        raise TakeError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, OSError, EOFError,
            zipfile.BadZipFile) as exc:
        raise TakeError(f"{path}: not a usable landmark recording ({exc})") from None
    return check_take(seq, str(path))


# ---------------------------------------------------------------------------------------------
# Exercises


@dataclass(frozen=True, eq=False)
class Exercise:
    """One exercise of the library: checked metadata plus its takes (loaded on first use).

    slug: the folder name, used on the command line.
    folder: the exercise folder.
    meta: the checked metadata.
    take_paths: the take files, in order.
    read_only: True for the built-in library.
    """

    slug: str
    folder: Path
    meta: ExerciseMeta
    take_paths: tuple[Path, ...]
    read_only: bool

    @property
    def name(self) -> str:
        """The display name."""
        return self.meta.name

    @property
    def is_held(self) -> bool:
        """A held posture, scored by time inside its targets."""
        return self.meta.is_held

    @property
    def is_waiting(self) -> bool:
        """A flowing movement with no recording yet: it cannot be scored until one is made."""
        return self.meta.kind == "flowing" and not self.take_paths

    @property
    def status(self) -> str:
        """One plain phrase for listings."""
        if self.is_waiting:
            return "waiting for an instructor's recording"
        videos = sum(take_video_path(p) is not None for p in self.take_paths)
        takes = f"{len(self.take_paths)} take(s)" + (f", {videos} with video" if videos else "")
        if self.meta.hold is not None:
            extra = f", {takes}" if self.take_paths else ""
            return f"held posture, {len(self.meta.hold.targets)} targets{extra}"
        return takes

    def require_recording(self, verb: str = "scored") -> None:
        """Refuse (``LibraryError``) a movement still waiting for its first recording.

        ``verb`` says what cannot be done yet: "scored", "coached"."""
        if self.is_waiting:
            raise LibraryError(f"'{self.slug}' is waiting for an instructor's recording and "
                               f"cannot be {verb} yet (record it: coach record {self.slug} "
                               "--source CAMERA_OR_VIDEO)")

    def scorer(self, mirror: bool = False, params: ScoringParams = DEFAULT_PARAMS) -> Scorer:
        """The scorer of this exercise (``coach.scorer``): a held posture's targets, or the
        template of a flowing movement (``LibraryError`` while it waits for a recording).

        ``mirror``: also compare with the mirror image (a person following as in a mirror,
        the other side of a one-sided exercise). Exercises whose takes have left and right
        mirrored always compare mirrored; one-sided exercises done on either side
        (``either_side``) are scored offline both ways, the better kept, and held postures
        live take the closer side frame by frame.
        """
        meta = self.meta
        live_mirror = mirror or meta.left_right_mirrored
        if self.is_held:
            from coach.library.held import HeldScorer

            return HeldScorer(meta, self.slug, live_mirror or meta.either_side, params)
        self.require_recording("scored")
        from coach.scorer import FlowingScorer

        offline: bool | Literal["auto"] = "auto" if live_mirror or meta.either_side else False
        return FlowingScorer(self.template(params), offline, live_mirror, params)

    @cached_property
    def takes(self) -> tuple[PoseSequence, ...]:
        """Every take, loaded and checked (raises ``TakeError`` naming a bad file)."""
        return tuple(load_take(p) for p in self.take_paths)

    def template(self, params: ScoringParams = DEFAULT_PARAMS) -> Template:
        """The reference movement built from all takes (see ``coach.library.multitake``),
        built once per set of scoring parameters."""
        if params not in self._templates:
            from coach.library.multitake import template_from_takes

            if not self.take_paths:
                raise LibraryError(f"exercise '{self.slug}' has no recording yet: it is waiting "
                                   "for an instructor's recording (`coach record "
                                   f"{self.slug} --source ...`)")
            self._templates[params] = template_from_takes(self.takes, name=self.slug,
                                                          meta=self.meta, params=params)
        return self._templates[params]

    @cached_property
    def _templates(self) -> dict[ScoringParams, Template]:
        return {}


def load_exercise(folder: Path, read_only: bool, *, load_takes: bool = False) -> Exercise:
    """Read one exercise folder; with ``load_takes`` every take is loaded and checked too."""
    slug = check_slug(folder.name)
    meta = read_meta(folder / METADATA_FILE)
    try:
        takes = take_paths(folder)
    except OSError as exc:
        raise LibraryError(f"{folder / TAKES_DIR}: cannot be read "
                           f"({exc.strerror or type(exc).__name__})") from None
    exercise = Exercise(slug, folder, meta, takes, read_only)
    if load_takes:
        _ = exercise.takes
    return exercise


# ---------------------------------------------------------------------------------------------
# The library


class Library:
    """Exercise folders in a search path of roots; the first writable root takes new work."""

    def __init__(self, roots: Sequence[LibraryRoot]) -> None:
        self.roots = tuple(roots)

    @classmethod
    def open(cls, extra_dirs: Iterable[str | os.PathLike[str]] = (), *,
             include_builtin: bool = True, env: Mapping[str, str] | None = None) -> Library:
        """The search path: ``extra_dirs`` (``--library``), else ``COACH_LIBRARY`` (several
        folders separated by ``os.pathsep``), else the per-user folder; then the built-in one."""
        env = os.environ if env is None else env
        dirs = [Path(d).expanduser() for d in extra_dirs]
        dirs += [Path(d).expanduser() for d in env.get(ENV_VAR, "").split(os.pathsep) if d]
        if not dirs:
            dirs = [user_library_dir(env)]
        roots: list[LibraryRoot] = []
        for d in dirs:
            if d.exists() and not d.is_dir():
                raise LibraryError(f"{d}: library folder is a file, not a folder")
            if all(r.path.resolve() != d.resolve() for r in roots):
                roots.append(LibraryRoot(d, writable=True))
        if include_builtin and BUILTIN_DIR.is_dir() and all(
                r.path.resolve() != BUILTIN_DIR.resolve() for r in roots):
            roots.append(LibraryRoot(BUILTIN_DIR, writable=False))
        return cls(roots)

    @property
    def writable_dir(self) -> Path:
        """The instructor's own library, where recordings, imports and removals happen."""
        for root in self.roots:
            if root.writable:
                return root.path
        raise LibraryError("no writable library folder (use --library DIR or COACH_LIBRARY)")

    def _folders(self) -> list[tuple[Path, bool]]:
        """Every exercise folder (first root wins per slug), with its read-only flag."""
        seen: dict[str, tuple[Path, bool]] = {}
        for root in self.roots:
            if not root.path.is_dir():
                continue
            try:
                folders = sorted(root.path.iterdir())
            except OSError as exc:
                raise LibraryError(f"{root.path}: library folder cannot be read "
                                   f"({exc.strerror or type(exc).__name__})") from None
            for folder in folders:
                if folder.name.startswith(".") or not folder.is_dir():
                    continue
                seen.setdefault(folder.name, (folder, not root.writable))
        return [seen[k] for k in sorted(seen)]

    def scan(self) -> tuple[list[Exercise], list[LibraryError | MetadataError]]:
        """All readable exercises, sorted by slug, and one error per unreadable folder: one
        broken or hostile folder never hides the others."""
        good: list[Exercise] = []
        bad: list[LibraryError | MetadataError] = []
        for folder, read_only in self._folders():
            try:
                good.append(load_exercise(folder, read_only))
            except LibraryError as exc:
                log.warning("%s", exc)
                bad.append(exc)
        return good, bad

    def list(self) -> list[Exercise]:
        """All readable exercises, sorted by slug (unreadable folders are logged and skipped)."""
        return self.scan()[0]

    def find_folder(self, name: str) -> tuple[Path, bool] | None:
        """The folder of an exercise by slug, or None."""
        slug = check_slug(name)
        for root in self.roots:
            folder = root.path / slug
            if folder.is_dir():
                return folder, not root.writable
        return None

    def get(self, name: str) -> Exercise:
        """An exercise by slug or display name (case-insensitive), takes loaded and checked."""
        key = name.strip()
        slug = key.lower()
        try:
            check_slug(slug)
        except SlugError:
            slug = ""
        found = self.find_folder(slug) if slug else None
        if found is None:
            listed = self.list()
            matches = [e for e in listed if e.meta.name.lower() == key.lower()]
            if not matches:
                known = ", ".join(e.slug for e in listed) or "none"
                raise LibraryError(f"no exercise called '{name}' in the library "
                                   f"(known: {known})")
            found = (matches[0].folder, matches[0].read_only)
        return load_exercise(found[0], found[1], load_takes=True)

    # -- writing ------------------------------------------------------------------------------

    def _own_folder(self, slug: str) -> Path:
        return self.writable_dir / check_slug(slug)

    def save_meta(self, slug: str, meta: ExerciseMeta, *, replace: bool = False) -> Exercise:
        """Write an exercise's metadata into the writable library (new unless ``replace``)."""
        folder = self._own_folder(slug)
        target = folder / METADATA_FILE
        if target.exists() and not replace:
            raise LibraryError(f"{folder}: an exercise '{slug}' already exists there")
        text = meta_to_toml(meta)
        read_back = parse_meta(text, str(target))
        with atomic_write(target, "w") as handle:
            handle.write(text)
        log.info("wrote %s (%s)", target, read_back.name)
        return load_exercise(folder, read_only=False)

    def ensure_own(self, slug: str, meta: ExerciseMeta | None = None) -> Exercise:
        """The exercise in the writable library, created from ``meta`` or from a read-only
        library's copy of the same slug (metadata only: the instructor's takes start afresh)."""
        folder = self._own_folder(slug)
        if (folder / METADATA_FILE).exists():
            return load_exercise(folder, read_only=False)
        found = self.find_folder(slug)
        if meta is None and found is not None:
            meta = read_meta(found[0] / METADATA_FILE)
        if meta is None:
            raise LibraryError(f"no exercise '{slug}' yet: give its metadata to create it")
        return self.save_meta(slug, meta)

    def add_take(self, slug: str, seq: PoseSequence, video: Path | None = None) -> Path:
        """Save a take after the earlier ones (``takes/take-NNN.npz``), with ``video`` (a
        take video, ``coach.library.take_video``) copied beside it as ``take-NNN.mp4``.

        Each file is written and synced under a hidden temp name, then hard-linked to the
        first number free for both (the video first, so a take never appears without the
        video it was saved with): a file is never half-written under its real name, two
        recordings saved at once never overwrite each other, and a failure leaves neither.
        A video larger than ``MAX_TAKE_VIDEO_BYTES`` is refused (``TakeError``) before
        anything is written."""
        from coach.recording import recording_bytes

        folder = self._own_folder(slug)
        if not (folder / METADATA_FILE).exists():
            raise LibraryError(f"{folder}: no exercise '{slug}' in the writable library")
        check_take(seq, f"take for '{slug}'")
        if video is not None:
            check_regular_file(video, MAX_TAKE_VIDEO_BYTES, "a take's video", TakeError)
        takes = folder / TAKES_DIR
        takes.mkdir(exist_ok=True)
        data = recording_bytes(seq, "npz")
        if len(data) > MAX_TAKE_BYTES:
            raise TakeError(f"take for '{slug}': {len(data)} bytes, larger than a take may be "
                            f"({MAX_TAKE_BYTES})")
        try:
            with ExitStack() as temps:
                tmp = temps.enter_context(_synced_temp(takes, ".npz",
                                                       lambda out: out.write(data)))
                tmp_video = None
                if video is not None:
                    kept = video
                    tmp_video = temps.enter_context(_synced_temp(
                        takes, TAKE_VIDEO_SUFFIX, lambda out: _copy_file(kept, out)))
                existing = take_paths(folder)
                number = take_number(existing[-1]) + 1 if existing else 1
                while not _link_take(tmp, tmp_video, takes / f"take-{number:03d}.npz"):
                    number += 1
        except OSError as exc:
            raise OutputError(f"{takes}: the take for '{slug}' cannot be saved "
                              f"({exc.strerror or exc})") from None
        target = takes / f"take-{number:03d}.npz"
        log.info("saved take %s (%d frames%s)", target, len(seq),
                 "" if video is None else ", with its video")
        return target

    def remove(self, name: str) -> Path:
        """Delete an exercise from the writable library; built-in exercises are refused."""
        found = self.find_folder(name)
        if found is None:
            raise LibraryError(f"no exercise called '{name}' in the library")
        folder, read_only = found
        if read_only:
            raise LibraryError(f"{folder}: '{name}' is built in and cannot be removed")
        trash = Path(tempfile.mkdtemp(prefix=f".removed-{folder.name}.", dir=folder.parent))
        os.replace(folder, trash / folder.name)
        shutil.rmtree(trash)
        log.info("removed %s", folder)
        return folder

    def export(self, name: str, dest: str | os.PathLike[str]) -> Path:
        """Write an exercise (metadata, takes and their videos, license files) as one zip
        archive.

        ``dest`` is a ``.zip`` path or a folder that receives ``<slug>.zip``."""
        exercise = self.get(name)
        target = Path(dest)
        if target.is_dir():
            target = target / f"{exercise.slug}.zip"
        if target.suffix.lower() != ".zip":
            raise LibraryError(f"{target}: export writes a .zip archive")
        with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(exercise.folder.rglob("*")):
                rel = path.relative_to(exercise.folder)
                if path.is_file() and _allowed_member(rel.as_posix()):
                    # a video is compressed already: stored as it is
                    zf.write(path, f"{exercise.slug}/{rel.as_posix()}",
                             zipfile.ZIP_STORED if path.suffix == TAKE_VIDEO_SUFFIX else None)
        return target

    def import_path(self, source: str | os.PathLike[str], *, slug: str | None = None) -> Exercise:
        """Add an exercise from a folder or an exported zip; checked in full before it appears.

        Refuses an exercise whose slug already exists anywhere in the search path."""
        source = Path(source)
        if not source.exists():
            raise LibraryError(f"{source}: no such file or folder")
        root = self.writable_dir
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import.", dir=root))
        try:
            if source.is_dir():
                name = check_slug(source.name if slug is None else slug)
                _copy_exercise_folder(source, staging / name)
                shown = str(source)
            else:
                name = _unpack_archive(source, staging, slug)
                shown = f"{source}:{name}"
            try:
                load_exercise(staging / name, read_only=False, load_takes=True)
                _check_take_videos(staging / name)
            except CoachError as exc:  # name the user's file, not the staging copy
                raise type(exc)(str(exc).replace(str(staging / name), shown)) from None
            if self.find_folder(name) is not None:
                raise LibraryError(f"an exercise '{name}' already exists in the library "
                                   "(remove it first, or import under another name)")
            final = root / name
            os.rename(staging / name, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("imported %s as %s", source, final)
        return load_exercise(final, read_only=False, load_takes=True)


@contextmanager
def _synced_temp(folder: Path, suffix: str, fill: Callable[[IO[bytes]], object]
                 ) -> Iterator[Path]:
    """A hidden temp file in ``folder`` (``.take.*.tmp<suffix>``, which no take name
    matches), written by ``fill``, synced and given the default file mode; removed when the
    block ends (the take's names are hard links to it by then)."""
    fd, tmp_name = tempfile.mkstemp(prefix=".take.", suffix=f".tmp{suffix}", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), default_file_mode())
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _copy_file(path: Path, out: IO[bytes]) -> None:
    """Copy the file at ``path`` into the open file ``out``."""
    with open(path, "rb") as source:
        shutil.copyfileobj(source, out)


def _link_take(tmp: Path, tmp_video: Path | None, target: Path) -> bool:
    """Hard-link ``tmp`` to the take name ``target`` and ``tmp_video`` (None: no video) to
    the video name beside it, the video first; False, with nothing linked, when either name
    is taken. A video already under the video name (left there by hand) also takes the
    number, so it is never shown with a take it was not recorded with."""
    video_target = target.with_suffix(TAKE_VIDEO_SUFFIX)
    try:
        if tmp_video is None:
            if os.path.lexists(video_target):
                return False
        else:
            os.link(tmp_video, video_target)
    except FileExistsError:
        return False
    try:
        os.link(tmp, target)
    except BaseException as exc:
        if tmp_video is not None:
            video_target.unlink(missing_ok=True)
        if isinstance(exc, FileExistsError):
            return False
        raise
    return True


def _allowed_member(rel: str) -> bool:
    """Whether a path inside an exercise folder belongs to the exercise (posix, relative)."""
    parts = PurePosixPath(rel).parts
    if len(parts) == 1:
        return parts[0] == METADATA_FILE or bool(EXTRA_FILE_RE.match(parts[0]))
    return len(parts) == 2 and parts[0] == TAKES_DIR and bool(
        TAKE_RE.match(parts[1]) or TAKE_VIDEO_RE.match(parts[1]))


def _member_limit(rel: str) -> int:
    """Largest size of an exercise folder's file, by what it is (see ``_allowed_member``)."""
    if rel == METADATA_FILE:
        return MAX_METADATA_BYTES
    if rel.startswith(f"{TAKES_DIR}/"):
        return MAX_TAKE_VIDEO_BYTES if rel.endswith(TAKE_VIDEO_SUFFIX) else MAX_TAKE_BYTES
    return MAX_EXTRA_FILE_BYTES


def _too_large(where: str, size: int, rel: str) -> LibraryError | TakeError:
    """The error for a file of an exercise folder larger than its kind may be."""
    if rel.startswith(f"{TAKES_DIR}/"):
        what = "a take's video" if rel.endswith(TAKE_VIDEO_SUFFIX) else "a take"
        return TakeError(f"{where}: {size} bytes, larger than {what} may be "
                         f"({_member_limit(rel)})")
    return LibraryError(f"{where}: {size} bytes, more than such a file may hold "
                        f"({_member_limit(rel)})")


def _check_take_videos(folder: Path) -> None:
    """Refuse (``TakeError``) a take video of an exercise folder without the take of its
    number beside it, or that is not a readable video."""
    from coach.sources import VideoFileSource

    takes = folder / TAKES_DIR
    videos = sorted(takes.glob(f"take-*{TAKE_VIDEO_SUFFIX}")) if takes.is_dir() else []
    for video in videos:
        if not any(video.with_suffix(s).is_file() for s in (".npz", ".json")):
            raise TakeError(f"{video}: a take's video needs the take of the same number "
                            f"beside it ({video.stem}.npz or .json)")
        try:
            VideoFileSource(video, decode_threads=1).close()
        except CoachError as exc:
            raise TakeError(str(exc)) from None


def _copy_exercise_folder(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source).as_posix()
        if path.is_symlink():
            raise LibraryError(f"{path}: symbolic links are not imported")
        if path.is_file():
            if not _allowed_member(rel):
                if PurePosixPath(rel).name.startswith("."):
                    continue
                raise LibraryError(f"{path}: not part of an exercise folder (expected "
                                   f"{ALLOWED_MEMBERS})")
            size = path.stat().st_size
            if size > _member_limit(rel):
                raise _too_large(str(path), size, rel)
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / rel)
    if not (target / METADATA_FILE).exists():
        raise MetadataError(f"{source / METADATA_FILE}: missing (every exercise folder needs one)")


def _check_archive_member(source: Path, info: zipfile.ZipInfo, inner: str) -> None:
    """Refuse a member that is encrypted, packed with a method other than store or deflate,
    a link, larger than its kind of file may be, or packed suspiciously tightly (a bomb)."""
    shown = printable(info.filename)[:80]
    if not inner or not _allowed_member(inner):
        raise LibraryError(f"{source}: unexpected member {shown!r} (expected "
                           f"{ALLOWED_MEMBERS}, in one folder)")
    fault = zip_member_fault(info)
    if fault:
        raise LibraryError(f"{source}: {fault}")
    if info.file_size > _member_limit(inner):
        raise _too_large(f"{source}: member {shown!r}", info.file_size, inner)
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1024):
        raise LibraryError(f"{source}: member {shown!r} unpacks {info.file_size} bytes from "
                           f"{info.compress_size} (more than {MAX_COMPRESSION_RATIO}:1, an "
                           "archive bomb)")


def _unpack_archive(source: Path, staging: Path, slug: str | None) -> str:
    """Check and unpack an exported zip (one top folder) into ``staging``; return its slug.

    Every member is checked (``_check_archive_member``) before anything is unpacked, and no
    member is unpacked beyond the size it declares."""
    check_regular_file(source, MAX_ARCHIVE_BYTES, "an exercise archive", LibraryError)
    try:
        with zipfile.ZipFile(source) as zf:
            listed = zf.infolist()
            if len(listed) > MAX_ARCHIVE_MEMBERS:
                raise LibraryError(f"{source}: more than {MAX_ARCHIVE_MEMBERS} members")
            infos = [i for i in listed if not i.is_dir()]
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise LibraryError(f"{source}: a member appears twice in the archive")
            tops = {PurePosixPath(i.filename).parts[0] for i in infos if i.filename}
            if len(tops) != 1:
                raise LibraryError(f"{source}: expected one exercise folder in the archive, "
                                   f"found {len(tops)}")
            try:
                name = check_slug(tops.pop() if slug is None else slug)
            except SlugError as exc:
                raise SlugError(f"{source}: {exc}") from None
            members = []
            for member in infos:
                rel = PurePosixPath(member.filename)
                inner = PurePosixPath(*rel.parts[1:]).as_posix() if len(rel.parts) > 1 else ""
                _check_archive_member(source, member, inner)
                members.append((member, inner))
            total = sum(m.file_size for m, _ in members)
            if total > MAX_ARCHIVE_BYTES:
                raise LibraryError(f"{source}: unpacks to {total} bytes, more than "
                                   f"{MAX_ARCHIVE_BYTES}")
            for member, inner in members:
                out = staging / name / inner
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError, zlib.error) as exc:
        reason = printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:120]
        raise LibraryError(f"{source}: not a readable exercise archive ({reason})") from None
    return name
