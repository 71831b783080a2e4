#!/usr/bin/env bash
# Records every CPU figure of chapter 18 into nbs/results/bench/*-cpu.json, one after the other in one process:
#   threads     `mi-nb lab --quick` idle and beside 2 busy processes, under torch's default threads, mi_nb's choice,
#               one thread, and torch's default with OMP_WAIT_POLICY=PASSIVE, then a one-thread
#               reference loop of pure Python (the scheduler's share of one thread); 3 rounds
#   overhead    the stock pipeline call with and without MIRecorder (lab model, tiny SD-2), 9 rounds
#   finetune    mi_nb's update against a plain peft + diffusers step, DoRA against LoRA (lab model), 9 rounds
#   builder     build_set of 10 to 1,000 prompts on the lab model, sizes up then down (time, peak memory)
#   throughput  candidates per second at SD-2.1-base's layout with widths / 8, 128 px, M = 50, 10 steps:
#               mi_nb in fp32 and bf16 against the baseline loop with the reference code's costs
#   command1    (only when named) README command 1 itself, `mi-nb lab`, idle and beside 2 busy processes under
#               mi_nb's choice and one thread, then the reference loop; one round, into
#               OUT/command1/threads-cpu.json (about 40 min): one thread's idle time gives the scheduler's floor
#   command1-busy1  (only when named) the same beside one busy process, mi_nb's choice only, into
#               OUT/command1-busy1/threads-cpu.json (about 15 min)
#   command1-own    (only when named) as command1, the 2 busy processes started together in a session of their own
#               (a job from another terminal), into OUT/command1-own/threads-cpu.json (about 35 min)
#   threads-own     (only when named) the threads figure beside 2 busy processes in a session of their own, into
#               OUT/threads-own/threads-cpu.json (about 15 min)
#
#   bash tools/record_bench.sh        on a machine with nothing else running: about 30 minutes on 2 cores (an
#                                     estimate from toy runs; the threads figure is most of it, and its runs of
#                                     torch's default threads beside busy processes the least predictable part)
# then it re-runs chapter 18 (nbconvert, nbdev_clean) so that its outputs show the records; commit both.
#
# It refuses to start while the 1-minute load average is above 0.5 (FORCE=1 starts anyway; each record keeps the
# load average it saw). The thread variables of this shell are ignored: each figure runs with mi_nb's choice (the
# threads figure sets each configuration itself). FIGURES picks figures (default: all five above), OUT the folder.
# MICRO=1 runs every figure at toy size into a temporary folder: it tests this script; its timings mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
FIGURES=${FIGURES:-threads overhead finetune builder throughput}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1
unset OMP_NUM_THREADS MKL_NUM_THREADS OMP_WAIT_POLICY
read -r -a figs <<< "$FIGURES"
# the named runs of the threads figure, each into OUT/<name>/threads-cpu.json: its settings, separated by |
command1="threads.command=mi-nb lab --out {out}/run|threads.repeats=1|threads.timeout=2400"
declare -A NAMED=(
  [command1]="$command1|threads.configs=mi_nb choice,one thread"
  [command1-busy1]="$command1|threads.configs=mi_nb choice|threads.busy=1"
  [command1-own]="$command1|threads.configs=mi_nb choice,one thread|threads.session=own"
  [threads-own]="threads.repeats=3|threads.session=own"
)
NAMED_RE='command1|command1-busy1|command1-own|threads-own'
if [ "${MICRO:-0}" = 1 ]; then
  OUT=${OUT:-$(mktemp -d)}
  plain=($(printf '%s\n' "${figs[@]}" | grep -Evx "$NAMED_RE" | sort -u || true))
  [ ${#plain[@]} = 0 ] || python3 -m mi_nb.bench "${plain[@]}" --micro --out "$OUT"
  for f in "${figs[@]}"; do  # a named threads run at toy size, keeping its session and busy processes
    [[ "$f" =~ ^($NAMED_RE)$ ]] || continue
    IFS='|' read -r -a kv <<< "${NAMED[$f]}"
    keep=($(printf '%s\n' "${kv[@]}" | grep -E '^threads\.(session|busy)=' || true))
    python3 -m mi_nb.bench threads --micro --out "$OUT/$f" ${keep[@]:+--set "${keep[@]}"}
  done
  ls -R "$OUT"
  exit 0
fi
OUT=${OUT:-nbs/results/bench}
load=$(cut -d' ' -f1 /proc/loadavg)
if [ "${FORCE:-0}" != 1 ] && awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "the 1-minute load average is $load: these timings need a machine with nothing else running (FORCE=1 to go on)"
  uptime; exit 1
fi
t0=$SECONDS
sets=()  # the settings of the figures being measured
for kv in threads.repeats=3 throughput.model=sd21-small throughput.px=128 throughput.steps=10 \
          throughput.dtypes=fp32,bf16; do
  [[ " ${figs[*]} " == *" ${kv%%.*} "* ]] && sets+=("$kv")
done
bench=()  # the figures of mi_nb.bench; the named runs follow
for f in "${figs[@]}"; do [[ "$f" =~ ^($NAMED_RE)$ ]] || bench+=("$f"); done
[ ${#bench[@]} = 0 ] || python3 -m mi_nb.bench "${bench[@]}" --out "$OUT" ${sets[@]:+--set "${sets[@]}"}
for f in "${figs[@]}"; do
  [[ "$f" =~ ^($NAMED_RE)$ ]] || continue
  IFS='|' read -r -a kv <<< "${NAMED[$f]}"
  python3 -m mi_nb.bench threads --out "$OUT/$f" --set "${kv[@]}"
done
echo "recorded into $OUT in $((SECONDS - t0)) s; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$OUT" = nbs/results/bench ]; then  # chapter 18 shows the new records
  OMP_NUM_THREADS=1 jupyter nbconvert --to notebook --execute --inplace nbs/18_performance.ipynb
  nbdev_clean --fname nbs/18_performance.ipynb
fi
