#!/usr/bin/env bash
# The comparison of chapter 13 (`mi-nb lab compare`, seeds 0 1 2 as three processes) on a lent GPU: the recorded
# comparison of nbs/results/compare (its defaults: every row of `Compare.methods`, the 'whole-model' fine-tuning
# preset, the lab pool at LAB_POOL_GUIDANCE and the paper's pool at 7.5). Hours on a CPU (tools/record_compare.sh).
#
#   here:       echo /.whl/ >> .git/info/exclude
#               python3 -m pip download --no-deps --only-binary=:all: -d .whl diffusers==0.42.1   # pure-Python wheel
#   device run: command "bash tools/gpu_compare.sh", carry [".whl"], timeout_s 600
#   back here:  $OUT/compare/ holds compare.json, table.md, table.png once every seed has finished; $OUT/seed-N.log and
#               $OUT/timings-N.json say how far each seed got. $OUT/compare/seed-N/results.json is the record of
#               each seed (chapter 13): a GPU's record is a comparison of its own (a row drawn on a CPU does not come
#               out the same, so merging the two is refused); it replaces nbs/results/compare/, it does not join it.
#
# The seeds run in runs/gpu-compare, inside the checkout: a device machine that is still warm keeps it between calls,
# so a call stopped by BUDGET (seconds, default 520, under the tool's 600) is continued by the same call made again at
# once (every step of the comparison is cached; a fine-tuning resumes from its last checkpoint). ARGS replaces the
# recipe, SEEDS the seeds. The device machine has torch, transformers, peft, accelerate, pandas and matplotlib but no
# diffusers (carried as a wheel) and no network. MICRO=1 runs it at toy sizes (--quick) on the CPU, to test it before
# spending device time.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/gpu-compare-out}
RUN=${RUN:-runs/gpu-compare}
SEEDS=${SEEDS:-0 1 2}
BUDGET=${BUDGET:-520}
if [ "${MICRO:-0}" = 1 ]; then ARGS=${ARGS:---quick --methods base truth oracle perfect random mi paper_mi}; fi
ARGS=${ARGS:-}
read -r -a EXTRA <<< "$ARGS"
mkdir -p "$OUT" "$RUN"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
t0=$SECONDS
pids=()
for s in $SEEDS; do
  timeout "$BUDGET" python3 -m mi_nb.cli lab compare --out "$RUN" --seeds "$s" "${EXTRA[@]}" > "$OUT/seed-$s.log" 2>&1 &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
echo "seeds: $((SECONDS - t0)) s, exit status $status (124: stopped by BUDGET; make the same call again to continue)"
for s in $SEEDS; do
  [ -f "$RUN/seed-$s/timings.json" ] && cp "$RUN/seed-$s/timings.json" "$OUT/timings-$s.json"
  echo "seed $s: $(ls "$RUN/seed-$s" 2>/dev/null | grep -c '^eval-') evaluations done$(
    [ -f "$RUN/seed-$s/results.json" ] && echo ', finished')"
done
if [ "$status" = 0 ]; then
  # shellcheck disable=SC2086
  python3 -m mi_nb.cli lab compare --out "$RUN" --seeds $SEEDS "${EXTRA[@]}" 2>&1 | grep -v -i warn | tail -40
  mkdir -p "$OUT/compare" && cp "$RUN/compare.json" "$RUN/table.md" "$RUN/table.png" "$RUN/gain_share.png" \
    "$OUT/compare/"
  for s in $SEEDS; do mkdir -p "$OUT/compare/seed-$s" && cp "$RUN/seed-$s/results.json" "$OUT/compare/seed-$s/"; done
fi
nvidia-smi --query-gpu=name,memory.used --format=csv 2>/dev/null || true
ls -la "$OUT"
exit "$status"
