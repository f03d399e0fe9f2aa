"""Errors of the reference library; each message names the file or exercise and the fault."""

from __future__ import annotations

from coach.errors import CoachError, InputError, RecordingError


class LibraryError(CoachError):
    """The reference library cannot do what was asked (missing exercise, read-only folder)."""


class MetadataError(LibraryError, InputError):
    """An exercise's metadata file is malformed; the message names the file and the field."""


class SlugError(LibraryError):
    """An exercise name cannot be used as a folder name (path traversal, bad characters)."""


class TakeError(RecordingError):
    """A take (landmark recording) in the library is unreadable or not a usable recording."""


class TakeRejected(LibraryError):
    """A newly recorded take failed the quality check; the message gives the reason."""
