#!/usr/bin/env bash
# The physical-limit anchor (issue #13): llama.cpp's own llama-batched-bench, built from the
# llama.cpp sources that the llama-cpp-python sdist vendors, run on the packaged 1.5B model
# with 2 threads at batch sizes 1, 2, 4, 8, prompts not shared and shared (-pps).
# Writes benchmarks/embedded/anchor.json: {"<batch size>": tokens/s, ...} (all tokens of the
# not-shared run over its seconds, what batched.py --anchor reads) plus both full tables.
#
#   benchmarks/embedded/anchor.sh            # download + build (cached) + run, ~15 min
#
# The build and the runs take the shared model lock (/tmp/sentiforge-model.lock).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${SENTIFORGE_ANCHOR_CACHE:-$HOME/.cache/sentiforge-anchor}"
PY="${PYTHON:-/work/main/.venv/bin/python}"
LOCK=/tmp/sentiforge-model.lock
THREADS="${THREADS:-2}"
NPP="${NPP:-280}"   # prompt tokens a sequence (the main job's prompts are ~250-300)
NTG="${NTG:-48}"    # generated tokens a sequence
NPL="${NPL:-1,2,4,8}"
OUT="${OUT:-$HERE/anchor.json}"

mkdir -p "$CACHE"
SRC="$CACHE/llama_cpp_python-$VERSION"
BUILD="$CACHE/build-$VERSION"
BIN="$BUILD/bin/llama-batched-bench"

if [ ! -d "$SRC" ]; then
  "$PY" -m pip download --no-binary :all: --no-deps "llama-cpp-python==$VERSION" -d "$CACHE"
  tar -xzf "$CACHE/llama_cpp_python-$VERSION.tar.gz" -C "$CACHE"
fi

if [ ! -x "$BIN" ]; then
  start=$(date +%s)
  CMAKE_BUILD_PARALLEL_LEVEL=2 flock "$LOCK" sh -c "
    cmake -S '$SRC/vendor/llama.cpp' -B '$BUILD' -DCMAKE_BUILD_TYPE=Release \
      -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null &&
    cmake --build '$BUILD' --target llama-batched-bench"
  echo "built in $(( $(date +%s) - start )) s" >&2
fi

MODEL="$(PYTHONPATH="$ROOT/src" "$PY" -c \
  'from sentiforge.backends.gguf import resolve_model; print(resolve_model("qwen2.5-1.5b"))')"
CTX=$(( 8 * (NPP + NTG) + 256 ))
LOG="$CACHE/anchor-$(date -u +%Y%m%dT%H%M%S).log"

run() {  # $1: tag, rest: extra flags
  local tag="$1"; shift
  {
    echo "## $tag load_before $(cut -d' ' -f1-3 /proc/loadavg)"
    "$BIN" -m "$MODEL" -t "$THREADS" -c "$CTX" -b 2048 -ub 512 \
      -npp "$NPP" -ntg "$NTG" -npl "$NPL" "$@" 2>/dev/null
    echo "## $tag load_after $(cut -d' ' -f1-3 /proc/loadavg)"
  } >>"$LOG"
}

flock "$LOCK" bash -c "$(declare -f run); BIN='$BIN' MODEL='$MODEL' THREADS=$THREADS CTX=$CTX \
  NPP=$NPP NTG=$NTG NPL='$NPL' LOG='$LOG'; run not_shared; run shared -pps"
cat "$LOG"
"$PY" "$HERE/anchor_parse.py" "$LOG" "$OUT" --model "$MODEL" --threads "$THREADS"
