#!/usr/bin/env bash
# Issue #9, acceptance 2: the pipeline of kafka_pipeline_test.sh under faults injected with the
# mock cluster, all while events keep arriving:
#   - 10% of Produce, Fetch and OffsetCommit requests fail with retriable errors, all along;
#   - broker 2 (leader of a third of the partitions; not the groups' coordinator) is down for
#     KP_DOWN_SECONDS (default 30 s);
#   - one of the three enrich processes is killed with kill -9 mid-stream.
# Zero acknowledged events lost, every one loaded exactly once (the loader removes the replayed
# duplicates), received = good + bad. Requests the collector could not deliver get 503 and are
# retried by the sender, never acknowledged.
source "${FURROW_SOURCE_DIR:-$(dirname "$0")/../..}/test/kafka/pipeline_lib.sh"

N=${KP_EVENTS:-2000}
DOWN=${KP_DOWN_SECONDS:-30}
CHUNK=100
export KP_DELIVERY_TIMEOUT_MS=${KP_DELIVERY_TIMEOUT_MS:-5000}
kp_start_mock
kp_start_collector
for i in 1 2 3; do kp_start_enrich "$i"; done
kp_start_loader
kp_wait_group 3

kp_mock "errors 10"
start=$SECONDS
# The sender starts a chunk of events at a steady pace over about DOWN + 5 seconds, whether or not
# earlier chunks are still waiting for their answers (as independent trackers would).
pause=$(awk -v d="$DOWN" -v c=$((N / CHUNK)) 'BEGIN { printf "%.2f", (d + 5) / c }')
(
  chunks=()
  for ((from = 0; from < N; from += CHUNK)); do
    kp_send "$from" $((from + CHUNK)) &
    chunks+=($!)
    sleep "$pause"
  done
  for c in "${chunks[@]}"; do wait "$c" || exit 1; done
) 2>"$KP_TMP/sender.log" &
sender=$!

sleep 3
kp_mock "down 2"
down_at=$SECONDS
sleep 2
kill -9 "${KP_ENRICH_PIDS[2]}"
export KP_KILLED=1
echo "killed enrich 2 (pid ${KP_ENRICH_PIDS[2]}) at $((SECONDS - start)) s" >&2
sleep $((DOWN - (SECONDS - down_at)))
kp_mock "up 2"
echo "broker 2 down for $((SECONDS - down_at)) s" >&2

wait "$sender" || kp_die "sender failed: $(tail -n 3 "$KP_TMP/sender.log")"
echo "sender done at $((SECONDS - start)) s" >&2
acked=$(sort -u "$KP_TMP/acked" | wc -l)
((acked == N)) || kp_die "$acked of $N events acknowledged"
tries=$(grep -c '' "$KP_TMP/responses" || true)
kp_wait_db "$N" 0 120
echo "all loaded at $((SECONDS - start)) s" >&2
kp_check_exactly_once
kp_mock "clear"
kp_stop_stages
summary=$(kp_check_conservation "$N" 0)
refused=$((tries - N))
c503=$(grep -c '^503 ' "$KP_TMP/responses" || true)
echo "PASS kafka faults ($((SECONDS - start)) s): $N acknowledged (after $refused refused or" \
  "failed tries, $c503 of them 503), each loaded exactly once; $summary"
