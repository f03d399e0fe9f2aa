"""Errors the command line turns into one clear line and a non-zero exit code."""


class CoachError(Exception):
    """A problem the user can act on; its message is one line naming the file and the fault."""


class InputError(CoachError):
    """An input file (video, image folder, landmark recording) is missing or unusable."""


class OutputError(CoachError):
    """An output file or folder cannot be written (not a folder, no permission, disk full)."""


class ModelError(CoachError):
    """The pose model bundle is missing, truncated or not a pose landmarker model."""


class RecordingError(InputError):
    """A landmark recording on disk is malformed or from an unknown format version."""


class NotJudgedError(CoachError):
    """An attempt the scorer refuses to judge: a score would say more than it knows."""


class NotEnoughPoseError(NotJudgedError):
    """A sequence holds too few frames with a visible person (or too short a stretch of
    movement) to be scored."""


class NoClearMatchError(NotJudgedError):
    """With ``--exercise auto``, the movement is far from every exercise of the library."""
