#!/usr/bin/env bash
# The README's main job as a new user runs it, timed end to end on a fresh home (issue #19):
# `bash scripts/main_job.sh` (generate 30 with the inline judge, quality gate, export, show) with
# SENTIFORGE_HOME in a new folder, so no response cache, database or kept calibration helps;
# the packaged model files are joined into that home as a new user's are (a few seconds).
# Then every accepted text is read by the voice check (agent voice, placeholders, JSON residue)
# and written with its label into results.json beside this script.
#
#   flock /tmp/sentiforge-model.lock bash benchmarks/main_job/run.sh        # COUNT=30 by default
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
export SENTIFORGE_HOME="${SENTIFORGE_HOME:-$(mktemp -d /tmp/sentiforge-fresh-XXXX)}"
export COUNT="${COUNT:-30}"
LOG="$HERE/last_run.log"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
bash scripts/main_job.sh >"$LOG" 2>&1
end=$(date +%s.%N)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
.venv/bin/python "$HERE/read.py" --seconds "$(echo "$end - $start" | bc)" --load-before "$load_before" \
  --load-after "$load_after" --log "$LOG" --out "$HERE/results.json"
