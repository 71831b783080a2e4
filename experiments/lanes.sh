#!/usr/bin/env bash
# Run the command lines of FILE (one per line) in LANES parallel lanes, one CPU thread each; logs to LOG.
# Usage: bash experiments/lanes.sh FILE LOG [LANES]
set -u
FILE=$1; LOG=$2; LANES=${3:-2}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0
cd "$(dirname "$0")/.."
. .venv/bin/activate
mapfile -t CMDS < <(grep -v '^\s*#' "$FILE" | grep -v '^\s*$')
run_lane() {
  local lane=$1 i
  for ((i = lane; i < ${#CMDS[@]}; i += LANES)); do
    echo "[lane $lane] $(date +%T) start: ${CMDS[$i]}" >> "$LOG"
    bash -c "${CMDS[$i]}" >> "$LOG.lane$lane" 2>&1
    local rc=$?  # before anything else runs: $(date) would reset it
    echo "[lane $lane] $(date +%T) done ($rc): ${CMDS[$i]}" >> "$LOG"
  done
}
for ((l = 0; l < LANES; l++)); do run_lane "$l" & done
wait
echo "all done $(date +%T)" >> "$LOG"
