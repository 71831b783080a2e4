#!/usr/bin/env bash
# Lab model training on a lent GPU: one call of the device tool. By default the shipped model's recipe (3,000 steps on
# weak captions, snapshots every 250, a few minutes on an H100/H200); BIG=1 runs a ten-times larger recipe (about
# 8 minutes), meant for a larger lab world: on the current one it would leave the difficulty target
# (nbs/04_lab_train.ipynb).
#
#   here:       echo /.whl/ >> .git/info/exclude
#               python3 -m pip download --no-deps --only-binary=:all: -d .whl diffusers==0.42.1   # pure-Python wheel
#   device run: command "bash tools/gpu_lab_train.sh", carry [".whl"], timeout_s 600
#   back here:  the pipeline arrives as $OUT/pipeline.tar; ship it with
#               python -c "from mi_nb.lab.train import ship_lab_model; ..." (see nbs/04_lab_train.ipynb)
#
# The device machine has torch, transformers, peft, accelerate but no diffusers (carried as a wheel) and no network.
# MICRO=1 runs the same script at toy scale (CPU is fine) to test it before spending device time.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
if [ "${MICRO:-0}" = 1 ]; then
  TRAIN="--steps 20 --vae-steps 10 --images 4000 --batch-size 64 --ckpt-every 10 --render-workers 2"
  EVAL="--limit 4 --images-per-prompt 2"
elif [ "${BIG:-0}" = 1 ]; then
  TRAIN="--steps 12000 --vae-steps 3000 --images 400000 --batch-size 1024 --ckpt-every 2000"
  TRAIN+=" --captions weak --render-workers 14"; EVAL="--images-per-prompt 4"
else
  TRAIN="--steps 3000 --ckpt-every 250 --snapshots --captions weak --render-workers 14"; EVAL="--images-per-prompt 4"
fi
t0=$SECONDS
python3 -m mi_nb.cli lab train --out "$OUT/run" --seed 0 $TRAIN 2>&1 | grep -v -i warn | tail -5
echo "train seconds: $((SECONDS - t0))"
for split in test test_unseen; do
  python3 -m mi_nb.cli evaluate --model "$OUT/run/pipeline" --prompts $split --seed 0 $EVAL --batch-size 256 \
    --out "$OUT/eval-$split" 2>&1 | grep -v -i warn | tail -7
  cp "$OUT/eval-$split/metrics.json" "$OUT/metrics-$split.json"; cp "$OUT/eval-$split/grid.png" "$OUT/grid-$split.png"
done
if [ -d "$OUT/run/snapshots" ]; then
  python3 tools/lab_snapshots.py "$OUT/run" 2>&1 | grep -v -i warn > "$OUT/snapshots-val.md" || true
fi
cp "$OUT/run/train_log.csv" "$OUT/run/args.json" "$OUT/"
tar -C "$OUT/run" -cf "$OUT/pipeline.tar" pipeline
rm -rf "$OUT/run" "$OUT"/eval-*
ls -la "$OUT"
