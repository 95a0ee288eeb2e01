#!/usr/bin/env bash
# Issue #9, acceptance 3: collector -> Kafka (librdkafka mock cluster) -> enrich, against the
# file-based pipeline (collector -> raw log -> furrow enrich), same requests, same script.
#
#   bash bench/kafka_pipeline.sh                 # 20000 page views
#   EVENTS=5000 bash bench/kafka_pipeline.sh     # quicker
#
# Needs the release build: FURROW_BIN (default build/release/furrow) and kafka_mock_cluster beside
# it (FURROW_BUILD_DIR, default the binary's directory). Requests are GET /i page views (~250 bytes
# of query string) sent by curl --parallel (32 at a time) on 127.0.0.1; curl's own CPU is not
# counted. Cost per event = CPU seconds (user + sys, from /proc) of the furrow processes / events.
# The mock cluster stands in for the brokers; its CPU is shown apart (a real cluster runs
# elsewhere). Bounded to about 3 minutes at the default size.
set -euo pipefail
cd "$(dirname "$0")/.."
export FURROW_BIN=${FURROW_BIN:-$PWD/build/release/furrow}
export FURROW_BUILD_DIR=${FURROW_BUILD_DIR:-$(dirname "$FURROW_BIN")}
EVENTS=${EVENTS:-20000}
[[ -x $FURROW_BIN ]] || { echo "no furrow binary at $FURROW_BIN" >&2; exit 1; }
source test/kafka/pipeline_lib.sh
HZ=$(getconf CLK_TCK)

# CPU seconds (user + sys) a live process used so far.
cpu_of() { awk -v hz="$HZ" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The same N requests for both pipelines.
awk -v n="$EVENTS" 'BEGIN { for (i = 0; i < n; i++) printf "url = \"http://127.0.0.1:PORT/i?e=pv&p=web&tv=js-3.24.0&aid=bench&uid=user%d&url=https%%3A%%2F%%2Fshop.example.com%%2Fproducts%%2F%d%%3Fref%%3Dnews&page=Product%%20page%%20%d&refr=https%%3A%%2F%%2Fwww.google.com%%2F&res=1920x1080&lang=en-US&cs=UTF-8&tz=Europe%%2FBerlin&eid=%08d-0000-4000-8000-000000000000\"\noutput = \"/dev/null\"\n", i, i, i, i }' >"$KP_TMP/urls.tmpl"
send_all() { # PORT -> seconds
  sed "s/PORT/$1/" "$KP_TMP/urls.tmpl" >"$KP_TMP/urls"
  local t0 t1
  t0=$(now)
  curl -s --no-progress-meter --parallel --parallel-max 32 -K "$KP_TMP/urls" -w '%{http_code}\n' |
    sort | uniq -c >"$KP_TMP/codes"
  t1=$(now)
  grep -q " 200$" "$KP_TMP/codes" || { cat "$KP_TMP/codes"; kp_die "no 200 answers"; }
  echo "$t1 - $t0" | bc -l
}

echo "# furrow over Kafka vs files ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "events: $EVENTS page views over HTTP; librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?')"

# ---- Kafka: collector -> raw topic -> 1 enrich process -> enriched topic
kp_start_mock
kp_start_collector
admin=$(free_port)
"$KP_BIN" enrich --source kafka --kafka-config "$KP_TMP/kafka.yaml" --admin-port "$admin" \
  2>"$KP_TMP/enrich_1.log" &
KP_PIDS+=($!)
enrich_pid=$!
kp_wait_group 1
t0=$(now)
send_secs=$(send_all "$KP_PORT")
for ((i = 0; i < 1200; i++)); do
  good=$(curl -s "http://127.0.0.1:$admin/metrics" | sed -n 's/^furrow_kafka_good_total{stage="enrich"} //p')
  [[ "${good:-0}" -ge $EVENTS ]] && break
  sleep 0.1
done
t1=$(now)
[[ "${good:-0}" -ge $EVENTS ]] || kp_die "enrich produced ${good:-0} of $EVENTS"
k_total=$(echo "$t1 - $t0" | bc -l)
k_coll=$(cpu_of "$KP_COLLECTOR_PID")
k_enr=$(cpu_of "$enrich_pid")
k_mock=$(cpu_of "$KP_MOCK_PID")
lag=$(curl -s "http://127.0.0.1:$admin/metrics" | grep -c '^furrow_kafka_consumer_lag' || true)
echo "kafka: 200s $(awk '$2==200 {print $1}' "$KP_TMP/codes"); collector acks in ${send_secs}s;" \
  "all enriched after $(printf %.2f "$k_total")s => $(echo "$EVENTS / $k_total" | bc) events/s end to end"
echo "kafka: CPU collector ${k_coll}s, enrich ${k_enr}s, mock brokers ${k_mock}s; lag series: $lag"
kp_stop_stages

# ---- Files: collector -> raw log (fsync) -> furrow enrich --input-format rawlog
mkdir -p "$KP_TMP/rawlog"
"$KP_BIN" collector --host 127.0.0.1 --port 0 --threads 2 --sink "rawlog:$KP_TMP/rawlog" \
  2>"$KP_TMP/collector_file.log" &
fpid=$!
KP_PIDS+=($fpid)
line=$(kp_wait_line "$KP_TMP/collector_file.log" 15 'listening on') || kp_die "collector did not start"
fport=$(sed -E 's/.*listening on [^:]+:([0-9]+).*/\1/' <<<"$line")
t0=$(now)
f_send=$(send_all "$fport")
f_coll=$(cpu_of "$fpid")
kp_stop_stages
/usr/bin/time -f '%e %U %S' -o "$KP_TMP/etime" "$KP_BIN" enrich --input-format rawlog \
  --input "$KP_TMP/rawlog" --output /dev/null --bad /dev/null --threads 1 2>"$KP_TMP/enrich_file.log"
t1=$(now)
read -r e_wall e_user e_sys <"$KP_TMP/etime"
f_enr=$(echo "$e_user + $e_sys" | bc -l)
f_total=$(echo "$t1 - $t0" | bc -l)
echo "files: 200s $(awk '$2==200 {print $1}' "$KP_TMP/codes"); collector acks in ${f_send}s (fsync);" \
  "enrich ${e_wall}s => $(echo "$EVENTS / $f_total" | bc) events/s end to end (sequential)"
echo "files: CPU collector ${f_coll}s, enrich ${f_enr}s; $(grep -o 'read .*bad' "$KP_TMP/enrich_file.log")"

us() { echo "$1 * 1000000 / $EVENTS" | bc -l | xargs printf %.1f; }
echo
echo "| pipeline | events/s end to end | collector CPU µs/event | enrich CPU µs/event | total µs/event | brokers (mock) µs/event |"
echo "|---|---|---|---|---|---|"
echo "| collector → Kafka (mock) → enrich | $(echo "$EVENTS / $k_total" | bc) | $(us "$k_coll") | $(us "$k_enr") | $(us "$(echo "$k_coll + $k_enr" | bc -l)") | $(us "$k_mock") |"
echo "| collector → raw log (fsync) → enrich | $(echo "$EVENTS / $f_total" | bc) | $(us "$f_coll") | $(us "$f_enr") | $(us "$(echo "$f_coll + $f_enr" | bc -l)") | - |"
