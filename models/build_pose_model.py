"""Rebuild ``pose_landmarker_full.task`` from the model files in the mediapipe 0.10.21 wheel.

The ``mediapipe==0.10.21`` wheel ships the two TFLite models of BlazePose GHUM 3D ("full"):
``mediapipe/modules/pose_detection/pose_detection.tflite`` and
``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``. The MediaPipe Tasks
``PoseLandmarker`` needs them as a model bundle (a zip) whose models carry TFLite metadata
telling how to normalise the input image. This script adds that metadata with mediapipe
0.10.21's own ``MetadataWriter`` and zips the two models with fixed timestamps, so that the
bundle is reproducible byte for byte (its sha256 is ``EXPECTED_SHA256``).

Building needs an environment with ``mediapipe==0.10.21`` (Python 3.11 or 3.12, numpy < 2);
``build.sh`` beside this file makes one in a temporary folder and runs the build.
``--check`` only verifies an existing bundle and needs nothing but the standard library.

Exit codes: 0 built or checked and the sha256 matches, 1 the sha256 differs, 2 bad environment
or input.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.21"
EXPECTED_SHA256 = "538a637ffb5b28e22b78ed77cceb34b2da55e36a16c2aea44026a15f2bd9ba92"
EXPECTED_SIZE_BYTES = 9_397_918
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "pose_landmarker_full.task"

# Every zip entry gets the earliest date a zip header can hold, so builds do not depend on
# the clock; entries are stored uncompressed and readable by the owner only.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_EXTERNAL_ATTR = 0o600 << 16


@dataclass(frozen=True)
class ModelSpec:
    """How one model of the bundle is made.

    Attributes:
        source: path of the legacy model inside the ``mediapipe`` package.
        member: file name of the model inside the ``.task`` bundle.
        name: model name written into the metadata.
        norm_mean: per-channel mean subtracted from the 0-255 RGB input.
        norm_std: per-channel divisor applied after subtracting the mean.
        input_shape: expected input tensor shape (batch, height, width, channels).
        outputs: (metadata name, expected shape) of each output tensor, in the model's order.
    """

    source: str
    member: str
    name: str
    norm_mean: float
    norm_std: float
    input_shape: tuple[int, ...]
    outputs: tuple[tuple[str, tuple[int, ...]], ...]


MODELS: tuple[ModelSpec, ...] = (
    # Pose detector: 224x224 RGB scaled to [-1, 1]; 2254 anchors with box and keypoint
    # regressors (12 values each) and one score each.
    ModelSpec(
        source="modules/pose_detection/pose_detection.tflite",
        member="pose_detector.tflite",
        name="pose_detector",
        norm_mean=127.5,
        norm_std=127.5,
        input_shape=(1, 224, 224, 3),
        outputs=(
            ("regressors", (1, 2254, 12)),
            ("scores", (1, 2254, 1)),
        ),
    ),
    # Landmark model: 256x256 RGB scaled to [0, 1]; 39 image landmarks x 5 values, presence
    # flag, segmentation mask, heatmap of the 39 landmarks, 39 world landmarks x 3 values.
    ModelSpec(
        source="modules/pose_landmark/pose_landmark_full.tflite",
        member="pose_landmarks_detector.tflite",
        name="pose_landmarks_detector",
        norm_mean=0.0,
        norm_std=255.0,
        input_shape=(1, 256, 256, 3),
        outputs=(
            ("landmarks", (1, 195)),
            ("pose_flag", (1, 1)),
            ("segmentation", (1, 256, 256, 1)),
            ("heatmap", (1, 64, 64, 39)),
            ("world_landmarks", (1, 117)),
        ),
    ),
)


class BuildError(Exception):
    """The environment or an input model is not what the build expects."""


def sha256_of(data: bytes) -> str:
    """Return the hex sha256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def mediapipe_package_dir() -> Path:
    """Return the folder of the installed ``mediapipe`` package, checking its version.

    Raises:
        BuildError: mediapipe is missing or is not version ``MEDIAPIPE_VERSION``.
    """
    try:
        import mediapipe
    except ImportError as exc:
        raise BuildError(
            f"cannot import mediapipe ({exc}); run this under an environment with "
            f"mediapipe=={MEDIAPIPE_VERSION} (see models/build.sh)"
        ) from exc
    version = getattr(mediapipe, "__version__", "unknown")
    if version != MEDIAPIPE_VERSION:
        raise BuildError(
            f"mediapipe {version} is installed, the build needs mediapipe=={MEDIAPIPE_VERSION} "
            "(its metadata writer and its bundled pose models)"
        )
    return Path(mediapipe.__file__).resolve().parent


