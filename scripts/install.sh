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

# The embedded engine is llama.cpp's own llama-server, built from the llama.cpp sources that
# the pinned llama-cpp-python sdist vendors (CUDA when the machine has a GPU); cached in
# ~/.cache/sentiforge, so a rerun is instant. It builds while pip installs the rest.
bash scripts/build_llama_server.sh &
build=$!

$PIP install -q -c constraints.txt -e ".[all,dev]"
wait "$build"

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
