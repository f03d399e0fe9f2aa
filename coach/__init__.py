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
