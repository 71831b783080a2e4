#!/usr/bin/env bash
# Ceilings and selections on the lab model shipped now (the weak-caption model, mi_nb/lab/weights), with the recipe
# that worked best on the earlier model (2000 x 64 updates, EMA, pretraining category mix, selection on all 109 val
# prompts x 4 with the untuned model eligible): does ground truth improve it when the whole UNet is fine-tuned (F2), a
# DoRA adapter (F1), or the UNet and the text encoder (G1)? And do the model's own samples, picked by the oracle, by
# MI-TUNE's trajectory MI, by the signed PMI or at random, improve it with the same recipe? Results:
# runs/ceiling-weak/table.md and table-library.md (the --library arms), copied with a header to nbs/results/ceiling/weak.md
# and weak-library.md; chapter 13 shows them.
#   bash tools/record_ceiling_weak.sh      # about 9 hours on a CPU (arms use one thread each: CEILING_THREADS=1;
#                                          # the recorded arms ran two or three at a time, which changes no number)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MKL_NUM_THREADS=${MKL_NUM_THREADS:-2} HF_HUB_OFFLINE=1
PY=${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
CA="$PY tools/ceiling_ablation.py --root ${ROOT:-runs/ceiling-weak}"
$CA gtset gt_all_r32 --prompts all --renders 32 --seed 0
$CA base --split val --n 4 --seed 0
$CA base --split test --n 16 --seed 0
E="--eval val:4:0 test:16:0"
S="--val-every 500 --val-prompts 109 --val-seed 1 --ckpt0"
$CA arm F2_full_long --data gt_all_r32 --uncond 0.1 --lr 1e-4 --steps 2000 --batch 64 --adapter full --balance pretrain --ema 0.998 $S $E --note 'shipped weak-caption model: full UNet, lr 1e-4, uncond 0.1, pretrain mix, EMA 0.998, 2000 x 64, select on 109 val x4 (ckpt 0 eligible)'
$CA arm F1_dora_long --data gt_all_r32 --uncond 0.1 --lr 1e-3 --steps 2000 --batch 64 --balance pretrain --ema 0.998 $S $E --note 'shipped weak-caption model: DoRA r8 attn, lr 1e-3, uncond 0.1, pretrain mix, EMA 0.998, 2000 x 64, select on 109 val x4 (ckpt 0 eligible)'
# Does the model's own data help when the ground truth does (same recipe)? Candidates at guidance 1.01 (the library's
# floor: MI needs a scale > 1; nearest to the distribution the model was trained to match), the oracle's correct ones
# (O1), all of them (P1, self-distillation), and true renders shaped like O1's set (M1: same prompts, same count each);
# then the ceiling with the text encoder trained too (G1). About 100 more minutes (an arm: 20-40 minutes).
R="--uncond 0.1 --lr 1e-4 --steps 2000 --batch 64 --adapter full --balance pretrain --ema 0.998 $S $E"
$CA pool c1 --candidates 8 --seed 0 --guidance 1.01
$CA subset oracle_c1_all --pool c1 --method oracle --k 8
$CA subset pool_c1_all --pool c1 --method mi --k 8
$CA gtmatch gt_like_oracle_c1 --like oracle_c1_all --gt gt_all_r32
$CA arm O1_oracle_c1 --data oracle_c1_all $R --note 'oracle-correct own samples at guidance 1.01 (all 8 kept where correct): full UNet recipe of F2'
$CA arm P1_pool_c1 --data pool_c1_all $R --note 'every own sample at guidance 1.01 (self-distillation control): full UNet recipe of F2'
$CA arm M1_gt_like_oracle_c1 --data gt_like_oracle_c1 $R --note 'true renders shaped like O1 (same prompts, same count per prompt): full UNet recipe'
$CA arm G1_full_te_long --data gt_all_r32 $R --train-te --note 'ceiling with the text encoder trained too: full UNet + full TE, recipe of F2'
# The selections of the comparison on the same pool and recipe, at a matched size (3 of 8 per prompt, about the
# oracle set's 1,044 items): MI-TUNE's trajectory MI (T1), random (R1), the signed PMI with 16 re-noising draws (S1).
# About 90 more minutes.
$CA subset mi_c1_k3 --pool c1 --method mi --k 3
$CA subset random_c1_k3 --pool c1 --method random --k 3 --seed 0
$CA poolscores c1 --score pmi --draws 16
$CA subset pmi_c1_k3 --pool c1 --method pmi --k 3
$CA arm T1_mi_c1_k3 --data mi_c1_k3 $R --note "MI-TUNE's pick (paper trajectory MI, top 3 of 8) at guidance 1.01: full UNet recipe"
$CA arm R1_random_c1_k3 --data random_c1_k3 $R --note 'random 3 of 8 at guidance 1.01 (the control): full UNet recipe'
$CA arm S1_pmi_c1_k3 --data pmi_c1_k3 $R --note 'signed PMI (16 re-noising draws) top 3 of 8 at guidance 1.01: full UNet recipe'
# The text encoder trained too (the ceiling's recipe, G1) on the oracle's set (O2), on MI-TUNE's pick (T2) and on the signed
# PMI's (S2); the ceiling at a lower rate, longer (G2), and with the text encoder at 5x the rate (G3), and the oracle's
# set so (O3). About 4 more hours at one arm at a time (about 2 at two).
$CA arm O2_oracle_c1_te --data oracle_c1_all $R --train-te --note 'oracle-correct own samples at guidance 1.01, UNet + text encoder (recipe of G1)'
$CA arm G2_full_te_slow --data gt_all_r32 ${R/--lr 1e-4 --steps 2000/--lr 5e-5 --steps 3000} --train-te --note 'ceiling, UNet + text encoder, lr 5e-5, 3000 x 64'
$CA arm T2_mi_c1_k3_te --data mi_c1_k3 $R --train-te --note "MI-TUNE's pick (trajectory MI, top 3 of 8), UNet + text encoder (recipe of G1)"
$CA arm S2_pmi_c1_k3_te --data pmi_c1_k3 $R --train-te --note 'signed PMI top 3 of 8, UNet + text encoder (recipe of G1)'
$CA arm G3_full_te_fast --data gt_all_r32 $R --train-te --te-lr 5e-4 --note 'ceiling, UNet + text encoder at 5x the rate (te lr 5e-4)'
$CA arm O3_oracle_c1_te_fast --data oracle_c1_all $R --train-te --te-lr 5e-4 --note 'oracle-correct own samples, UNet + text encoder at te lr 5e-4 (recipe of G3)'
# The library's own fine-tuning (`--library`: mi_nb.finetune, which draws epochs over items with no category mix), with
# G3's recipe and the checkpoint picked on all 109 val prompts: the ceiling for 4,000 updates (LG4; with a constant rate
# its first 2,000 are G3's length), from 3 true renders per train prompt, the comparison's truth row at k = 3 (LG3k3),
# and the oracle's set (LO3, LO4 for 4,000 updates).
# About 70 more minutes at two at a time.
L="${R/--balance pretrain/--balance none} --library --train-te --te-lr 5e-4"
$CA gtset gt_all_r3 --prompts all --renders 3 --seed 0
$CA arm LO3_lib_oracle_c1_te_fast --data oracle_c1_all $L --note "the library's fine-tuning (epochs over items, no category mix) on the oracle's set, recipe of O3"
$CA arm LG3k3_lib_gt_r3 --data gt_all_r3 $L --note "library, 3 true renders per train prompt (the comparison's truth row at k=3), recipe of G3"
$CA arm LG4_lib_full_te_4000 --data gt_all_r32 ${L/--steps 2000/--steps 4000} --note "library ceiling, recipe of G3, 4000 updates"
$CA arm LO4_lib_oracle_c1_te_4000 --data oracle_c1_all ${L/--steps 2000/--steps 4000} --note "library, oracle's set, recipe of G3, 4000 updates"
# The same with the library's weighted draws (--balance pretrain with --library: the set's records weighed by
# mi_nb.lab.compare.weigh_categories, FinetuneConfig(sampling='weighted')), the category mix the script's own loop draws:
# the oracle's set (LO3w) and 3 true renders per prompt (LG3k3w). About 25 more minutes at two at a time.
LW="${L/--balance none/--balance pretrain}"
$CA arm LO3w_lib_oracle_c1_te_mix --data oracle_c1_all $LW --note "library, weighted draws in the pretraining category mix (weigh_categories, sampling='weighted'), oracle's set, recipe of O3"
$CA arm LG3k3w_lib_gt_r3_mix --data gt_all_r3 $LW --note "library, weighted draws in the pretraining category mix, 3 true renders per train prompt (the comparison's truth row at k=3, --balance), recipe of G3"
$CA table --arms '[!L]*'
$CA table --arms 'L*' --out table-library.md
mkdir -p nbs/results/ceiling
FP=$($PY -c "import json, sys; print(json.load(open(sys.argv[1]))['fingerprint'])" "${ROOT:-runs/ceiling-weak}/model.json")
{ echo "Produced by \`bash tools/record_ceiling_weak.sh\` (its step \`python tools/ceiling_ablation.py --root runs/ceiling-weak table --arms '[!L]*'\`) on the"
  echo "shipped weak-caption lab model (model_fingerprint $FP; CPU, one thread per arm, seed 0). Each arm's change is paired with the base"
  echo "model on the same images: \`val\` 109 prompts x 4 (seed 0; selection used seed 1), \`test\` 107 prompts x 16 (seed 0)."
  echo; cat "${ROOT:-runs/ceiling-weak}/table.md"; } > nbs/results/ceiling/weak.md
{ echo "Produced by \`bash tools/record_ceiling_weak.sh\` (its step \`python tools/ceiling_ablation.py --root runs/ceiling-weak table --arms 'L*' --out table-library.md\`)"
  echo "on the shipped weak-caption lab model (model_fingerprint $FP; CPU, one thread per arm, seed 0): the arms trained by the library's"
  echo "\`finetune\` (\`--library\`). Each arm's change is paired with the base model on the same images: \`val\` 109 prompts x 4 (seed 0;"
  echo "selection used seed 1), \`test\` 107 prompts x 16 (seed 0)."
  echo; cat "${ROOT:-runs/ceiling-weak}/table-library.md"; } > nbs/results/ceiling/weak-library.md
