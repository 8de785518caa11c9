#!/usr/bin/env bash
# Runs the benchmark in tranches of seeds (20, 40, ... 200; half per label), every strategy
# per tranche, so a partial run still compares all strategies on the same seeds. A larger
# tranche answers the seeds done before from the response cache; a killed run resumes.
# On a busy machine, run one loop per strategy group in parallel (llama.cpp weights are
# mmapped, so the processes share them):
#   STRATEGIES=cada ./run_all.sh & STRATEGIES="cda ada" ./run_all.sh & STRATEGIES=backtranslate ./run_all.sh
set -u
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
$PY benchmarks/augment/run.py prepare
for n in ${TRANCHES:-20 40 60 80 100 120 140 160 180 200}; do
  for strategy in ${STRATEGIES:-cada cda ada backtranslate}; do
    $PY benchmarks/augment/run.py augment "$strategy" --per-seed "${PER_SEED:-1}" --seeds "$n" \
      --max-attempts 2 --threads "${THREADS:-1}" || echo "phase $strategy n=$n failed: $?"
  done
  $PY benchmarks/augment/run.py evaluate
done
