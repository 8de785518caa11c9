#!/usr/bin/env bash
# Build llama.cpp's own OpenAI-compatible server (`llama-server`) from the llama.cpp sources
# vendored in the pinned llama-cpp-python sdist (the registries carry no llama.cpp binary),
# and install it as .venv/bin/llama-server. The embedded backend starts it on loopback.
#
#   scripts/build_llama_server.sh            CPU build (AVX2/FMA/F16C pinned: a native build
#                                            crashes on some of these CPUs), ~8 minutes on 2 cores
#   SENTIFORGE_CUDA=1 scripts/...            CUDA build (GGML_CUDA=ON); auto when nvidia-smi lists
#                                            a GPU and nvcc is found (SENTIFORGE_CUDA=0: never)
#
# The source and the build are cached under ~/.cache/sentiforge, so a rerun is instant.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${SENTIFORGE_BUILD_CACHE:-$HOME/.cache/sentiforge}"
PY="${PYTHON:-python3}"
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && PY=.venv/bin/python
DEST="${LLAMA_SERVER_DEST:-.venv/bin/llama-server}"

cuda="${SENTIFORGE_CUDA:-auto}"
if [ "$cuda" = auto ]; then
  cuda=0
  if command -v nvcc >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then cuda=1; fi
fi
flavour=cpu; [ "$cuda" = 1 ] && flavour=cuda
SRC="$CACHE/llama_cpp_python-$VERSION"
BUILD="$CACHE/llama-server-$VERSION-$flavour"
BIN="$BUILD/bin/llama-server"

mkdir -p "$CACHE" "$(dirname "$DEST")"
if [ ! -d "$SRC/vendor/llama.cpp" ]; then
  "$PY" -m pip download -q --no-binary :all: --no-deps "llama-cpp-python==$VERSION" -d "$CACHE"
  tar -xzf "$CACHE/llama_cpp_python-$VERSION.tar.gz" -C "$CACHE"
fi

if [ ! -x "$BIN" ]; then
  echo "building llama-server ($flavour, about 8 minutes on 2 cores the first time)..."
  start=$(date +%s)
  flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF
         -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=OFF
         -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON)
  [ "$cuda" = 1 ] && flags+=(-DGGML_CUDA=ON)
  cmake -S "$SRC/vendor/llama.cpp" -B "$BUILD" "${flags[@]}" >"$CACHE/cmake-$flavour.log"
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    cmake --build "$BUILD" --target llama-server >>"$CACHE/cmake-$flavour.log"
  echo "llama-server built in $(( $(date +%s) - start )) s"
fi
install -m 0755 "$BIN" "$DEST"
echo "llama-server ($flavour) installed at $DEST"
