#!/usr/bin/env bash
# Record the ceiling ablation (nbs/results/ceiling/table.md): under which fine-tuning recipe does *ground-truth* data
# improve the lab model? Every arm trains on ground-truth renders (or, for H*, on an oracle-selected pool of the base
# model's own candidates) and is paired with the untuned model on the same evaluation images (val 109 prompts x 4,
# test 107 x 4 or x 16, seed 0; bootstrap 95% intervals over prompts). Answer recorded: only a full-UNet fine-tune with
# EMA, the pretraining category mix and 2000 x 64 updates (F2_full_long) reaches +9.0 points on test; DoRA adapters
# reach +3.7 (F1_dora_long); oracle-selected self-training with the F2 recipe collapses (H1, H4: the untuned model is
# selected; H5: -15.8 points at the last update).
#
#   bash tools/record_ceiling.sh          # every step of the table in order, then the table and its copy in nbs/results/ceiling/
#
# Model: the lab model shipped when the table was recorded, model_fingerprint 6a6ca201aa572889 (mi_nb.core; it hashes the
# configs and the UNet weights), i.e. mi_nb/lab/weights as committed in 764f9ee (unchanged up to 8e58620). Default: the
# package's lab_weights_dir() if it is still that model, else that commit's weights, extracted once with `git archive`
# into runs/ceiling-model/. MODEL=DIR measures another folder holding that model; any other fingerprint is refused, so a
# replaced shipped model cannot silently change the numbers.
# CPU cost, one thread: the table's `wall s` column sums to 7488 s over its 29 arms (about 2 h 05 min; F1, F2, H1, H4
# take 14-18 min each); the sets, the 436 x 16 candidate pool (520 s) and the base evaluations add about 12 min, so
# about 2 h 20 min in all on one core of this machine. Run it on the CPU with one thread and one process: the recorded
# numbers are reproducible (identical per-image records) only so. Every step is cached under ROOT (default
# runs/ceiling; an arm whose result.json exists is skipped), so a stopped run continues where it stopped; the table
# lists the arms in the order their result.json were written, which is this order when run from scratch.
# Not here: screen7's subsets mi1 and random1 and arms H2_mi1, H3_random1 were started but never finished, so they are
# not in the table (`$CA subset mi1 --pool train16 --method mi --k 1`, `... random1 ... --method random --k 1`,
# `$CA arm H2_mi1 --data mi1 $R --note '...'` would add them).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
ROOT=${ROOT:-runs/ceiling}
FINGERPRINT=6a6ca201aa572889
MODEL_COMMIT=764f9eebd08ae18f006f2f13103f522d69633ad4  # the commit that shipped the measured model
fingerprint() { $PY -c 'import sys; from mi_nb.core import model_fingerprint; print(model_fingerprint(sys.argv[1]))' "$1"; }
if [ -z "${MODEL:-}" ]; then
  MODEL=$($PY -c 'from mi_nb.lab.model import lab_weights_dir; print(lab_weights_dir())')
  if [ "$(fingerprint "$MODEL")" != "$FINGERPRINT" ]; then  # the shipped model was replaced: the measured one from git
    MODEL=runs/ceiling-model/mi_nb/lab/weights
    if [ ! -f "$MODEL/model_index.json" ]; then
      mkdir -p runs/ceiling-model && git archive "$MODEL_COMMIT" mi_nb/lab/weights | tar -x -C runs/ceiling-model
    fi
  fi
fi
got=$(fingerprint "$MODEL")
if [ "$got" != "$FINGERPRINT" ]; then
  echo "$MODEL is the model $got, not the one the table measured ($FINGERPRINT): set MODEL=DIR to a copy of that model" >&2
  exit 1
fi
echo "measuring $MODEL (model_fingerprint $got) into $ROOT" >&2
CA="$PY tools/ceiling_ablation.py --root $ROOT --model $MODEL"

# sets and base records the first arms use (runs/ceiling/sets/*/set.json, logs/base.log)
$CA gtset gt48 --prompts 48 --renders 1 --seed 0
$CA base --split val --n 4 --seed 0
$CA base --split test --n 4 --seed 0
$CA gtset gt_all_r8 --prompts all --renders 8 --seed 0
# A: the project's recipe, with the library's finetune and with this script's loop (arms/A0*/result.json)
$CA arm A0_lib --data gt48 --library --val-every 25 --eval-last --eval val:4:0 test:4:0 --note 'baseline, library finetune (FinetuneConfig.lab(max_steps=150)), 48 GT prompts x1'
$CA arm A0 --data gt48 --val-every 25 --eval val:4:0 test:4:0 --note 'baseline, this script loop (same as library)'

# screen1: one suspect at a time
E="--eval val:4:0"
$CA arm B0 --data gt48 $E --note 'baseline recipe, last update (no selection)'
$CA arm B1_uncond --data gt48 --uncond 0.1 $E --note 'uncond_prob 0.1'
$CA arm B2_data --data gt_all_r8 $E --note 'data: 436 train prompts x 8 GT renders'
$CA arm B3_lr3e-4 --data gt48 --lr 3e-4 $E --note 'lr 3e-4'
$CA arm B3_lr1e-3 --data gt48 --lr 1e-3 $E --note 'lr 1e-3'
$CA arm B3_steps1000 --data gt48 --steps 1000 $E --note '1000 updates'
$CA arm B4_rank32 --data gt48 --rank 32 $E --note 'rank 32 (alpha 32)'
$CA arm B4_targets_all --data gt48 --targets all $E --note 'targets + proj_in/out, ff, resnet conv1/conv2/time_emb_proj'
$CA arm B5_ema --data gt48 --ema 0.99 $E --note 'EMA 0.99 of adapter weights'
$CA arm B6_select --data gt48 --val-every 25 --val-prompts 109 --val-seed 1 --ckpt0 $E --note 'select best of ckpt 0..150 on 109 val x4 (seed 1)'
$CA arm B7_full --data gt48 --adapter full $E --note 'full UNet fine-tune (reference)'

