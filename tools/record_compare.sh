#!/usr/bin/env bash
# Record the comparison of methods that chapter 13 shows (the paper's Table 1 in miniature):
#   bash tools/record_compare.sh     # seeds 0, 1, 2 of `mi-nb lab compare` as three processes (one CPU thread each),
#                                    # then the table; copies compare.json, table.md and table.png into nbs/results/compare/
# Every step is cached in runs/compare/seed-N, so a stopped run continues where it stopped. SEEDS="0 1 2 3 4" for more
# seeds. The time each step took is in runs/compare/seed-N/timings.json (and compare.json).
# Other settings of the comparison: ARGS (more `mi-nb lab compare` options), RUN (its folder), RESULTS (where the
# results are copied), e.g. every method fine-tuning the whole UNet and the text encoder (at 5e-4) on candidates drawn
# at guidance 1.01, batches drawn with the categories in their pretraining mix, checkpoints picked on all 109 val
# prompts every 500 updates (the recipe of nbs/results/ceiling/weak-library.md that gave the ceiling and the oracle
# their gains; about 75 minutes per seed on a CPU, minutes on a GPU):
#   ARGS="--adapter full --train-text-encoder --text-encoder-lr 5e-4 --balance --pool-guidance 1.01 --keep 3 --finetune-steps 2000 --val-prompts 109 --val-every 500" \
#     RUN=runs/compare-te RESULTS=nbs/results/compare-te bash tools/record_compare.sh
# The same comparison continued to more updates (the lab's learning rate is constant, so a finished run continued to
# 3,000 updates ends where a 3,000-update run ends; chapter 10): FROM names the comparison to continue, whose seeds
# tools/continue_compare.py copies into RUN before they run (ARGS as FROM's but for --finetune-steps):
#   ARGS="<the ARGS above, with --finetune-steps 3000>" FROM=runs/compare-te RUN=runs/compare-te3k RESULTS=nbs/results/compare-te3k \
#     bash tools/record_compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0 1 2}
RUN=${RUN:-runs/compare}
RESULTS=${RESULTS:-nbs/results/compare}
read -r -a EXTRA <<< "${ARGS:-}"
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
mkdir -p "$(dirname "$RUN")"
pids=()
for s in $SEEDS; do
  if [ -n "${FROM:-}" ] && [ ! -e "$RUN/seed-$s" ]; then python tools/continue_compare.py "$FROM" "$RUN" --seeds "$s"; fi
  mi-nb lab compare --out "$RUN" --seeds "$s" "${EXTRA[@]}" > "$RUN-seed-$s.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mi-nb lab compare --out "$RUN" --seeds $SEEDS "${EXTRA[@]}"
mkdir -p "$RESULTS"
cp "$RUN/compare.json" "$RUN/table.md" "$RUN/table.png" "$RESULTS/"
