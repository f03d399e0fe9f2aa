"""Scratch folders of a batch: made under one folder per batch, removed on every way out.

A batch's main process makes ``<tmp>/coach-batch-<pid>-XXXX`` and its pool workers make every
temp folder of theirs inside it (unpacked references, staged inputs, rendering), so removing
that one folder at the end (normal end, an error, Ctrl-C or SIGTERM) removes them all. A batch
killed outright (SIGKILL, power loss) cannot clean up: every scratch folder carries the id of
the process that made it, and the next batch removes those whose process is gone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: Names of coach's scratch folders: ``coach-<what>-<process id>-<random>``.
SCRATCH_RE = re.compile(r"^coach-(batch|references|input|render)-(\d+)-")


def make_scratch(what: str, parent: str | Path | None = None) -> Path:
    """A new private folder ``coach-<what>-<pid>-XXXX`` in ``parent`` (default: the temp
    folder, or the batch's scratch folder inside a pool worker)."""
    return Path(tempfile.mkdtemp(prefix=f"coach-{what}-{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a process id we can ask about
    return True


def remove_stale_scratch(parent: str | Path | None = None) -> int:
    """Remove scratch folders whose process has ended (left by killed runs); return how many."""
    folder = Path(parent or tempfile.gettempdir())
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = SCRATCH_RE.match(entry.name)
        if not match or _alive(int(match.group(2))):
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += not os.path.exists(entry.path)
    if removed:
        log.info("%s: removed %d scratch folder(s) left by killed runs", folder, removed)
    return removed
