#!/usr/bin/env bash
# Issue 7 acceptance 4: `furrow run` under a paced tp2 POST load (wrk + bench/run_load.lua) for
# DURATION seconds. Prints: events/s that reached SQLite, 503s, event-to-queryable latency p50/p99
# (probe events sent one at a time beside the load, each timed until its row is queryable in
# SQLite), peak RSS of the furrow process, the backlog left when the load stops, and CPU time per
# event by thread (stage). Bounded: DURATION (default 60) + at most ~100 s.
#   FURROW_BIN=build/release/furrow bench/run_load.sh            # defaults: 40000 events/s, 25/request
#   RUN_BENCH_RATE=20000 DURATION=20 bench/run_load.sh        # a lower offered rate
#   RUN_BENCH_CONFIG=furrow.yaml bench/run_load.sh             # e.g. run: {models_interval_ms: 0}
#   RUN_BENCH_RANDOM_IDS=0 bench/run_load.sh                   # rising event ids (default: random v4, as real trackers)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${FURROW_BIN:-$root/build/release/furrow}
duration=${DURATION:-60}
export RUN_BENCH_RATE=${RUN_BENCH_RATE:-40000}
export RUN_BENCH_EVENTS=${RUN_BENCH_EVENTS:-25}
export RUN_BENCH_CONNS=${RUN_BENCH_CONNS:-32}
export RUN_BENCH_THREADS=${RUN_BENCH_THREADS:-2}
export RUN_BENCH_ID=$(printf '%08x' $((RANDOM * 32768 + RANDOM)))
tmp=$(mktemp -d /tmp/furrow-run-bench.XXXXXX)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  # RUN_BENCH_LOG=FILE keeps furrow run's log (slow model runs, the stop summary).
  [[ -n "${RUN_BENCH_LOG:-}" ]] && cp "$tmp/run.log" "$RUN_BENCH_LOG" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" run ${RUN_BENCH_CONFIG:+--config "$RUN_BENCH_CONFIG"} --port 0 --data-dir "$tmp/data" 2>"$tmp/run.log" &
pid=$!
# Startup loads the enrichment data (seconds on a busy machine): wait up to 60 s.
for _ in $(seq 600); do
  grep -q "listening on" "$tmp/run.log" 2>/dev/null && break
  sleep 0.1
done
base=$(grep -o 'listening on http://[0-9.:]*' "$tmp/run.log" | head -1 | sed 's/listening on //')
[[ -n "$base" ]] || { cat "$tmp/run.log"; exit 1; }
db="$tmp/data/furrow.db"

# Peak RSS and peak WAL file size (it grows while a read snapshot keeps checkpoints from
# starting it over), sampled every 200 ms.
( peak=0; wpeak=0; while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    (( r > peak )) && peak=$r && echo "$peak" > "$tmp/peak_rss_kb"
    w=$(stat -c %s "$tmp/data/furrow.db-wal" 2>/dev/null || echo 0)
    (( w > wpeak )) && wpeak=$w && echo "$wpeak" > "$tmp/peak_wal_bytes"
    sleep 0.2
  done ) &
sampler=$!

# Latency probes: one event per request, timed from send until its row is in SQLite.
python3 - "$base" "$db" "$duration" > "$tmp/latency.txt" <<'PY' &
import json, sqlite3, sys, time, urllib.request, uuid
base, db, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(2)
end = time.time() + duration - 4
lat = []
conn = None
while time.time() < end:
    eid = str(uuid.uuid4())
    body = json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                       "data": [{"e": "pv", "eid": eid, "p": "web", "tv": "probe", "aid": "probe",
                                 "url": "https://probe.example/"}]}).encode()
    t0 = time.time()
    req = urllib.request.Request(base + "/com.snowplowanalytics.snowplow/tp2", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except Exception:
        time.sleep(0.25)
        continue
    if conn is None:
        conn = sqlite3.connect("file:" + db + "?mode=ro", uri=True, timeout=5)
    while time.time() - t0 < 10:
        try:
            # Through the unique key (collector_tstamp, event_id, ...): the collector (same clock)
            # stamps the event after t0, so a bound on the key's first column just before t0
            # keeps this poll a short index range; by event_id alone it would scan the table.
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 - 1))
            if conn.execute("select 1 from atomic_events where collector_tstamp >= ? and event_id = ?",
                            (since, eid)).fetchone():
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.025)
    lat.append((t0, time.time() - t0))
    time.sleep(0.25)
