#!/usr/bin/env bash
# The first seed of chapter 13's comparison, the lab pool's rows: each row a `mi-nb lab compare --seeds 0 --methods
# base ROW` call (experiments/compare_seed0.txt) in two lanes of one CPU thread each, every step cached in
# runs/compare/seed-0. About 15 minutes per row on a 2-core CPU; a stopped run continues where it stopped. The rows
# after these, and the tables chapter 13a reads: experiments/record_compare.sh.
#   bash experiments/record_compare_seed0.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
bash experiments/lanes.sh experiments/compare_seed0.txt runs/compare-seed0.log 2
