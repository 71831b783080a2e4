#!/usr/bin/env bash
# Record the main job's results that the docs show (README/index and chapter 9):
#   bash tools/record_lab_run.sh     # runs `mi-nb lab --out runs/lab --seed 0` (~10 min on 2 CPU cores), then copies
#                                    # report.json, report.md and the two figures into nbs/results/lab/
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf runs/lab
mi-nb lab --out runs/lab --seed 0
mkdir -p nbs/results/lab
cp runs/lab/report.json runs/lab/report.md runs/lab/before_after.png runs/lab/by_category.png nbs/results/lab/
