#!/usr/bin/env bash
# The main job, on the embedded default model (offline): a balanced 3-class customer-service
# dataset, generated, passed through the quality gate (the embedded model as label judge),
# then exported with stratified train/validation/test splits.
# Labels hold by default: while generating, the embedded model judges every text and a text it
# reads as another label is rejected ("label not held") and its slot retried, so the quotas
# are met with texts whose label two readings agree on; `quality run` then adds the other
# checks (dedup, filters, and with --seeds the seed classifier and the one-step check).
# With unlabelled in-domain text (UNLABELLED=tickets.txt, or .jsonl/.csv with a text column),
# the job grounds generation on it instead: the texts are chunked, embedded and clustered, each
# prompt shows texts of one cluster, and lengths and habits follow the real texts.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=.venv/bin/sentiforge
COUNT=${COUNT:-30}
DATASET=${DATASET:-support-3class}
if [[ -n "${UNLABELLED:-}" ]]; then
  $SF ground "$UNLABELLED" -d "$DATASET-pool" --scheme three_class
  $SF generate --dataset "$DATASET" --count "$COUNT" --scheme three_class \
    --pool "$DATASET-pool" --match-style --seed 7
else
  $SF generate --dataset "$DATASET" --count "$COUNT" --scheme three_class \
    --text-kind "message a customer writes to a company's support team" \
    --attr "domain=telecom|online banking|e-commerce" \
    --attr "persona=a busy parent|a student|a small-business owner" \
    --attr "urgency=low|high" \
    --length short --length medium --seed 7
fi
$SF quality run "$DATASET"
$SF export "$DATASET" --format jsonl --out "out/$DATASET" --splits 0.8,0.1,0.1 --force  # a rerun replaces its own export
$SF show "$DATASET"
