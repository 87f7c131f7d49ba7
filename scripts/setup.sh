#!/usr/bin/env bash
# Creates .venv and installs FindMe with its test tools. Safe to run again.
#
# Everything comes as wheels, dlib too (dlib-bin): nothing is compiled. Then the
# models are loaded once, which writes dlib's face encoder as ONNX and its face
# detector in fast-loading form into the cache (FINDME_CACHE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# A dlib compiled by an earlier version of this script shares dlib-bin's files:
# both go, and dlib-bin comes back with FindMe's requirements.
if .venv/bin/python -m pip show dlib >/dev/null 2>&1; then
  .venv/bin/python -m pip uninstall --quiet --yes dlib dlib-bin
fi
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/python -c "import findme.faces as f; f.models()" \
  || { echo "setup: FindMe's models do not load" >&2; exit 1; }
