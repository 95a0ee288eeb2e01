#!/usr/bin/env bash
# End-to-end send rate of the C++ tracker into a real `furrow collector` (raw log, fsync) on
# 127.0.0.1: furrow-track tracks N structured events into its SQLite outbox and waits until all
# are acknowledged. Prints events/s for POST (batches of 10 and 100) and GET. Bounded (~1 min).
# Usage: trackers/cpp/bench/send_throughput.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${1:-$SRC/build/release}
BIN=$BUILD/furrow
TRACK=$BUILD/trackers/cpp/furrow-track
TMP=$(mktemp -d /tmp/furrow-tracker-bench-XXXXXX)
PID=""
trap '[[ -n $PID ]] && kill -KILL "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT
[[ -x $BIN && -x $TRACK ]] || { echo "build $BIN and $TRACK first" >&2; exit 1; }

"$BIN" collector --host 127.0.0.1 --port 0 --sink "rawlog:$TMP/raw" 2>"$TMP/collector.log" >/dev/null &
PID=$!
disown "$PID"
for _ in $(seq 200); do grep -q 'listening on' "$TMP/collector.log" && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) admin.*/\1/p' "$TMP/collector.log")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"

run() {  # label method batch n
  local label=$1 method=$2 batch=$3 n=$4 t0 t1
  rm -f "$TMP/outbox.db"*
  t0=$(date +%s.%N)
  "$TRACK" --collector "http://127.0.0.1:$PORT" --method "$method" --batch-size "$batch" \
    --outbox "$TMP/outbox.db" --flush-timeout-ms 120000 structured "$n" >/dev/null 2>"$TMP/track.log" ||
    { echo "$label: $(cat "$TMP/track.log")" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v l="$label" -v n="$n" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%-22s %7d events in %6.2f s: %8.0f events/s\n", l, n, t1 - t0, n / (t1 - t0) }'
}
run "POST batch 10" post 10 20000
run "POST batch 100" post 100 50000
run "GET" get 1 3000
