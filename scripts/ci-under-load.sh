#!/usr/bin/env bash
# `bash scripts/ci-under-load.sh [RUNS]`: runs `.ci/run` RUNS times (default 5) on fresh clones of
# HEAD while one CPU-bound process spins (one of this machine's two cores), and prints each
# run's exit code, duration and test count. What the README's CI section reports.
set -uo pipefail
runs="${1:-5}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
node -e 'for(;;){}' & hog=$!
trap 'kill $hog 2>/dev/null; rm -rf "$work"' EXIT
for i in $(seq 1 "$runs"); do
  rm -rf "$work/clone" && git clone -q "$repo" "$work/clone"
  start=$(date +%s)
  (cd "$work/clone" && CI=true bash .ci/run > "$work/run$i.log" 2>&1 < /dev/null); rc=$?
  echo "run $i: exit $rc, $(( $(date +%s) - start )) s, $(grep -E '^Tests:' "$work/run$i.log" | tr -s ' ')"
  [ "$rc" = 0 ] || tail -n 60 "$work/run$i.log"
done
