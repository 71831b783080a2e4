#!/usr/bin/env bash
# The screening behind the choices of chapter 13a (which candidates to train on, which self-score, which recipe): one
# seed (100), judged on `val`, never on `test`. Everything is cached under runs/screen, so a stopped run continues
# where it stopped; at the end experiments/screen_table.py writes nbs/results/screen/screen.json and table.md.
#   bash experiments/record_screen.sh      # about 4 hours on 2 CPU cores (two processes, one thread each)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
S=experiments/screen_scores.py; T=experiments/screen_train.py
[ -f runs/screen/guidance-val-4.json ] || python $S guidance                     # base accuracy on val at 7 guidances
for g in 1.01 3 7.5; do                                                            # 64 train prompts x 16 candidates:
  [ -f "runs/screen/pool-g$(python -c "print(float($g))")-p64-m16-d32.npz" ] || python $S pool --guidance $g
done                                                                               # every score variant, offline
for g in 1.01 3; do                                                                # all 436 train prompts x 8
  [ -f "runs/screen/pool-g$(python -c "print(float($g))")-m8/pool-rows.json" ] ||
    python $T pool --guidance $g --candidates 8
done
python $T scores --pool runs/screen/pool-g1.01-m8 --scores pmi:pmi:50 pmi_late:pmi:500
python $T scores --pool runs/screen/pool-g1.01-m8 --scores contrastive:contrastive:50 contrastive_late:contrastive:500
bash experiments/lanes.sh experiments/screen_arms.txt runs/screen-arms.log 2     # an arm already run is read back
python experiments/screen_table.py
