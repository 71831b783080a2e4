#!/usr/bin/env bash
# Per-stage time and peak GPU memory of chapters 30 and 31 on the real architectures of SD-2.1-base, SDXL-base-1.0 and
# SD3.5-medium with random weights (no download): each family once uncapped in the GPU's half precision, once capped at
# a T4's 14.7 GiB (torch.cuda.set_per_process_memory_fraction) in fp16, as the plan of chapter 16 sets it up (offload,
# images per call, micro-batch, gradient checkpointing). About 5 minutes on one H100; well under 8.
#
#   here:       echo /.whl/ >> .git/info/exclude
#               python3 -m pip download --no-deps --only-binary=:all: -d .whl diffusers==0.42.1   # pure-Python wheel
#   device run: command "bash tools/gpu_real.sh", carry [".whl"], timeout_s 540
#   back here:  $OUT/gpu_real.md (the table, device named) and $OUT/gpu_real.json; put the figures into the plans of
#               nbs/16_plan.ipynb (FAMILY_COSTS: measured memory per image, the rate of that GPU) and chapters 30/31.
#
# The device machine has torch, transformers, peft, accelerate, pandas and matplotlib but no diffusers (carried as a
# wheel) and no network. TINY=1 (or --tiny) runs the same stages on the tiny pipelines on a CPU in about a minute
# (tests/test_gpu_script.py does); FAMILIES=sd,sdxl picks families.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu_real}
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
ARGS=(--out "$OUT" --families "${FAMILIES:-sd,sdxl,sd3}")
if [ "${TINY:-0}" = 1 ]; then ARGS+=(--tiny); fi
python3 tools/gpu_real.py "${ARGS[@]}" "$@" 2>&1 | tee "$OUT/gpu_real.log"
