"""Checks every file reader makes before it reads: what the file is, and how large.

A FIFO or a device named like an input would block a reader forever or never end; a small
archive may declare members that unpack to gigabytes or that the reader cannot open. These
checks look only at metadata (``stat``, zip headers), so they cost nothing and allocate
nothing; each failure is one line naming the file and the limit.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from coach.errors import CoachError, InputError
from coach.text import printable


def check_regular_file(path: Path, limit: int, what: str,
                       error: type[CoachError] = InputError) -> int:
    """Refuse (``error``) anything but a regular file of at most ``limit`` bytes; ``what``
    names the kind of file in the message. Returns the size."""
    try:
        info = path.stat()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file")
    if info.st_size > limit:
        raise error(f"{path}: {info.st_size} bytes, larger than {what} may be ({limit})")
    return info.st_size


def zip_member_fault(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member cannot be read safely (encrypted, a compression method other than
    store or deflate, a symbolic link), or None. The member is named in the reason."""
    shown = repr(printable(info.filename)[:80])
    if info.flag_bits & 0x1:
        return f"member {shown} is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (f"member {shown} uses an unsupported compression method "
                f"({info.compress_type}; store and deflate are read)")
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"member {shown} is a symbolic link"
    return None
