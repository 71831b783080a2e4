#!/usr/bin/env bash
# Fail when nbdev_export, nbdev_clean or tools/readme.py would change any file: the library must be exactly what the
# notebooks export, the notebooks must be clean, README.md must be what nbs/index.ipynb makes.
# Compares the work tree's state before and after, so it also works (and only blames these tools) in a dirty tree.
set -euo pipefail
cd "$(dirname "$0")/.."
state() { git status --porcelain=v1 -uall; git diff; }
before=$(state | md5sum)
nbdev_export
nbdev_clean
python tools/readme.py
after=$(state | md5sum)
if [ "$before" != "$after" ]; then
  echo "DRIFT: nbdev_export, nbdev_clean or tools/readme.py changed files" \
    "(the library, the notebooks or README.md had drifted):"
  git status --porcelain=v1 -uall
  exit 1
fi
echo "no drift"
