"""The references a batch scores against, packed so any worker (local or on a cluster) has them.

The batch's main process opens the library, picks the exercise named on the command line (or
every scorable one for ``--exercise auto``), and packs each exercise folder's metadata and
takes as bytes. A worker unpacks them once into a private folder and loads them with the
library's own loader, so it needs no access to the instructor's library folders.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coach.batch.scratch import make_scratch
from coach.errors import CoachError
from coach.library import METADATA_FILE, Exercise, Library, LibraryError, load_exercise

log = logging.getLogger(__name__)

AUTO = "auto"


@dataclass(frozen=True)
class ReferenceSet:
    """Packed references and their combined version.

    exercise: what was asked for: one exercise's slug, or "auto".
    bundles: slug -> {path relative to the exercise folder: file bytes} (metadata and takes).
    versions: slug -> content version of that exercise (metadata bytes + template version).
    version: one version over every packed exercise, for result keys.
    """

    exercise: str
    bundles: Mapping[str, Mapping[str, bytes]]
    versions: Mapping[str, str]
    version: str

    @property
    def slugs(self) -> tuple[str, ...]:
        """The packed exercises, in slug order."""
        return tuple(sorted(self.bundles))


def exercise_version(exercise: Exercise, metadata: bytes) -> str:
    """Content version of an exercise: its metadata file's bytes (``metadata``, as packed)
    and, for movements, the template.

    Raises the library's errors for a take or template that cannot be built.
    """
    digest = hashlib.sha256(metadata)
    if not exercise.is_held:
        digest.update(exercise.template().version.encode())
    return digest.hexdigest()[:16]


#: With ``--exercise auto``, a best match less than this many points ahead of the next best is
#: a close call: the movement may be none of the references.
CLOSE_CALL_POINTS = 10.0
#: With ``--exercise auto``, an input is not judged when its best match scores under
#: ``FAR_SCORE``, or is a close call scoring under ``CLEAR_SCORE``: it is far from every
#: exercise of the library, and any score would be one for a movement the person did not do.
#: Set on the sample clips: movements the library holds score 73-84 from other cameras and
#: lead by 30-40 points; a dance scores 67 and leads by 2, a sports clip 57 (lead 9).
FAR_SCORE, CLEAR_SCORE = 60.0, 70.0


def unmatched_reason(ranked: list[tuple[str, float]]) -> str | None:
    """Why the best of ``ranked`` ((exercise, overall) pairs, best first) is not a match, or
    None when it is one (see ``FAR_SCORE``)."""
    best, score = ranked[0]
    margin = score - ranked[1][1] if len(ranked) > 1 else None
    if score < FAR_SCORE:
        return (f"far from every exercise of the library (best: '{best}' {score:.0f}/100, "
                f"under {FAR_SCORE:.0f}), not judged")
    if margin is not None and margin < CLOSE_CALL_POINTS and score < CLEAR_SCORE:
        return (f"matches no exercise of the library clearly (best: '{best}' {score:.0f}/100, "
                f"{margin:.0f} points ahead of '{ranked[1][0]}'), not judged")
    return None


def _pack(exercise: Exercise) -> dict[str, bytes]:
    files = [exercise.folder / METADATA_FILE, *exercise.take_paths]
    return {p.relative_to(exercise.folder).as_posix(): p.read_bytes() for p in files}


def load_references(library: Library, exercise: str) -> ReferenceSet:
    """Pack ``exercise`` (a slug or display name) or, for "auto", every scorable exercise.

    Raises ``LibraryError`` when the exercise is unknown or cannot be scored (waiting for a
    recording), or when "auto" finds nothing to score against.
    """
    bundles: dict[str, dict[str, bytes]] = {}
    versions: dict[str, str] = {}
    if exercise == AUTO:
        for e in library.list():
            if e.is_waiting:
                continue
            try:  # every take loaded and checked, as ``Library.get`` does
                bundles[e.slug] = _pack(e)
                versions[e.slug] = exercise_version(e, bundles[e.slug][METADATA_FILE])
            except (CoachError, OSError) as exc:  # one broken exercise must not stop the rest
                bundles.pop(e.slug, None)
                log.warning("%s (left out of --exercise auto)", exc)
        if not bundles:
            raise LibraryError("--exercise auto: the library holds no exercise that can be "
                               "scored yet")
        name = AUTO
    else:
        found = library.get(exercise)
        found.require_recording("scored")
        bundles[found.slug] = _pack(found)
        versions[found.slug] = exercise_version(found, bundles[found.slug][METADATA_FILE])
        name = found.slug
    combined = hashlib.sha256("|".join(f"{s}:{v}" for s, v in sorted(versions.items()))
                              .encode()).hexdigest()[:16]
    return ReferenceSet(name, bundles, versions, combined)


class UnpackedReferences:
    """A worker's own copy of the packed references, loaded once; ``close`` removes it (and
    so does the end of the process or the object's collection, if ``close`` was missed)."""

    def __init__(self, bundles: Mapping[str, Mapping[str, bytes]]) -> None:
        self._folder = make_scratch("references")
        self._remove = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        self.exercises: dict[str, Exercise] = {}
        try:
            for slug, files in bundles.items():
                target = self._folder / slug
                for rel, data in files.items():
                    path = target / rel
                    if not path.resolve().is_relative_to(target.resolve()):
                        raise LibraryError(f"{slug}: packed file {rel!r} leaves its folder")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                self.exercises[slug] = load_exercise(target, read_only=True, load_takes=True)
        except BaseException:
            self.close()
            raise

    def get(self, slugs: Sequence[str]) -> list[Exercise]:
        """The exercises named by ``slugs``, in that order."""
        return [self.exercises[s] for s in slugs]

    def close(self) -> None:
        """Remove the unpacked copy."""
        self._remove()
