#!/usr/bin/env bash
# build/baseline-venv: face_recognition 1.3.0 on the prebuilt dlib-bin wheel, as
# `pip install face_recognition` users run it (face_recognition pins the source-only
# `dlib`, so it is installed without its requirements, which are listed here).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=build/baseline-venv
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet dlib-bin face_recognition_models==0.3.0 numpy pillow
"$VENV/bin/python" -m pip install --quiet --no-deps face_recognition==1.3.0
