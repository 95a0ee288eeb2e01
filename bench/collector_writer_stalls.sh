#!/usr/bin/env bash
# Which of the collector's threads waits for the disk in buffered mode: floods `furrow collector
# --durability buffered` (1 I/O thread) with the page-view GET of bench/collector_nginx.sh for S
# seconds under `strace -f -T` (write, fdatasync, fsync, ftruncate) and prints, per thread, the
# number of such calls, their total time and the longest one. The sink writer must never be the
# thread that blocks in fdatasync/fsync: while it does, nothing drains the queue, and a full queue
# answers 503. strace slows the collector down several times, so req/s here mean nothing; the
# per-thread split and the longest sync are the figures.
# Usage: bench/collector_writer_stalls.sh [seconds=4]   (about 10 s)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-4}
FURROW=${FURROW_BIN:-build/release/furrow}
WORK=$(mktemp -d /tmp/furrow-stalls-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
QS="e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2Fgarden&page=Garden%20tools&tv=js-3.24.6&tna=sp&aid=shop&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=5f1c0b7e-8f2a-4c3d-9e4f-a1b2c3d4e5f6&dtm=1700000000000&vp=1280x720&ds=1280x2000&vid=1&sid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d&duid=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d&stm=1700000000001"
"$FURROW" collector --host 127.0.0.1 --port 0 --threads 1 --sink "rawlog:$WORK/raw" \
  --durability buffered 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/err" && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$WORK/err")
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  ${SECS}s, 64 connections, $FURROW"
strace -f -T -e trace=fdatasync,fsync,write,ftruncate -p "$PID" -o "$WORK/strace.txt" 2>/dev/null &
SPID=$!
sleep 0.5
wrk -t1 -c64 -d"${SECS}s" "http://127.0.0.1:$PORT/i?$QS" | grep -E "Requests/sec|Non-2xx" || true
for t in /proc/"$PID"/task/*; do echo "$(basename "$t") $(cat "$t/comm")"; done >"$WORK/threads.txt"
kill "$SPID"
wait "$SPID" 2>/dev/null || true
python3 - "$WORK/strace.txt" "$WORK/threads.txt" <<'PY'
import collections, re, sys
names = dict(line.split(maxsplit=1) for line in open(sys.argv[2]))
calls = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0.0, 0.0]))
for line in open(sys.argv[1]):
    # "TID call(...) = R <secs>" or, for a call interrupted by another thread's output,
    # "TID <... call resumed>...) = R <secs>".
    m = re.match(r"(\d+)\s+(?:<\.\.\. )?(\w+)[( ].*<([\d.]+)>$", line.strip())
    if not m:
        continue
    c = calls[m.group(1)][m.group(2)]
    t = float(m.group(3))
    c[0] += 1
    c[1] += t
    c[2] = max(c[2], t)
for tid in sorted(calls):
    name = names.get(tid, "?").strip()
    print("thread %-7s %-16s %s" % (tid, name, "  ".join(
        "%s %d calls %.3f s, longest %.3f s" % (k, v[0], v[1], v[2]) for k, v in sorted(calls[tid].items()))))
PY