# One line per probe: send time (seconds since the epoch) and latency (seconds), in send order.
for t0, l in lat:
    print(f"{t0:.3f} {l:.4f}")
PY
prober=$!

# Events in SQLite, from the loader's per-commit counts (cheap at any table size; includes the
# probe events, ~4 a second). Counting atomic_events rows scans the table: at a million rows each
# count took about a second of a core the pipeline needed, and the drain loop stretched to minutes.
count() { sqlite3 "file:$db?mode=ro" "select coalesce(sum(events), 0) from load_batches" 2>/dev/null || echo 0; }
count_bench() { sqlite3 "file:$db?mode=ro" "select count(*) from atomic_events where app_id='bench'" 2>/dev/null || echo 0; }
sleep 1
start_count=$(count)
start_t=$(date +%s.%N)
# Where the machine's CPU went while wrk ran: furrow's process, wrk itself, the rest (the
# prober, other users of the machine), idle and stolen (in clock ticks from /proc/stat).
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
furrow_ticks0=$(proc_ticks "$pid")
read -r -a stat0 < <(head -1 /proc/stat)
/usr/bin/time -f '%U %S' -o "$tmp/wrk_cpu.txt" \
  wrk -t "$RUN_BENCH_THREADS" -c "$RUN_BENCH_CONNS" -d "${duration}s" --latency -s "$here/run_load.lua" "$base" > "$tmp/wrk.txt" 2>&1 || true
wrk_end=$(date +%s.%N)
read -r -a stat1 < <(head -1 /proc/stat)
furrow_ticks1=$(proc_ticks "$pid")
# The rate is what reached SQLite while wrk ran; a backlog left then is drained and reported
# separately (it is not counted as sustained throughput).
load_end_count=$(count)
bench_in_db=$(count_bench)  # exact, once: every accepted event must be there
non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$tmp/wrk.txt" | grep -o '[0-9]*$' || echo 0)
reqs=$(grep -o '^ *[0-9]* requests in' "$tmp/wrk.txt" | grep -o '[0-9]*' | head -1 || echo 0)
accepted=$(( (${reqs:-0} - ${non2xx:-0}) * RUN_BENCH_EVENTS ))
# Drain: every accepted event must still arrive (up to 60 s; stops early after 5 s without
# progress, which the backlog figure then shows).
drain_start=$(date +%s.%N)
last=-1; still=0
for _ in $(seq 600); do
  c=$(count)
  (( c - start_count >= accepted )) && break
  if [[ "$c" == "$last" ]]; then still=$((still + 1)); else still=0; fi
  (( still >= 50 )) && break
  last=$c
  sleep 0.1
