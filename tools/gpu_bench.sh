#!/usr/bin/env bash
# The GPU figures of chapter 18 on one lent GPU, in one process, each record written to $OUT/bench/ when it is done
# (in this order, so that a call cut short keeps the most important ones):
#   throughput  candidates per second at SD-2.1-base's architecture (random weights from its configs), 512 px, M = 50,
#               20 DDPM steps: mi_nb in fp32, fp16 and bf16 against the baseline loop with the reference code's costs
#   picks       top-1 picks of fp16 and bf16 against fp32 on 100 lab train prompts (16 candidates, the lab's pool)
#   overhead    the stock pipeline call with and without MIRecorder: lab model, tiny SD-2, SD-2.1-base (bf16)
#   finetune    mi_nb's update against a plain peft + diffusers step at SD-2.1-base (DoRA r32, batch 8, bf16 autocast)
#   compile     compile_denoiser (torch.compile, inductor) against eager, SD-2.1-base in bf16
# About 6 minutes on one H100 (estimate; BUDGET, default 450 s, stops it).
#
#   here:       echo /.whl/ >> .git/info/exclude
#               python3 -m pip download --no-deps --only-binary=:all: -d .whl diffusers==0.42.1   # pure-Python wheel
#   device run: command "bash tools/gpu_bench.sh", carry [".whl"], timeout_s 540
#   back here:  copy $OUT/bench/*-cuda.json into nbs/results/bench/, then refresh chapter 18's outputs:
#               jupyter nbconvert --to notebook --execute --inplace nbs/18_performance.ipynb && nbdev_clean
#
# The device machine has torch, transformers, peft, accelerate, pandas and matplotlib but no diffusers (carried as a
# wheel) and no network. FIGURES picks figures. MICRO=1 runs the same figures at toy sizes on whatever device there is
# (the CPU here): it tests this script before device time is spent; its timings mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-bench-out}
BUDGET=${BUDGET:-450}
FIGURES=${FIGURES:-throughput picks overhead finetune compile}
read -r -a figs <<< "$FIGURES"
mkdir -p "$OUT/bench"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
python3 -c "import torch as t; print('torch', t.__version__, t.cuda.is_available() and t.cuda.get_device_name(0))"
t0=$SECONDS
status=0
if [ "${MICRO:-0}" = 1 ]; then
  timeout "$BUDGET" python3 -m mi_nb.bench "${figs[@]}" --micro --out "$OUT/bench" || status=$?
else
  timeout "$BUDGET" python3 -m mi_nb.bench "${figs[@]}" --out "$OUT/bench" --set \
    throughput.model=sd21 throughput.steps=20 throughput.repeats=2 \
    picks.prompts=100 overhead.models=lab,sd2-tiny,sd21 overhead.dtype=bf16 overhead.repeats=5 \
    finetune.model=sd21 finetune.rank=32 finetune.batch=8 finetune.repeats=5 \
    compile.model=sd21 compile.steps=20 compile.repeats=3 || status=$?
fi
echo "figures: $((SECONDS - t0)) s, exit status $status (124: stopped by BUDGET; the records written so far are kept)"
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv 2>/dev/null || true
ls -la "$OUT/bench"
exit "$status"
