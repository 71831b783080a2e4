#!/usr/bin/env bash
# Every mi_nb test, in the order that fails fastest:
#   1. drift: nbdev_export and nbdev_clean must not change any file (library == notebooks, notebooks clean),
#      and README.md must be what tools/readme.py makes of nbs/index.ipynb;
#   2. every notebook under nbs/ as a test (nbdev_test, two at a time; the `slow` and `gpu` flags are off);
#   3. the cross-process tests in tests/ (pytest; the 15 slowest are listed).
# Ends with the line "N passed, N failed" (tested notebooks + pytest tests).
# Extra flags for nbdev_test: NBDEV_FLAGS="slow" bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONHASHSEED=0 \
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

echo "== drift: nbdev_export / nbdev_clean / README"
if ! bash tools/drift.sh; then echo "0 passed, 1 failed"; exit 1; fi

echo "== notebooks (nbdev_test)"
find nbs -name '*.ipynb' -not -path '*/.*' -not -path '*/_*' -not -name '_*' | sort > "$tmp/nbs"
run_nb() {  # one notebook; its log and status go to $tmp
  local nb=$1 out=$2 name; name=$(echo "$nb" | tr '/' '_')
  local t0=$SECONDS
  if nbdev_test --path "$nb" ${NBDEV_FLAGS:+--flags "$NBDEV_FLAGS"} > "$out/$name.log" 2>&1; then
    echo "ok   $nb ($((SECONDS - t0))s)"; echo pass > "$out/$name.status"
  else
    echo "FAIL $nb ($((SECONDS - t0))s)"; echo fail > "$out/$name.status"; cat "$out/$name.log"
  fi
}
export -f run_nb
xargs -P 2 -I{} bash -c 'run_nb "$@"' _ {} "$tmp" < "$tmp/nbs"
nb_pass=0; nb_fail=0
while read -r nb; do  # a notebook without a "pass" status (failed, or never ran) counts as failed
  if [ "$(cat "$tmp/$(echo "$nb" | tr '/' '_').status" 2>/dev/null)" = pass ]; then nb_pass=$((nb_pass + 1))
  else nb_fail=$((nb_fail + 1)); fi
done < "$tmp/nbs"

echo "== pytest tests/"
set +e
python -m pytest tests -q -p no:cacheprovider -n 2 --durations=15 --junitxml="$tmp/junit.xml"
rc=$?
set -e
read -r py_pass py_fail < <(python - "$tmp/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try: r = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError): print(0, 1); raise SystemExit
s = r if r.tag == 'testsuite' else r.find('testsuite')
t, f, e, k = (int(s.get(a, 0)) for a in ('tests', 'failures', 'errors', 'skipped'))
print(t - f - e - k, f + e)
PY
)
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$py_fail" -eq 0 ]; then py_fail=1; fi  # pytest itself broke

passed=$((nb_pass + py_pass)); failed=$((nb_fail + py_fail))
echo "notebooks: $nb_pass passed, $nb_fail failed; pytest: $py_pass passed, $py_fail failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
