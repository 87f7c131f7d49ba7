#!/usr/bin/env bash
# Creates .venv and installs FindMe with its test tools. Safe to run again.
#
# dlib comes from scripts/build-dlib.sh (built once against OpenBLAS, then cached);
# FINDME_DLIB=prebuilt, or a machine that cannot build it, takes the slower dlib-bin wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${FINDME_DLIB:-built}" != prebuilt ] && wheel=$(scripts/build-dlib.sh .venv/bin/python); then
  .venv/bin/python -m pip uninstall --quiet --yes dlib-bin 2>/dev/null || true
  .venv/bin/python -m pip install --quiet --no-deps "$wheel"
  .venv/bin/python -m pip install --quiet -e '.[dev]'
else
  echo "setup: using the prebuilt dlib-bin wheel: encoding faces is about 5x slower" >&2
  .venv/bin/python -m pip uninstall --quiet --yes dlib 2>/dev/null || true
  .venv/bin/python -m pip install --quiet -e '.[dev,prebuilt-dlib]'
fi
.venv/bin/python -c "import dlib" || { echo "setup: dlib does not import" >&2; exit 1; }
