#!/bin/bash
# The seed's schedule question (issue 20): the same small recipe trained with linear, cosine and
# geometric betas for the same number of steps, then judged by the CNN evaluator (1,000 images,
# DDIM 50 and Euler ancestral 20) and by the variational bound (bits/dim on the first 64 t10k
# digits). Results: apps/docs/guide/training.md, "Which noise schedule?".
#   bash scripts/models/schedule-comparison.sh [runs-folder]   (needs `npm run build`; ~1 h on one core)
set -euo pipefail
cd "$(dirname "$0")/../.."
CLI="node packages/pipelines/dist/cli.js"
R=${1:-runs/schedules}
mkdir -p "$R"
for S in linear squaredcos_cap_v2 geometric; do
  $CLI train --output "$R/$S" --beta-schedule $S --steps 2000 --batch-size 32 --lr 1e-3 --warmup 100 --ema-decay 0.999 \
    --checkpoint-every 500 --seed 0 --threads 1 > "$R/$S.train.log" 2>&1
  $CLI quality "$R/$S/model" --classifier models/mnist-classifier --count 1000 --threads 1 --settings ddim:50,euler-a:20 \
    --output "$R/$S.quality.md" > "$R/$S.quality.log" 2>&1
  $CLI eval "$R/$S/model" --count 64 --batch-size 32 --threads 1 > "$R/$S.bpd.log" 2>&1
  echo "$S: $(tail -n 1 "$R/$S.bpd.log")"
done
