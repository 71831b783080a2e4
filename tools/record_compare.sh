#!/usr/bin/env bash
# Record the comparison of methods that chapter 13 shows (the paper's Table 1 in miniature):
#   bash tools/record_compare.sh     # seeds 0, 1, 2 of `mi-nb lab compare` as three processes (one CPU thread each),
#                                    # then the table; copies compare.json, table.md and table.png into nbs/results/compare/
# Every step is cached in runs/compare/seed-N, so a stopped run continues where it stopped. SEEDS="0 1 2 3 4" for more
# seeds. The time each step took is in runs/compare/seed-N/timings.json (and compare.json).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-0 1 2}
export OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1
mkdir -p runs
pids=()
for s in $SEEDS; do
  mi-nb lab compare --out runs/compare --seeds "$s" > "runs/compare-seed-$s.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
mi-nb lab compare --out runs/compare --seeds $SEEDS
mkdir -p nbs/results/compare
cp runs/compare/compare.json runs/compare/table.md runs/compare/table.png nbs/results/compare/
