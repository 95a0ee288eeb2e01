#!/usr/bin/env bash
# Who takes the CPU from the collector's I/O thread under load, counted from the scheduler's own
# trace, so that the figure does not depend on how fast the machine is at the moment: the same
# ~600-byte page-view GET as bench/collector_nginx.sh, wrk with C connections for S seconds
# against `furrow collector` (1 I/O thread), while `perf record -e sched:sched_switch -a` traces
# every context switch. For each time the I/O thread was switched out while still runnable
# (preempted), the script notes who got the CPU and how long the I/O thread waited to run again;
# it prints, per 1000 requests, the preemptions and the waiting time by cause: the collector's
# own threads (writer, sync helper, compressor: the ones this benchmark is about), wrk, and
# anything else on the machine (other people's builds: noise). Needs root (perf tracepoints).
# Usage: bench/collector_sched.sh [seconds=3] [connections=64] [buffered|fsync]  (about 15 s)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
CONNS=${2:-64}
MODE=${3:-buffered}
FURROW=${FURROW_BIN:-build/release/furrow}
WORK=$(mktemp -d /tmp/furrow-sched-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
source bench/lib/collector_request.sh
write_req_lua "$WORK/req.lua"
start_collector "$MODE" "$WORK/raw" "$WORK/err"
PID=$COLLECTOR_PID PORT=$COLLECTOR_PORT
URL="http://127.0.0.1:$PORT/i?$QS"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  ${SECS}s, $CONNS connections, $MODE, $FURROW"
wrk -t1 -c"$CONNS" -d1s -s "$WORK/req.lua" "$URL" >/dev/null # warm-up
perf record -q -e sched:sched_switch -a -o "$WORK/perf.data" -- \
  wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/req.lua" "$URL" >"$WORK/wrk.txt" 2>/dev/null
# The collector's threads (tid name cpu-ticks); the I/O thread is the busiest one.
for t in /proc/"$PID"/task/*; do
  echo "$(basename "$t") $(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
done >"$WORK/threads.txt"
kill -TERM "$PID"
wait "$PID" || true
perf script -i "$WORK/perf.data" -F time,trace 2>/dev/null >"$WORK/switches.txt"
python3 - "$WORK/threads.txt" "$WORK/switches.txt" "$WORK/wrk.txt" <<'PY'
import re, sys
threads = {}
for line in open(sys.argv[1]):
    tid, name, ticks = line.split()
    threads[int(tid)] = (name, int(ticks))
io = max(threads, key=lambda t: threads[t][1])
wrk = open(sys.argv[3]).read()
requests = int(re.search(r"(\d+) requests in", wrk).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
p99 = re.search(r"\s99%\s+(\S+)", wrk).group(1)
pat = re.compile(r"([\d.]+):\s+prev_comm=(.*?) prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> "
                 r"next_comm=(.*?) next_pid=(\d+)")
out_at = None      # when the I/O thread was preempted, and by whom
stats = {}         # cause -> [preemptions, waited seconds, longest wait]
switched_out = 0
for line in open(sys.argv[2]):
    m = pat.search(line)
    if not m:
        continue
    t = float(m.group(1))
    prev, state, next_comm, nxt = int(m.group(3)), m.group(4), m.group(5), int(m.group(6))
    if prev == io:
        switched_out += 1
        if state.startswith("R"):
            if nxt in threads:
                cause = "own:" + threads[nxt][0]
            elif next_comm.startswith("wrk"):
                cause = "wrk"
            else:
                cause = "other"
            out_at = (t, cause)
    if nxt == io and out_at is not None:
        s = stats.setdefault(out_at[1], [0, 0.0, 0.0])
        s[0] += 1
        s[1] += t - out_at[0]
        s[2] = max(s[2], t - out_at[0])
        out_at = None
print("I/O thread %d (%s): %d requests, non-2xx %s, p99 %s, switched out %d times (%.1f per 1000 requests)"
      % (io, threads[io][0], requests, non2xx.group(1) if non2xx else 0, p99, switched_out,
         switched_out * 1000 / requests))
own_n = own_wait = 0
for cause in sorted(stats):
    n, waited, longest = stats[cause]
    print("preempted by %-20s %8.2f per 1000 requests, runnable-wait %8.3f ms per 1000 requests, longest %6.2f ms"
          % (cause, n * 1000 / requests, waited * 1e6 / requests, longest * 1e3))
    if cause.startswith("own:"):
        own_n += n
        own_wait += waited
print("OWN-THREAD preemptions per 1000 requests: %.2f, I/O thread's wait for them: %.3f ms per 1000 requests"
      % (own_n * 1000 / requests, own_wait * 1e6 / requests))
PY
