#!/usr/bin/env bash
# CPU per request of each of the collector's threads: `furrow collector --durability MODE`
# (1 I/O thread) under wrk with the page-view GET of bench/collector_nginx.sh, 64 connections, for
# S seconds after a 1 s warm-up; user and system µs per request and involuntary context switches
# per thread (from /proc/PID/task/*/stat and status, before and after the measured run), then the
# process total. No nginx in between, so two binaries can be alternated quickly:
#   for b in OLD NEW OLD NEW; do FURROW_BIN=$b bash bench/collector_threads_cpu.sh; done
# Usage: bench/collector_threads_cpu.sh [seconds=5] [buffered|fsync]   (about 8 s)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
MODE=${2:-buffered}
FURROW=${FURROW_BIN:-build/release/furrow}
WORK=$(mktemp -d /tmp/furrow-threads-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
source bench/lib/collector_request.sh
start_collector "$MODE" "$WORK/raw" "$WORK/err"
PID=$COLLECTOR_PID PORT=$COLLECTOR_PORT
URL="http://127.0.0.1:$PORT/i?$QS"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  ${SECS}s, 64 connections, $MODE, $FURROW"
wrk -t1 -c64 -d1s "$URL" >/dev/null
# tid name utime stime involuntary-switches
snap() {
  for t in /proc/"$PID"/task/*; do
    echo "$(basename "$t") $(tr ' ' '_' <"$t/comm") $(awk '{print $14, $15}' "$t/stat") $(awk '/^nonvoluntary_ctxt/{print $2}' "$t/status")"
  done | sort
}
snap >"$WORK/a"
OUT=$(wrk -t1 -c64 -d"${SECS}s" "$URL")
snap >"$WORK/b"
N=$(awk '/requests in/{print $1}' <<<"$OUT")
E=$(awk '/Non-2xx/{print $5}' <<<"$OUT")
HZ=$(getconf CLK_TCK)
join "$WORK/a" "$WORK/b" | awk -v n="$N" -v e="${E:-0}" -v hz="$HZ" -v s="$SECS" '{
  u = ($7 - $3) / hz * 1e6 / n; y = ($8 - $4) / hz * 1e6 / n; tu += u; ty += y
  printf "thread %-8s %-16s user %5.2f  sys %5.2f  us/request   involuntary switches %d\n", $1, $2, u, y, $9 - $5
} END {
  printf "TOTAL user %.2f sys %.2f = %.2f us/request; %d requests (%.0f/s), non-2xx %d\n", tu, ty, tu + ty, n, n / s, e
}'
