"""The reference library: instructors' exercises, their takes, templates and scoring.

    from coach.library import Library, score_exercise

    library = Library.open(["~/my-references"])   # + COACH_LIBRARY, + the built-in library
    for exercise in library.list():
        print(exercise.slug, exercise.meta.kind, exercise.status)
    squat = library.get("squat")                   # metadata and takes checked
    report = score_exercise(attempt_sequence, squat)
    print(report.summary_text())

``Exercise.template()`` is the scorer's ``Template`` averaged over every take;
``Exercise.is_waiting`` is True for a flowing movement with no recording yet.
"""

from coach.library.errors import (
    LibraryError,
    MetadataError,
    SlugError,
    TakeError,
    TakeRejected,
)
from coach.library.exercise_score import ExerciseReport, score_exercise
from coach.library.held import HeldReport, score_held
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
    "ExerciseReport", "HeldReport", "HoldSpec", "Library", "LibraryError", "LibraryRoot",
    "MetadataError", "SlugError", "TakeError", "TakeQuality", "TakeRejected", "check_quality",
    "check_slug", "load_exercise", "load_take", "meta_from_dict", "meta_to_toml", "parse_meta",
    "prepare_take", "read_meta", "score_exercise", "score_held", "slugify", "trim_still",
    "user_library_dir",
]
