#!/usr/bin/env bash
# Install sentiforge and everything it needs into ./.venv, on a fresh machine.
#   scripts/install.sh           the package with all extras (embedded model, service, quality, report)
#   scripts/install.sh --system  also Debian packages used by tests (chromium for the report test,
#                                apertium for rule-based backtranslation, nginx for the deployment
#                                test, wrk for the service benchmark); needs root
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
PIP=".venv/bin/pip"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
$PIP install -q --upgrade pip wheel setuptools

# torch: the CPU build (pip finds the local 2.13.0 file; other versions pull GBs of CUDA)
$PIP install -q -c constraints.txt torch==2.13.0

# llama-cpp-python builds from source; a plain build segfaults on these CPUs (features
# detected at build time), so pin the CPU features. pip caches the wheel: a rerun is fast.
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  echo "building llama-cpp-python (about 6 minutes the first time)..."
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL=2 $PIP install -q -c constraints.txt "llama-cpp-python[server]==0.3.36"
fi

$PIP install -q -c constraints.txt -e ".[all,dev]"

if [ "${1:-}" = "--system" ]; then
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  command -v apertium >/dev/null || need+=(apertium apertium-eng-spa apertium-fr-es)
  command -v nginx >/dev/null || need+=(nginx-light)  # the deployment test (tests/api/test_deploy.py)
  command -v wrk >/dev/null || need+=(wrk)  # benchmarks/service
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
echo "sentiforge installed in $(pwd)/.venv"