done
drain_secs=$(echo "$(date +%s.%N) - $drain_start" | bc -l)
end_count=$(count)
bench_in_db=$(count_bench)  # exact, once: every accepted event must be there
wait "$prober" || true
# CPU time per thread name since start (engine threads are named furrow-loader, -tailer, -enrich,
# -models; the rest, "furrow", are the collector's and the main thread), per event in SQLite.
all_events=$(count)
cpu=$(for t in /proc/$pid/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
      done | awk -v n="$all_events" 'NF == 2 { ns[$1] += $2; total += $2 }
        END { if (n > 0) { for (k in ns) printf "%s %.1f, ", k, ns[k] / 1000 / n;
                           printf "total %.1f", total / 1000 / n } }')
# Time each stage was runnable but waited for a CPU (schedstat's second field): large values
# mean the stages starve each other (or wrk starves them), not that they have too much to do.
waits=$(for t in /proc/$pid/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(cut -d' ' -f2 "$t/schedstat" 2>/dev/null)"
      done | awk -v n="$all_events" 'NF == 2 { ns[$1] += $2; total += $2 }
        END { if (n > 0) { for (k in ns) printf "%s %.1f, ", k, ns[k] / 1000 / n;
                           printf "total %.1f", total / 1000 / n } }')
# The kernel's share of it (stime, in clock ticks), per thread name: SQLite's and the raw log's
# reads and writes, fsyncs, futex waits.
hz=$(getconf CLK_TCK)
sys=$(for t in /proc/$pid/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '{print $15}' "$t/stat" 2>/dev/null)"
      done | awk -v n="$all_events" -v hz="$hz" 'NF == 2 { s[$1] += $2 }
        END { if (n > 0) for (k in s) printf "%s %.1f, ", k, s[k] * 1e6 / hz / n }')
# Bytes each thread caused to be written to storage (/proc/PID/task/*/io write_bytes: the raw
# log, SQLite's WAL by the loader and the models, the database file by the checkpoints), per
# event in SQLite: index pages rewritten by every commit show up here.
wbytes=$(for t in /proc/$pid/task/*; do
        printf '%s %s\n' "$(cat "$t/comm" 2>/dev/null)" "$(awk '/^write_bytes/ {print $2}' "$t/io" 2>/dev/null)"
      done | awk -v n="$all_events" 'NF == 2 { b[$1] += $2; total += $2 }
        END { if (n > 0) { for (k in b) if (b[k] > 0) printf "%s %.0f, ", k, b[k] / n;
                           printf "total %.0f", total / n } }')
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
wait "$sampler" 2>/dev/null || true

loaded=$((load_end_count - start_count))
secs=$(echo "$wrk_end - $start_t" | bc -l)
rate=$(echo "$loaded / $secs" | bc -l)
backlog=$((end_count - load_end_count))
# Probe latencies: p50/p99 over all probes (p99 = the slowest when there are fewer than 100).
read -r n p50 p99 pmax < <(awk '{ print $2 }' "$tmp/latency.txt" | sort -g | awk '
  { l[NR] = $1 } END {
    if (NR == 0) { print "0 0 0 0"; exit }
    i50 = int(0.5 * NR) + 1; i99 = int(0.99 * NR) + 1; if (i99 > NR) i99 = NR
    printf "%d %.0f %.0f %.0f\n", NR, l[i50] * 1000, l[i99] * 1000, l[NR] * 1000 }')
peak=$(cat "$tmp/peak_rss_kb" 2>/dev/null || echo 0)
printf 'run_load: %d events loaded in %.1f s = %.0f events/s into SQLite (offered %s/s, %s requests, %s non-2xx); event-to-queryable p50 %s ms p99 %s ms max %s ms (%s probes); peak RSS %d MB; load avg %s\n' \
  "$loaded" "$secs" "$rate" "$RUN_BENCH_RATE" "${reqs:-0}" "${non2xx:-0}" "$p50" "$p99" "$pmax" "$n" \
  $((peak / 1024)) "$(cut -d' ' -f1-3 /proc/loadavg)"
wrk_lat=$(awk '/^ +(50|99)%/ {printf "%s %s ", $1, $2}' "$tmp/wrk.txt")
read -r wrk_user wrk_sys < <(tail -1 "$tmp/wrk_cpu.txt" 2>/dev/null || echo "0 0")
# wrk prints its duration as 20.01s, 1.00m or 1.00h.
wrk_secs=$(grep -o 'requests in [0-9.]*[a-z]*' "$tmp/wrk.txt" | head -1 |
  awk '{ v = $3; u = v; sub(/^[0-9.]+/, "", u); v += 0; if (u == "m") v *= 60; else if (u == "h") v *= 3600; else if (u == "ms") v /= 1000; print v }' || true)
dropped=$(grep -o 'slots dropped.*: [0-9]*' "$tmp/wrk.txt" | grep -o '[0-9]*$' || echo '?')
# Over the same window as the events/s above (from before wrk started until it had exited), and
# over wrk's own sending time (without its start and exit).
printf 'run_load: offered for real: %.0f events/s (%s requests of %s events in %.1f s over %s connections; %.0f events/s over wrk'"'"'s own %s s; %s schedule slots dropped); answer time %s\n' \
  "$(echo "${reqs:-0} * $RUN_BENCH_EVENTS / $secs" | bc -l)" "${reqs:-0}" "$RUN_BENCH_EVENTS" "$secs" "$RUN_BENCH_CONNS" \
  "$(echo "${reqs:-0} * $RUN_BENCH_EVENTS / ${wrk_secs:-$secs}" | bc -l)" "${wrk_secs:-?}" "${dropped:-?}" "$wrk_lat"
# /proc/stat cpu: user nice system idle iowait irq softirq steal (ticks, all CPUs).
awk -v f="$((furrow_ticks1 - furrow_ticks0))" -v wu="$wrk_user" -v ws="$wrk_sys" -v hz="$hz" -v secs="$secs" \
  -v a="${stat0[*]}" -v b="${stat1[*]}" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = 0
    for (i = 2; i <= 9; i++) d[i] = y[i] - x[i]
    total = d[2] + d[3] + d[4] + d[5] + d[6] + d[7] + d[8] + d[9]
    w = (wu + ws) * hz; busy = d[2] + d[3] + d[4] + d[7] + d[8]
    printf "run_load: cores used while wrk ran (of %d): furrow %.2f, wrk %.2f, rest (prober, others) %.2f, idle %.2f, iowait %.2f, steal %.2f\n",
      total / hz / secs + 0.5, f / hz / secs, w / hz / secs, (busy - f - w) / hz / secs, d[5] / hz / secs, d[6] / hz / secs, d[9] / hz / secs }'
printf 'run_load: backlog at the end of the load: %d events, drained in %.1f s; %d of %d accepted events in SQLite; peak WAL file %d MB\n' \
  "$backlog" "$drain_secs" "$bench_in_db" "$accepted" $(( $(cat "$tmp/peak_wal_bytes" 2>/dev/null || echo 0) >> 20 ))
printf 'run_load: CPU us per event by thread: %s (%s events)\n' "$cpu" "$all_events"
printf 'run_load: of which system time: %s\n' "${sys%, }"
printf 'run_load: runnable but waiting for a CPU, us per event: %s\n' "$waits"
printf 'run_load: bytes written to storage per event by thread: %s\n' "$wbytes"
# Every probe kept: a latency histogram, and the slowest probes with their send time (seconds
# since wrk started, and UTC wall clock) to set beside what furrow run logged at that moment
# (its timed lines below: slow commits, model runs and dashboard refreshes, write locks held long).
awk 'BEGIN { n = split("50 100 250 500 1000 2000 5000", up, " ") }
     { l = $2 * 1000; for (i = 1; i <= n && l >= up[i]; i++) {} h[i]++ }
     END { printf "run_load: probe latency histogram (ms):"
           for (i = 1; i <= n + 1; i++)
             printf " %s: %d", (i == 1 ? "<" up[1] : (i > n ? ">=" up[n] : up[i - 1] "-" up[i])), h[i] + 0
           printf "\n" }' "$tmp/latency.txt"
printf 'run_load: slowest probes (send time since wrk started, UTC; latency):'
sort -k2 -g -r "$tmp/latency.txt" | head -"${RUN_BENCH_SLOWEST:-8}" | sort -g | while read -r t l; do
  printf ' %+.1f s (%s.%s) %.0f ms;' "$(echo "$t - $start_t" | bc -l)" \
    "$(date -u -d "@${t%.*}" +%H:%M:%S)" "${t#*.}" "$(echo "$l * 1000" | bc -l)"
done
printf '\n'
# furrow run's stop summary (commits, model runs, snapshots given back).
grep -E '^furrow run: stopped' "$tmp/run.log" 2>/dev/null | sed 's/^furrow run: /run_load: furrow /' || true
# furrow run's timed lines ("[HH:MM:SS.mmm] ..."), with the same offsets.
grep -E '^furrow run: \[[0-9:.]+\]' "$tmp/run.log" 2>/dev/null | head -"${RUN_BENCH_LOG_LINES:-40}" | while read -r line; do
  hms=$(echo "$line" | sed -E 's/^furrow run: \[([0-9:.]+)\].*/\1/')
  at=$(date -u -d "$(date -u -d "@${start_t%.*}" +%F) $hms" +%s.%N 2>/dev/null || echo "$start_t")
  printf 'run_load:   %+.1f s %s\n' "$(echo "$at - $start_t" | bc -l)" "${line#furrow run: }"
done
