#!/usr/bin/env bash
# Collector vs nginx (empty_gif, buffered access log) on 127.0.0.1 with wrk, the same ~600-byte
# page-view request (User-Agent, Referer, cookie). Prints req/s, p99 latency, CPU µs/request and
# peak RSS for nginx, furrow buffered and furrow fsync, 1 I/O thread each, then one SUMMARY line
# with the ratios against the goals of issue #3 (acceptance 6). req/s counts 2xx answers only.
# fsync mode cannot beat connections / fdatasync latency (one request per connection is in
# flight, a group commit covers at most all of them), so the script also measures this disk's
# fdatasync latency for 64 KiB appends and prints that bound.
# This VM's speed drifts by nearly 2x between runs (nginx alone: 75k-134k req/s), so the three
# servers are measured in ROUNDS interleaved rounds (nginx, buffered, fsync, then again): each
# round prints its own ratios (ROUND lines) and the SUMMARY line gives the median of the rounds'
# ratios, p99s and CPU figures, and the largest peak RSS.
# Usage: [ROUNDS=3] bench/collector_nginx.sh [seconds=5] [connections=64]
# (about 25 s per round with the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
CONNS=${2:-64}
ROUNDS=${ROUNDS:-3}
FURROW=${FURROW_BIN:-build/release/furrow}
WORK=$(mktemp -d /tmp/furrow-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
source bench/lib/collector_request.sh
write_req_lua "$WORK/req.lua"
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
peak_kb() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
run() {  # name pid port
  local name=$1 pid=$2 port=$3
  sleep 0.3
  wrk -t1 -c"$CONNS" -d1s -s "$WORK/req.lua" "http://127.0.0.1:$port/i?$QS" >/dev/null  # warm-up
  local t0; t0=$(cpu_ticks "$pid")
  local out; out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/req.lua" "http://127.0.0.1:$port/i?$QS")
  local t1; t1=$(cpu_ticks "$pid")
  local rps; rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  local reqs; reqs=$(awk '/requests in/{print $1}' <<<"$out")
  local p99; p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  local hz; hz=$(getconf CLK_TCK)
  local us; us=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN{printf "%.1f", t/hz*1e6/n}')
  local errs; errs=$(awk '/Non-2xx/{print $5}' <<<"$out")
  local ok; ok=$(awk -v n="$reqs" -v e="${errs:-0}" -v s="$SECS" 'BEGIN{printf "%.0f", (n-e)/s}')
  local p99ms; p99ms=$(awk -v v="$p99" 'BEGIN{u=v; sub(/[0-9.]+/,"",u); x=v+0; if(u=="us")x/=1000; if(u=="s")x*=1000; printf "%.2f", x}')
  printf "%-16s req/s %10s  ok/s %8s  p99 %8s  cpu_us/req %6s  peak_rss_kb %7s  non2xx %s\n" "$name" "$rps" "$ok" \
    "$p99" "$us" "$(peak_kb "$pid")" "${errs:-0}"
  eval "OK_${name//-/_}=$ok P99_${name//-/_}=$p99ms RSS_${name//-/_}=$(peak_kb "$pid") CPU_${name//-/_}=$us"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores), ${SECS}s, $CONNS connections, $ROUNDS rounds"
: >"$WORK/rounds.txt"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/nginx" "$WORK"/raw-*
  mkdir -p "$WORK/nginx/tmp"
  NPORT=$((20000 + RANDOM % 20000))
  sed -e "s|PREFIX|$WORK/nginx|g" -e "s|PORT|$NPORT|" bench/nginx/nginx.conf > "$WORK/nginx/nginx.conf"
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>"$WORK/nginx/stderr" &
  NGPID=$!
  sleep 0.3
  # The worker process does the work.
  WPID=$(pgrep -P "$NGPID" | head -1)
  run nginx "${WPID:-$NGPID}" "$NPORT"
  kill "$NGPID"; wait "$NGPID" 2>/dev/null || true
  for mode in buffered fsync; do
    : >"$WORK/furrow-$mode.err"
    start_collector "$mode" "$WORK/raw-$mode" "$WORK/furrow-$mode.err"
    FPID=$COLLECTOR_PID FPORT=$COLLECTOR_PORT
    run "furrow-$mode" "$FPID" "$FPORT"
    kill -TERM "$FPID"; wait "$FPID" || true
  done
  # One line per round: buffered/nginx fsync/nginx p99 rss_kb(max of both) cpu(nginx buffered fsync)
  awk -v n="$OK_nginx" -v b="$OK_furrow_buffered" -v f="$OK_furrow_fsync" -v p="$P99_furrow_buffered" \
      -v rb="$RSS_furrow_buffered" -v rf="$RSS_furrow_fsync" -v cn="$CPU_nginx" -v cb="$CPU_furrow_buffered" \
      -v cf="$CPU_furrow_fsync" -v nn="$OK_nginx" 'BEGIN{
    printf "%.4f %.4f %.2f %d %s %s %s %d\n", b / n, f / n, p, (rb > rf ? rb : rf), cn, cb, cf, nn }' >>"$WORK/rounds.txt"
  awk -v r="$round" '{ printf "ROUND %d buffered/nginx %.2fx | fsync/nginx %.2fx | buffered p99 %.2f ms | peak RSS %.1f MB\n", r, $1, $2, $3, $4 / 1024 }' \
    <(tail -1 "$WORK/rounds.txt")
done
FSYNC_MS=$(python3 - "$WORK" <<'PY'
import os, sys, time
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
block, times = b"x" * 65536, []
for _ in range(60):
    os.write(fd, block)
    t = time.perf_counter()
    os.fdatasync(fd)
    times.append(time.perf_counter() - t)
os.close(fd)
times.sort()
print("%.2f" % (times[len(times) // 2] * 1000))
PY
)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Medians over the rounds (the middle value, or the mean of the two middle ones).
median() { sort -g | awk '{v[NR] = $1} END {printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$1" '{print $c}' "$WORK/rounds.txt" | median; }
awk -v rb="$(col 1)" -v rf="$(col 2)" -v p="$(col 3)" -v rss="$(awk '$4 > m {m = $4} END {print m}' "$WORK/rounds.txt")" \
    -v fs="$FSYNC_MS" -v c="$CONNS" -v cn="$(col 5)" -v cb="$(col 6)" -v cf="$(col 7)" -v n="$(col 8)" \
    -v k="$ROUNDS" 'BEGIN{
  printf "SUMMARY (median of %d rounds) buffered/nginx %.2fx (goal >= 0.9) | fsync/nginx %.2fx (goal >= 0.6; disk bound %d conns / %.2f ms fdatasync = %.0f req/s = %.2fx nginx) | buffered p99 %.2f ms (goal < 2) | peak RSS %.1f MB (goal < 64) | cpu us/req nginx %s buffered %s fsync %s\n",
    k, rb, rf, c, fs, c / fs * 1000, c / fs * 1000 / n, p, rss / 1024, cn, cb, cf
}'
