#!/usr/bin/env bash
# Rebuild models/pose_landmarker_full.task from scratch in a throw-away virtual environment
# holding mediapipe==0.10.21 (its metadata writer and the two pose models its wheel ships),
# then print and verify the bundle's sha256. Needs Python 3.11 or 3.12 and the package index.
#
#   bash models/build.sh                  # writes models/pose_landmarker_full.task
#   bash models/build.sh -o /tmp/x.task   # writes elsewhere (arguments go to the script)
#   PYTHON=python3.12 bash models/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3.11}"
venv="$(mktemp -d "${TMPDIR:-/tmp}/coach-model-build.XXXXXX")"
trap 'rm -rf "$venv"' EXIT

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/build-requirements.txt"
# jax, jaxlib, sentencepiece and sounddevice are declared by the wheel but never imported by
# the metadata writer, so mediapipe goes in without its dependency list.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    mediapipe==0.10.21
"$venv/bin/python" "$here/build_pose_model.py" "$@"
