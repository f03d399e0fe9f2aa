"""The result store: one JSON per scored input, written atomically, found again by its key.

Layout under the output folder:
    results/<key>.json   the result (written last: its presence means "done")
    thumbs/<key>-<n>.jpg thumbnails of the worst moments with the skeleton drawn
    videos/<key>.mp4     annotated video, when asked for
Every file is written through ``coach.atomic``, artefacts before the JSON that names them, so a
batch killed at any moment leaves finished results whole, no half-written file, and at worst
a few complete artefacts that the rerun writes again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach.atomic import atomic_write

log = logging.getLogger(__name__)

RESULTS_DIR = "results"
THUMBS_DIR = "thumbs"
VIDEOS_DIR = "videos"


@dataclass(frozen=True)
class Outcome:
    """What scoring one input produced, before it is stored.

    result: the JSON-ready result (see ``coach.batch.worker`` for its fields).
    artefacts: files to write, relative path under the output folder -> bytes.
    """

    result: dict[str, Any]
    artefacts: dict[str, bytes] = field(default_factory=dict)


class ResultStore:
    """Results of a batch under one output folder; one writer (the batch's main process)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def result_path(self, key: str) -> Path:
        """Where the result for ``key`` lives."""
        return self.root / RESULTS_DIR / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored result for ``key``, or None when there is none (or it is unreadable)."""
        path = self.result_path(key)
        try:
            with open(path, encoding="utf-8") as handle:
                result = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("%s: ignoring an unreadable result (%s); it will be scored again",
                        path, exc)
            return None
        if not isinstance(result, dict) or result.get("key") != key:
            log.warning("%s: ignoring a result that does not match its key", path)
            return None
        missing = [name for name in _artefact_names(result) if not (self.root / name).is_file()]
        if missing:
            log.warning("%s: ignoring a result whose files are missing (%s)", path, missing[0])
            return None
        return result

    def remove_stale_temps(self) -> int:
        """Delete temp files a killed batch left behind (hidden ``.*.tmp*`` files in the store's
        folders); return how many. One batch at a time may write to an output folder."""
        removed = 0
        for folder in (RESULTS_DIR, THUMBS_DIR, VIDEOS_DIR):
            for path in (self.root / folder).glob(".*.tmp*"):
                path.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.info("%s: removed %d unfinished temp file(s) of an earlier run", self.root,
                     removed)
        return removed

    def save(self, outcome: Outcome) -> Path:
        """Write the artefacts, then the result JSON; return the JSON's path."""
        for name, data in outcome.artefacts.items():
            target = self.root / name
            if not target.resolve().is_relative_to(self.root.resolve()):
                raise ValueError(f"{name}: artefact path leaves the output folder")
            with atomic_write(target) as handle:
                handle.write(data)
        path = self.result_path(outcome.result["key"])
        with atomic_write(path, "w") as handle:
            json.dump(outcome.result, handle, indent=1, allow_nan=False)
            handle.write("\n")
        return path


def _artefact_names(result: dict[str, Any]) -> list[str]:
    names = [thumb["file"] for thumb in result.get("thumbnails") or []]
    if result.get("annotated_video"):
        names.append(result["annotated_video"])
    return names
