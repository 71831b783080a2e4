#!/usr/bin/env bash
# The comparison as chapter 13a reports it so far, on a 2-core CPU: the rows of experiments/compare_rows.txt in two
# lanes of one thread each (about 15 minutes per row; the paper's pool of a seed about an hour), then the tables of
# what has finished, copied into nbs/results/:
#   compare-seed0/   seed 0, every row (the lab pool's and the paper protocol's)
#   compare-seeds01/ seeds 0 and 1, the lab pool's rows
#   rule-shares/     the correct share of every self-score and rule on every judged pool (experiments/rule_shares.py)
#   bash experiments/record_compare.sh               # run the rows (a stopped run continues where it stopped), tables
#   bash experiments/record_compare.sh --tables-only # the tables of the rows that finished
# Seed 0's lab-pool rows come first: experiments/record_compare_seed0.sh. All three seeds: tools/record_compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
[ "${1:-}" = --tables-only ] || bash experiments/lanes.sh experiments/compare_rows.txt runs/compare-rows.log 2
LAB="truth oracle perfect random mi pmi_late"
PAPER="paper_mi paper_random paper_perfect"
table() {  # table SEEDS RESULTS ROWS...: the comparison's tables of these seeds and rows, into nbs/results/RESULTS
  local seeds=$1 results=$2; shift 2
  mi-nb lab compare --out runs/compare --seeds $seeds --methods base "$@" > "runs/compare-$results.log"
  mkdir -p "nbs/results/$results"
  cp runs/compare/compare.json runs/compare/table.md runs/compare/table.png runs/compare/gain_share.png \
     "nbs/results/$results/"
}
table 0 compare-seed0 $LAB $PAPER
table "0 1" compare-seeds01 $LAB
python experiments/rule_shares.py runs/compare nbs/results/rule-shares > /dev/null
