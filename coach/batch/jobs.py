"""The job model: one input to score, named by a key that says exactly what its result depends on.

A result depends on the input's bytes, the reference(s) it is scored against (their content
versions), the frame stride, the pose model file, how many people the model looks for and the
result format. The key hashes all of
them, so a rerun with the same settings finds finished work, and any change makes a new key.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from coach.backend import DEFAULT_MAX_PEOPLE
from coach.errors import InputError

#: Bumped when the result JSON changes shape or meaning, so old results are not reused.
RESULT_FORMAT = 2
_CHUNK_BYTES = 1 << 20


def hash_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(folder: Path) -> list[Path]:
    """The visible files of an input folder (an image sequence), sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def hash_input(path: Path) -> tuple[str, int]:
    """Content hash and size in bytes of an input: a file, or a folder of images.

    A folder hashes the names and bytes of its visible files in name order, so renaming or
    editing any frame changes it. Raises ``InputError`` when the input cannot be read.
    """
    try:
        if path.is_dir():
            digest = hashlib.sha256(b"folder\0")
            size = 0
            for child in input_files(path):
                digest.update(child.name.encode() + b"\0" + hash_file(child).encode())
                size += child.stat().st_size
            return digest.hexdigest(), size
        if not path.exists():
            if path.is_symlink():
                raise InputError(f"{path}: a symbolic link that leads nowhere (a link loop, "
                                 "or its target is missing)")
            raise InputError(f"{path}: no such file or folder")
        if not path.is_file():
            raise InputError(f"{path}: not a regular file")
        return hash_file(path), path.stat().st_size
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def result_key(input_sha256: str, exercise: str, reference_version: str, stride: int,
               model_sha256: str, max_people: int = DEFAULT_MAX_PEOPLE) -> str:
    """The store key of one result: 32 hex digits over everything the result depends on.

    The default ``max_people`` adds nothing to the key, so results stored before the option
    existed (all made with the default) keep their keys.
    """
    people = "" if max_people == DEFAULT_MAX_PEOPLE else f"|people={max_people}"
    text = (f"format={RESULT_FORMAT}|input={input_sha256}|exercise={exercise}|"
            f"reference={reference_version}|stride={stride}|model={model_sha256}{people}")
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Job:
    """One input to score.

    path: the input as discovered (file, or folder of images).
    input_sha256: content hash of the input (see ``hash_input``).
    size_bytes: size of the input on disk.
    key: store key (see ``result_key``).
    exercise: the reference name, or "auto" for every reference of the library.
    stride: score every ``stride``-th frame (timestamps stay the source's own).
    annotate: also render an annotated video.
    """

    path: str
    input_sha256: str
    size_bytes: int
    key: str
    exercise: str
    stride: int
    annotate: bool

    @property
    def name(self) -> str:
        """Short display name: the file or folder name."""
        return os.path.basename(os.path.normpath(self.path))