# screen2: combinations on 436 prompts x 32 renders
$CA gtset gt_all_r32 --prompts all --renders 32 --seed 0
$CA arm C1 --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 1000 $E --note 'combo: 436x32 GT, uncond 0.1, lr 1e-3, 1000 updates (DoRA r8 attn)'
$CA arm C3_full --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 1000 --adapter full $E --note 'combo: 436x32 GT, uncond 0.1, full UNet lr 1e-4, 1000 updates'
$CA arm C2 --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 1000 --rank 32 --targets all $E --note 'combo: C1 + rank 32, all targets'

# screen3: the pretraining category mix
$CA arm D1_full_bal --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 1000 --adapter full --balance pretrain $E --note 'C3_full + category mix of pretraining'
$CA arm D2_full_bal_lr3e-4 --data gt_all_r32 --uncond 0.1 --lr 3e-4 --steps 1000 --adapter full --balance pretrain $E --note 'D1 with lr 3e-4'
$CA arm D3_dora_bal --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 1000 --balance pretrain $E --note 'C1 + category mix of pretraining'
$CA arm D4_lora32all_bal --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 1000 --adapter lora --rank 32 --targets all --balance pretrain $E --note 'LoRA r32 all targets lr 1e-3, category mix'

# screen4: EMA; the pool of the base model's candidates (for the H arms)
$CA arm E1_dora_bal_ema --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 1000 --balance pretrain --ema 0.995 $E --note 'D3 + EMA 0.995'
$CA arm E2_full_bal_ema --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 1000 --adapter full --balance pretrain --ema 0.995 $E --note 'D1 + EMA 0.995'
$CA arm E3_full_bal_lr3e-4_ema --data gt_all_r32 --uncond 0.1 --lr 3e-4 --steps 1000 --adapter full --balance pretrain --ema 0.995 $E --note 'D2 (lr 3e-4) + EMA 0.995'
$CA pool train16 --prompts all --candidates 16 --seed 0

# screen5: long runs, selected on all 109 val prompts, evaluated on test x16
E="--eval val:4:0 test:16:0"
S="--val-every 500 --val-prompts 109 --val-seed 1 --ckpt0"
$CA base --split test --n 16 --seed 0
$CA arm F1_dora_long --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 2000 --batch 64 --balance pretrain --ema 0.998 $S $E --note 'DoRA r8 attn, lr 1e-3, uncond 0.1, pretrain mix, EMA 0.998, 2000 x 64, select on 109 val x4 (ckpt 0 eligible)'
$CA arm F2_full_long --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 2000 --batch 64 --adapter full --balance pretrain --ema 0.998 $S $E --note 'full UNet, lr 1e-4, uncond 0.1, pretrain mix, EMA 0.998, 2000 x 64, select on 109 val x4 (ckpt 0 eligible)'

# screen6: the text encoder too; the oracle-selected set
$CA arm G1_full_te --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 1000 --batch 64 --adapter full --train-te --balance pretrain --ema 0.998 --val-every 1000 --val-prompts 109 --val-seed 1 --ckpt0 $E --note 'full UNet + text encoder, lr 1e-4, uncond 0.1, pretrain mix, EMA 0.998, 1000 x 64'
$CA subset oracle_all --pool train16 --method oracle --k 16

# screen7-9: the F2 recipe on the oracle-selected self-training set
R="--uncond 0.1 --lr 1e-4 --steps 2000 --batch 64 --adapter full --balance pretrain --ema 0.998 --val-every 500 --val-prompts 109 --val-seed 1 --ckpt0 --eval test:16:0"
$CA arm H1_oracle --data oracle_all $R --note 'F2 recipe on oracle-selected self-training set (436 train prompts x 16 base candidates, all correct kept)'
$CA reencode oracle_all_vae --src oracle_all
$CA arm H4_oracle_vae --data oracle_all_vae $R --note 'F2 recipe on the oracle set, latents re-encoded by the VAE from the decoded images'
$CA arm H5_oracle_500_noselect --data oracle_all --uncond 0.1 --lr 1e-4 --steps 500 --batch 64 --adapter full --balance pretrain --ema 0.998 --eval val:4:0 val:4:0:2.5 --note 'diagnostic: F2 recipe on the oracle set, 500 updates, last update, evaluated at guidance 5 and 2.5'

# the table, and its copy for the docs (first line: what produced it)
$CA table > /dev/null
mkdir -p nbs/results/ceiling
{ echo "Produced by \`python tools/ceiling_ablation.py table\` after the arms of \`tools/record_ceiling.sh\` (rerun: \`bash tools/record_ceiling.sh\`), on the lab model with model_fingerprint $FINGERPRINT (CPU, one thread)."
  echo
  cat "$ROOT/table.md"; } > nbs/results/ceiling/table.md
