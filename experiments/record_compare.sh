#!/usr/bin/env bash
# The comparison as chapter 13a reports it, on a 2-core CPU: the rows of experiments/compare_lane0.txt and
# compare_lane1.txt in two lanes of one thread each (about 14 minutes per row; a seed's lab pool and its
# self-scores about 10 minutes, its paper pool about 14). Each row is merged into the record
# nbs/results/compare/seed-N when it finishes (`--record`: its verdict on every test image, its set, its pool's
# AUCs), and a row the record already holds is skipped, so the script continues where an earlier run stopped, on this
# machine or another. Then the tables:
#   compare/         the recorded seeds that hold every lab-pool row, the rows they all have (from the record alone)
#   compare-seed0/   seed 0, every row, from runs/compare (the run cache of this machine)
#   compare-seeds01/ seeds 0 and 1, the lab pool's rows, from runs/compare
#   rule-shares/     the correct share of every self-score and rule on every judged pool (experiments/rule_shares.py)
#   bash experiments/record_compare.sh               # run the rows, then the tables
#   bash experiments/record_compare.sh --tables-only # the tables of what has finished
# Seed 0's lab-pool rows came first: experiments/record_compare_seed0.sh. The same on a GPU: tools/gpu_compare.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
if [ "${1:-}" != --tables-only ]; then
  bash experiments/lanes.sh experiments/compare_lane0.txt runs/compare-lane0.log 1 &
  bash experiments/lanes.sh experiments/compare_lane1.txt runs/compare-lane1.log 1 &
  wait
fi
REC=nbs/results/compare
LABROWS="base truth oracle perfect random mi pmi pmi_late pmi_late_sure"  # the lab pool's rows
mapfile -t SEEDS < <(python - "$REC" $LABROWS <<'PY'  # the recorded seeds that hold all of them
import sys
from pathlib import Path
from mi_nb.lab.compare import recorded_rows
rec, rows = Path(sys.argv[1]), set(sys.argv[2:])
for s in sorted(int(d.name[5:]) for d in rec.glob('seed-*')):
    if rows <= recorded_rows(rec, s): print(s)
PY
)
[ ${#SEEDS[@]} = 0 ] || mi-nb lab compare --out "$REC" --seeds "${SEEDS[@]}" --tables-only > runs/compare-record.log
LAB="truth oracle perfect random mi pmi_late"
PAPER="paper_mi paper_random paper_perfect"
table() {  # table SEEDS RESULTS ROWS...: the tables of these seeds and rows of runs/compare, into nbs/results/RESULTS
  local seeds=$1 results=$2; shift 2
  for s in $seeds; do for m in base "$@"; do  # a row not in this machine's run cache: its recorded tables stay
    [ -e "runs/compare/seed-$s/eval-$m.json" ] || return 0; done; done
  mi-nb lab compare --out runs/compare --seeds $seeds --methods base "$@" > "runs/compare-$results.log"
  mkdir -p "nbs/results/$results"
  cp runs/compare/compare.json runs/compare/table.md runs/compare/table.png runs/compare/gain_share.png \
     "nbs/results/$results/"
}
table 0 compare-seed0 $LAB $PAPER
table "0 1" compare-seeds01 $LAB
if ls runs/compare/seed-{0,1,2}/pool-{lab-scores,paper-rows}.json > /dev/null 2>&1; then
  python experiments/rule_shares.py runs/compare nbs/results/rule-shares > /dev/null  # the pools it was recorded from
fi
