#!/usr/bin/env bash
# Acceptance 3 for the C++ tracker: no event is lost across a restart while the collector is down.
# Process A tracks N events with nothing listening, retries, gives up and exits with every event in
# its SQLite outbox. Process B opens the same outbox while the collector is still down, keeps
# retrying with back-off; the collector comes up on the port the tracker was given; B delivers.
# Every one of the N event ids then arrives exactly once as a good event, and no bad row appears.
set -euo pipefail
BIN=${FURROW_BIN:?}
SRC=${FURROW_SOURCE_DIR:?}
SHARED=${FURROW_SHARED:?}
TRACK=${FURROW_BUILD_DIR:?}/trackers/cpp/furrow-track
TMP=$(mktemp -d /tmp/furrow-tracker-restart-XXXXXX)
source "$SRC/trackers/cpp/test/pipeline.sh"
B_PID=""
trap 'pipeline_cleanup; [[ -n $B_PID ]] && kill -KILL "$B_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
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
# And they are the events A tracked (labels 0..N-1, in order of tracking).
[[ $(jq -r '.se_label' "$TMP/good.json" | sort -n | uniq | wc -l) == "$N" ]] || fail "labels"
echo "ok ($PIPELINE_KIND): $N events tracked with the collector down survived the restart; all $N arrived exactly once, 0 bad"