def _check_tensor_shapes(model: bytes, spec: ModelSpec) -> None:
    """Raise BuildError unless the model's input and output shapes are those of ``spec``."""
    from mediapipe.tasks.python.metadata.metadata_writers import writer_utils

    subgraph = writer_utils.get_subgraph(model)
    inputs = [tuple(subgraph.Tensors(i).ShapeAsNumpy().tolist()) for i in subgraph.InputsAsNumpy()]
    outputs = [
        tuple(subgraph.Tensors(i).ShapeAsNumpy().tolist()) for i in subgraph.OutputsAsNumpy()
    ]
    expected_outputs = [shape for _, shape in spec.outputs]
    if inputs != [spec.input_shape] or outputs != expected_outputs:
        raise BuildError(
            f"{spec.source}: tensor shapes {inputs} -> {outputs} differ from the expected "
            f"{[spec.input_shape]} -> {expected_outputs}"
        )


def add_metadata(model: bytes, spec: ModelSpec) -> bytes:
    """Return ``model`` with TFLite metadata for an RGB image input and feature outputs.

    Any metadata the model already carries is replaced.
    """
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    _check_tensor_shapes(model, spec)
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(spec.name, f"BlazePose {spec.name}")
    writer.add_image_input(
        norm_mean=[spec.norm_mean],
        norm_std=[spec.norm_std],
        color_space_type=metadata_writer.MetadataWriter.color_space_types.RGB,
    )
    for output_name, _ in spec.outputs:
        writer.add_feature_output(name=output_name)
    model_with_metadata, _ = writer.populate()
    return bytes(model_with_metadata)


def zip_bundle(members: list[tuple[str, bytes]]) -> bytes:
    """Zip ``(name, data)`` members, stored, in the given order, with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = ZIP_EXTERNAL_ATTR
            bundle.writestr(info, data)
    return buffer.getvalue()


def build_bundle() -> bytes:
    """Return the bytes of the ``.task`` bundle built from the installed mediapipe wheel."""
    package_dir = mediapipe_package_dir()
    members = []
    for spec in MODELS:
        source = package_dir / spec.source
        try:
            model = source.read_bytes()
        except OSError as exc:
            raise BuildError(f"{source}: cannot read the bundled model ({exc.strerror})") from exc
        members.append((spec.member, add_metadata(model, spec)))
    return zip_bundle(members)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def report(path: Path, data: bytes) -> int:
    """Print the sha256 and size of ``data`` (the bytes of ``path``); return the exit code."""
    digest = sha256_of(data)
    print(f"{digest}  {len(data)} bytes  {path}")
    if digest == EXPECTED_SHA256:
        print("sha256 matches the expected bundle")
        return 0
    print(
        f"sha256 differs from the expected {EXPECTED_SHA256} ({EXPECTED_SIZE_BYTES} bytes)",
        file=sys.stderr,
    )
    return 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"bundle to write or check (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not build: print the sha256 of the existing bundle and verify it",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build (or with ``--check`` verify) the bundle; return the process exit code."""
    args = parse_args(argv)
    if args.check:
        try:
            data = args.output.read_bytes()
        except OSError as exc:
            print(f"{args.output}: cannot read ({exc.strerror})", file=sys.stderr)
            return 2
        return report(args.output, data)
    try:
        data = build_bundle()
    except BuildError as exc:
        print(f"build_pose_model: {exc}", file=sys.stderr)
        return 2
    write_atomically(args.output, data)
    return report(args.output, data)


if __name__ == "__main__":
    sys.exit(main())
