#!/usr/bin/env bash
# Issue #9, acceptance 1: collector -> Kafka (librdkafka mock cluster on 127.0.0.1) -> 3 enrich
# processes in one consumer group -> loader -> SQLite. Every acknowledged event is in the database
# exactly once; two poison records on the raw topic become bad rows; received = good + bad.
source "${FURROW_SOURCE_DIR:-$(dirname "$0")/../..}/test/kafka/pipeline_lib.sh"

N=${KP_EVENTS:-2000}

# Configuration errors are reported with the key, before anything starts.
rc=0
"$KP_BIN" collector --host 127.0.0.1 --port 0 --sink kafka 2>"$KP_TMP/err.log" || rc=$?
[[ $rc == 2 ]] && grep -q 'no brokers' "$KP_TMP/err.log" || kp_die "collector without brokers: rc $rc"
printf 'kafka:\n  brokers: 127.0.0.1:1\n  topix: {}\n' >"$KP_TMP/bad.yaml"
rc=0
"$KP_BIN" enrich --source kafka --kafka-config "$KP_TMP/bad.yaml" 2>"$KP_TMP/err.log" || rc=$?
[[ $rc == 2 ]] && grep -q 'kafka.topix: unknown key' "$KP_TMP/err.log" ||
  kp_die "enrich with a bad kafka section: rc $rc, $(cat "$KP_TMP/err.log")"
kp_start_mock
kp_start_collector
for i in 1 2 3; do kp_start_enrich "$i"; done
kp_start_loader
kp_wait_group 3
# For investigation: KP_ERRORS="10 Fetch" injects request errors during the run.
[[ -z "${KP_ERRORS:-}" ]] || kp_mock "errors $KP_ERRORS"

kp_send 0 $((N / 2))
kp_mock "produce furrow-raw this is not a thrift payload"
kp_mock "produce furrow-raw {\"also\": \"not thrift\"}"
kp_send $((N / 2)) "$N"

acked=$(sort -u "$KP_TMP/acked" | wc -l)
((acked == N)) || kp_die "$acked of $N events acknowledged"
kp_wait_db "$N" 2 60
kp_check_exactly_once
bad_kind=$(kp_sql "select count(*) from bad_rows where document like '%collector_payload_format_violation%'")
[[ $bad_kind == 2 ]] || kp_die "poison records: $bad_kind collector_payload_format_violation rows"

# All three enrich processes took part (one consumer group, 6 partitions).
kp_stop_stages
for i in 1 2 3; do
  grep -qE 'read [1-9][0-9]* payloads' "$KP_TMP/enrich_$i.log" || kp_die "enrich $i got no records"
done
summary=$(kp_check_conservation "$N" 2)
echo "PASS kafka pipeline: $N acknowledged, $N loaded exactly once, 2 poison records -> bad rows; $summary"
