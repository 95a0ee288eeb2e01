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
UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
REF="https://shop.example.com/products/garden/tools?id=42&utm_source=newsletter"
COOKIE="sp=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b; _sp_id.1fff=abc.1700000000.1.1700000000.1700000000"
QS="e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2Fgarden&page=Garden%20tools&tv=js-3.24.6&tna=sp&aid=shop&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=5f1c0b7e-8f2a-4c3d-9e4f-a1b2c3d4e5f6&dtm=1700000000000&vp=1280x720&ds=1280x2000&vid=1&sid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d&duid=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d&stm=1700000000001"
cat >"$WORK/req.lua" <<LUA
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Referer"] = "$REF"
wrk.headers["Cookie"] = "$COOKIE"
LUA
"$FURROW" collector --host 127.0.0.1 --port 0 --threads 1 --sink "rawlog:$WORK/raw" \
  --durability "$MODE" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/err" && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$WORK/err")
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
