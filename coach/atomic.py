"""Atomic file writes: a temp file in the target's folder, fsync, then rename over the target.

A reader never sees a half-written file, and a process killed mid-write leaves the old file (or
no file) plus at most a hidden ``.<name>.*.tmp`` that nothing loads.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from coach.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode a newly created file gets (0o666 less the umask), for temp files that
    ``tempfile.mkstemp`` creates private (0o600)."""
    return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it is renamed onto ``path``, else removed.

    The temp name keeps the target's suffix, for libraries that choose a format by suffix.
    A target that cannot be written (its folder is a file, no permission, the disk is full, the
    target is a folder) raises ``OutputError`` naming it.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
        )
    except OSError as exc:
        why = exc.strerror or str(exc)
        for folder in (target.parent, *target.parent.parents):
            if folder.exists() and not folder.is_dir():
                why = f"{folder} is a file, not a folder"
                break
        raise OutputError(f"{target}: cannot be written ({why})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, default_file_mode())
        yield tmp
        try:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise OutputError(f"{target}: cannot be written ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb",
                 encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temp file for writing; it replaces ``path`` only if the block completes."""
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as handle:
        yield handle
        handle.flush()
