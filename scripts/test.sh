#!/usr/bin/env bash
# Install (with the Debian packages the tests use) and run the whole test suite, lint and types.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --system
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"
