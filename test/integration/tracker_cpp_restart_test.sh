#!/usr/bin/env bash
# Acceptance 3 for the C++ tracker: no event is lost across a restart while the collector is down.
# Process A tracks N events with nothing listening, retries, gives up and exits with every event in
# its SQLite outbox. Process B opens the same outbox while the collector is still down, keeps
# retrying with back-off; the collector comes up on the port the tracker was given; B delivers.
# A second process, A2, tracks more and is killed with SIGKILL. Every one of the tracked event ids
# then arrives exactly once as a good event, and no bad row appears.
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
SHARED=${FURROW_SHARED:?}
TRACK=${FURROW_BUILD_DIR:?}/trackers/cpp/furrow-track
TMP=$(mktemp -d /tmp/furrow-tracker-restart-XXXXXX)
source "$SRC/trackers/cpp/test/pipeline.sh"
B_PID=""
A2_PID=""
trap 'pipeline_cleanup; for p in $B_PID $A2_PID; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -x $TRACK ]] || fail "furrow-track not built: $TRACK"
N=200

# A port that was free a moment ago: the collector's own ephemeral pick, then stopped.
pipeline_start
PORT=$PIPELINE_PORT
pipeline_cleanup
rm -rf "$TMP/raw"
URL="http://127.0.0.1:$PORT"
OPTS=(--collector "$URL" --outbox "$TMP/outbox.db" --batch-size 25 --retry-base-ms 50
      --retry-cap-ms 400)

# Process A: collector down. It tries, fails, and exits 1 with N pending after 2 s.
set +e
"$TRACK" "${OPTS[@]}" --flush-timeout-ms 2000 structured "$N" >"$TMP/ids" 2>"$TMP/a.log"
code=$?
set -e
[[ $code == 1 ]] || fail "process A exit $code, want 1 (undelivered): $(cat "$TMP/a.log")"
grep -q "sent 0, pending $N," "$TMP/a.log" || fail "process A: $(cat "$TMP/a.log")"
grep -Eq 'failed [1-9]' "$TMP/a.log" || fail "process A never tried: $(cat "$TMP/a.log")"
[[ $(wc -l <"$TMP/ids") == "$N" ]] || fail "process A tracked $(wc -l <"$TMP/ids") events"
[[ $(sqlite3 "$TMP/outbox.db" 'SELECT COUNT(*) FROM furrow_outbox') == "$N" ]] ||
  fail "outbox rows after A: $(sqlite3 "$TMP/outbox.db" 'SELECT COUNT(*) FROM furrow_outbox')"

# Process A2: a crash instead of an exit. It tracks M more events into the same outbox and is
# killed with SIGKILL while still retrying; what track() stored must survive that too.
M=50
"$TRACK" "${OPTS[@]}" --flush-timeout-ms 60000 structured "$M" >"$TMP/ids2" 2>/dev/null &
A2_PID=$!
for _ in $(seq 400); do [[ $(wc -l <"$TMP/ids2") == "$M" ]] && break; sleep 0.05; done
[[ $(wc -l <"$TMP/ids2") == "$M" ]] || fail "process A2 tracked $(wc -l <"$TMP/ids2") of $M"
kill -KILL "$A2_PID"
wait "$A2_PID" 2>/dev/null || true
cat "$TMP/ids2" >>"$TMP/ids"
N=$((N + M))

# Process B: starts while the collector is still down, then the collector comes up.
"$TRACK" "${OPTS[@]}" --flush-timeout-ms 30000 drain >/dev/null 2>"$TMP/b.log" &
B_PID=$!
sleep 1
kill -0 "$B_PID" 2>/dev/null || fail "process B ended before the collector came up: $(cat "$TMP/b.log")"
pipeline_start "$PORT"
set +e
wait "$B_PID"
code=$?
set -e
B_PID=""
[[ $code == 0 ]] || fail "process B exit $code: $(cat "$TMP/b.log")"
grep -q "sent $N, pending 0," "$TMP/b.log" || fail "process B: $(cat "$TMP/b.log")"
grep -Eq 'failed [1-9]' "$TMP/b.log" || fail "process B did not meet the collector down: $(cat "$TMP/b.log")"
[[ $(sqlite3 "$TMP/outbox.db" 'SELECT COUNT(*) FROM furrow_outbox') == 0 ]] || fail "outbox not empty"

pipeline_events "$TMP/good.json" "$TMP/bad.json" "$N"
[[ ! -s $TMP/bad.json ]] || fail "bad rows: $(head -c 2000 "$TMP/bad.json")"
# Exactly once: the delivered ids, sorted with duplicates kept, equal the tracked ids.
jq -r '.event_id' "$TMP/good.json" | sort >"$TMP/got"
awk '{print $2}' "$TMP/ids" | sort >"$TMP/want"
[[ $(sort -u "$TMP/want" | wc -l) == "$N" ]] || fail "tracked ids are not unique"
diff -q "$TMP/want" "$TMP/got" >/dev/null ||
  fail "delivered ids differ: $(diff "$TMP/want" "$TMP/got" | head -5) (got $(wc -l <"$TMP/got"))"
# And they are the events A and A2 tracked (labels 0..199 and 0..49).
cmp -s <(jq -r '.se_label' "$TMP/good.json" | sort -n) <({ seq 0 $((N - M - 1)); seq 0 $((M - 1)); } | sort -n) ||
  fail "labels differ from the tracked ones"
echo "ok ($PIPELINE_KIND): $N events tracked with the collector down survived an exit and a SIGKILL; all $N arrived exactly once, 0 bad"
