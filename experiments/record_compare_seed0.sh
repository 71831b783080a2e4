#!/usr/bin/env bash
# The first seed of chapter 13's comparison, the lab pool's rows only (no paper-protocol rows), as chapter 13a shows it:
# each row a `mi-nb lab compare --seeds 0 --methods base ROW` call (experiments/compare_seed0.txt) in two lanes of one
# CPU thread each, every step cached in runs/compare/seed-0; then the tables of the rows that finished, copied into
# nbs/results/compare-seed0/. About 15 minutes per row on a 2-core CPU; a stopped run continues where it stopped.
#   bash experiments/record_compare_seed0.sh                # every row of compare_seed0.txt
#   ROWS="pmi_late truth random" bash experiments/record_compare_seed0.sh --tables-only   # tables of these rows
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
[ "${1:-}" = --tables-only ] || bash experiments/lanes.sh experiments/compare_seed0.txt runs/compare-seed0.log 2
ROWS=${ROWS:-$(grep -o -- '--methods base [a-z_]*' experiments/compare_seed0.txt | awk '{print $3}' | tr '\n' ' ')}
mi-nb lab compare --out runs/compare --seeds 0 --methods base $ROWS > runs/compare-seed0-tables.log
mkdir -p nbs/results/compare-seed0
cp runs/compare/compare.json runs/compare/table.md runs/compare/table.png runs/compare/gain_share.png \
   nbs/results/compare-seed0/
