#!/usr/bin/env bash
# Builds FindMe's dlib wheel once and prints its path; later runs print the cached one.
#
#   scripts/build-dlib.sh PYTHON
#
# dlib from source against OpenBLAS encodes a face 5.6x faster than the prebuilt
# dlib-bin (9.8 against 55 ms here), and with AVX2 and FMA its HOG detector is as fast
# as dlib-bin's; with dlib's own USE_AVX_INSTRUCTIONS alone, HOG's 8-lane integer
# code is emulated and detection is 2.3x slower (measurements: docs/speed.md).
# CPUs without AVX2 get an SSE4 build. Exits non-zero, saying why, when it cannot build.
set -euo pipefail
PYTHON=${1:?usage: build-dlib.sh PYTHON}
# Absolute, for the build runs in another directory (a venv's symlink is kept as it is).
[[ "$PYTHON" == */* ]] && PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")"
DLIB_VERSION=20.0.0

if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  FLAVOUR=avx2
  CMAKE_OPTIONS=(--set USE_AVX_INSTRUCTIONS=1 --set "CMAKE_CXX_FLAGS=-mavx2 -mfma")
else
  FLAVOUR=sse4
  CMAKE_OPTIONS=(--set USE_AVX_INSTRUCTIONS=0 --set USE_SSE4_INSTRUCTIONS=1)
fi
PY_TAG=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
CACHE=${FINDME_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/findme/wheels}/dlib-$DLIB_VERSION-$FLAVOUR-$PY_TAG
if wheel=$(ls "$CACHE"/dlib-*.whl 2>/dev/null | head -n 1) && [ -n "$wheel" ]; then
  echo "$wheel"
  exit 0
fi

has_openblas() {
  compgen -G '/usr/include/*/openblas*/cblas.h' >/dev/null || compgen -G '/usr/include/*cblas.h' >/dev/null \
    || compgen -G '/usr/include/*/cblas.h' >/dev/null
}
if ! has_openblas || ! command -v g++ >/dev/null || ! command -v cmake >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build-dlib: installing the compiler, cmake and OpenBLAS (Debian packages)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends g++ cmake libopenblas-dev liblapack-dev >&2 \
      || { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends \
        g++ cmake libopenblas-dev liblapack-dev >&2; }
  fi
fi
if ! has_openblas || ! command -v g++ >/dev/null || ! command -v cmake >/dev/null; then
  echo "build-dlib: needs g++, cmake and OpenBLAS's headers (Debian: libopenblas-dev)" >&2
  exit 1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "build-dlib: compiling dlib $DLIB_VERSION ($FLAVOUR, OpenBLAS): about 5 minutes, once" >&2
"$PYTHON" -m pip install --quiet setuptools wheel >&2
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "dlib==$DLIB_VERSION" -d "$WORK" >&2
tar xzf "$WORK/dlib-$DLIB_VERSION.tar.gz" -C "$WORK"
mkdir -p "$CACHE"
(cd "$WORK/dlib-$DLIB_VERSION" \
  && "$PYTHON" setup.py bdist_wheel --dist-dir "$WORK/dist" "${CMAKE_OPTIONS[@]}" >"$WORK/build.log" 2>&1) \
  || { tail -n 30 "$WORK/build.log" >&2; exit 1; }
mv "$WORK"/dist/dlib-*.whl "$CACHE/"
ls "$CACHE"/dlib-*.whl | head -n 1
