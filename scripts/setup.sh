#!/usr/bin/env bash
# Creates .venv and installs FindMe with its test tools. Safe to run again.
#
#   scripts/setup.sh [--runtime-only]
#
# Everything comes as wheels, dlib too (dlib-bin): nothing is compiled.
# --runtime-only leaves out the test tools (pytest, ruff, Playwright...): what
# `make demo` needs, a quarter less to download and install. Then the models are
# loaded once, which writes dlib's face encoder as ONNX and its face detector in
# fast-loading form into the cache (FINDME_CACHE_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TARGET='.[dev]'
[ "${1:-}" = --runtime-only ] && TARGET='.'
say() { echo "setup: $*"; }
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
elif .venv/bin/python -m pip show dlib >/dev/null 2>&1; then
  # A dlib compiled by an earlier version of this script shares dlib-bin's
  # files: both go, and dlib-bin comes back with FindMe's requirements.
  .venv/bin/python -m pip uninstall --quiet --yes dlib dlib-bin
fi
# Any pip from 2023 on reads today's wheel tags; an older one is upgraded.
say "installing FindMe and what it needs into .venv, from wheels" \
  "(a minute or two the first time, quietly; seconds after that)"
.venv/bin/python -m pip install --quiet 'pip>=23'
.venv/bin/python -m pip install --quiet -e "$TARGET"
say "loading the face models once (the first time, dlib's encoder is written as ONNX)"
.venv/bin/python -c "import findme.faces as f; f.models()" \
  || { echo "setup: FindMe's models do not load" >&2; exit 1; }
