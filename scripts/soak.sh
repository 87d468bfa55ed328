#!/usr/bin/env bash
# `npm test` N times in a row while a CPU hog keeps one core busy (issue #18: the suite must pass
# every time, on a loaded machine). Prints one line per run and stops at nothing: a red run is
# reported and the loop goes on, so one soak shows every flaky test it meets.
#
#   bash scripts/soak.sh [RUNS] [LOG_DIR]       # default 5 runs, logs in test-results/soak
#
# The hog is `stress-ng --cpu 1 --cpu-load 100` when stress-ng is on PATH (Debian: stress-ng),
# else a Node busy loop. Only the hog this script started is stopped, by its PID.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
logs="${2:-test-results/soak}"
mkdir -p "$logs"
if command -v stress-ng >/dev/null; then
  stress-ng --cpu 1 --cpu-load 100 --quiet &
else
  node -e 'for (;;) {}' &
fi
hog=$!
trap 'kill "$hog" 2>/dev/null' EXIT
echo "soak: $runs runs of npm test, CPU hog pid $hog ($(ps -o comm= -p "$hog")), logs in $logs"
green=0
for i in $(seq "$runs"); do
  start=$(date -u +%FT%TZ)
  s=$(date +%s)
  npm test >"$logs/run$i.log" 2>&1
  rc=$?
  [ "$rc" = 0 ] && green=$((green + 1))
  echo "run $i: start $start, $(($(date +%s) - s)) s, exit $rc, $(tail -1 "$logs/run$i.log"), load $(cut -d' ' -f1-3 /proc/loadavg)"
done
echo "soak: $green of $runs runs green"
[ "$green" = "$runs" ]
