"""coach: a camera-based posture and movement coach for qigong and yoga with back pain."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coach")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"
