"""The reference library: instructors' exercises, their takes, templates and scoring.

    from coach.library import Library

    library = Library.open(["~/my-references"])   # + COACH_LIBRARY, + the built-in library
    for exercise in library.list():
        print(exercise.slug, exercise.meta.kind, exercise.status)
    squat = library.get("squat")                   # metadata and takes checked
    report = squat.scorer().score(attempt_sequence)  # a coach.report.Report
    print(report.summary_text())

``Exercise.scorer()`` hands out the exercise's scorer (``coach.scorer``: ``score`` offline,
``stream`` live); ``Exercise.template()`` is a flowing movement's ``Template`` averaged over
every take;
``Exercise.is_waiting`` is True for a flowing movement with no recording yet.
"""

from coach.library.errors import (
    LibraryError,
    MetadataError,
    SlugError,
    TakeError,
    TakeRejected,
)
from coach.library.held import HeldScorer, score_held
from coach.library.meta import (
    FORMAT_VERSION,
    METADATA_FILE,
    ExerciseMeta,
    HoldSpec,
    check_slug,
    meta_from_dict,
    meta_to_toml,
    parse_meta,
    read_meta,
    slugify,
)
from coach.library.store import (
    BUILTIN_DIR,
    ENV_VAR,
    Exercise,
    Library,
    LibraryRoot,
    load_exercise,
    load_take,
    user_library_dir,
)
from coach.library.takes import TakeQuality, check_quality, prepare_take, trim_still

__all__ = [
    "BUILTIN_DIR", "ENV_VAR", "FORMAT_VERSION", "METADATA_FILE", "Exercise", "ExerciseMeta",
    "HeldScorer", "HoldSpec", "Library", "LibraryError", "LibraryRoot",
    "MetadataError", "SlugError", "TakeError", "TakeQuality", "TakeRejected", "check_quality",
    "check_slug", "load_exercise", "load_take", "meta_from_dict", "meta_to_toml", "parse_meta",
    "prepare_take", "read_meta", "score_held", "slugify", "trim_still",
    "user_library_dir",
]
