"""Input discovery: turn the command line's files, folders and globs into a list of inputs.

Rules, so a batch is predictable:
- a file named on the command line is always an input, whatever its suffix (a non-video file
  then becomes a row with its error, not a silent skip);
- a folder is searched recursively for videos and landmark recordings (and links named like
  them that lead nowhere, which then fail as inputs); a folder that holds
  images but no videos or recordings is one input (an image sequence);
- a glob (``*``, ``?``, ``[``; ``**`` recurses) expands like a list of names on the command
  line;
- a name that does not exist, or a glob that matches nothing, stays in the list: the batch
  reports it as a failed input instead of stopping;
- hidden files and folders (``.name``, including the atomic writers' temp files) are skipped;
- anything inside the batch's output folder is skipped, so an output folder kept inside the
  input folder is never read back as input;
- a name that cannot be resolved (a symbolic link loop) stays in the list as an input that
  fails, like a missing file;
- every input appears once, in a stable order (sorted within each argument).
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from coach.errors import InputError
from coach.recording import RECORDING_SUFFIXES
from coach.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES

log = logging.getLogger(__name__)

_GLOB_CHARS = frozenset("*?[")


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _resolved(path: Path) -> Path:
    """``path`` made absolute with its links followed; as far as it goes for a link loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before Python 3.13)
        return Path.cwd() / path


def _scan_folder(folder: Path) -> list[Path]:
    """Videos and recordings below ``folder``; the folder itself if it is an image sequence."""
    found = sorted(  # a link to nowhere (or a loop) is kept, so the batch reports it
        p for p in folder.rglob("*")
        if (p.is_file() or p.is_symlink() and not p.is_dir()) and not _is_hidden(p, folder)
        and p.suffix.lower() in VIDEO_SUFFIXES | RECORDING_SUFFIXES
    )
    if found:
        return found
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file()):
        return [folder]
    log.warning("%s: no videos, landmark recordings or images in this folder", folder)
    return []


def discover_inputs(specs: list[str], skip: Path | None = None) -> list[Path]:
    """Expand files, folders and globs into input paths (files, or image-sequence folders).

    skip: a folder whose contents are never inputs (the batch's output folder).
    Raises ``InputError`` only when nothing at all was named.
    """
    if not specs:
        raise InputError("no inputs given: name video files, landmark files, folders or globs")
    skipped = None if skip is None else _resolved(skip)
    seen: set[Path] = set()
    inputs: list[Path] = []
    for spec in specs:
        if _GLOB_CHARS & set(spec):
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
            if not matches:
                log.warning("%s: the pattern matches no file or folder", spec)
                matches = [Path(spec)]
            expanded = [q for m in matches for q in (_scan_folder(m) if m.is_dir() else [m])]
        else:
            path = Path(spec)
            expanded = _scan_folder(path) if path.is_dir() else [path]
        for path in expanded:
            key = _resolved(path)
            if skipped is not None and key.is_relative_to(skipped):
                log.info("%s: inside the output folder, not an input", path)
                continue
            if key not in seen:
                seen.add(key)
                inputs.append(path)
    return inputs
