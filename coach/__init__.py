"""coach: a camera-based posture and movement coach for qigong and yoga with back pain."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("coach")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"


def shipped_folder(name: str) -> Path:
    """A folder that ships with coach ("models", "reference_poses"): inside the package
    (``coach/_bundled/NAME``) when installed from a wheel, beside it in a source checkout."""
    package = Path(__file__).resolve().parent
    inside = package / "_bundled" / name
    return inside if inside.is_dir() else package.parent / name


#: The small public API, imported on first use so that ``import coach`` stays light:
#: ``coach.score(attempt, reference)`` takes landmark sequences, templates or file paths.
_PUBLIC = {
    "load_recording": ("coach.recording", "load_recording"),
    "save_recording": ("coach.recording", "save_recording"),
    "Library": ("coach.library.store", "Library"),
    "PoseSequence": ("coach.pose", "PoseSequence"),
    "ScoringParams": ("coach.params", "ScoringParams"),
    "Report": ("coach.report", "Report"),
    "Scorer": ("coach.scorer", "Scorer"),
}
__all__ = ["__version__", "score", "shipped_folder", *_PUBLIC]


def score(attempt: object, reference: object, **options: object) -> object:
    """Score an attempt against a reference: each a ``PoseSequence`` or the path of a landmark
    file (``.npz``/``.json`` as ``coach extract`` writes, or a skeleton file
    ``coach.skeletons`` reads); the reference may also be a ``Template``. ``options`` go to
    ``coach.scoring.score`` (``mirror``, ``params``). Returns a ``coach.report.Report``."""
    from coach.recording import load_recording
    from coach.scoring import score as score_sequences

    def sequence(value: object) -> object:
        return load_recording(value) if isinstance(value, str | Path) else value

    return score_sequences(sequence(attempt), sequence(reference), **options)  # type: ignore[arg-type]


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        from importlib import import_module

        module, attr = _PUBLIC[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'coach' has no attribute {name!r}")
