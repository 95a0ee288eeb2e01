#!/usr/bin/env bash
# Instructions per request of `furrow collector` (1 I/O thread), counted by callgrind, so the
# figure does not depend on machine load: the same ~600-byte page-view GET as
# bench/collector_nginx.sh, sent N times over C keep-alive connections by a small Python client
# after a warm-up; callgrind's counters are zeroed after the warm-up and dumped after the N
# requests. Prints user-space instructions per request for the whole process and per thread
# (I/O thread, sink writer), plus syscalls per request (strace -c -f, a separate run).
# Usage: bench/collector_instructions.sh [requests=4000] [connections=16] [buffered|fsync]
# (about 1 minute).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-4000}
CONNS=${2:-16}
MODE=${3:-buffered}
FURROW=${FURROW_BIN:-build/release/furrow}
WORK=$(mktemp -d /tmp/furrow-instr-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/client.py" <<'PY'
import socket, sys, threading
port, n, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
ref = "https://shop.example.com/products/garden/tools?id=42&utm_source=newsletter"
cookie = "sp=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b; _sp_id.1fff=abc.1700000000.1.1700000000.1700000000"
qs = ("e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2Fgarden&page=Garden%20tools&tv=js-3.24.6"
      "&tna=sp&aid=shop&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1"
      "&eid=5f1c0b7e-8f2a-4c3d-9e4f-a1b2c3d4e5f6&dtm=1700000000000&vp=1280x720&ds=1280x2000&vid=1"
      "&sid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d&duid=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d&stm=1700000000001")
req = ("GET /i?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: %s\r\nReferer: %s\r\nCookie: %s\r\n\r\n"
       % (qs, port, ua, ref, cookie)).encode()
bad = [0]
def worker(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    for _ in range(count):
        s.sendall(req)
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end].decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    k, _, v = line.partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                if len(buf) >= end + 4 + length:
                    if not head.startswith("HTTP/1.1 200"):
                        bad[0] += 1
                    buf = buf[end + 4 + length:]
                    break
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            buf += chunk
    s.close()
threads = [threading.Thread(target=worker, args=(n // conns + (1 if i < n % conns else 0),)) for i in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
if bad[0]:
    sys.exit("%d non-200 answers" % bad[0])
PY
start() {  # wrapper...: starts the collector, sets PID and PORT
  : >"$WORK/err"
  "$@" "$FURROW" collector --host 127.0.0.1 --port 0 --threads 1 --sink "rawlog:$WORK/raw" \
    --durability "$MODE" 2>"$WORK/err" &
  PID=$!
  for _ in $(seq 600); do grep -q listening "$WORK/err" && break; sleep 0.1; done
  PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$WORK/err")
}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)  $N requests, $CONNS connections, $MODE"
rm -rf "$WORK/raw"
start valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/cg.out.%p"
python3 "$WORK/client.py" "$PORT" 500 "$CONNS"
callgrind_control -z "$PID" >/dev/null
python3 "$WORK/client.py" "$PORT" "$N" "$CONNS"
sleep 0.3  # let the buffered writer's flush (50 ms) happen inside the measured window
callgrind_control -d "$PID" >/dev/null
cp "$WORK"/cg.out.*.1-* "${CG_KEEP:-$WORK}/" 2>/dev/null || true
kill -TERM "$PID"; wait "$PID" || true
# The dump after zeroing: files named cg.out.PID.1-NN (one per thread).
total=0
for f in "$WORK"/cg.out.*.1-*; do
  ir=$(awk '/^summary:/{print $2}' "$f")
  thread=${f##*-}
  [ "${ir:-0}" -gt 0 ] || continue
  awk -v t="$thread" -v ir="$ir" -v n="$N" 'BEGIN{printf "thread %s  %12d instructions  %8.0f per request\n", t, ir, ir / n}'
  total=$((total + ir))
done
awk -v ir="$total" -v n="$N" 'BEGIN{printf "TOTAL instructions per request: %.0f\n", ir / n}'
rm -rf "$WORK/raw"
start strace -c -f -o "$WORK/strace.txt"
# strace -o blocks fatal signals: signal the collector itself, wait for strace.
CPID=$(pgrep -P "$PID" || echo "$PID")
python3 "$WORK/client.py" "$PORT" "$N" "$CONNS"
kill -TERM "$CPID"; wait "$PID" || true
awk -v n="$N" '$NF ~ /^(read|recvfrom|recvmsg|write|sendto|sendmsg|epoll_wait|futex|writev|fdatasync|timerfd_settime|epoll_ctl)$/ && $4 ~ /^[0-9]+$/ {printf "syscall %-16s %8.2f per request\n", $NF, $4 / n}' "$WORK/strace.txt"
awk -v n="$N" '/^100.00/{printf "SYSCALLS per request: %.2f\n", $4 / n}' "$WORK/strace.txt"
