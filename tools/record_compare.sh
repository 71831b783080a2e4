#!/usr/bin/env bash
# Record the comparison that chapter 13a reports (`mi-nb lab compare` with its defaults: every row, the 'whole-model'
# fine-tuning preset, the lab pool and the paper's pool; seeds 0, 1, 2):
#   bash tools/record_compare.sh    # the seeds as three processes (one CPU thread each), each recording its rows into
#                                   # nbs/results/compare/seed-N as they finish, then the tables of that record there
#                                   # (compare.json, table.md, table.png, gain_share.png)
# Every step is cached in runs/compare/seed-N, so a stopped run continues where it stopped (run it again). The time each
# step took is in runs/compare/seed-N/timings.json (and compare.json). SEEDS="0 1 2 3 4" for more seeds; ARGS for more
# `mi-nb lab compare` options (e.g. ARGS="--methods base truth random" for some rows only); RUN for its folder and
# RESULTS for where the results go. FROM continues an earlier comparison's seeds to more updates without training again
# what they trained (tools/continue_compare.py; the lab's learning rate is constant, so the continued runs end where
# longer runs from the start end; ARGS as FROM's but for --finetune-steps):
#   ARGS="--finetune-steps 4000" FROM=runs/compare RUN=runs/compare-4k RESULTS=nbs/results/compare-4k \
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
  if [ -n "${FROM:-}" ] && [ ! -e "$RUN/seed-$s" ]; then
    python tools/continue_compare.py "$FROM" "$RUN" --seeds "$s"
  fi
  mi-nb lab compare --out "$RUN" --seeds "$s" "${EXTRA[@]}" --record "$RESULTS" > "$RUN-seed-$s.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mi-nb lab compare --out "$RESULTS" --seeds $SEEDS --tables-only
