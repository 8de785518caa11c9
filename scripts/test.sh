#!/usr/bin/env bash
# Install (with the Debian packages the tests use) and run the whole test suite, lint, types
# and the strict build of the documentation site (docs/, mkdocs.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --system
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet -d /tmp/sentiforge-site
.venv/bin/pytest -q -p no:cacheprovider "$@"
